"""The event path through a real Kafka-protocol broker: registry outbox → relay → topic →
sampling's inbox consumer → projection."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import orjson
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
from tests.waiting import wait_until, wait_while_progressing

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.kafka


def count(session_factory, table) -> int:  # type: ignore[no-untyped-def]
    with session_factory() as s:
        return s.execute(select(func.count()).select_from(table)).scalar_one()


@pytest.fixture
def sampling(service_db: Callable[[str], str], broker: str) -> Iterator[TestClient]:
    """Sampling with its consumers running against a broker of this test's own. Its store
    is of the parametrised kind (SQLite or PostgreSQL)."""
    transport.ensure_topics(broker, ALL_TOPICS)
    settings = SamplingSettings(
        environment="test",
        database_url=service_db("sampling"),
        kafka_bootstrap_servers=broker,
        run_relay=False,
        run_consumers=True,
    )
    with TestClient(build_sampling(settings)) as client:
        yield client


def projection(client: TestClient) -> Table:
    return client.app.state.runtime.metadata.tables["entity_projection"]  # type: ignore[attr-defined]


def test_entity_created_in_registry_appears_in_sampling_projection(
    sampling: TestClient, broker: str, tmp_path: Path
) -> None:
    settings = RegistrySettings(
        environment="test",
        database_url=f"sqlite:///{tmp_path / 'registry.sqlite3'}",
        kafka_bootstrap_servers=broker,
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


def test_redelivered_event_is_applied_once(db_url: str, broker: str) -> None:
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
    transport.ensure_topics(broker, [TOPIC_ENTITIES])

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
    producer = KafkaProducer(bootstrap_servers=broker, acks="all")
    for env in [*envelopes, envelopes[2]]:  # the last one: a producer-side duplicate
        producer.send(TOPIC_ENTITIES, key=env.subject.encode(), value=env.to_bytes()).get(
            timeout=30
        )
    producer.close()
    group = f"redelivery-{topic_suffix}"
    ours = {e.id for e in envelopes}

    def consumer() -> InboxConsumer:
        kc = transport.make_consumer(
            broker, group_id=group, topics=[TOPIC_ENTITIES], client_id=group
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


class TopicReader:
    """One reader of a topic for the whole test: its end offsets, cheap enough to poll,
    and its messages' event ids up to the end offsets taken when asked."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        # A poll returns at most max_poll_records of a fetched batch: large, so that one
        # poll hands over a relay batch whole.
        self.consumer = KafkaConsumer(
            bootstrap_servers=bootstrap, enable_auto_commit=False, max_poll_records=100_000
        )
        self.partitions = [
            TopicPartition(topic, p) for p in self.consumer.partitions_for_topic(topic) or ()
        ]
        self.consumer.assign(self.partitions)

    def end_total(self) -> int:
        """A lower bound of the messages on the topic, to time things by: the local broker
        (Tansu, memory storage) reports a partition's end as its last batch's base offset
        + 1, not the offset after its last record (measured: 500 records sent as one
        batch, end offset 1)."""
        return sum(self.consumer.end_offsets(self.partitions).values())

    def event_ids(self, stall: float = 60) -> Counter[str]:
        """How many copies of each event id the topic holds, read from the start up to the
        end offsets taken now and on until a poll finds nothing more: the end offsets
        point into the last batch (see ``end_total``), whose rest a fetch returns whole
        but a poll may hand over in parts."""
        ends = self.consumer.end_offsets(self.partitions)
        self.consumer.seek_to_beginning(*self.partitions)
        copies: Counter[str] = Counter()
        behind = [tp for tp in self.partitions if ends[tp] > 0]
        moved = time.monotonic()
        while behind:
            for records in self.consumer.poll(timeout_ms=500).values():
                copies.update(orjson.loads(r.value)["id"] for r in records)
                moved = time.monotonic()
            behind = [tp for tp in behind if self.consumer.position(tp) < ends[tp]]
            assert time.monotonic() - moved < stall, f"no message for {stall:.0f}s, {behind}"
        while rest := self.consumer.poll(timeout_ms=500):
            for records in rest.values():
                copies.update(orjson.loads(r.value)["id"] for r in records)
        return copies

    def close(self) -> None:
        self.consumer.close()


def test_relay_killed_mid_batch_loses_and_duplicates_nothing(
    service_db: Callable[[str], str], sampling: TestClient, broker: str, tmp_path: Path
) -> None:
    """The relay is stopped (SIGSTOP) while a batch is on the broker but not yet marked
    sent in the store, that is checked, and it is killed there (SIGKILL): the restarted
    relay publishes that batch again, and the consumer skips the second copies. The
    registry's store is of the parametrised kind, so PostgreSQL's claim (rows marked in
    the statement that picks them, committed after the publish) is killed too."""
    n = 10_000  # ten relay batches: nine chances to stop it inside one
    registry_db = service_db("registry")
    runtime = registry_runtime(
        RegistrySettings(
            environment="test", database_url=registry_db, kafka_bootstrap_servers=broker
        )
    )
    csv_path = tmp_path / "entities.csv"
    write_csv(csv_path, n)
    with csv_path.open("rb") as f:
        report = run_import(runtime.sessions, runtime.outbox, "entities", f, "csv")
    entities = count(runtime.sessions, Entity.__table__)
    events = count(runtime.sessions, registry_outbox)
    assert entities == report.created == events
    with runtime.sessions() as s:
        outbox_ids = set(s.execute(select(registry_outbox.c.event_id)).scalars())

    def marked_sent() -> set[str]:
        with runtime.sessions() as s:
            query = select(registry_outbox.c.event_id).where(registry_outbox.c.sent_at.is_not(None))
            return set(s.execute(query).scalars())

    def sent_in_store() -> int:
        with runtime.sessions() as s:
            return events - runtime.outbox.backlog(s)

    def duplicates_skipped() -> float:
        labels = {"consumer": "entities", "outcome": "duplicate"}
        return REGISTRY.get_sample_value("sampling_events_consumed_total", labels) or 0.0

    duplicates_before = duplicates_skipped()
    env = {
        **os.environ,
        "REGISTRY_DATABASE_URL": registry_db,
        "KAFKA_BOOTSTRAP_SERVERS": broker,
        "REGISTRY_RELAY_BATCH_SIZE": "1000",
        "REGISTRY_LOG_LEVEL": "WARNING",
    }
    topic = TopicReader(broker, TOPIC_ENTITIES)
    relay = subprocess.Popen(
        [sys.executable, "-m", "services.registry", "relay"], cwd=ROOT, env=env
    )

    def relay_gone() -> str | None:
        code = relay.poll()
        return None if code is None else f"the relay exited with {code}"

    def relay_drained_first() -> str | None:
        if sent_in_store() == events:
            return "the relay drained the outbox before a stop caught it mid-batch"
        return relay_gone()

    try:
        wait_while_progressing(
            lambda: sent_in_store() > 0,
            progress=sent_in_store,
            stall=60,
            alive=relay_gone,
            what="the relay to mark its first batch",
        )
        # Freeze the relay at short random moments and look, exactly, until it is caught
        # between publishing a batch and marking it. (The broker's end offsets cannot time
        # this: Tansu reports a partition's end as its last produce batch's base offset + 1,
        # so they undercount by how the client happened to batch.)
        while True:
            relay.send_signal(signal.SIGSTOP)
            # Frozen: nothing it holds moves, so the broker and the store can be compared.
            marked = marked_sent()
            published_unmarked = set(topic.event_ids()) - marked
            if published_unmarked:
                break
            if (why := relay_drained_first()) is not None:
                relay.send_signal(signal.SIGCONT)
                pytest.fail(why)
            relay.send_signal(signal.SIGCONT)
            time.sleep(random.uniform(0, 0.02))  # a random moment of the relay's batch
        relay.send_signal(signal.SIGKILL)
        relay.wait(timeout=30)
        marked = marked_sent()
        on_broker = topic.event_ids()  # end offsets taken after the kill
        published_unmarked = set(on_broker) - marked
        assert published_unmarked and marked < outbox_ids
        assert all(on_broker[i] == 1 for i in marked)  # a row is marked after its publish

        relay = subprocess.Popen(
            [sys.executable, "-m", "services.registry", "relay"], cwd=ROOT, env=env
        )
        wait_while_progressing(
            lambda: sent_in_store() == events,
            progress=sent_in_store,
            stall=60,
            alive=relay_gone,
            what="the restarted relay to drain the outbox",
        )
    finally:
        relay.kill()
        relay.wait(timeout=30)
    # At least once: the restarted relay published every row unmarked at the kill, so the
    # broker holds every event, those seen on it before the kill twice, the rows marked at
    # the kill once. (A row unmarked at the kill may also be there twice although it was
    # not seen: the killed relay's last produce request can still be in the socket and
    # reach the broker after the look.)
    copies = topic.event_ids()
    assert set(copies) == outbox_ids
    assert all(copies[i] == 1 for i in marked)
    assert all(copies[i] == 2 for i in published_unmarked)
    assert max(copies.values()) == 2
    twice = {i for i, n in copies.items() if n == 2}
    topic.close()

    table = projection(sampling)
    sampling_runtime = sampling.app.state.runtime  # type: ignore[attr-defined]
    inbox = sampling_runtime.inbox_table

    def projected() -> int:
        return count(sampling_runtime.sessions, table)

    wait_while_progressing(
        lambda: projected() == entities,
        progress=projected,
        stall=60,
        what="every entity in the sampling projection",
    )
    # Exactly once: the consumer received the second copies and skipped each of them.
    wait_while_progressing(
        lambda: duplicates_skipped() - duplicates_before >= len(twice),
        progress=duplicates_skipped,
        stall=60,
        what="the consumer to skip the second copies",
    )
    with runtime.sessions() as s:
        registry_codes = set(s.execute(select(Entity.code)).scalars())
    with sampling_runtime.sessions() as s:
        applied = list(
            s.execute(select(inbox.c.event_id).where(inbox.c.consumer == "entities")).scalars()
        )
        versions = set(s.execute(select(table.c.code, table.c.version)).all())
    assert sorted(applied) == sorted(outbox_ids)  # each event applied once
    assert versions == {(code, 1) for code in registry_codes}
    runtime.stop()
