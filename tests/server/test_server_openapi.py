"""A bounded schemathesis run against the server's /openapi.json: as a member, every
documented operation with generated inputs answers no 5xx, and every documented
response matches its schema.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from platform_kit import Platform
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]


@pytest.fixture(scope="module")
def member_token(platform: Platform) -> str:
    return platform.login("carol")


def test_api_answers_within_its_schema(platform: Platform, member_token: str) -> None:
    api = schemathesis.openapi.from_url(f"{platform.local}/openapi.json")
    headers = {"Authorization": f"Bearer {member_token}"}
    operations = [result.ok() for result in api.get_all_operations()]
    assert len(operations) > 40

    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=5, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def check(case: Any) -> None:
            case.call_and_validate(base_url=platform.local, checks=CHECKS, headers=headers)

        check()
