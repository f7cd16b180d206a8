"""Reads need a token and stay inside the caller's jurisdiction; publication exposes no
projected entity at all."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.auth import Role
from tests.services_skeletons.helpers import (
    PUBLICATION,
    SAMPLING,
    WITH_ENTITY_READ,
    Running,
    entity,
    entity_code,
    inspector,
    running,
    sqlite_url,
)


@pytest.fixture(params=WITH_ENTITY_READ, ids=lambda s: s.name)
def svc(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Running]:
    with running(request.param, sqlite_url(tmp_path)) as r:
        yield r


def test_entity_read_needs_a_token(svc: Running) -> None:
    svc.apply("entities", *entity(1, 1))
    r = svc.client.get(f"/v1/projection/entities/{entity_code(1)}")
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"


def test_entity_read_within_jurisdiction_by_any_role(svc: Running) -> None:
    env, snap = entity(1, 2, industry_code="1431", registered_on="2019-05-01")
    svc.apply("entities", env, snap)
    for role in Role:
        r = svc.client.get(
            f"/v1/projection/entities/{snap.code.lower()}", headers=svc.headers("140500", role)
        )
        assert r.status_code == 200, (role, r.text)
    body = r.json()
    assert body["code"] == snap.code and body["version"] == 2
    assert body["industry_code"] == "1431" and body["registered_on"] == "2019-05-01"


def test_entity_outside_jurisdiction_is_403_unknown_is_404(svc: Running) -> None:
    svc.apply("entities", *entity(1, 1, region="140502"))
    r = svc.client.get(f"/v1/projection/entities/{entity_code(1)}", headers=svc.headers("140105"))
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    r = svc.client.get(f"/v1/projection/entities/{entity_code(2)}", headers=svc.headers("140000"))
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"


@pytest.fixture
def sampling(tmp_path: Path) -> Iterator[Running]:
    with running(SAMPLING, sqlite_url(tmp_path)) as r:
        yield r


def test_inspector_read_token_jurisdiction_and_404(sampling: Running) -> None:
    sampling.apply("inspectors", *inspector("14050220250007", 1, region="140502"))
    url = "/v1/projection/inspectors/14050220250007"
    assert sampling.client.get(url).status_code == 401
    r = sampling.client.get(url, headers=sampling.headers("140500", Role.BUSINESS_OFFICER))
    assert r.status_code == 200 and r.json()["certificate_expires_on"] == "2027-12-31"
    r = sampling.client.get(url, headers=sampling.headers("140100"))
    assert r.status_code == 403
    r = sampling.client.get(url + "9", headers=sampling.headers("140000"))
    assert r.status_code == 404


def test_sampling_stats_count_inspectors_too(sampling: Running) -> None:
    sampling.apply("inspectors", *inspector("A1", 1, region="140502"))
    sampling.apply("inspectors", *inspector("A2", 1, region="140105"))
    sampling.apply("entities", *entity(1, 1, region="140502"))
    r = sampling.client.get("/v1/projection/stats", headers=sampling.headers("140500"))
    assert r.json() == {"region_prefix": "1405", "entities": 1, "inspectors": 1}


def test_publication_serves_no_projected_entity_and_stores_no_class(tmp_path: Path) -> None:
    with running(PUBLICATION, sqlite_url(tmp_path)) as pub:
        pub.apply("entities", *entity(1, 1))
        r = pub.client.get(
            f"/v1/projection/entities/{entity_code(1)}", headers=pub.headers(role=Role.ADMIN)
        )
        assert r.status_code == 404
        columns = {c.name for t in pub.runtime.metadata.tables.values() for c in t.columns}
        assert not {c for c in columns if any(w in c for w in ("class", "score", "risk"))}
