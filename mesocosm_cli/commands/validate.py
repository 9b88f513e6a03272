"""``mesocosm validate``: check a manifest or a domain-register body offline (no HTTP)."""

from __future__ import annotations

import json
from typing import Any

import click

from mesocosm_cli.context import base_url_option
from mesocosm_cli.exit_codes import FAILED, OK


@click.command()
@click.argument("file", metavar="FILE")
@click.option("--format", "fmt", type=click.Choice(["json", "text"]), default="json",
              show_default=True, help="json (as the hosted CLI prints) or text for people.")
@base_url_option
@click.pass_context
def validate(ctx: click.Context, file: str, fmt: str) -> None:
    """Validate domain JSON against policy constraints.

    FILE is a benchanything.json (or its folder), a legacy POST /v1/domains body, or -
    for stdin; the shape is detected. --base-url is accepted and unused (no network).
    """
    from pytest_mesocosm.manifest.models import (
        validate_file,  # pydantic + jsonschema: only when used
    )

    warnings: list[str] = []
    report = validate_file(file, warnings)
    for warning in warnings:  # stderr: stdout stays the hosted CLI's JSON
        click.echo(f"warning: {warning}", err=True)
    if fmt == "json":
        click.echo(json.dumps(report, indent=2))
    else:
        click.echo(_text(file, report))
    ctx.exit(OK if report["ok"] else FAILED)


def _text(file: str, report: dict[str, Any]) -> str:
    where = "stdin" if file == "-" else file
    schema = report.get("schema", "")
    rules = report.get("rules_version", "")
    if report["ok"]:
        return f"ok: {where} is a valid {schema} (rules {rules})"
    issues, fixes = report["issues"], report["suggested_fixes"]
    noun = "problem" if len(issues) == 1 else "problems"
    lines = [f"{where}: {len(issues)} {noun} ({schema}, rules {rules})"]
    for issue, fix in zip(issues, fixes, strict=False):
        lines.append(f"  {issue}\n    fix: {fix}")
    return "\n".join(lines)
