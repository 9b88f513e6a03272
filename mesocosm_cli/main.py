"""The ``mesocosm`` root command: the hosted CLI's command tree, in the reference's order.

auth, team, init, run, env, register, doctor, validate, eval; then this project's own
(cache, report, server). The local half (init, validate, doctor, run local, cache,
report) works offline; the platform half talks to a bench-api.
``--bench-url``/``--base-url`` work here (``mesocosm --bench-url URL team list``) and on
every group and command below.
"""

from __future__ import annotations

import click

from mesocosm_cli.commands.auth import auth
from mesocosm_cli.commands.cache import cache
from mesocosm_cli.commands.doctor import doctor
from mesocosm_cli.commands.env import env
from mesocosm_cli.commands.eval import eval_
from mesocosm_cli.commands.golden import golden
from mesocosm_cli.commands.init import init
from mesocosm_cli.commands.register import register
from mesocosm_cli.commands.report import report
from mesocosm_cli.commands.run import run
from mesocosm_cli.commands.server import server
from mesocosm_cli.commands.team import team
from mesocosm_cli.commands.validate import validate
from mesocosm_cli.context import CliContext, base_url_option, bench_url_option
from mesocosm_cli.group import RootGroup
from pytest_mesocosm import __version__


@click.group(cls=RootGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="mesocosm",
                      message="%(prog)s %(version)s")
@bench_url_option
@base_url_option
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Benchmark LLM-agent environments locally and on a bench platform.

    Settings come from flags, then environment variables (MESOCOSM_LOCAL,
    MESOCOSM_BASE_URL, SWECC_BENCH_URL, BENCH_API_URL, SWECC_SERVER_URL,
    SWECC_BENCH_TOKEN, SWECC_BENCH_GUEST_TOKEN, SWECC_BENCH_CREDENTIALS,
    MESOCOSM_ENV_URL), then ~/.config/swecc/bench_credentials.json.

    Exit codes: 0 ok, 1 a check said no (gate, validate, doctor), 2 usage or
    configuration, 3 env adapter, 4 model, 5 bench platform, 6 gate inconclusive
    (run local --inconclusive error), 130 interrupted.
    """
    ctx.ensure_object(CliContext)


# the reference's tree, then ours
for command in (auth, team, init, run, env, register, doctor, validate, eval_, cache, report,
                server, golden):
    cli.add_command(command)


if __name__ == "__main__":  # python -m mesocosm_cli.main, where the script is not installed
    cli()
