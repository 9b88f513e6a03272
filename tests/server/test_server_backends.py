"""CI must prove both backends: there, a missing PostgreSQL URL is a failure, not a skip."""

from __future__ import annotations

import os

from platform_kit import POSTGRES_VAR


def test_postgres_is_configured_in_ci() -> None:
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        assert os.environ.get(POSTGRES_VAR), (
            f"CI runs the server suite on PostgreSQL too: .ci/run must export {POSTGRES_VAR}")
