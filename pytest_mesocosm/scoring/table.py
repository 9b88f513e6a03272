"""Render run metrics and the gate verdict as a plain-text table or as Markdown.

The pytest terminal summary and the CLI print :func:`format_metrics_table`; CI jobs
append :func:`format_markdown` to ``$GITHUB_STEP_SUMMARY``. Both always show how many
episodes were scored out of how many ran and every outcome count, so a score is
never read without its denominator.
"""

from __future__ import annotations

from pytest_mesocosm.scoring.gate import CheckResult, GateResult
from pytest_mesocosm.scoring.metrics import RunMetrics

_HEADER = ("metric", "value", "95% interval", "n", "threshold", "verdict")
MAX_PROBLEMS = 10  # shown; all of them are in results.json


def fmt(value: float | None, digits: int = 3) -> str:
    """A number for people: ``-`` for none, 3 decimals, thousands separators when large."""
    if value is None:
        return "-"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}"


def fmt_interval(lower: float | None, upper: float | None) -> str:
    return "-" if lower is None or upper is None else f"[{fmt(lower)}, {fmt(upper)}]"


def _checks_by_metric(gate: GateResult | None) -> dict[str, list[CheckResult]]:
    grouped: dict[str, list[CheckResult]] = {}
    for check in gate.checks if gate else []:
        grouped.setdefault(check.metric, []).append(check)
    return grouped


def _verdict(checks: list[CheckResult], mode: str) -> str:
    """What the gate made of a metric's thresholds; ``inconclusive`` only where an
    undecided one is what it counts as (``error`` mode)."""
    if not checks:
        return ""
    if all(c.passed for c in checks):
        return "pass"
    undecided = all(c.decision == "inconclusive" for c in checks if not c.passed)
    return "inconclusive" if mode == "error" and undecided else "FAIL"


def _threshold_text(checks: list[CheckResult], metric: str) -> str:
    return ", ".join(c.threshold.removeprefix(metric) for c in checks) or "-"


def _rows(metrics: RunMetrics, gate: GateResult | None) -> list[tuple[str, ...]]:
    """One row per scoring metric (primary starred), then thresholded extras and pass@k."""
    checks = _checks_by_metric(gate)
    mode = gate.mode if gate else "estimate"
    rows: list[tuple[str, ...]] = []
    for name, summary in metrics.metrics.items():
        mine = checks.pop(name, [])
        rows.append((
            f"{name} *" if name == metrics.primary_metric else name,
            fmt(summary.value),
            fmt_interval(*summary.interval()),
            str(summary.n),
            _threshold_text(mine, name),
            _verdict(mine, mode),
        ))
    for name, mine in checks.items():
        rows.append(
            (name, fmt(mine[0].actual), "-", "", _threshold_text(mine, name), _verdict(mine, mode))
        )
    return rows


def _outcome_line(metrics: RunMetrics) -> str:
    counts = ", ".join(f"{status} {n}" for status, n in metrics.outcomes.items())
    return f"scored {metrics.scored}/{metrics.total} episodes ({counts})"


def _extras_line(metrics: RunMetrics) -> str:
    x = metrics.extras
    tokens = x.get("total_tokens")
    cost = x.get("total_cost")
    return (
        f"mean steps {fmt(x.get('mean_steps'), 2)}, "
        f"invalid-action rate {fmt(x.get('invalid_action_rate'))}, "
        f"tokens {'-' if tokens is None else f'{tokens:,.0f}'} "
        f"({fmt(x.get('mean_tokens'), 1)}/episode), "
        f"cost {'-' if cost is None else f'${cost:.4f}'}, "
        f"wall {fmt(x.get('total_wall_seconds'), 1)} s "
        f"({fmt(x.get('mean_wall_seconds'), 2)} s/episode)"
    )


def _cache_line(metrics: RunMetrics) -> str | None:
    """Answers read from the cassette, apart from the calls made; None without a cache."""
    x = metrics.extras
    hits, misses = x.get("cache_hits") or 0, x.get("cache_misses") or 0
    if not hits and not misses:
        return None
    return (
        f"cache: {hits:,.0f} hits, {misses:,.0f} misses, {x.get('model_calls') or 0:,.0f} "
        f"model calls; saved {x.get('saved_tokens') or 0:,.0f} tokens and "
        f"${x.get('saved_cost') or 0:.4f}"
    )


def _pass_k_line(metrics: RunMetrics) -> str | None:
    if not metrics.pass_at_k:
        return None
    at = ", ".join(f"pass@{k} {fmt(v)}" for k, v in metrics.pass_at_k.items())
    hat = ", ".join(f"pass^{k} {fmt(v)}" for k, v in metrics.pass_hat_k.items())
    return f"{at}; {hat}"


def _gate_line(gate: GateResult) -> str:
    return "gate: PASSED" if gate.passed else f"gate: {gate.decision.upper()}"


def _decision_lines(gate: GateResult) -> list[str]:
    """The undecided thresholds with their intervals, what they counted as, and the look
    of the sequential rule when one ran."""
    lines = []
    if gate.inconclusive:
        counted = {"estimate": "settled by the point estimate", "pass": "counted as passed",
                   "fail": "counted as failed", "error": "the run is inconclusive"}[gate.mode]
        lines.append(f"inconclusive thresholds ({counted}; inconclusive mode {gate.mode}):")
        lines += [f"  - {text}" for text in gate.inconclusive]
    look = gate.sequential
    if look:
        state = "decided" if not gate.inconclusive else "still undecided"
        lines.append(
            f"sequential rule: {state} at look {look['index']} after {look['episodes']} "
            f"episodes (max {look['maximum']}); this look's interval level "
            f"{1 - look['spent_alpha']:.2%}, overall error <= {look['alpha']:g}"
        )
    return lines


def _problem_lines(metrics: RunMetrics) -> list[str]:
    """The first few problems, and how many more there are, as bullet texts."""
    shown = metrics.problems[:MAX_PROBLEMS]
    hidden = len(metrics.problems) - len(shown)
    return shown + ([f"... and {hidden} more (all in results.json)"] if hidden else [])


def format_metrics_table(metrics: RunMetrics, gate: GateResult | None = None) -> str:
    """The plain-text metrics table and run summary (``*`` marks the primary metric)."""
    table = [_HEADER, *_rows(metrics, gate)]
    widths = [max(len(row[i]) for row in table) for i in range(len(_HEADER))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
             for row in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines += [_outcome_line(metrics), _extras_line(metrics)]
    cache = _cache_line(metrics)
    if cache:
        lines.append(cache)
    pass_k = _pass_k_line(metrics)
    if pass_k:
        lines.append(pass_k)
    if metrics.rejections:
        lines.append("most frequent rejections (invalid actions):")
        lines += [f"  {count}x {reason}" for reason, count in metrics.rejections]
    if metrics.problems:
        lines.append(f"problems ({len(metrics.problems)}):")
        lines += [f"  - {p}" for p in _problem_lines(metrics)]
    if gate is not None:
        lines += _decision_lines(gate)
        lines.append(_gate_line(gate))
        lines += [f"  - {r}" for r in gate.reasons]
    return "\n".join(lines)


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|") or " "


def format_markdown(
    metrics: RunMetrics, gate: GateResult | None = None, *, title: str = "mesocosm"
) -> str:
    """The same report as Markdown, for ``$GITHUB_STEP_SUMMARY``."""
    verdict = "" if gate is None else {
        "passed": " - passed", "failed": " - FAILED", "inconclusive": " - INCONCLUSIVE",
    }[gate.decision if not gate.passed else "passed"]
    lines = [f"### {title}{verdict}", ""]
    lines.append("| " + " | ".join(_HEADER) + " |")
    lines.append("|" + "---|" * len(_HEADER))
    for row in _rows(metrics, gate):
        name = f"**{row[0]}**" if row[0].endswith(" *") else row[0]
        lines.append("| " + " | ".join(_md_cell(c) for c in (name, *row[1:])) + " |")
    lines += ["", _outcome_line(metrics), "", _extras_line(metrics)]
    cache = _cache_line(metrics)
    if cache:
        lines += ["", cache]
    pass_k = _pass_k_line(metrics)
    if pass_k:
        lines += ["", pass_k]
    if metrics.problems:
        lines += ["", f"**Problems ({len(metrics.problems)})**", ""]
        lines += [f"- {_md_cell(p)}" for p in _problem_lines(metrics)]
    if gate is not None and gate.reasons:
        lines += ["", "**Gate failed:**", ""]
        lines += [f"- {_md_cell(r)}" for r in gate.reasons]
    if gate is not None and (gate.inconclusive or gate.sequential):
        lines += [""] + [_md_cell(line) for line in _decision_lines(gate)]
    return "\n".join(lines) + "\n"
