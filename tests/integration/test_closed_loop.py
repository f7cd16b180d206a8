"""Registry → broker → scoring → broker: a penalty collected by the registry reclassifies
the entity in scoring, which announces the new class on scoring.classes. How fast is
bench/closed_loop_latency.py's question, not a test's."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from deploy.closed_loop import (
    class_change_announced,
    classes_tail,
    serious_penalty,
    young_small_firm,
)
from services.registry.app import build_app as build_registry
from services.registry.settings import RegistrySettings
from services.scoring.app import build_app as build_scoring
from services.scoring.models import entity_classes
from services.scoring.settings import ScoringSettings
from shared import kafka as transport
from shared.auth import mint_token
from shared.events import ALL_TOPICS
from shared.workdays import china_today
from tests.registry.conftest import entity_code
from tests.waiting import wait_until

pytestmark = pytest.mark.kafka


@pytest.fixture
def scoring(service_db: Callable[[str], str], broker: str) -> Iterator[TestClient]:
    transport.ensure_topics(broker, ALL_TOPICS)
    settings = ScoringSettings(
        environment="test",
        database_url=service_db("scoring"),
        kafka_bootstrap_servers=broker,
        run_relay=True,
        run_consumers=True,
    )
    with TestClient(build_scoring(settings)) as client:
        yield client


def class_of(scoring: TestClient, code: str) -> str | None:
    sessions = scoring.app.state.runtime.sessions  # type: ignore[attr-defined]
    with sessions() as s:
        return s.execute(
            select(entity_classes.c.risk_class).where(entity_classes.c.code == code)
        ).scalar_one_or_none()


def test_a_penalty_in_the_registry_reclassifies_through_the_broker(
    scoring: TestClient, broker: str, tmp_path: Path
) -> None:
    settings = RegistrySettings(
        environment="test",
        database_url=f"sqlite:///{tmp_path / 'registry.sqlite3'}",
        kafka_bootstrap_servers=broker,
        run_relay=True,
        run_consumers=False,
    )
    auth = {
        "Authorization": "Bearer "
        + mint_token(settings.auth_secret, subject="t", role="registry_clerk", region="140000")
    }
    code = entity_code(777)
    today = china_today()
    with TestClient(build_registry(settings)) as registry:
        r = registry.post("/v1/entities", headers=auth, json=young_small_firm(code, 777, today))
        assert r.status_code == 201, r.text
        wait_until(lambda: class_of(scoring, code) is not None, timeout=60, what="a first class")
        assert class_of(scoring, code) == "A"
        tail = classes_tail(broker)
        try:
            penalty = serious_penalty(code, "PEN-777-0", today)
            r = registry.post("/v1/records", headers=auth, json=penalty)
            assert r.status_code == 201, r.text
            after = wait_until(
                lambda: (c := class_of(scoring, code)) != "A" and c,
                timeout=120,
                what="the penalty to change the entity's class",
            )
            announced = wait_until(
                lambda: class_change_announced(tail, code, timeout_ms=200),
                timeout=120,
                what="the class change on scoring.classes",
            )
        finally:
            tail.close()
    assert announced["previous_class"] == "A"
    assert announced["risk_class"] == after
