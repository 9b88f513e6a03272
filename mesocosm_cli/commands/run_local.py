"""``mesocosm run local``: bench the local environment with any model, on this machine.

Thin over the engine: the flags go to :func:`~pytest_mesocosm.engine.config.build_config`,
:func:`~pytest_mesocosm.run_bench` plays the episodes and ends with the engine's
``judge()`` (scores, gate, results.json), and the verdict decides the exit code. Engine
modules are imported inside the command so ``mesocosm --help`` stays fast.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from mesocosm_cli.context import CliContext, bench_url_option, pass_cli
from mesocosm_cli.exit_codes import ENV, FAILED, INCONCLUSIVE, INTERRUPTED, MODEL, CliError
from mesocosm_cli.localenv import find_manifest
from pytest_mesocosm.engine.config import DEFAULT_MODEL, DEFAULT_RUNS_DIR, BenchConfig
from pytest_mesocosm.errors import MesocosmError

if TYPE_CHECKING:
    from pytest_mesocosm import BenchRun, EpisodeResult, Verdict
    from pytest_mesocosm.engine.executors import Session
    from pytest_mesocosm.scoring.metrics import EpisodeScore, Metric

_DEFAULT = BenchConfig()  # shown in the help; build_config applies them


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


def _more_seeds(seeds: list[int] | None, extra: list[str]) -> list[int] | None:
    """``--seeds 1 2 3`` (the hosted CLI's form): the words after the first seed arrive as
    extra arguments; anything else left over is a mistake."""
    if not extra:
        return seeds
    try:
        more = [int(word) for word in extra]
    except ValueError:
        more = None
    if seeds is None or more is None:
        raise click.UsageError(f"unexpected argument {' '.join(extra)!r}; seeds go after "
                               "--seeds, e.g. --seeds 1 2 3")
    return [*seeds, *more]


class Progress:
    """One line per finished episode with the primary metric so far and the error count."""

    def __init__(self, metric: Metric):
        self.metric = metric
        self.scores: list[EpisodeScore] = []
        self.errors = 0

    def __call__(self, result: EpisodeResult, done: int, total: int) -> None:
        from pytest_mesocosm.scoring.metrics import running_value, score_episode

        if result.scoreable:
            self.scores.append(score_episode(self.metric, result))
        else:
            self.errors += 1
        value = running_value(self.metric, self.scores)
        shown = "-" if value is None else (f"{value:.2f}" if self.metric.is_pass_rate
                                           else f"{value:.3g}")
        line = (
            f"episode {done}/{total}  {result.label} {result.status.value}  "
            f"{self.metric.name} so far {shown}  errors {self.errors}"
        )
        if result.error and not result.scoreable:
            line += f"  ({_shorten(result.error)})"
        click.echo(line)


def _shorten(text: str, limit: int = 120) -> str:
    line = text.strip().splitlines()[0] if text.strip() else text
    return line if len(line) <= limit else line[: limit - 3] + "..."


def interpreter(python: str | None) -> str | None:
    """``--python``: a path is taken from the working directory (the adapter runs in its
    own folder); a bare name is looked up on PATH when the adapter starts."""
    if python is None or os.sep not in python:
        return python
    return str(Path(os.path.expanduser(python)).absolute())


@click.command(context_settings={"allow_extra_args": True})
@click.option("--manifest", "manifest_path", type=click.Path(path_type=Path),
              help="Path to benchanything.json or its folder (default: ./benchanything.json, "
              "else auxiliary/ or files/).")
@click.option("--domain-id", help="Override the domain id (default: the manifest's id, else "
              "its folder's name).")
@click.option("--model", default=DEFAULT_MODEL, show_default=True,
              help="Any LiteLLM model id (ollama/..., openai/..., ...), "
              "script:FILE.py:FUNCTION or replay:TRACE.jsonl.")
@click.option("--env-url", metavar="URL",
              help="Env adapter URL (default: MESOCOSM_ENV_URL, MESOCOSM_ADAPTER_URL, else "
              "http://127.0.0.1:8765); if nothing answers there, the manifest's adapter is "
              "started for the run and stopped afterwards.")
@click.option("--episodes", type=click.IntRange(min=1), default=_DEFAULT.episodes,
              show_default=True, help="Number of episodes (seeds 0..N-1).")
@click.option("--seeds", type=SeedList(), help='Integer seeds, e.g. --seeds 1 2 3 or "1 2 3" '
              "(instead of --episodes).")
@click.option("--system-prompt", help="Optional system prompt for the agent.")
@click.option("--temperature", type=float, default=_DEFAULT.agent.temperature, show_default=True,
              help="Sampling temperature.")
@click.option("--max-tokens", type=click.IntRange(min=1), default=_DEFAULT.agent.max_tokens,
              show_default=True, help="Max tokens per step.")
@click.option("--parallel", type=click.IntRange(min=1),
              help="Max parallel episodes (default: the vow's parallel_episodes, else 1; "
              "a larger value wins and is said on one line).")
@click.option("--quiet", is_flag=True, help="Reduce progress output.")
@click.option("--repeat", "repeats", type=click.IntRange(min=1), default=_DEFAULT.repeats,
              show_default=True, help="Play every seed N times (gives pass@k and pass^k).")
@click.option("--threshold", "thresholds", multiple=True, metavar="EXPR",
              help='Pass threshold, repeatable, e.g. "win_rate>=0.6" or "win_rate.lower>=0.5"; '
              'added to the manifest\'s "mesocosm" thresholds. A miss exits 1.')
@click.option("--inconclusive", type=click.Choice(["estimate", "fail", "pass", "error"]),
              default=_DEFAULT.gate.inconclusive, show_default=True,
              help="What a threshold counts as when its interval straddles it: estimate "
              "(the point estimate decides, as before), fail, pass, or error (exit 6).")
@click.option("--until-decided", type=click.IntRange(min=1), metavar="MAX",
              help="Add seeds in doubling batches until every threshold is decided or MAX "
              "episodes ran (a sequential rule that keeps a 5% error over all looks).")
@click.option("--resume", "resume_dir", type=click.Path(path_type=Path), metavar="RUN_DIR",
              help="Play only the episodes RUN_DIR did not finish (same flags as its run), "
              "keep the rest, and judge the whole run in RUN_DIR.")
@click.option("--retry-errors", is_flag=True,
              help="With --resume: also play again the episodes that ended in env_error or "
              "model_error.")
@click.option("--allowed-errors", type=click.IntRange(min=0),
              help="Episodes ending in env_error/model_error the gate tolerates "
              "(default: the manifest's, else 0).")
@click.option("--api-base", metavar="URL", help="Model server URL (Ollama, vLLM, llama.cpp); "
              "default: OLLAMA_HOST or the provider's.")
@click.option("--out", "runs_dir", type=click.Path(file_okay=False, path_type=Path),
              default=DEFAULT_RUNS_DIR, show_default=True,
              help="Runs folder: results.json and traces go to a new folder in it.")
@click.option("--python", metavar="PATH",
              help="Interpreter for adapter.py (e.g. the env repo's virtualenv); a relative "
              "path is taken from the working directory.")
@click.option("--model-timeout", type=click.FloatRange(min=0, min_open=True),
              default=_DEFAULT.agent.timeout, show_default=True,
              help="Seconds one model call may take before it is retried.")
@click.option("--model-retries", type=click.IntRange(min=0), default=_DEFAULT.agent.retries,
              show_default=True, help="Extra attempts of a failed or timed-out model call.")
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
@click.option("--executor", type=click.Choice(["asyncio", "ray"]), default="asyncio",
              show_default=True, help="Where episodes play: asyncio (this process) or ray "
              "(actors on a Ray cluster, each with its own adapter; pip install "
              "'pytest-mesocosm[ray]').")
@click.option("--ray-address", metavar="ADDR", help="With --executor ray: the cluster, as Ray "
              "takes it (auto, ray://HOST:PORT); default: RAY_ADDRESS, else a local cluster.")
@click.option("--ray-actors", type=click.IntRange(min=1), help="With --executor ray: actors, "
              "each with its own adapter (default: the cluster's CPUs, at most the episodes).")
@click.option("--ray-actor-parallel", type=click.IntRange(min=1), help="With --executor ray: "
              "episodes each actor plays at once (default: --parallel spread over the actors).")
@bench_url_option
@pass_cli
@click.pass_context
def local(ctx: click.Context, obj: CliContext, **opts: Any) -> None:
    """Bench locally with Ollama (or any model) and benchanything.json."""
    from pytest_mesocosm.adapter.ahead import stop_unclaimed

    _spawn_adapter_ahead(opts)
    try:
        _play(ctx, obj, opts)
    finally:
        stop_unclaimed()


def _spawn_adapter_ahead(opts: dict[str, Any]) -> None:
    """Spawn the manifest's adapter before the engine is imported, so it boots meanwhile;
    the run adopts it if nothing answers at the env URL (else it is stopped)."""
    from pytest_mesocosm.adapter.ahead import adapter_named_in, spawn_ahead

    if opts["executor"] != "asyncio" or opts["resume_dir"] is not None:
        return
    try:
        adapter = adapter_named_in(find_manifest(opts["manifest_path"]))
    except MesocosmError:
        return  # said once the run loads the manifest
    if adapter is not None:
        spawn_ahead(adapter, python=interpreter(opts["python"]), log_dir=opts["runs_dir"])


def _play(ctx: click.Context, obj: CliContext, opts: dict[str, Any]) -> None:
    from pytest_mesocosm import load_manifest, make_agent, run_bench
    from pytest_mesocosm.engine.config import build_config
    from pytest_mesocosm.engine.resume import plan_resume, run_resume
    from pytest_mesocosm.engine.until_decided import check_maximum, run_until_decided
    from pytest_mesocosm.scoring.judge import merged_thresholds
    from pytest_mesocosm.scoring.metrics import as_scoring

    opts["seeds"] = _more_seeds(opts["seeds"], ctx.args)
    manifest = load_manifest(find_manifest(opts.pop("manifest_path")))
    domain_id = opts.pop("domain_id")
    if domain_id:
        manifest.id = domain_id
    quiet = opts.pop("quiet")
    resume_dir, retry_errors = opts.pop("resume_dir"), opts.pop("retry_errors")
    if retry_errors and resume_dir is None:
        raise click.UsageError("--retry-errors needs --resume RUN_DIR: the run whose errors "
                               "are played again")
    if resume_dir is not None and opts["until_decided"] is not None:
        raise click.UsageError("--resume and --until-decided do not go together; resume the "
                               "run first, then start a new one with --until-decided")
    if opts["executor"] == "ray" and opts["env_url"]:
        raise click.UsageError("--env-url cannot be used with --executor ray: each Ray actor "
                               "starts the env's adapter on its node; leave --env-url out")
    opts["env_url"] = opts["env_url"] or obj.adapter_url().url
    opts["python"] = interpreter(opts["python"])
    config = build_config({**opts, "start_if_absent": True})
    _show_notices()
    merged_thresholds(manifest, config, flag="--threshold")  # a bad one stops the run now
    if config.gate.until_decided is not None:
        check_maximum(config)
    plan = None if resume_dir is None else plan_resume(resume_dir, config,
                                                       retry_errors=retry_errors)
    agent = make_agent(config.agent, base_dir=manifest.root)  # a bad --model fails first
    progress = None if quiet else Progress(as_scoring(manifest.scoring).primary)
    if plan is not None:
        click.echo(f"resuming {plan.folder.path}: {len(plan.kept)} episodes kept, "
                   f"{len(plan.todo)} to play ({len(plan.retried)} of them retried)")
        run = run_resume(manifest, config, plan, on_result=progress, on_start=_said,
                         agent=agent)
    else:
        play = run_bench if config.gate.until_decided is None else run_until_decided
        run = play(manifest, config, on_result=progress, on_start=_said, agent=agent)
    _print_run(run)
    _exit(run.verdict)


def _said(session: Session) -> None:
    """Which adapter plays, and a parallelism above the vow's: one line each."""
    if session.lease is not None:
        click.echo(session.lease.describe(session.manifest))
    if session.parallel_note:
        click.echo(session.parallel_note)


def _exit(verdict: Verdict) -> None:
    """The verdict as the exit code the help promises."""
    if verdict.interrupted:
        raise CliError("interrupted; the partial results above are saved", INTERRUPTED)
    if verdict.broken == "env":
        raise CliError("every episode ended in env_error; see the errors above", ENV)
    if verdict.broken == "model":
        raise CliError("every episode ended in model_error; see the errors above", MODEL)
    if verdict.decision == "inconclusive":
        raise CliError("gate inconclusive: " + "; ".join(verdict.gate.inconclusive), INCONCLUSIVE)
    if not verdict.passed:
        raise CliError("gate failed: " + "; ".join(verdict.reasons), FAILED)


def _echo_notice(message: str) -> None:
    click.echo(f"mesocosm: {message}", err=True)


def _show_notices() -> None:
    """The engine's notices (a slow or failing model) on stderr, as they come."""
    from pytest_mesocosm.agents.waiting import listen

    stop = listen(_echo_notice)
    click.get_current_context().call_on_close(stop)


def _print_run(run: BenchRun) -> None:
    """Who played what, the metrics table with the gate's verdict, and where the files are."""
    from pytest_mesocosm import RunFolder
    from pytest_mesocosm.scoring.table import format_metrics_table

    verdict = run.verdict
    click.echo(
        f"\nmodel {run.config.agent.model}  domain {run.manifest.domain_id}  "
        f"episodes {len(run.results)}/{verdict.planned}"
        + ("  (interrupted)" if run.interrupted else "")
    )
    click.echo(format_metrics_table(run.metrics, verdict.gate))
    if verdict.comparison:
        click.echo(verdict.comparison)
    click.echo(f"traces:  {RunFolder(run.run_dir).traces_dir}\nresults: {run.results_path}")
