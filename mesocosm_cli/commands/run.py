"""``mesocosm run``: bench locally (``run local``) or on the platform (create/export/get/episodes).

``run local`` lives in :mod:`mesocosm_cli.commands.run_local`. ``create`` sends the
hosted CLI's body and prints the Run JSON; with ``--wait`` it follows the run with a
progress bar and ends with ``run local``'s metrics table and gate. ``get`` and ``episodes``
print the hosted Typer commands' JSON documents, errors included.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click

from mesocosm_cli.commands.env import team_for
from mesocosm_cli.commands.run_local import local
from mesocosm_cli.context import CliContext, base_url_option, bench_url_option, pass_cli
from mesocosm_cli.exit_codes import USAGE, CliError
from mesocosm_cli.group import MesocosmGroup
from mesocosm_cli.output import echo_json, json_errors

_run_id = click.argument("run_id", metavar="RUN_ID")
EPISODE_CAP = 20
EPISODE_CAP_VARS = ("BENCH_MAX_EPISODES", "ORCH_MAX_EPISODES_PER_RUN")


def episode_cap(env: Mapping[str, str]) -> int:
    """The platform's per-run maximum as the client knows it (checked before any call)."""
    for name in EPISODE_CAP_VARS:
        raw = env.get(name, "").strip()
        if raw:
            try:
                return int(raw)
            except ValueError as exc:
                raise CliError(f"{name}={raw!r} is not an integer; unset it or give a number",
                               USAGE) from exc
    return EPISODE_CAP


def wait_options(func: Any) -> Any:
    """``--wait``, ``--threshold``, ``--allowed-errors``, ``--timeout``: shared with eval run."""
    for option in reversed([
        click.option("--wait", is_flag=True, help="Follow the run with a progress bar and end "
                     "with the metrics table of `run local`; exit 1 if the gate fails."),
        click.option("--threshold", "thresholds", multiple=True, metavar="EXPR",
                     help='With --wait: pass threshold, repeatable, e.g. "win_rate>=0.6".'),
        click.option("--allowed-errors", type=click.IntRange(min=0), default=0,
                     show_default=True,
                     help="With --wait: failed episodes the gate tolerates."),
        click.option("--timeout", type=click.FloatRange(min=1), help="With --wait: give up "
                     "after this many seconds (the run goes on on the platform)."),
    ]):
        func = option(func)
    return func


@click.group(cls=MesocosmGroup)
@bench_url_option
def run() -> None:
    """Bench locally or start and inspect platform runs."""


run.add_command(local)


@run.command()
@click.option("--domain", required=True, help="Target domain id.")
@click.option("--vow-version", required=True, help="Binding vow version, e.g. 1.0.0.")
@click.option("--model", required=True, help="Model id, e.g. gemini/gemini-3.1-flash-lite.")
@click.option("--episodes", type=click.IntRange(min=1), default=1, show_default=True,
              help="Episode count.")
@click.option("--parallel", type=click.IntRange(min=1), default=1, show_default=True,
              help="Max parallel episodes.")
@click.option("--system-prompt", help="Optional system prompt in agent_config.")
@click.option("--temperature", type=float, default=0.0, show_default=True,
              help="Agent temperature.")
@click.option("--max-tokens", type=click.IntRange(min=1), default=512, show_default=True,
              help="Max tokens per step.")
@click.option("--team", metavar="TEAM_ID", help="Explicit team id on the run.")
@click.option("--solo", is_flag=True, help="Do not attach the active team.")
@click.option("--visibility", type=click.Choice(["private", "gallery_public"]),
              default="gallery_public", show_default=True, help="Who may see the run.")
@click.option("--env-id", help="Developer environment id to pin env URL/runtime.")
@wait_options
@bench_url_option
@pass_cli
def create(obj: CliContext, **opts: Any) -> None:
    """Start platform bench run via API."""
    cap = episode_cap(obj.env)
    if opts["episodes"] > cap:
        raise CliError(f"--episodes ({opts['episodes']}) exceeds the platform maximum ({cap}).")
    body: dict[str, Any] = {
        "domain_id": opts["domain"],
        "binding_vow_version": opts["vow_version"],
        "agent_config": {
            "model": opts["model"],
            "system_prompt": opts["system_prompt"],
            "temperature": opts["temperature"],
            "max_tokens": opts["max_tokens"],
        },
        "num_episodes": opts["episodes"],
        "max_parallel": opts["parallel"],
        "visibility": opts["visibility"],
    }
    team_id = team_for(obj, opts["team"], opts["solo"])
    if team_id:
        body["team_id"] = team_id
    if opts["env_id"]:
        body["env_id"] = opts["env_id"]
    with obj.api() as api:
        made = api.create_run(body)
        if not opts["wait"]:
            echo_json(made)
            return
        from mesocosm_cli.follow import wait_and_judge

        click.echo(f"run {made['id']} started", err=True)
        wait_and_judge(api, made, thresholds=opts["thresholds"],
                       allowed_errors=opts["allowed_errors"], timeout=opts["timeout"])


@run.command()
@_run_id
@click.option("-o", "--output", type=click.Path(dir_okay=False),
              help="Write the JSON to this file (default: stdout).")
@bench_url_option
@pass_cli
def export(obj: CliContext, run_id: str, output: str | None) -> None:
    """Download run JSON for showcase or replay."""
    with obj.api(anonymous=True) as api:
        document = api.export_run(run_id)
    if output is None:
        echo_json(document)
        return
    path = Path(output)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise CliError(f"cannot write {path}: {exc.strerror}; pick another -o path") from exc
    click.echo(f"Wrote {path}")


@run.command()
@_run_id
@base_url_option
@pass_cli
def get(obj: CliContext, run_id: str) -> None:
    """Fetch run status and aggregate scores."""
    with json_errors(), obj.api(anonymous=True) as api:
        found = api.get_run(run_id)
        episodes = api.run_episodes(run_id)
    echo_json({"run": found, "episodes": episodes, "aggregate_scores": found.get("scores")},
              ascii=False)


@run.command()
@_run_id
@click.option("--traces", is_flag=True, help="Also fetch run traces keyed by episode.")
@base_url_option
@pass_cli
def episodes(obj: CliContext, run_id: str, traces: bool) -> None:
    """List episodes for a run; optional traces."""
    with json_errors(), obj.api(anonymous=True) as api:
        found = api.run_episodes(run_id)
        by_episode = api.run_traces(run_id) if traces else {}
    echo_json({"run_id": run_id, "episodes": found, "traces_by_episode": by_episode},
              ascii=False)
