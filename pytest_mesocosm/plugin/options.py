"""The ``--mesocosm-*`` flags, their ``mesocosm_*`` ini twins, and their validation.

Each option is declared once in :data:`OPTIONS`; a flag given on the command line wins
over its ini twin, which wins over the default. Values are checked where they enter
(argparse ``type=`` for flags, :func:`resolve` for ini lines) and a bad one stops the run
with a :class:`pytest.UsageError` naming the flag or ini key. This module stays light:
it runs in every pytest session, with or without ``--mesocosm``.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from pytest_mesocosm.engine.config import DEFAULT_MODEL, DEFAULT_RUNS_DIR, BenchConfig, build_config

Convert = Callable[[str], Any]
_DEFAULT = BenchConfig()  # the defaults, shown in the help; build_config applies them


def _whole(where: str, minimum: int) -> Convert:
    def convert(text: str) -> int:
        try:
            value = int(str(text).strip())
        except ValueError:
            value = minimum - 1
        if value < minimum:
            raise pytest.UsageError(f"{where}: expected a whole number >= {minimum}, got {text!r}")
        return value

    return convert


def _number(where: str) -> Convert:
    def convert(text: str) -> float:
        try:
            value = float(str(text).strip())
        except ValueError:
            value = -1.0
        if not value >= 0 or value == float("inf"):
            raise pytest.UsageError(f"{where}: expected a number >= 0, got {text!r}")
        return value

    return convert


def _seeds(where: str) -> Convert:
    """``"0,1,2"``, ``"0-9"`` or a mix (``"3,5-7"``), in the order given."""

    def convert(text: str) -> list[int]:
        seeds: list[int] = []
        try:
            for part in str(text).replace(" ", "").split(","):
                low, dash, high = part.partition("-") if part[:1] != "-" else (part, "", "")
                if dash:
                    if int(high) < int(low):
                        raise ValueError(part)
                    seeds.extend(range(int(low), int(high) + 1))
                else:
                    seeds.append(int(part))
        except ValueError:
            raise pytest.UsageError(
                f"{where}: expected seeds like '0,1,2' or '0-9' or '3,5-7', got {text!r}"
            ) from None
        return seeds

    return convert


def _url(where: str, *, bare: bool = False) -> Convert:
    """An http(s) URL; with ``bare``, also "" (the flag given without a value)."""

    def convert(text: str) -> str:
        value = str(text).strip()
        if bare and not value:
            return ""
        if not value.startswith(("http://", "https://")):
            raise pytest.UsageError(
                f"{where}: expected an http:// or https:// URL, got {text!r}"
            )
        return value.rstrip("/")

    return convert


def _threshold(where: str) -> Convert:
    def convert(text: str) -> str:
        from pytest_mesocosm.scoring.gate import ThresholdError, parse_threshold

        try:
            parse_threshold(str(text))
        except ThresholdError as exc:
            raise pytest.UsageError(f"{where}: {exc}") from None
        return str(text).strip()

    return convert


def _choice(*choices: str) -> Callable[[str], Convert]:
    def make(where: str) -> Convert:
        def convert(text: str) -> str:
            value = str(text).strip()
            if value not in choices:
                raise pytest.UsageError(
                    f"{where}: expected {' or '.join(choices)}, got {text!r}"
                )
            return value

        return convert

    return make


def _text(where: str) -> Convert:
    def convert(text: str) -> str:
        if not str(text).strip():
            raise pytest.UsageError(f"{where}: expected a value, got an empty string")
        return str(text)

    return convert


@dataclass(frozen=True)
class Option:
    """One flag and its ini twin; ``make(where)`` builds the validator for either."""

    name: str  # the flag without "--mesocosm-"; the ini key is "mesocosm_" + name with "_"
    help: str
    make: Callable[[str], Convert] | None = None
    many: bool = False  # repeatable flag / one ini value per line
    switch: bool = False  # a flag without a value / a bool ini
    bare: Any = None  # the value of the flag given without one (its value is then optional)

    @property
    def flag(self) -> str:
        return f"--mesocosm-{self.name}"

    @property
    def dest(self) -> str:
        return "mesocosm_" + self.name.replace("-", "_")

    @property
    def ini_key(self) -> str:
        return self.dest


OPTIONS: tuple[Option, ...] = (
    Option("model", f"model that plays: a LiteLLM id (default {DEFAULT_MODEL}), "
           "'script:file.py:function' or 'replay:trace.jsonl'", _text),
    Option("episodes", f"episodes per manifest, seeds 0..N-1 (default {_DEFAULT.episodes})",
           lambda w: _whole(w, 1)),
    Option("seeds", "explicit seeds, e.g. '0,1,2' or '0-9' (overrides --mesocosm-episodes)",
           _seeds),
    Option("repeats", "times each seed is played (default 1); >1 gives pass@k",
           lambda w: _whole(w, 1)),
    Option("temperature", f"sampling temperature (default {_DEFAULT.agent.temperature:g})",
           _number),
    Option("max-tokens", f"most tokens per model reply (default {_DEFAULT.agent.max_tokens})",
           lambda w: _whole(w, 1)),
    Option("system-prompt", "extra system prompt for the model", _text),
    Option("prompt-style", "how the model is asked: 'hosted' (default; the hosted platform's "
           "stateless prompt and parser, comparable numbers) or 'chat' (the episode as one chat)",
           _choice("hosted", "chat")),
    Option("cache", "recorded model calls in cassettes/ beside each manifest: 'off' (default), "
           "'use' (read, record what is missing), 'replay' (read only, a miss fails: CI "
           "without a model key), 'refresh' (call and overwrite)",
           _choice("off", "use", "replay", "refresh")),
    Option("history", "earlier turns sent to the model with --mesocosm-prompt-style chat "
           "(default: the whole episode)", lambda w: _whole(w, 0)),
    Option("model-timeout", "seconds one model call may take before it is retried "
           f"(default {_DEFAULT.agent.timeout:g})", _number),
    Option("model-retries", "extra attempts of a failed or timed-out model call "
           f"(default {_DEFAULT.agent.retries})", lambda w: _whole(w, 0)),
    Option("api-base", "model server URL, e.g. http://localhost:11434 for Ollama", _url),
    Option("env-url", "use the adapter already running at this URL instead of starting one",
           _url),
    Option("python", "interpreter that runs adapter.py (default: the one running pytest)", _text),
    Option("parallel", "episodes of a manifest played at once in each process (default: the "
           "binding vow's parallel_episodes, else 1)", lambda w: _whole(w, 1)),
    Option("executor", "where episodes play: 'asyncio' (default; in this process) or 'ray' "
           "(actors on a Ray cluster; pip install 'pytest-mesocosm[ray]')",
           _choice("asyncio", "ray")),
    Option("ray-address", "the Ray cluster for --mesocosm-executor ray, as Ray takes it: "
           "'auto', 'ray://HOST:PORT', or none to join RAY_ADDRESS or start a local one", _text),
    Option("ray-actors", "Ray actors, each with its own adapter process (default: the "
           "cluster's CPUs, at most the planned episodes)", lambda w: _whole(w, 1)),
    Option("ray-actor-parallel", "episodes each Ray actor plays at once (default: "
           "--mesocosm-parallel spread over the actors)", lambda w: _whole(w, 1)),
    Option("threshold", "pass threshold such as 'win_rate>=0.6' or 'win_rate.lower>=0.5' "
           "(repeatable; added to the manifest's mesocosm.thresholds)", _threshold, many=True),
    Option("inconclusive", "what a threshold counts as when its 95% interval straddles it: "
           "'estimate' (default; the point estimate decides, as before), 'fail', 'pass', or "
           "'error' (the run exits 6)", _choice("estimate", "fail", "pass", "error")),
    Option("until-decided", "while a threshold is inconclusive after the planned seeds, play "
           "more in doubling batches (on the controller) until decided or MAX episodes ran; a "
           "sequential rule keeps a 5% error", lambda w: _whole(w, 1)),
    Option("allowed-errors", "episodes ending in env_error/model_error the gate tolerates "
           "(default: the manifest's mesocosm.allowed_errors, else 0)", lambda w: _whole(w, 0)),
    Option("trace-dir", f"folder for run folders with traces (default {DEFAULT_RUNS_DIR})",
           _text),
    Option("report", "write the run's results (results.json shape, usable as a baseline) here",
           _text),
    Option("html", "write one self-contained HTML report with a replay viewer for the whole "
           "run (every manifest) here", _text),
    Option("baseline", "compare with an earlier run: its results.json, run folder or report",
           _text),
    Option("max-drop", "fail when a metric is this much worse than the baseline",
           _number),
    Option("conformance", "add contract test items that check each adapter", switch=True),
    Option("platform", "play each manifest's seeds as one run on this bench platform (bare: "
           "the URL the mesocosm CLI resolves: MESOCOSM_BASE_URL, ..., saved credentials)",
           lambda w: _url(w, bare=True), bare=""),
    Option("domain", "platform domain id the runs target (default: the manifest's id)", _text),
    Option("golden", "replay every golden file (.mesocosm/golden/<domain>/ beside each "
           "manifest) against the env, no model; a difference fails the item", switch=True),
    Option("golden-record", "with --mesocosm: write the episodes played as golden files",
           switch=True),
    Option("golden-ignore", "a volatile path the golden check ignores, e.g. 'info.timestamp' "
           "or 'observation.data.*.id' (repeatable)", _text, many=True),
    Option("resume", "finish an interrupted run: RUN_DIR is a manifest's run folder (the "
           "summary's 'results:' folder); only episodes not in it are played", _text),
    Option("retry-errors", "with --mesocosm-resume: also play again the episodes that ended "
           "in env_error or model_error", switch=True),
    Option("only", "collect benchanything.json files only, not the repo's own tests (which "
           "may import what this interpreter lacks, e.g. the hosted SDK)", switch=True),
)


def add_options(parser: pytest.Parser) -> None:
    """Declare the one ``mesocosm`` group and every ini twin."""
    group = parser.getgroup("mesocosm", "benchmark LLM-agent environments (pytest-mesocosm)")
    group.addoption(
        "--mesocosm", action="store_true", default=False,
        help="collect every benchanything.json as a benchmark: one test item per episode",
    )
    for option in OPTIONS:
        if option.switch:
            group.addoption(option.flag, action="store_true", default=None, dest=option.dest,
                            help=option.help)
        else:
            assert option.make is not None
            extra: dict[str, Any] = {} if option.bare is None else {
                "nargs": "?", "const": option.bare}
            group.addoption(
                option.flag, dest=option.dest, help=option.help,
                action="append" if option.many else "store", default=None,
                type=option.make(option.flag), metavar=option.name.upper().replace("-", "_"),
                **extra,
            )
        text = f"{option.help} (ini twin of {option.flag})"
        if option.switch:
            parser.addini(option.ini_key, text, type="bool", default=False)
        elif option.many:
            parser.addini(option.ini_key, text, type="linelist", default=[])
        else:
            parser.addini(option.ini_key, text, type="string", default="")


def resolve(config: pytest.Config, option: Option) -> Any:
    """The flag's value, else the ini twin's (checked here), else None (the default)."""
    given = config.getoption(option.dest)
    if given is not None:
        return given
    raw = config.getini(option.ini_key)
    if option.switch:
        return bool(raw)
    assert option.make is not None
    convert = option.make(f"ini option {option.ini_key}")
    if option.many:
        return [convert(line) for line in raw if line.strip()]
    return convert(raw) if str(raw).strip() else None


def _path(config: pytest.Config, option: Option, value: str | None) -> Path | None:
    """A path flag relative to where pytest was started; an ini one to the ini file."""
    if value is None:
        return None
    path = Path(os.path.expanduser(value))
    if path.is_absolute():
        return path
    from_flag = config.getoption(option.dest) is not None
    if from_flag or config.inipath is None:
        return config.invocation_params.dir / path
    return config.inipath.parent / path


def _check_writable(folder: Path) -> None:
    """Stop now, in one line, when the run folders could not be made (nothing is made yet:
    a ``--co`` run leaves no trace)."""
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise pytest.UsageError(
            f"--mesocosm-trace-dir: cannot create {folder}: {existing} is not a folder you "
            "can write to; name another"
        )


def _check_rootdir(config: pytest.Config) -> None:
    """Stop when a path given as ``--mesocosm-X PATH`` may have chosen pytest's rootdir.

    pytest picks the rootdir and the ini file before plugins add their options, so it reads
    that PATH as a test path and searches for both from there: a path under the working
    folder can move the rootdir into it, one outside can move it (and the ini file, with
    its ``mesocosm_*`` settings) to another folder. ``--mesocosm-X=PATH`` is read as one word;
    an explicit ``--rootdir`` keeps the rootdir where the user put it.
    """
    if config.getoption("rootdir"):
        return
    here = config.invocation_params.dir
    rootdir_moved = config.rootpath != here and config.rootpath not in here.parents
    takes_value = {option.flag for option in OPTIONS if not option.switch and option.bare is None}
    args = [str(a) for a in config.invocation_params.args]
    for flag, value in itertools.pairwise(args):
        if flag not in takes_value:
            continue
        path = Path(os.path.abspath(here / value))  # as pytest saw it: links unresolved
        if not path.exists():  # pytest ignores what does not exist
            continue
        outside = path != here and here not in path.parents
        if outside or (rootdir_moved and config.rootpath in (path, *path.parents)):
            raise pytest.UsageError(
                f"{flag} {value}: pytest reads a separate path as a test path and takes its "
                f"rootdir from it (here {config.rootpath}); write it as one word: "
                f"{flag}={value}"
            )


@dataclass
class Settings:
    """Every option resolved: the engine's config, and what only the plugin uses."""

    config: BenchConfig
    report: Path | None = None
    html: Path | None = None
    conformance: bool = False
    platform: str | None = None  # "" = resolve the URL as the CLI does
    domain: str | None = None
    only: bool = False  # collect manifests only, not the repo's own tests
    golden: bool = False  # replay golden files as items
    golden_record: bool = False  # write the run's episodes as golden files
    golden_ignore: list[str] = field(default_factory=list)  # volatile paths
    resume_id: str | None = None  # the run id a --mesocosm-resume continues
    retry_errors: bool = False


_PLUGIN_ONLY = ("trace_dir", "report", "html", "conformance", "threshold", "platform", "domain",
                "only", "golden", "golden_record", "golden_ignore", "resume", "retry_errors")


def read_settings(config: pytest.Config) -> Settings:
    """Resolve every option once, at configure time, so bad values stop the run early."""
    _check_rootdir(config)
    by_name = {o.name: o for o in OPTIONS}
    values = {o.dest.removeprefix("mesocosm_"): resolve(config, o) for o in OPTIONS}
    python = values["python"]
    if python is not None and os.sep in python:  # a path, not a command looked up on PATH
        values["python"] = str(_path(config, by_name["python"], python))
    baseline = _path(config, by_name["baseline"], values["baseline"])
    if baseline is not None and not baseline.exists():
        raise pytest.UsageError(
            f"--mesocosm-baseline: {values['baseline']} does not exist; give the results.json "
            "of an earlier run, its run folder, or a --mesocosm-report file"
        )
    if values["max_drop"] is not None and baseline is None:
        raise pytest.UsageError(
            "--mesocosm-max-drop needs --mesocosm-baseline: the drop is measured against it"
        )
    runs_dir = (_path(config, by_name["trace-dir"], values["trace_dir"])
                or config.invocation_params.dir / DEFAULT_RUNS_DIR)
    resume_id = None
    resume = _path(config, by_name["resume"], values["resume"])
    if values["retry_errors"] and resume is None:
        raise pytest.UsageError("--mesocosm-retry-errors needs --mesocosm-resume RUN_DIR")
    if resume is not None and values["until_decided"] is not None:
        raise pytest.UsageError("--mesocosm-resume and --mesocosm-until-decided do not go "
                                "together; resume the run first")
    if resume is not None:
        from pytest_mesocosm.plugin.resume import resumed_run

        runs_dir, resume_id = resumed_run(resume)
    _check_writable(runs_dir)
    engine = {k: v for k, v in values.items() if k not in _PLUGIN_ONLY}
    engine.update(baseline=baseline, thresholds=values["threshold"], runs_dir=runs_dir)
    bench = build_config(engine)
    if bench.gate.until_decided is not None and bench.gate.until_decided < bench.planned:
        raise pytest.UsageError(
            f"--mesocosm-until-decided {bench.gate.until_decided} is below the "
            f"{bench.planned} planned episodes; give a larger MAX or fewer episodes")
    return Settings(
        config=bench,
        report=_path(config, by_name["report"], values["report"]),
        html=_path(config, by_name["html"], values["html"]),
        conformance=bool(values["conformance"]),
        platform=values["platform"],
        domain=values["domain"],
        only=bool(values["only"]),
        golden=bool(values["golden"]),
        golden_record=bool(values["golden_record"]),
        golden_ignore=list(values["golden_ignore"] or []),
        resume_id=resume_id,
        retry_errors=bool(values["retry_errors"]),
    )
