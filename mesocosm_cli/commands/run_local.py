"""``mesocosm run local``: bench the local environment with any model, on this machine.

Thin over the engine: flags become a :class:`~pytest_mesocosm.config.BenchConfig`,
:func:`~pytest_mesocosm.bench.run_bench` plays the episodes, the gate decides the exit
code. Engine modules are imported inside the command so ``mesocosm --help`` stays fast.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from mesocosm_cli.context import bench_url_option
from mesocosm_cli.exit_codes import FAILED, INTERRUPTED, CliError
from mesocosm_cli.localenv import find_manifest, probe_adapter
from pytest_mesocosm.engine.config import DEFAULT_MODEL, DEFAULT_RUNS_DIR

if TYPE_CHECKING:
    from pytest_mesocosm.engine.config import BenchConfig
    from pytest_mesocosm.engine.outcomes import EpisodeResult
    from pytest_mesocosm.engine.session import BenchRun
    from pytest_mesocosm.manifest.models import Manifest
    from pytest_mesocosm.scoring.gate import GateResult, Threshold
    from pytest_mesocosm.scoring.metrics import EpisodeScore, Metric

DEFAULT_ENV_URL = "http://localhost:8765"
PROBE_SECONDS = 1.0
_RUNNING: dict[str, Callable[[list[float]], float]] = {
    "mean": statistics.fmean,
    "median": statistics.median,
    "min": min,
    "max": max,
    "sum": math.fsum,
}


class SeedList(click.ParamType):
    """``"1 2 3"`` (the reference's form), also ``1,2,3``: a list of integers."""

    name = "seeds"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, list):
            return value
        parts = str(value).replace(",", " ").split()
        try:
            seeds = [int(part) for part in parts]
        except ValueError:
            self.fail(f"{value!r} is not a list of integers; use e.g. --seeds '1 2 3'", param, ctx)
        if not seeds:
            self.fail("no seeds given; use e.g. --seeds '1 2 3'", param, ctx)
        return seeds


class Progress:
    """One line per finished episode with the primary metric so far and the error count.

    The running figure is a cheap fold of per-episode scores (the full aggregation with
    bootstrap intervals runs once, at the end, in the engine's scoring).
    """

    def __init__(self, metric: Metric):
        self.metric = metric
        self.scores: list[EpisodeScore] = []
        self.errors = 0

    def __call__(self, result: EpisodeResult, done: int, total: int) -> None:
        from pytest_mesocosm.scoring.metrics import score_episode

        if result.scoreable:
            self.scores.append(score_episode(self.metric, result))
        else:
            self.errors += 1
        line = (
            f"episode {done}/{total}  {result.label} {result.status.value}  "
            f"{self.metric.name} so far {self._so_far()}  errors {self.errors}"
        )
        if result.error and not result.scoreable:
            line += f"  ({_shorten(result.error)})"
        click.echo(line)

    def _so_far(self) -> str:
        if self.metric.is_pass_rate:
            passes = [s.passed for s in self.scores if s.passed is not None]
            return f"{sum(passes) / len(passes):.2f}" if passes else "-"
        values = [s.value for s in self.scores if s.value is not None]
        return f"{_RUNNING[self.metric.aggregation](values):.3g}" if values else "-"


def _shorten(text: str, limit: int = 120) -> str:
    line = text.strip().splitlines()[0] if text.strip() else text
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _thresholds(manifest: Manifest, given: Sequence[str]) -> list[Threshold]:
    """The manifest's thresholds, then the flags'; a bad one names where it came from."""
    from pytest_mesocosm.scoring.gate import ThresholdError, parse_threshold

    names = [metric.name for metric in manifest.scoring.metrics]
    extras = manifest.mesocosm
    sources = [(t, f"{manifest.source_path} mesocosm.thresholds") for t in
               (extras.thresholds if extras else [])]
    sources += [(t, "--threshold") for t in given]
    parsed = []
    for text, origin in sources:
        try:
            parsed.append(parse_threshold(text, names))
        except ThresholdError as exc:
            raise ThresholdError(f"{origin}: {exc}") from exc
    return parsed


def _env_url(url: str, quiet: bool) -> str | None:
    """``url`` if an adapter answers there, else None (the engine then starts the manifest's)."""
    health = probe_adapter(url, timeout=PROBE_SECONDS)
    if health is None:
        if not quiet:
            click.echo(f"no adapter answers at {url}; starting the manifest's adapter")
        return None
    if not quiet:
        click.echo(f"using the adapter at {url} (env {health.get('env', '?')})")
    return url


@click.command()
@click.option("--manifest", "manifest_path", type=click.Path(path_type=Path),
              help="Path to benchanything.json or its folder (default: ./benchanything.json, "
              "else auxiliary/ or files/).")
@click.option("--domain-id", help="Override the domain id (default: the manifest's id, else "
              "its folder's name).")
@click.option("--model", default=DEFAULT_MODEL, show_default=True,
              help="Any LiteLLM model id (ollama/..., openai/..., ...), "
              "script:FILE.py:FUNCTION or replay:TRACE.jsonl.")
@click.option("--env-url", default=DEFAULT_ENV_URL, show_default=True,
              help="Env adapter URL; if nothing answers there, the manifest's adapter is "
              "started for the run and stopped afterwards.")
@click.option("--episodes", type=click.IntRange(min=1), default=5, show_default=True,
              help="Number of episodes (seeds 0..N-1).")
@click.option("--seeds", type=SeedList(), help='Space-separated integer seeds, e.g. "1 2 3" '
              "(instead of --episodes).")
@click.option("--system-prompt", help="Optional system prompt for the agent.")
@click.option("--temperature", type=float, default=0.0, show_default=True,
              help="Sampling temperature.")
@click.option("--max-tokens", type=click.IntRange(min=1), default=512, show_default=True,
              help="Max tokens per step.")
@click.option("--parallel", type=click.IntRange(min=1), default=1, show_default=True,
              help="Max parallel episodes (capped by the vow's parallel_episodes).")
@click.option("--quiet", is_flag=True, help="Reduce progress output.")
@click.option("--repeat", type=click.IntRange(min=1), default=1, show_default=True,
              help="Play every seed N times (gives pass@k and pass^k).")
@click.option("--threshold", "thresholds", multiple=True, metavar="EXPR",
              help='Pass threshold, repeatable, e.g. "win_rate>=0.6" or "win_rate.lower>=0.5"; '
              'added to the manifest\'s "mesocosm" thresholds. A miss exits 1.')
@click.option("--allowed-errors", type=click.IntRange(min=0),
              help="Episodes ending in env_error/model_error the gate tolerates "
              "(default: the manifest's, else 0).")
@click.option("--api-base", metavar="URL", help="Model server URL (Ollama, vLLM, llama.cpp); "
              "default: OLLAMA_HOST or the provider's.")
@click.option("--out", "runs_dir", type=click.Path(file_okay=False, path_type=Path),
              default=DEFAULT_RUNS_DIR, show_default=True,
              help="Runs folder: results.json and traces go to a new folder in it.")
@click.option("--python", metavar="PATH",
              help="Interpreter for adapter.py (e.g. the env repo's virtualenv).")
@click.option("--model-timeout", type=click.FloatRange(min=0, min_open=True), default=120.0,
              show_default=True, help="Seconds one model call may take before it is retried.")
@click.option("--model-retries", type=click.IntRange(min=0), default=3, show_default=True,
              help="Extra attempts of a failed or timed-out model call.")
@click.option("--prompt-style", type=click.Choice(["hosted", "chat"]), default="hosted",
              show_default=True, help="hosted: the hosted platform's stateless prompt and "
              "parser (numbers comparable with it); chat: the episode as one chat.")
@click.option("--cache", type=click.Choice(["off", "use", "replay", "refresh"]), default="off",
              show_default=True, help="Recorded model calls (cassettes/ beside the manifest): "
              "use reads and records what is missing, replay only reads (a miss fails the "
              "run; no model or key needed), refresh calls and overwrites.")
@click.option("--history", type=click.IntRange(min=0),
              help="With --prompt-style chat: past turns sent to the model (default: the "
              "whole episode; 0: stateless).")
@bench_url_option
def local(**opts: Any) -> None:
    """Bench locally with Ollama (or any model) and benchanything.json."""
    from pytest_mesocosm.agents import make_agent
    from pytest_mesocosm.engine.session import run_bench
    from pytest_mesocosm.errors import AdapterStartError
    from pytest_mesocosm.manifest.models import load_manifest
    from pytest_mesocosm.scoring.gate import evaluate_gate
    from pytest_mesocosm.scoring.metrics import as_scoring

    manifest = load_manifest(find_manifest(opts["manifest_path"]))
    if opts["domain_id"]:
        manifest.id = opts["domain_id"]
    thresholds = _thresholds(manifest, opts["thresholds"])
    allowed = opts["allowed_errors"]
    if allowed is None:
        allowed = manifest.mesocosm.allowed_errors if manifest.mesocosm else 0
    config = _config(opts)
    _show_notices()
    agent = make_agent(config.agent, base_dir=manifest.root)  # a bad --model fails first
    config.env_url = _env_url(opts["env_url"], opts["quiet"])
    progress = None if opts["quiet"] else Progress(as_scoring(manifest.scoring).primary)
    try:
        run = run_bench(manifest, config, on_result=progress, agent=agent)
    except AdapterStartError as exc:
        if config.env_url is None:
            raise AdapterStartError(
                f"nothing answers at {opts['env_url']} and the manifest's adapter did not "
                f"start: {exc}"
            ) from exc
        raise
    gate = evaluate_gate(run.metrics, thresholds, allowed_errors=allowed)
    _print_run(run, gate)
    if run.interrupted:
        raise CliError("interrupted; the partial results above are saved", INTERRUPTED)
    if not gate.passed:
        raise CliError("gate failed: " + "; ".join(gate.reasons), FAILED)


def _echo_notice(message: str) -> None:
    click.echo(f"mesocosm: {message}", err=True)


def _show_notices() -> None:
    """The engine's notices (a slow or failing model) on stderr, as they come."""
    from pytest_mesocosm.agents.waiting import listen

    stop = listen(_echo_notice)
    click.get_current_context().call_on_close(stop)


def _config(opts: dict[str, Any]) -> BenchConfig:
    """The flags as the engine's one config record."""
    from pytest_mesocosm.engine.config import AgentOptions, BenchConfig

    return BenchConfig(
        agent=AgentOptions(
            model=opts["model"],
            temperature=opts["temperature"],
            max_tokens=opts["max_tokens"],
            system_prompt=opts["system_prompt"],
            history=opts["history"],
            api_base=opts["api_base"],
            timeout=opts["model_timeout"],
            retries=opts["model_retries"],
            prompt_style=opts["prompt_style"],
            cache=opts["cache"],
        ),
        seeds=opts["seeds"],
        episodes=opts["episodes"],
        repeats=opts["repeat"],
        parallel=opts["parallel"],
        python=opts["python"],
        runs_dir=opts["runs_dir"],
    )


def _print_run(run: BenchRun, gate: GateResult) -> None:
    """Who played what, the metrics table with the gate's verdict, and where the files are."""
    from pytest_mesocosm.engine.traces import RunFolder
    from pytest_mesocosm.scoring.table import format_metrics_table

    planned = len(run.config.episode_seeds()) * max(run.config.repeats, 1)
    click.echo(
        f"\nmodel {run.config.agent.model}  domain {run.manifest.domain_id}  "
        f"episodes {len(run.results)}/{planned}" + ("  (interrupted)" if run.interrupted else "")
    )
    click.echo(format_metrics_table(run.metrics, gate))
    click.echo(f"traces:  {RunFolder(run.run_dir).traces_dir}\nresults: {run.results_path}")
