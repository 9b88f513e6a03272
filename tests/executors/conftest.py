"""One two-node Ray cluster shared by the tests of this folder (Ray starts slowly)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from cluster import LocalRayCluster


@pytest.fixture(scope="package")
def ray_cluster() -> Iterator[LocalRayCluster]:
    cluster = LocalRayCluster().start()
    yield cluster
    cluster.stop()
