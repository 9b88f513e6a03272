"""`mesocosm doctor`: bench-api, the local adapter, the manifest's contract and the model."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from click.testing import Result

from mesocosm_platform.credentials import Credentials, save_credentials

Invoke = Callable[..., Result]
WORDLE = Path(__file__).resolve().parents[2] / "examples" / "wordle"


def _report(result: Result | subprocess.CompletedProcess[str]) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(result.stdout)
    assert set(data) == {"ok", "local", "checks", "issues", "hints"}
    return data


def _check(report: dict[str, Any], name: str) -> dict[str, Any]:
    found = [c for c in report["checks"] if c["name"] == name]
    assert len(found) == 1, report["checks"]
    return found[0]


def test_local_without_adapter_or_manifest_fails(invoke: Invoke, dead_url: str) -> None:
    result = invoke("doctor", "--local", env={"MESOCOSM_ENV_URL": dead_url})
    assert result.exit_code == 1
    report = _report(result)
    assert report["ok"] is False and report["local"] is True
    assert _check(report, "adapter")["status"] == "fail"
    assert report["issues"] == [f"no env adapter answers at {dead_url}"]
    assert _check(report, "bench_api")["status"] != "fail"  # bench-api may be down locally
    assert _check(report, "bench_api")["url"] == "http://127.0.0.1:8010"
    assert any("mesocosm init" in hint for hint in report["hints"])
    assert any("python adapter.py" in hint for hint in report["hints"])


def test_local_passes_when_the_adapter_answers(
    invoke: Invoke, start_adapter: Callable[[Path], str]
) -> None:
    url = start_adapter(WORDLE / "adapter.py")
    result = invoke("doctor", env={"MESOCOSM_LOCAL": "on", "MESOCOSM_ADAPTER_URL": url,
                                   "MESOCOSM_ENV_URL": ""})
    assert result.exit_code == 0, result.output
    report = _report(result)
    assert report["ok"] is True and report["local"] is True
    adapter = _check(report, "adapter")
    assert adapter == {"name": "adapter", "status": "pass",
                       "detail": "adapter answers (env WordleEnv)", "url": url}


def test_bench_api_up(invoke: Invoke, bench_api: str) -> None:
    result = invoke("doctor", "--base-url", bench_api)
    assert result.exit_code == 0, result.output
    report = _report(result)
    assert report["local"] is False
    assert _check(report, "bench_api") == {"name": "bench_api", "status": "pass",
                                           "detail": "bench-api answers (version test)",
                                           "url": bench_api}
    assert _check(report, "adapter")["status"] == "skip"


def test_bench_api_down_names_the_setting(invoke: Invoke, dead_url: str) -> None:
    result = invoke("doctor", env={"SWECC_BENCH_URL": dead_url})
    assert result.exit_code == 1
    report = _report(result)
    assert report["issues"] == [f"bench-api at {dead_url} (from SWECC_BENCH_URL) does not answer"]
    assert any("start the local bench-api" in hint for hint in report["hints"])


def test_saved_bench_url_is_used(invoke: Invoke, cli_env: Path, bench_api: str) -> None:
    creds = Credentials(mode="member", token="t", bench_url=bench_api + "/")
    save_credentials(creds, cli_env.parent / "home" / "bench_credentials.json")
    result = invoke("doctor")
    assert result.exit_code == 0, result.output
    assert _check(_report(result), "bench_api")["url"] == bench_api


def test_production_url_without_bench_is_flagged(invoke: Invoke) -> None:
    # A URL known to be wrong is not requested (so this test stays offline).
    result = invoke("doctor", "--base-url", "https://api.swecc.org")
    report = _report(result)
    assert result.exit_code == 1
    bench = _check(report, "bench_api")
    assert bench["status"] == "fail" and "without /bench" in bench["detail"]
    assert any("--base-url https://api.swecc.org/bench" in i for i in report["issues"])


def test_broken_manifest_is_a_failed_check(invoke: Invoke, cli_env: Path, bench_api: str) -> None:
    (cli_env / "auxiliary").mkdir()
    (cli_env / "auxiliary" / "benchanything.json").write_text('{"adapter": "adapter.py"}')
    result = invoke("doctor", "--base-url", bench_api)
    assert result.exit_code == 1
    report = _report(result)
    manifest = _check(report, "manifest")
    assert manifest["status"] == "fail"
    assert manifest["url"].endswith("auxiliary/benchanything.json")
    assert any("mesocosm validate" in hint for hint in report["hints"])


def test_explicit_missing_manifest(invoke: Invoke, bench_api: str) -> None:
    result = invoke("doctor", "--base-url", bench_api, "--manifest", "nope.json")
    assert result.exit_code == 1
    assert _report(result)["issues"][0].startswith("nope.json: no such file")


def test_scaffold_with_a_playable_model_passes_every_check(invoke: Invoke, cli_env: Path) -> None:
    invoke("init")
    result = invoke("doctor", "--local", "--model", "script:solver.py:policy")
    assert result.exit_code == 0, result.output
    report = _report(result)
    assert [(c["name"], c["status"]) for c in report["checks"]][1:] == [
        ("manifest", "pass"), ("adapter", "pass"), ("conformance", "pass"), ("model", "pass")]
    adapter = _check(report, "adapter")
    assert adapter["detail"].startswith("nothing answered at ")
    assert "started adapter.py on http://127.0.0.1:" in adapter["detail"]
    port = os.environ["MESOCOSM_ENV_URL"].rsplit(":", 1)[1]
    assert f"`python adapter.py --port {port}`" in " ".join(report["hints"])


def test_missing_model_is_a_warning_with_the_fix(invoke: Invoke, cli_env: Path) -> None:
    invoke("init")
    result = invoke("doctor", "--local")  # OLLAMA_HOST points at a closed port
    assert result.exit_code == 0, result.output
    report = _report(result)
    model = _check(report, "model")
    assert model["status"] == "warn" and "ollama serve" in model["detail"]
    assert any(h.startswith("model ollama/llama3.2: ") for h in report["hints"])


def test_contract_breach_fails_the_conformance_check(invoke: Invoke, cli_env: Path) -> None:
    invoke("init")
    env_py = cli_env / "env.py"
    env_py.write_text(env_py.read_text().replace(
        'return {"data": self._observation(), "system_prompt": RULES}',
        'return {"data": {**self._observation(), "nonce": random.random()}, '
        '"system_prompt": RULES}',
    ))
    result = invoke("doctor", "--local", "--model", "script:solver.py:policy")
    assert result.exit_code == 1
    report = _report(result)
    assert _check(report, "conformance")["status"] == "fail"
    (issue,) = report["issues"]
    assert issue.startswith("conformance deterministic_reset: reset(seed=0) twice gave different")


def test_adapter_that_cannot_start(invoke: Invoke, cli_env: Path) -> None:
    invoke("init")
    (cli_env / "adapter.py").write_text("import sys\nsys.exit('no luck')\n")
    result = invoke("doctor", "--local")
    assert result.exit_code == 1
    report = _report(result)
    adapter = _check(report, "adapter")
    assert adapter["status"] == "fail" and "exited with code 1" in adapter["detail"]
    assert "no luck" in report["issues"][0]
    assert "conformance" not in {c["name"] for c in report["checks"]}


def test_port_taken_by_something_else(
    invoke: Invoke, cli_env: Path, fake_ollama: Callable[..., Any]
) -> None:
    other = fake_ollama()
    invoke("init")
    result = invoke("doctor", "--local", env={"MESOCOSM_ENV_URL": other.url})
    assert result.exit_code == 1
    report = _report(result)
    assert report["issues"] == [
        f"{other.url} is taken by something that is not an env adapter (GET /health answered "
        "404); stop it, or point MESOCOSM_ENV_URL at your adapter or a free port"
    ]
