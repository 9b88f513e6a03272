"""``mesocosm eval``: a test episode (``eval test``) and a scored run (``eval run``) on bench-api.

Output and exit codes are the hosted CLI's: the Episode or Run JSON on stdout, JSON error
documents for HTTP failures, exit 1 for a failed episode or run. ``eval run --wait``
follows the run like ``run create --wait`` and gates it.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import click

from mesocosm_cli.commands.run import wait_options
from mesocosm_cli.context import CliContext, base_url_option, pass_cli
from mesocosm_cli.exit_codes import FAILED, CliError
from mesocosm_cli.group import MesocosmGroup
from mesocosm_cli.output import echo_json, json_errors

if TYPE_CHECKING:
    from mesocosm_platform.api import BenchApi

_domain_id = click.option("--domain-id", required=True, help="Target domain id.")
_vow_version = click.option("--vow-version",
                            help="Binding vow version; default from the domain record.")
_model = click.option("--model", required=True, help="Model id, e.g. openai/gpt-4o-mini.")
_temperature = click.option("--temperature", type=float, default=0.0, show_default=True,
                            help="Sampling temperature.")
_max_tokens = click.option("--max-tokens", type=click.IntRange(min=1), default=4096,
                           show_default=True, help="Max tokens per step.")
FAILED_EPISODE_STATUSES = ("failed", "cancelled", "error")


@click.group(cls=MesocosmGroup, name="eval")
@base_url_option
def eval_() -> None:
    """Run test episodes and evals through bench-api."""


def _vow_version_of(domain: dict[str, Any]) -> str:
    version = (domain.get("binding_vow") or {}).get("version")
    if not version:
        raise CliError(f"domain {domain.get('id')!r} has no binding_vow.version; "
                       "pass --vow-version")
    return str(version)


def _seed_set(text: str | None) -> list[int] | None:
    if text is None:
        return None
    try:
        seeds = json.loads(text)
    except ValueError:
        seeds = None
    if not isinstance(seeds, list) or not all(
        isinstance(s, int) and not isinstance(s, bool) for s in seeds
    ):
        raise CliError("--seed-set must be a JSON array of integers, e.g. '[1,2,3]'")
    return seeds


@eval_.command()
@_domain_id
@_vow_version
@_model
@click.option("--env-url", metavar="URL", help="Override the environment's HTTP URL.")
@click.option("--seed", type=int, help="Episode seed.")
@_temperature
@_max_tokens
@base_url_option
@pass_cli
def test(obj: CliContext, **opts: Any) -> None:
    """Run single test episode via bench-api."""
    with json_errors(), obj.api() as api:
        version = opts["vow_version"] or _vow_version_of(api.get_domain(opts["domain_id"]))
        body: dict[str, Any] = {
            "domain_id": opts["domain_id"],
            "binding_vow_version": version,
            "agent_config": {"model": opts["model"], "temperature": opts["temperature"],
                             "max_tokens": opts["max_tokens"]},
        }
        if opts["env_url"]:
            body["env_url"] = opts["env_url"]
        if opts["seed"] is not None:
            body["seed"] = opts["seed"]
        episode = api.test_episode(body)
    echo_json(episode, ascii=False)
    status = episode.get("status")
    if status in FAILED_EPISODE_STATUSES:
        info = json.dumps(episode.get("terminal_info"), ensure_ascii=False)
        raise CliError(f"episode {status}: {info}", FAILED)


def _checked_domain(api: BenchApi, domain_id: str, require_published: bool) -> dict[str, Any]:
    domain = api.get_domain(domain_id)
    if require_published and domain.get("status") != "published":
        echo_json({"error": "domain_not_published", "status": domain.get("status"),
                   "hint": "Use --allow-draft to bypass."}, ascii=False)
        raise CliError(f"domain {domain_id!r} is {domain.get('status')}, not published; "
                       "pass --allow-draft to run it anyway", FAILED)
    return domain


@eval_.command()
@_domain_id
@_vow_version
@_model
@click.option("--num-episodes", type=click.IntRange(min=1), default=1, show_default=True,
              help="Episodes to run.")
@click.option("--seed-set", metavar="JSON", help="JSON array of integer seeds, e.g. '[1,2,3]'.")
@_temperature
@_max_tokens
@click.option("--max-parallel", type=click.IntRange(min=1), default=1, show_default=True,
              help="Max parallel episodes.")
@click.option("--require-published/--allow-draft", default=True, show_default=True,
              help="Reject domains that are not published, or allow drafts.")
@wait_options
@base_url_option
@pass_cli
def run(obj: CliContext, **opts: Any) -> None:
    """Run multi-episode eval with scoring aggregation."""
    seeds = _seed_set(opts["seed_set"])
    with json_errors(), obj.api() as api:
        version = opts["vow_version"]
        if opts["require_published"] or not version:
            domain = _checked_domain(api, opts["domain_id"], opts["require_published"])
            version = version or _vow_version_of(domain)
        body: dict[str, Any] = {
            "domain_id": opts["domain_id"],
            "binding_vow_version": version,
            "agent_config": {"model": opts["model"], "temperature": opts["temperature"],
                             "max_tokens": opts["max_tokens"]},
            "num_episodes": opts["num_episodes"],
            "max_parallel": opts["max_parallel"],
        }
        if seeds is not None:
            body["seed_set"] = seeds
        made = api.create_run(body)
        if opts["wait"]:
            from mesocosm_cli.follow import wait_and_judge

            click.echo(f"run {made['id']} started", err=True)
            wait_and_judge(api, made, thresholds=opts["thresholds"],
                           allowed_errors=opts["allowed_errors"], timeout=opts["timeout"])
            return
    echo_json(made, ascii=False)
    if made.get("status") in ("failed", "cancelled"):
        raise CliError(f"run {made.get('status')}", FAILED)
