"""Registry → broker → scoring → broker: a penalty collected by the registry reclassifies
the entity in scoring, which announces the new class on scoring.classes. How fast is
bench/closed_loop_latency.py's question, not a test's."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient
from kafka import KafkaConsumer, TopicPartition
from sqlalchemy import select

from services.registry.app import build_app as build_registry
from services.registry.settings import RegistrySettings
from services.scoring.app import build_app as build_scoring
from services.scoring.models import entity_classes
from services.scoring.settings import ScoringSettings
from shared import kafka as transport
from shared.auth import mint_token
from shared.events import ALL_TOPICS, TOPIC_CLASSES
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


def classes_tail(bootstrap: str) -> KafkaConsumer:
    """A reader of scoring.classes positioned at its current end."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    partitions = [
        TopicPartition(TOPIC_CLASSES, p) for p in consumer.partitions_for_topic(TOPIC_CLASSES)
    ]
    consumer.assign(partitions)
    consumer.seek_to_end(*partitions)
    for tp in partitions:
        consumer.position(tp)  # resolve the end now, before the event can arrive
    return consumer


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
    # A young small firm: class A under the shipped general model, a few points below the
    # B line, so that one fresh penalty is enough to cross it.
    code = entity_code(777)
    today = china_today()
    with TestClient(build_registry(settings)) as registry:
        r = registry.post(
            "/v1/entities",
            headers=auth,
            json={
                "code": code,
                "entity_type": "enterprise",
                "name": "晋城市城区闭环测试有限公司",
                "region_code": "140502",
                "industry_code": "5261",
                "registered_on": (today - timedelta(days=4 * 365)).isoformat(),
                "registered_capital": "20",
                "address": "山西省晋城市城区闭环路1号",
                "legal_representative": "闭环测试",
            },
        )
        assert r.status_code == 201, r.text
        wait_until(lambda: class_of(scoring, code) is not None, timeout=60, what="a first class")
        before = class_of(scoring, code)
        assert before == "A"
        tail = classes_tail(broker)
        try:
            r = registry.post(
                "/v1/records",
                headers=auth,
                json={
                    "record_id": "PEN-777-0",
                    "code": code,
                    "kind": "penalty",
                    "occurred_on": today.isoformat(),
                    "source_department": "晋城市市场监督管理局",
                    "payload": {"amount": 80000, "severity": "serious"},
                },
            )
            assert r.status_code == 201, r.text
            after = wait_until(
                lambda: (c := class_of(scoring, code)) != "A" and c,
                timeout=120,
                what="the penalty to change the entity's class",
            )
            announced: list[dict] = []

            def class_change_announced() -> bool:
                for records in tail.poll(timeout_ms=200).values():
                    for rec in records:
                        data = orjson.loads(rec.value)["data"]
                        # (the first assignment's event may still be on its way)
                        if data["code"] == code and data["risk_class"] != "A":
                            announced.append(data)
                return bool(announced)

            wait_until(class_change_announced, timeout=120, what="the scoring.classes event")
        finally:
            tail.close()
    assert announced[0]["previous_class"] == "A"
    assert announced[0]["risk_class"] == after
