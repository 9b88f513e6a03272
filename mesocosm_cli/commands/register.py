"""``mesocosm register``: the legacy domain.py registration (``POST /v1/domains``).

The file defines ``DOMAIN_CONFIG``, the ``POST /v1/domains`` body. Two fixes over the
hosted CLI: ``--auto-id`` renames ``binding_vow.domain_id`` with the id (the server
requires them equal, so the hosted CLI always got a 422), and registering again updates
the domain even when it is published (the hosted PATCH accepts drafts only, so the CLI
unpublishes, updates, and publishes again, as registration itself publishes).
"""

from __future__ import annotations

import copy
import runpy
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from mesocosm_cli.context import CliContext, bench_url_option, pass_cli
from mesocosm_cli.exit_codes import USAGE, CliError
from mesocosm_platform.errors import Conflict

if TYPE_CHECKING:
    from mesocosm_platform.api import BenchApi

UPDATABLE = ("name", "binding_vow", "endpoint", "scoring", "tags", "detail", "pricing",
             "version_history", "image_url", "profile_picture_url", "has_gold_benchmark")


def load_domain_config(path: Path, auto_id: bool) -> dict[str, Any]:
    """``DOMAIN_CONFIG`` of ``path`` (a copy), without ``owner_id``; ``auto_id`` renames it."""
    try:
        namespace = runpy.run_path(str(path), run_name="__mesocosm_register__")
    except FileNotFoundError as exc:
        raise CliError(f"{path}: no such file; pass the path of your domain.py", USAGE) from exc
    except Exception as exc:  # the user's module failed: say where, without our traceback
        raise CliError(f"{path}: running it failed with {type(exc).__name__}: {exc}",
                       USAGE) from exc
    config = namespace.get("DOMAIN_CONFIG")
    if not isinstance(config, dict):
        raise CliError(f"{path}: defines no DOMAIN_CONFIG dict (the POST /v1/domains body)",
                       USAGE)
    config = copy.deepcopy(config)
    config.pop("owner_id", None)
    if auto_id:
        config["id"] = path.resolve().parent.name
        vow = config.get("binding_vow")
        if isinstance(vow, dict) and "domain_id" in vow:
            vow["domain_id"] = config["id"]
    if not config.get("id"):
        raise CliError(f"{path}: DOMAIN_CONFIG has no 'id'; add one or pass --auto-id", USAGE)
    return config


def _update(api: BenchApi, config: dict[str, Any]) -> dict[str, Any]:
    domain_id = str(config["id"])
    body = {k: v for k, v in config.items() if k in UPDATABLE}
    try:
        return api.update_domain(domain_id, body)
    except Conflict:  # only drafts may be updated: take it back to draft for the update
        api.domain_action(domain_id, "unpublish")
        updated = api.update_domain(domain_id, body)
        if updated.get("status") == "draft":  # it was published: leave it so
            updated = api.domain_action(domain_id, "publish")
        return updated


@click.command()
@click.argument("domain_file", metavar="DOMAIN_FILE", type=click.Path(dir_okay=False,
                                                                      path_type=Path))
@click.option("--auto-id", is_flag=True, help="Set the domain id to the parent folder's name.")
@click.option("--publish", is_flag=True, help="Publish the domain after registering it.")
@bench_url_option
@pass_cli
def register(obj: CliContext, domain_file: Path, auto_id: bool, publish: bool) -> None:
    """Legacy register domain.py; prefer env submit."""
    config = load_domain_config(domain_file, auto_id)
    domain_id = str(config["id"])
    with obj.api(member=True) as api:
        try:
            domain = api.create_domain(config)
        except Conflict:
            domain = _update(api, config)
        click.echo(f"[register] domain '{domain_id}' registered  status={domain.get('status')}")
        if publish:
            api.domain_action(domain_id, "publish")
            click.echo(f"[register] domain '{domain_id}' published")
