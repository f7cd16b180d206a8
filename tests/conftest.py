from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.realparts import postgres_available, scratch_database, skip_or_fail, tansu_broker


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Store tests run on the embedded default and on the real PostgreSQL server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.sqlite3'}"
        return
    reason = postgres_available()
    if reason:
        skip_or_fail(reason)
    with scratch_database() as url:
        yield url


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    with tansu_broker() as bootstrap:
        yield bootstrap
