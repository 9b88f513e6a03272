"""``mesocosm doctor``: is bench-api up, does the local adapter answer and keep the contract?"""

from __future__ import annotations

import json
from pathlib import Path

import click

from mesocosm_cli.commands.run_local import interpreter
from mesocosm_cli.context import CliContext, base_url_option, pass_cli
from mesocosm_cli.exit_codes import FAILED, OK
from mesocosm_platform.urls import resolve_local_bench_url
from pytest_mesocosm.engine.config import DEFAULT_MODEL


@click.command()
@base_url_option
@click.option("--local", "local_flag", is_flag=True,
              help="Local profile (also MESOCOSM_LOCAL=1): the env adapter at MESOCOSM_ENV_URL "
              "(default http://127.0.0.1:8765) must answer; bench-api at :8010 may be down.")
@click.option("--manifest", "manifest_path", type=click.Path(path_type=Path),
              help="benchanything.json to check the adapter against (default: ./, auxiliary/, "
              "files/).")
@click.option("--model", default=DEFAULT_MODEL, show_default=True,
              help="Model whose reachability is checked when a manifest is present.")
@click.option("--api-base", metavar="URL", help="Model server URL (default: OLLAMA_HOST).")
@click.option("--python", metavar="PATH",
              help="Interpreter for adapter.py when doctor starts it (e.g. the env repo's "
              "virtualenv); a relative path is taken from the working directory.")
@pass_cli
@click.pass_context
def doctor(
    ctx: click.Context,
    obj: CliContext,
    local_flag: bool,
    manifest_path: Path | None,
    model: str,
    api_base: str | None,
    python: str | None,
) -> None:
    """Check bench-api reachability; local checks adapter.

    Prints JSON {ok, local, checks, issues, hints}; exits 0 when no check failed, else 1.
    """
    from mesocosm_cli.diagnostics import (  # httpx and the engine: only when doctor runs
        DoctorReport,
        check_bench_api,
        check_model,
        diagnose_adapter,
        load_local_manifest,
    )

    local = local_flag or obj.local
    report = DoctorReport(local=local)
    if local:
        bench = resolve_local_bench_url(obj.url_flag, env=obj.env, flag_name=obj.url_flag_name)
    else:
        bench = obj.bench_url()
    check_bench_api(report, bench)
    manifest = load_local_manifest(report, manifest_path)
    diagnose_adapter(report, obj.adapter_url(), manifest, interpreter(python))
    if manifest is not None:
        check_model(report, model, api_base, manifest.root)
    click.echo(json.dumps(report.to_dict(), indent=2))
    ctx.exit(OK if report.ok else FAILED)
