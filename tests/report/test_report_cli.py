"""``mesocosm report`` and ``pytest --mesocosm --mesocosm-html``, run for real."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from mesocosm_cli.main import cli
from pytest_mesocosm.engine.export import export_run
from pytest_mesocosm.report.render import unpack

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _replays(html: str) -> dict[str, dict]:
    match = re.search(r'id="mesocosm-data"[^>]*>([^<]*)</script>', html)
    assert match, "no replay data in the report"
    return {k: v for run in unpack(match.group(1))["runs"] for k, v in run["replays"].items()}


def test_report_of_a_run_folder_goes_into_it_by_default(wordle_run: Path) -> None:
    result = CliRunner().invoke(cli, ["report", str(wordle_run)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    out = wordle_run / "report.html"
    assert result.output == f"report: {out} ({out.stat().st_size / 1024:.0f} KB)\n"
    html = out.read_text()
    assert len(_replays(html)) == 6
    assert re.search(r"(src|href)=\"(https?:)?//", html) is None  # nothing to fetch


def test_report_of_an_export_with_a_baseline(
    wordle_run: Path, baseline_run: Path, tmp_path: Path
) -> None:
    export = tmp_path / "run.json"
    export.write_text(json.dumps(export_run(wordle_run)))
    out = tmp_path / "out" / "r.html"
    result = CliRunner().invoke(
        cli, ["report", str(export), "-o", str(out), "--baseline", str(baseline_run)],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    html = out.read_text()
    assert "Baseline comparison" in html and "only in baseline: seed=6" in html
    assert html.count('<tr class="pair">') == 6


@pytest.mark.parametrize(("args", "code", "message"), [
    (["report", "nowhere"], 2, "Path 'nowhere' does not exist"),
    (["report", "{bad}"], 1, "is neither a run folder, a results.json nor a run export"),
    (["report", "{empty}"], 1, "results.json not found; give a run folder"),
])
def test_a_wrong_source_is_one_line_and_no_traceback(
    tmp_path: Path, args: list[str], code: int, message: str
) -> None:
    (tmp_path / "bad.json").write_text('{"x": 1}')
    (tmp_path / "empty").mkdir()
    args = [a.format(bad=tmp_path / "bad.json", empty=tmp_path / "empty") for a in args]
    done = subprocess.run(
        [sys.executable, "-c", "from mesocosm_cli.main import cli; cli()", *args],
        capture_output=True, text=True, cwd=tmp_path, timeout=60,
    )
    assert done.returncode == code
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("Error: ") and message in last
    assert "Traceback" not in done.stderr


def test_pytest_html_report_covers_every_manifest(pytester: pytest.Pytester) -> None:
    for name in ("wordle", "wordle_copy"):
        target = pytester.path / name
        target.mkdir()
        for item in (EXAMPLES / "wordle").iterdir():
            if item.is_file():
                (target / item.name).write_bytes(item.read_bytes())
    manifest = pytester.path / "wordle_copy" / "benchanything.json"
    data = json.loads(manifest.read_text())
    data.update(id="wordle-copy", name="Wordle copy")
    manifest.write_text(json.dumps(data))

    result = pytester.runpytest_subprocess(
        "--mesocosm", "--mesocosm-model", "script:solver.py:policy", "--mesocosm-episodes", "2",
        "--mesocosm-html", "out/report.html", timeout=180,
    )
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["mesocosm: html report */out/report.html"])
    html = (pytester.path / "out" / "report.html").read_text()
    assert html.count('<section class="run"') == 2
    assert "Wordle copy" in html
    replays = _replays(html)
    assert len(replays) == 4 and all(r["end"]["status"] == "completed" for r in replays.values())


def test_pytest_html_report_compares_with_the_baseline(pytester: pytest.Pytester) -> None:
    target = pytester.path / "wordle"
    target.mkdir()
    for item in (EXAMPLES / "wordle").iterdir():
        if item.is_file():
            (target / item.name).write_bytes(item.read_bytes())
    common = ("--mesocosm", "--mesocosm-episodes", "3")
    before = pytester.runpytest_subprocess(
        *common, "--mesocosm-model", "script:solver.py:policy", "--mesocosm-report", "base.json",
        timeout=180,
    )
    assert before.ret == pytest.ExitCode.OK
    pytester.runpytest_subprocess(
        *common, "--mesocosm-model", "script:solver.py:weak_policy", "--mesocosm-baseline",
        "base.json", "--mesocosm-html", "report.html", timeout=180,
    )
    html = (pytester.path / "report.html").read_text()
    assert "Baseline comparison" in html
    assert html.count('<tr class="pair">') == 3
    assert '<span class="change worse">seed=0 win_rate completed 1.000' in html
