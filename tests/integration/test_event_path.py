"""The event path through a real Kafka-protocol broker: registry outbox → relay → topic →
sampling's inbox consumer → projection."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from prometheus_client import REGISTRY
from sqlalchemy import Column, Integer, MetaData, String, Table, func, insert, select
from sqlalchemy.orm import Session

from services.registry.app import build_app as build_registry
from services.registry.app import build_runtime as registry_runtime
from services.registry.imports.importer import run_import
from services.registry.models import Entity
from services.registry.models import outbox as registry_outbox
from services.registry.settings import RegistrySettings
from services.sampling.app import build_app as build_sampling
from services.sampling.settings import SamplingSettings
from shared import kafka as transport
from shared.auth import mint_token
from shared.events import ALL_TOPICS, TOPIC_ENTITIES, EntitySnapshot, Envelope, EventData
from shared.inbox import InboxConsumer
from tests.registry.conftest import entity_code
from tests.registry.test_import import write_csv
from tests.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.kafka


def count(session_factory, table) -> int:  # type: ignore[no-untyped-def]
    with session_factory() as s:
        return s.execute(select(func.count()).select_from(table)).scalar_one()


@pytest.fixture
def sampling(db_url: str, kafka_bootstrap: str, tmp_path: Path) -> Iterator[TestClient]:
    """Sampling with its consumers running against the real broker. Its store is the
    parametrised one (SQLite or PostgreSQL); the registry gets a SQLite file of its own."""
    transport.ensure_topics(kafka_bootstrap, ALL_TOPICS)
    settings = SamplingSettings(
        environment="test",
        database_url=db_url,
        kafka_bootstrap_servers=kafka_bootstrap,
        run_relay=False,
        run_consumers=True,
    )
    with TestClient(build_sampling(settings)) as client:
        yield client


def projection(client: TestClient) -> Table:
    return client.app.state.runtime.metadata.tables["entity_projection"]  # type: ignore[attr-defined]


def test_entity_created_in_registry_appears_in_sampling_projection(
    sampling: TestClient, kafka_bootstrap: str, tmp_path: Path
) -> None:
    settings = RegistrySettings(
        environment="test",
        database_url=f"sqlite:///{tmp_path / 'registry.sqlite3'}",
        kafka_bootstrap_servers=kafka_bootstrap,
        run_relay=True,
        run_consumers=False,
    )
    token = mint_token(settings.auth_secret, subject="t", role="registry_clerk", region="140000")
    code = entity_code(4242)
    with TestClient(build_registry(settings)) as registry:
        r = registry.post(
            "/v1/entities",
            headers={"Authorization": f"Bearer {token}"},
            json={
                "code": code,
                "entity_type": "enterprise",
                "name": "晋城市城区事件测试有限公司",
                "region_code": "140502",
            },
        )
        assert r.status_code == 201
        r = registry.patch(
            f"/v1/entities/{code}",
            headers={"Authorization": f"Bearer {token}"},
            json={"name": "晋城市城区事件测试（更名）有限公司"},
        )
        assert r.json()["version"] == 2
        table = projection(sampling)
        sessions = sampling.app.state.runtime.sessions  # type: ignore[attr-defined]

        def projected_version() -> int:
            with sessions() as s:
                return s.execute(select(table.c.version).where(table.c.code == code)).scalar() or 0

        wait_until(
            lambda: projected_version() == 2,
            timeout=60,
            what="the renamed entity in sampling's projection",
        )
        with sessions() as s:
            assert (
                s.execute(select(table.c.name).where(table.c.code == code)).scalar()
                == "晋城市城区事件测试（更名）有限公司"
            )
    # Readable through sampling's own API, within jurisdiction.
    sampling_token = mint_token(
        settings.auth_secret, subject="t", role="business_officer", region="140500"
    )
    r = sampling.get(
        f"/v1/projection/entities/{code}", headers={"Authorization": f"Bearer {sampling_token}"}
    )
    assert r.status_code == 200 and r.json()["version"] == 2


def test_redelivered_event_is_applied_once(db_url: str, kafka_bootstrap: str) -> None:
    """Consumer A applies a batch and dies before committing its offsets; consumer B of the
    same group gets the same messages again, and a producer retry duplicated one on the
    topic too. Every event's effect must exist exactly once."""
    from shared.db import make_engine, make_sessionmaker
    from shared.inbox import inbox_table

    topic_suffix = uuid.uuid4().hex[:8]
    metadata = MetaData()
    inbox = inbox_table(metadata)
    effects = Table(
        "effects",
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("event_id", String(36), nullable=False),
    )
    engine = make_engine(db_url)
    metadata.create_all(engine)
    sessions = make_sessionmaker(engine)
    transport.ensure_topics(kafka_bootstrap, [TOPIC_ENTITIES])

    def record_effect(session: Session, envelope: Envelope, _data: EventData) -> None:
        session.execute(insert(effects).values(event_id=envelope.id))

    snapshots = [
        EntitySnapshot(
            change="registered",
            code=f"P-{topic_suffix}-{i}",
            code_kind="object",
            version=1,
            name=f"对象{i}",
            entity_type="product",
            region_code="140502",
            status="active",
        )
        for i in range(5)
    ]
    envelopes = [s.envelope("test") for s in snapshots]
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    for env in [*envelopes, envelopes[2]]:  # the last one: a producer-side duplicate
        producer.send(TOPIC_ENTITIES, key=env.subject.encode(), value=env.to_bytes()).get(
            timeout=30
        )
    producer.close()
    group = f"redelivery-{topic_suffix}"
    ours = {e.id for e in envelopes}

    def consumer() -> InboxConsumer:
        kc = transport.make_consumer(
            kafka_bootstrap, group_id=group, topics=[TOPIC_ENTITIES], client_id=group
        )
        return InboxConsumer(
            name="probe",
            service="test",
            consumer=kc,
            session_factory=sessions,
            inbox=inbox,
            handlers={EntitySnapshot.TYPE: record_effect},
        )

    def effect_ids() -> list[str]:
        with sessions() as s:
            return [i for i in s.execute(select(effects.c.event_id)).scalars() if i in ours]

    a = consumer()
    wait_until(
        lambda: a.apply_polled() >= 0 and set(effect_ids()) == ours,
        timeout=60,
        what="consumer A to apply",
    )
    a.consumer.close(autocommit=False)  # dies before committing offsets

    b = consumer()
    seen: list[int] = []
    wait_until(
        lambda: seen.append(b.poll_once(timeout_ms=500)) or sum(seen) >= 6,
        timeout=60,
        what="consumer B to receive the redelivered messages",
    )
    b.consumer.close()
    assert sorted(effect_ids()) == sorted(ours)  # five effects, not eleven
    with sessions() as s:
        assert (
            s.execute(
                select(func.count()).select_from(inbox).where(inbox.c.event_id.in_(ours))
            ).scalar_one()
            == 5
        )
    engine.dispose()


def _broker_count_at_least(bootstrap: str, topic: str) -> int:
    """A lower bound of the messages on ``topic``, cheap enough to poll: the sum of its
    partitions' end offsets. The local broker (Tansu, memory storage) reports the last
    batch's base offset + 1 as a partition's end, not the offset after its last record
    (measured: 500 records sent as one batch, end offset 1), so this undercounts."""
    kc = KafkaConsumer(bootstrap_servers=bootstrap)
    parts = [TopicPartition(topic, p) for p in kc.partitions_for_topic(topic) or ()]
    total = sum(kc.end_offsets(parts).values())
    kc.close()
    return total


def _copies_on_broker(bootstrap: str, topic: str, event_ids: set[str] | None = None) -> int:
    """How many messages on ``topic`` carry one of ``event_ids`` (None: how many there
    are), read from the start: exact where end offsets are not. Reads until the topic is
    quiet for two seconds, so call it when nothing is publishing."""
    kc = KafkaConsumer(
        bootstrap_servers=bootstrap, auto_offset_reset="earliest", consumer_timeout_ms=2000
    )
    kc.assign([TopicPartition(topic, p) for p in kc.partitions_for_topic(topic) or ()])
    if event_ids is None:
        copies = sum(1 for _ in kc)
    else:
        copies = sum(Envelope.model_validate_json(m.value).id in event_ids for m in kc)
    kc.close()
    return copies


def test_relay_killed_mid_batch_loses_and_duplicates_nothing(
    sampling: TestClient, kafka_bootstrap: str, tmp_path: Path
) -> None:
    n = 30_000
    registry_db = f"sqlite:///{tmp_path / 'registry.sqlite3'}"
    settings = RegistrySettings(
        environment="test", database_url=registry_db, kafka_bootstrap_servers=kafka_bootstrap
    )
    runtime = registry_runtime(settings)
    runtime.migrate()
    csv_path = tmp_path / "entities.csv"
    write_csv(csv_path, n)
    with csv_path.open("rb") as f:
        report = run_import(runtime.sessions, runtime.outbox, "entities", f, "csv")
    entities = count(runtime.sessions, Entity.__table__)
    events = count(runtime.sessions, registry_outbox)
    assert entities == report.created == events

    env = {
        **os.environ,
        "REGISTRY_DATABASE_URL": registry_db,
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "REGISTRY_RELAY_BATCH_SIZE": "2000",
        "REGISTRY_LOG_LEVEL": "WARNING",
    }
    before = _copies_on_broker(kafka_bootstrap, TOPIC_ENTITIES)  # earlier tests' messages
    with runtime.sessions() as s:
        outbox_ids = set(s.execute(select(registry_outbox.c.event_id)).scalars())

    def duplicates_skipped() -> float:
        labels = {"consumer": "entities", "outcome": "duplicate"}
        return REGISTRY.get_sample_value("sampling_events_consumed_total", labels) or 0.0

    duplicates_before = duplicates_skipped()

    def sent_in_store() -> int:
        with runtime.sessions() as s:
            return events - runtime.outbox.backlog(s)

    def start_relay() -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, "-m", "services.registry", "relay"], cwd=ROOT, env=env
        )

    def copies_on_broker() -> int:
        return _copies_on_broker(kafka_bootstrap, TOPIC_ENTITIES, outbox_ids)

    relay = start_relay()
    try:
        # Kill while a batch is on the broker but not yet marked sent in the store. The
        # end offsets only time the kill (they undercount, so the relay has published at
        # least that many); once it is dead, the copies on the broker are counted
        # exactly, and a kill that missed the window is tried again.
        for _attempt in range(5):
            wait_until(
                lambda: (
                    _broker_count_at_least(kafka_bootstrap, TOPIC_ENTITIES) - before
                    > sent_in_store()
                    > 0
                ),
                timeout=120,
                interval=0.01,
                what="the relay to be mid-batch",
            )
            relay.send_signal(signal.SIGKILL)
            relay.wait(timeout=10)
            published_at_kill = copies_on_broker()
            if published_at_kill > sent_in_store():
                break
            relay = start_relay()
        else:
            pytest.fail("could not kill the relay between publishing a batch and marking it")
        unsent_at_kill = events - sent_in_store()
        assert 0 < unsent_at_kill < events
        published_unmarked = published_at_kill - sent_in_store()

        relay = start_relay()
        wait_until(
            lambda: sent_in_store() == events,
            timeout=180,
            what="the restarted relay to drain the outbox",
        )
    finally:
        relay.terminate()
        relay.wait(timeout=20)

    # At least once: the restarted relay published the unmarked batch again, so the
    # broker holds every event, and those twice.
    assert copies_on_broker() == events + published_unmarked

    table = projection(sampling)
    sampling_sessions = sampling.app.state.runtime.sessions  # type: ignore[attr-defined]
    inbox = sampling.app.state.runtime.inbox_table  # type: ignore[attr-defined]
    with runtime.sessions() as s:
        registry_codes = set(s.execute(select(Entity.code)).scalars())

    def projected_codes() -> set[str]:
        with sampling_sessions() as s:
            return set(s.execute(select(table.c.code)).scalars()) & registry_codes

    wait_until(
        lambda: projected_codes() == registry_codes,
        timeout=180,
        what="every entity in the sampling projection",
    )
    # Exactly once: the consumer received the second copies and skipped each of them.
    wait_until(
        lambda: duplicates_skipped() - duplicates_before >= published_unmarked,
        timeout=120,
        what="the consumer to skip the redelivered copies",
    )
    with sampling_sessions() as s:
        applied = [
            i
            for i in s.execute(
                select(inbox.c.event_id).where(inbox.c.consumer == "entities")
            ).scalars()
            if i in outbox_ids
        ]
    assert len(registry_codes) == entities  # store
    assert len(outbox_ids) == events  # outbox
    assert (
        len(applied) == len(set(applied)) == events
    )  # projection: each event applied exactly once
    runtime.stop()
