"""The self-hosted bench platform: ``create_app(settings)``, routes per resource,
SQLAlchemy models with Alembic migrations, and the durable run worker.

Imports the engine and ``mesocosm_platform`` schemas; never the CLI or the plugin.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mesocosm_server.app import Apps
    from mesocosm_server.settings import ServerSettings

__all__ = ["create_app"]


def create_app(settings: ServerSettings) -> Apps:
    from mesocosm_server.app import create_app as build

    return build(settings)
