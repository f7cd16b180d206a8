"""The store fails under a request: a locked or unreachable store is a prompt 503 with
Retry-After (within ``store_wait_s``), never a 500 after half a minute, /readyz says which
part is down, and nothing is lost or half-written."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from services.registry.app import build_app
from services.registry.models import Entity, outbox
from services.registry.settings import RegistrySettings
from shared.auth import Role, mint_token
from tests.realparts import PG_ADMIN_URL
from tests.registry.conftest import entity_code

WAIT_S = 1.0  # the requests' wait for the store, short to keep the test quick


@pytest.fixture
def registry(db_url: str) -> Iterator[TestClient]:
    settings = RegistrySettings(
        environment="test",
        database_url=db_url,
        run_relay=False,
        run_consumers=False,
        store_wait_s=WAIT_S,
    )
    with TestClient(build_app(settings)) as client:
        yield client


def create(client: TestClient, i: int) -> object:
    secret = client.app.state.settings.auth_secret  # type: ignore[attr-defined]
    token = mint_token(secret, subject="t", role=Role.REGISTRY_CLERK, region="140000")
    return client.post(
        "/v1/entities",
        headers={"Authorization": f"Bearer {token}"},
        json={
            "code": entity_code(i),
            "entity_type": "enterprise",
            "name": f"存储故障测试{i}有限公司",
            "region_code": "140502",
        },
    )


def stored(client: TestClient) -> tuple[int, int]:
    """(entities, outbox events) in the store."""
    with client.app.state.runtime.sessions() as s:  # type: ignore[attr-defined]
        return (
            s.execute(select(func.count()).select_from(Entity)).scalar_one(),
            s.execute(select(func.count()).select_from(outbox)).scalar_one(),
        )


@contextmanager
def store_locked(db_url: str) -> Iterator[None]:
    """Another process's writer holds the store: SQLite's write lock, or on PostgreSQL an
    exclusive lock on the entities table."""
    if db_url.startswith("sqlite"):
        conn = sqlite3.connect(make_url(db_url).database or "", isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            conn.execute("ROLLBACK")
            conn.close()
        return
    engine = create_engine(db_url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as conn:
        conn.execute(text("LOCK TABLE entities IN ACCESS EXCLUSIVE MODE"))
        try:
            yield
        finally:
            conn.rollback()
    engine.dispose()


def assert_store_unavailable(r: object) -> None:
    assert r.status_code == 503, r.text  # type: ignore[attr-defined]
    assert r.headers["Retry-After"].isdigit()  # type: ignore[attr-defined]
    error = r.json()["error"]  # type: ignore[attr-defined]
    assert error["code"] == "store_unavailable" and "数据库" in error["message"]


def test_a_locked_store_answers_503_with_retry_after_and_loses_nothing(
    registry: TestClient, db_url: str
) -> None:
    assert create(registry, 1).status_code == 201
    with store_locked(db_url):
        assert_store_unavailable(create(registry, 2))
        if db_url.startswith("sqlite"):  # PostgreSQL's store stays usable beside a table lock
            r = registry.get("/readyz")
            assert r.status_code == 503 and r.json()["error"]["details"]["store"] == "locked"
            assert "store" in r.json()["error"]["message"]
    assert stored(registry) == (1, 1)  # the refused request left no entity and no event
    assert create(registry, 2).status_code == 201  # the retry the answer asked for
    assert stored(registry) == (2, 2)
    assert registry.get("/readyz").status_code == 200


# An SQLite file is never unreachable; locked (the test above) is its failure.
@pytest.mark.parametrize("store_kind", ["postgresql"], indirect=True)
def test_an_unreachable_store_answers_503(registry: TestClient, db_url: str) -> None:
    name = make_url(db_url).database
    admin = create_engine(
        PG_ADMIN_URL.replace("postgresql://", "postgresql+psycopg://"),
        isolation_level="AUTOCOMMIT",
    )
    with admin.connect() as conn:
        # New connections are refused and the service's open ones are cut: as a server
        # that went away, seen from the service.
        conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
        conn.execute(
            text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :d"),
            {"d": name},
        )
        try:
            assert_store_unavailable(create(registry, 3))
            r = registry.get("/readyz")
            assert r.status_code == 503 and r.json()["error"]["details"]["store"] != "ok"
        finally:
            conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
    admin.dispose()
    assert create(registry, 3).status_code == 201  # back: the request succeeds again
