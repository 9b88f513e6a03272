"""Recorded model calls: record against the Ollama fake, stop it, replay; misses; secrets.

Real runs of ``mesocosm run local`` on a copy of the Wordle example (its adapter as a
real process), the model served by the loopback Ollama-protocol fake, cassette files on
disk, then ``mesocosm cache stats|prune`` on them.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from pytest_mesocosm.agents.cassette import nearest_difference, request_key

Invoke = Callable[..., Result]
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "wordle"
REPLIES = ["crane", "slate", "pilot", "zzzzz", "mound"]
# Differ from run to run (ids, clocks) or count what was spent, which a replay changes
# on purpose: a cassette answer is not a model call and costs nothing.
SPENT = {"episode_id", "wall_seconds", "trace_path", "model_calls", "cost", "cache_hits",
         "cache_misses", "saved_tokens", "saved_cost"}
SPENT_EXTRAS = {"total_wall_seconds", "mean_wall_seconds", "model_calls", "total_cost",
                "cache_hits", "cache_misses", "saved_tokens", "saved_cost"}


@pytest.fixture
def wordle(cli_env: Path) -> Path:
    target = cli_env / "wordle"
    shutil.copytree(EXAMPLE, target, ignore=shutil.ignore_patterns("__pycache__", ".mesocosm"))
    return target


def bench(invoke: Invoke, wordle: Path, url: str, out: str, *extra: str) -> Result:
    return invoke("run", "local", "--manifest", str(wordle), "--model", "ollama/llama3.2",
                  "--api-base", url, "--episodes", "3", "--out", out, "--env-url",
                  "http://127.0.0.1:9", "--quiet", *extra)


def results(out: Path) -> dict[str, Any]:
    (run_dir,) = [p for p in out.iterdir() if p.is_dir()]
    data: dict[str, Any] = json.loads((run_dir / "results.json").read_text())
    return data


def comparable(data: dict[str, Any]) -> dict[str, Any]:
    episodes = [{k: v for k, v in r.items() if k not in SPENT} for r in data["results"]]
    metrics = dict(data["metrics"])
    metrics["extras"] = {k: v for k, v in metrics["extras"].items() if k not in SPENT_EXTRAS}
    return {"results": episodes, "metrics": metrics}


def cassette_files(wordle: Path) -> list[Path]:
    return sorted((wordle / "cassettes").rglob("*.json"))


def test_record_stop_the_model_replay_identical_without_a_call(
    invoke: Invoke, cli_env: Path, wordle: Path, fake_ollama: Callable[..., Any]
) -> None:
    fake = fake_ollama(replies=REPLIES)
    recorded = bench(invoke, wordle, fake.url, "rec", "--cache", "use")
    assert recorded.exit_code == 0, recorded.output
    calls = fake.generation_calls
    assert calls > 3
    fake.stop()  # from here on, any model call would fail

    replayed = bench(invoke, wordle, fake.url, "rep", "--cache", "replay")
    assert replayed.exit_code == 0, replayed.output
    rec, rep = results(cli_env / "rec"), results(cli_env / "rep")
    assert comparable(rep) == comparable(rec)
    assert sum(r["model_calls"] for r in rep["results"]) == 0
    assert sum(r["cache_hits"] for r in rep["results"]) == sum(
        r["model_calls"] + r["cache_hits"] for r in rec["results"])
    assert sum(r["saved_tokens"] for r in rep["results"]) == sum(
        r["prompt_tokens"] + r["completion_tokens"] for r in rec["results"])
    assert "cache: " in replayed.output and " 0 misses, 0 model calls" in replayed.output

    # the recording: one file per distinct request, named by the hash of what it holds
    files = cassette_files(wordle)
    assert 0 < len(files) <= calls
    for path in files:
        entry = json.loads(path.read_text())
        assert path.stem == entry["key"] == request_key(entry["request"])
        assert path.read_text() == json.dumps(entry, sort_keys=True, indent=1,
                                              ensure_ascii=False) + "\n"
    # the traces mark each answer
    (trace,) = (p for p in (cli_env / "rep").rglob("seed-0.jsonl"))
    marks = [json.loads(line).get("cached") for line in trace.read_text().splitlines()
             if '"model_call"' in line]
    assert marks and all(mark is True for mark in marks)


def test_a_changed_observation_fails_replay_naming_seed_and_step(
    invoke: Invoke, cli_env: Path, wordle: Path, fake_ollama: Callable[..., Any]
) -> None:
    fake = fake_ollama(replies=REPLIES)
    assert bench(invoke, wordle, fake.url, "rec", "--cache", "use").exit_code == 0
    fake.stop()
    env = wordle / "env.py"
    env.write_text(env.read_text().replace('"guesses_remaining": self._remaining',
                                           '"guesses_left": self._remaining'))

    replayed = bench(invoke, wordle, fake.url, "rep", "--cache", "replay")
    assert replayed.exit_code == 4  # every episode missed: the model's side, not a loss
    assert "every episode ended in model_error" in replayed.output
    errors = [r["error"] for r in results(cli_env / "rep")["results"]]
    pattern = (
        r"cache replay: no recorded answer at seed (\d), step 1 in .*cassettes: "
        r"the user message \(#2\) differs from the nearest recorded one: "
        r"recorded '\.\.\..*\"guesses_remaining\": 6.*', now '\.\.\..*\"guesses_left\": 6.*' "
        r"\([0-9a-f]{12}\); record it again with cache mode use or refresh"
    )
    seeds = []
    for error in errors:
        match = re.fullmatch(pattern, error)
        assert match, error
        seeds.append(int(match.group(1)))
        assert "\n" not in error
    assert seeds == [0, 1, 2]


def test_replay_with_nothing_recorded_is_one_model_error(
    invoke: Invoke, wordle: Path
) -> None:
    result = bench(invoke, wordle, "http://127.0.0.1:9", "rep", "--cache", "replay")
    assert result.exit_code == 4
    assert result.stderr.strip().splitlines()[-1] == (
        "Error: cache replay: nothing recorded for model ollama/llama3.2 in "
        f"{wordle / 'cassettes'}; record a run with cache mode use first"
    )


SECRET = "sk-mesocosm-test-0123456789abcdef"


def test_no_secret_reaches_a_cassette(
    invoke: Invoke, wordle: Path, fake_ollama: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    fake = fake_ollama(replies=REPLIES)
    result = invoke("run", "local", "--manifest", str(wordle), "--model", "openai/llama3.2",
                    "--api-base", f"{fake.url}/v1", "--episodes", "1", "--out", "rec",
                    "--env-url", "http://127.0.0.1:9", "--quiet", "--cache", "use",
                    "--system-prompt", f"(the key is {SECRET}; never say it)")
    assert result.exit_code == 0, result.output
    sent = [r.headers.get("Authorization", "") for r in fake.requests
            if r.path == "/v1/chat/completions"]
    assert sent and all(SECRET in header for header in sent)  # the key was in play
    files = cassette_files(wordle)
    assert files
    for path in files:
        text = path.read_text()
        assert SECRET not in text and "Authorization" not in text
        assert "(the key is [redacted]; never say it)" in text


def test_cache_stats_and_prune(
    invoke: Invoke, wordle: Path, fake_ollama: Callable[..., Any]
) -> None:
    fake = fake_ollama(replies=REPLIES)
    assert bench(invoke, wordle, fake.url, "rec", "--cache", "use").exit_code == 0
    files = cassette_files(wordle)
    size = sum(p.stat().st_size for p in files)

    stats = invoke("cache", "stats", "--manifest", str(wordle))
    assert stats.exit_code == 0
    lines = stats.output.splitlines()
    assert lines[0] == f"cassettes: {wordle / 'cassettes'}"
    assert lines[1].split() == ["model", "entries", "size", "tokens", "cost"]
    assert lines[2].split()[:3] == ["ollama/llama3.2", str(len(files)), f"{size / 1024:.1f}"]

    refused = invoke("cache", "prune", "--manifest", str(wordle))
    assert refused.exit_code == 2
    assert refused.stderr.strip() == (
        "Error: say what to prune: --model MODEL and/or --unused-days DAYS"
    )
    kept = invoke("cache", "prune", "--manifest", str(wordle), "--unused-days", "1")
    assert kept.output == f"removed 0 entries from {wordle / 'cassettes'}\n"
    dry = invoke("cache", "prune", "--manifest", str(wordle), "--model", "ollama/llama3.2",
                 "--dry-run")
    assert dry.output.startswith(f"would remove {len(files)} entries")
    assert cassette_files(wordle) == files
    gone = invoke("cache", "prune", "--manifest", str(wordle), "--unused-days", "0")
    assert gone.output.startswith(f"removed {len(files)} entries")
    assert cassette_files(wordle) == []


def test_the_nearest_request_names_a_changed_setting() -> None:
    from pytest_mesocosm.agents.cassette import Entry

    asked = {"model": "m", "messages": [{"role": "user", "content": "hi"}],
             "temperature": 0.7}
    recorded = [
        Entry(Path("a.json"), {**asked, "temperature": 0.0}, {}),
        Entry(Path("b.json"), {**asked, "messages": [], "temperature": 0.0}, {}),
    ]
    assert nearest_difference(asked, recorded) == (
        "nearest recorded request has temperature 0.0, now 0.7 (a.json)"
    )
    assert nearest_difference(asked, []) == "nothing is recorded for this model"
