"""``--wait`` on platform runs: a progress bar while the run plays, then the local verdict.

The bar (rich, on stderr, so stdout stays parseable) counts finished episodes; the end is
the metrics table ``run local`` prints, computed by the same scoring and gate from the
run's episodes and the domain's scoring block, and the exit code follows the gate.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import click

from mesocosm_cli.exit_codes import FAILED, CliError
from mesocosm_platform.api import BenchApi
from mesocosm_platform.results import RunVerdict, finished_count, follow_run, judge_platform_run


def thresholds_for(scoring: dict[str, Any], given: Sequence[str]) -> list[Any]:
    """``--threshold`` texts parsed against the domain's metric names."""
    from pytest_mesocosm.scoring.gate import ThresholdError, parse_threshold

    names = [str(m.get("name")) for m in scoring.get("metrics") or []]
    try:
        return [parse_threshold(text, names) for text in given]
    except ThresholdError as exc:
        raise click.BadParameter(str(exc), param_hint="'--threshold'") from exc


def wait_and_judge(
    api: BenchApi,
    run: dict[str, Any],
    *,
    thresholds: Sequence[str] = (),
    allowed_errors: int = 0,
    timeout: float | None = None,
    interval: float = 1.0,
) -> RunVerdict:
    """Follow ``run`` to its end with a bar, print the table, raise when the gate fails."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from pytest_mesocosm.scoring.table import format_metrics_table

    config = run.get("config") or {}
    domain = api.get_domain(str(config.get("domain_id")))
    scoring = domain.get("scoring") or {}
    parsed = thresholds_for(scoring, thresholds)
    total = int(config.get("num_episodes") or 0) or None
    console = Console(stderr=True)
    with Progress(TextColumn("run {task.fields[run_id]} {task.fields[status]}"), BarColumn(),
                  MofNCompleteColumn(), TimeElapsedColumn(), console=console,
                  transient=not console.is_terminal) as bar:
        task = bar.add_task("run", total=total, run_id=run["id"], status=run.get("status"))

        def show(now: dict[str, Any], episodes: list[dict[str, Any]]) -> None:
            bar.update(task, completed=finished_count(episodes), total=len(episodes) or total,
                       status=now.get("status"))

        final, episodes = follow_run(api, str(run["id"]), on_progress=show, interval=interval,
                                     timeout=timeout)
    verdict = judge_platform_run(final, episodes, scoring, parsed, allowed_errors=allowed_errors)
    click.echo(f"\nrun {final['id']}  status {final.get('status')}  model "
               f"{(config.get('agent_config') or {}).get('model')}  domain "
               f"{config.get('domain_id')}  episodes {len(episodes)}")
    click.echo(format_metrics_table(verdict.metrics, verdict.gate))
    if not verdict.gate.passed:
        raise CliError("gate failed: " + "; ".join(verdict.gate.reasons), FAILED)
    return verdict
