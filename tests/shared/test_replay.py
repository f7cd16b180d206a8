"""Replay and resync figures over HTTP, without a broker: what a replay writes to the
outbox rebuilds a consumer's projection exactly, bad input names its field, and the
figures of scoring's streams say nothing about any class."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from services.registry.app import build_app as build_registry
from services.registry.models import outbox
from services.registry.settings import RegistrySettings
from services.sampling.app import build_runtime as sampling_runtime
from services.sampling.models import entity_projection
from services.sampling.settings import SamplingSettings
from services.scoring.app import build_app as build_scoring
from services.scoring.settings import ScoringSettings
from shared.auth import mint_token
from shared.events import Envelope
from shared.resync import StreamFigures, compare
from tests.registry.conftest import entity_code
from tests.waiting import wait_until

SECRET = RegistrySettings().auth_secret


def bearer(role: str, region: str = "140000") -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(SECRET, subject='t', role=role, region=region)}"}


@pytest.fixture
def registry(db_url: str) -> Iterator[TestClient]:
    settings = RegistrySettings(
        environment="test", database_url=db_url, run_relay=False, run_consumers=False
    )
    with TestClient(build_registry(settings)) as client:
        for i in range(3):
            r = client.post(
                "/v1/entities",
                headers=bearer("registry_clerk"),
                json={
                    "code": entity_code(9100 + i),
                    "entity_type": "enterprise",
                    "name": f"晋城市重放测试{i}有限公司",
                    "region_code": "140502",
                    "licences": ["food_production"] if i == 0 else [],
                },
            )
            assert r.status_code == 201, r.text
        r = client.patch(
            f"/v1/entities/{entity_code(9100)}",
            headers=bearer("registry_clerk"),
            json={"name": "晋城市重放测试（更名）有限公司"},
        )
        assert r.json()["version"] == 2
        yield client


def replay(client: TestClient, **body: Any) -> Any:
    return client.post("/v1/admin/replays", headers=bearer("admin"), json=body)


def test_a_snapshot_replay_rebuilds_a_projection_exactly(
    registry: TestClient, tmp_path: Path
) -> None:
    r = replay(registry, stream="entities", source="snapshot")
    assert r.status_code == 202, r.text
    job_id = r.json()["id"]

    def finished() -> Any:
        body = registry.get(f"/v1/admin/replays/{job_id}", headers=bearer("admin")).json()
        return body["status"] != "running" and body

    job = wait_until(finished, timeout=60, what="the replay to be written")
    assert job["status"] == "done" and job["rows_written"] == 3
    # No relay runs here: written, not yet published.
    assert job["progress"] == {"rows": 3, "published": 0, "done": False}
    ticket = job["ticket"]
    sessions = registry.app.state.runtime.sessions  # type: ignore[attr-defined]
    with sessions() as s:
        payloads = s.execute(
            select(outbox.c.payload)
            .where(outbox.c.id.between(ticket["first_id"], ticket["last_id"]))
            .order_by(outbox.c.id)
        ).scalars()
        envelopes = [Envelope.from_bytes(p.encode()) for p in payloads]
    # A fresh consumer applies them with its own handlers and inbox.
    runtime = sampling_runtime(
        SamplingSettings(environment="test", database_url=f"sqlite:///{tmp_path / 's.sqlite3'}")
    )
    runtime.migrate()
    runtime.offline_consumer("entities").apply_envelopes(envelopes)
    with runtime.sessions() as s:
        projected = {r.code: r for r in s.execute(select(entity_projection))}
    for i in range(3):
        owner = registry.get(
            f"/v1/entities/{entity_code(9100 + i)}", headers=bearer("registry_clerk")
        ).json()
        copy = projected[owner["code"]]
        assert (copy.name, copy.version, sorted(copy.licences)) == (
            owner["name"],
            owner["version"],
            sorted(owner["licences"]),
        )
    runtime.stop()


def test_figures_are_counts_and_version_sums_for_services(registry: TestClient) -> None:
    r = registry.get("/v1/streams/entities/figures", headers=bearer("service"))
    assert r.json() == {"stream": "registry.entities", "count": 3, "version_sum": 4}
    county = registry.get("/v1/streams/entities/figures", headers=bearer("service", "140502"))
    assert county.status_code == 403  # figures are province-wide


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"stream": "classes"}, 422, "stream"),
        ({"stream": "entities", "source": "outbox"}, 422, "since"),
        ({"stream": "entities", "since": "2026-12-01T08:00:00"}, 422, "since"),
        ({"stream": "entities", "source": "everything"}, 422, "source"),
    ],
)
def test_bad_replay_requests_name_the_field(
    registry: TestClient, body: dict[str, Any], status: int, field: str
) -> None:
    r = replay(registry, **body)
    assert r.status_code == status, r.text
    assert r.json()["error"]["field"] == field


def test_an_outbox_replay_beyond_the_retention_is_refused_for_a_snapshot(
    registry: TestClient,
) -> None:
    long_ago = (datetime.now(UTC) - timedelta(days=8)).isoformat()
    r = replay(registry, stream="entities", source="outbox", since=long_ago)
    assert r.status_code == 409 and r.json()["error"]["field"] == "since"
    assert "快照" in r.json()["error"]["message"]
    recent = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    ok = replay(registry, stream="entities", source="auto", since=recent)
    assert ok.status_code == 202


@pytest.mark.parametrize(("role", "region"), [("registry_clerk", "140000"), ("admin", "140502")])
def test_only_a_province_admin_replays(registry: TestClient, role: str, region: str) -> None:
    r = registry.post(
        "/v1/admin/replays", headers=bearer(role, region), json={"stream": "entities"}
    )
    assert r.status_code == 403


def test_scoring_figures_reveal_no_class(tmp_path: Path) -> None:
    settings = ScoringSettings(
        environment="test",
        database_url=f"sqlite:///{tmp_path / 'scoring.sqlite3'}",
        run_relay=False,
        run_consumers=False,
    )
    with TestClient(build_scoring(settings)) as client:
        path = "/v1/streams/classes/figures"
        assert client.get(path, headers=bearer("service")).status_code == 403
        body = client.get(path, headers=bearer("credit_officer")).json()
        assert body == {"stream": "scoring.classes", "count": 0, "version_sum": None}
        warnings = client.get("/v1/streams/warnings/figures", headers=bearer("admin")).json()
        assert set(warnings) == {"stream", "count", "version_sum"}


@pytest.mark.parametrize(
    ("local", "owner", "state"),
    [
        ((3, 4), (3, 4), "in_sync"),
        ((2, 2), (3, 4), "incomplete"),
        ((3, 3), (3, 4), "behind"),
        ((4, 5), (3, 4), "ahead"),
        ((3, 5), (3, 4), "ahead"),
    ],
)
def test_states_from_figures(local: tuple[int, int], owner: tuple[int, int], state: str) -> None:
    def fig(pair: tuple[int, int]) -> StreamFigures:
        return StreamFigures(stream="registry.entities", count=pair[0], version_sum=pair[1])

    assert compare(fig(local), fig(owner)) == state
