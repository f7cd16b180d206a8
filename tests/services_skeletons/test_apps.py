"""Each skeleton starts alone, migrates its store, and shows what it serves."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import inspect

from shared.inbox import all_topics_of
from tests.services_skeletons.helpers import (
    SKELETONS,
    Running,
    Skeleton,
    entity,
    running,
    sqlite_url,
)


@pytest.fixture(params=SKELETONS, ids=lambda s: s.name)
def svc(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Running]:
    with running(request.param, sqlite_url(tmp_path)) as r:
        yield r


def test_starts_with_its_store_migrated(svc: Running) -> None:
    r = svc.client.get("/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "service": svc.skeleton.name}
    tables = set(inspect(svc.runtime.engine).get_table_names())
    assert {"alembic_version", "outbox", "inbox", "entity_projection"} <= tables


def test_openapi_lists_exactly_its_routes_and_what_is_not_built(svc: Running) -> None:
    spec = svc.client.get("/openapi.json").json()
    v1 = {
        (method.upper(), path)
        for path, ops in spec["paths"].items()
        if path.startswith("/v1/")
        for method in ops
    }
    assert {"/healthz", "/readyz"} <= set(spec["paths"])
    if svc.skeleton.built:
        assert svc.skeleton.routes <= v1
        assert "Not yet built" not in spec["info"]["description"]
    else:
        assert v1 == svc.skeleton.routes
        assert "Not yet built" in spec["info"]["description"]


@pytest.mark.parametrize("skeleton", SKELETONS, ids=lambda s: s.name)
def test_settings_come_from_the_service_prefix(
    skeleton: Skeleton, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert skeleton.settings_cls().port == skeleton.port
    prefix = skeleton.name.upper()
    monkeypatch.setenv(f"{prefix}_PORT", "9123")
    monkeypatch.setenv(f"{prefix}_DATABASE_URL", "sqlite:////tmp/elsewhere.sqlite3")
    settings = skeleton.settings_cls()
    assert settings.port == 9123 and settings.service_name == skeleton.name
    assert settings.database_url == "sqlite:////tmp/elsewhere.sqlite3"


def test_consumer_groups_read_their_topics(svc: Running) -> None:
    got = {c.name: list(all_topics_of(c.handlers)) for c in svc.runtime.consumers}
    assert got == svc.skeleton.consumers
    assert svc.runtime.inbox_table is not None and svc.runtime.outbox_table is not None


def test_stats_need_a_token(svc: Running) -> None:
    r = svc.client.get("/v1/projection/stats")
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"
    r = svc.client.get("/v1/projection/stats", headers={"Authorization": "Bearer nonsense"})
    assert r.status_code == 401


def test_stats_count_only_the_callers_jurisdiction(svc: Running) -> None:
    svc.apply("entities", *entity(1, 1, region="140502"))
    svc.apply("entities", *entity(2, 1, region="140521"))
    svc.apply("entities", *entity(3, 1, region="140105"))

    def count(region: str) -> int:
        r = svc.client.get("/v1/projection/stats", headers=svc.headers(region))
        assert r.status_code == 200, r.text
        return r.json()["entities"]

    assert (count("140000"), count("140500"), count("140502"), count("130000")) == (3, 2, 1, 0)
