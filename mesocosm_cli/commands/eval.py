"""``mesocosm eval``: API-driven test episodes and evals on bench-api (platform commands)."""

from __future__ import annotations

import click

from mesocosm_cli.context import base_url_option
from mesocosm_cli.group import MesocosmGroup, platform_pending

_domain_id = click.option("--domain-id", required=True, help="Target domain id.")
_vow_version = click.option("--vow-version",
                            help="Binding vow version; default from the domain record.")
_model = click.option("--model", required=True, help="Model id, e.g. openai/gpt-4o-mini.")
_temperature = click.option("--temperature", type=float, default=0.0, show_default=True,
                            help="Sampling temperature.")
_max_tokens = click.option("--max-tokens", type=int, default=4096, show_default=True,
                           help="Max tokens per step.")


@click.group(cls=MesocosmGroup, name="eval")
@base_url_option
def eval_() -> None:
    """Run test episodes and evals through bench-api."""


@eval_.command()
@_domain_id
@_vow_version
@_model
@click.option("--env-url", metavar="URL", help="Override the environment's HTTP URL.")
@click.option("--seed", type=int, help="Episode seed.")
@_temperature
@_max_tokens
@base_url_option
@click.pass_context
def test(ctx: click.Context, /, **_options: object) -> None:
    """Run single test episode via bench-api."""
    platform_pending(ctx)


@eval_.command()
@_domain_id
@_vow_version
@_model
@click.option("--num-episodes", type=int, default=1, show_default=True, help="Episodes to run.")
@click.option("--seed-set", metavar="JSON", help="JSON array of integer seeds, e.g. '[1,2,3]'.")
@_temperature
@_max_tokens
@click.option("--max-parallel", type=int, default=1, show_default=True,
              help="Max parallel episodes.")
@click.option("--require-published/--allow-draft", default=True, show_default=True,
              help="Reject domains that are not published, or allow drafts.")
@base_url_option
@click.pass_context
def run(ctx: click.Context, /, **_options: object) -> None:
    """Run multi-episode eval with scoring aggregation."""
    platform_pending(ctx)
