"""The projections keep the newest snapshot, and the inbox applies each event once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import cast

import pytest
from kafka import KafkaConsumer
from sqlalchemy import func, select

from shared.events import TOPIC_ENTITIES, TOPIC_INSPECTORS
from shared.inbox import InboxConsumer
from tests.services_skeletons.helpers import (
    SAMPLING,
    SKELETONS,
    FakeKafkaConsumer,
    Running,
    entity,
    inbox_consumer,
    inspector,
    record,
    running,
    sqlite_url,
)


@pytest.fixture(params=SKELETONS, ids=lambda s: s.name)
def svc(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Running]:
    with running(request.param, sqlite_url(tmp_path)) as r:
        yield r


@pytest.fixture
def sampling(tmp_path: Path) -> Iterator[Running]:
    with running(SAMPLING, sqlite_url(tmp_path)) as r:
        yield r


def projected(svc: Running, table: str) -> list[dict]:
    t = svc.table(table)
    with svc.runtime.sessions() as s:
        return [dict(r._mapping) for r in s.execute(select(t))]


def inbox_rows(svc: Running, consumer: str) -> int:
    t = svc.runtime.inbox_table
    assert t is not None
    with svc.runtime.sessions() as s:
        query = select(func.count()).select_from(t).where(t.c.consumer == consumer)
        return s.execute(query).scalar_one()


def test_an_older_snapshot_arriving_late_never_overwrites_a_newer_one(svc: Running) -> None:
    newer = entity(1, 3, name="新名称有限公司", tags=["重点对象"], licences=["food_production"])
    older = entity(1, 2, name="旧名称有限公司")
    svc.apply("entities", *newer)
    svc.apply("entities", *older)
    [row] = projected(svc, "entity_projection")
    assert (row["version"], row["name"]) == (3, "新名称有限公司")
    assert row["tags"] == ["重点对象"] and row["licences"] == ["food_production"]
    # The registry's change time, so a rebuilt projection is identical.
    assert row["updated_at"].replace(tzinfo=None) == newer[0].time.replace(tzinfo=None)

    svc.apply("entities", *entity(1, 4, name="新名称有限公司", status="deregistered"))
    [row] = projected(svc, "entity_projection")
    assert (row["version"], row["status"]) == (4, "deregistered")


def test_a_redelivered_event_is_applied_once(svc: Running) -> None:
    env, _ = entity(1, 1)
    rec = record(TOPIC_ENTITIES, 0, env)
    calls: list[str] = []
    # Twice in one batch, then again in the next poll (a rebalance replaying the offset).
    consumer, fake = inbox_consumer(svc, "entities", [[rec, rec], [rec]], calls)
    assert consumer.poll_once() == 2
    assert consumer.poll_once() == 1
    assert calls == [env.id]
    assert inbox_rows(svc, "entities") == 1
    assert fake.commits == 2
    assert len(projected(svc, "entity_projection")) == 1


def test_distinct_events_out_of_order_through_the_inbox_keep_the_newest(svc: Running) -> None:
    v2, v1, v3 = entity(7, 2, name="二"), entity(7, 1, name="一"), entity(7, 3, name="三")
    calls: list[str] = []
    batches = [
        [record(TOPIC_ENTITIES, 0, v2[0]), record(TOPIC_ENTITIES, 1, v1[0])],
        [record(TOPIC_ENTITIES, 2, v3[0]), record(TOPIC_ENTITIES, 1, v1[0])],
    ]
    consumer, _ = inbox_consumer(svc, "entities", batches, calls)
    consumer.poll_once()
    consumer.poll_once()
    assert calls == [v2[0].id, v1[0].id, v3[0].id]
    assert inbox_rows(svc, "entities") == 3
    [row] = projected(svc, "entity_projection")
    assert (row["version"], row["name"]) == (3, "三")


def test_inspectors_keep_the_newest_and_apply_once(sampling: Running) -> None:
    newer = inspector("14050020250001", 2, specialties=["食品"], avoid_entities=["X"])
    older = inspector("14050020250001", 1, status="retired")
    calls: list[str] = []
    batches = [
        [record(TOPIC_INSPECTORS, 0, newer[0])],
        [record(TOPIC_INSPECTORS, 1, older[0]), record(TOPIC_INSPECTORS, 0, newer[0])],
    ]
    consumer, _ = inbox_consumer(sampling, "inspectors", batches, calls)
    consumer.poll_once()
    consumer.poll_once()
    assert calls == [newer[0].id, older[0].id]
    [row] = projected(sampling, "inspector_projection")
    assert (row["version"], row["status"]) == (2, "on_duty")
    assert row["specialties"] == ["食品"] and row["avoid_entities"] == ["X"]
    assert inbox_rows(sampling, "inspectors") == 2 and inbox_rows(sampling, "entities") == 0


def test_one_batch_keeps_the_newest_snapshot_of_each_key_and_each_event_once(svc: Running) -> None:
    """The batch path (one bulk upsert per poll): versions out of order and a redelivered
    copy within one poll, then the same events again in the next."""
    v3, v2, v5, other = entity(1, 3), entity(1, 2), entity(1, 5, name="最新名称"), entity(2, 1)
    polled = [record(TOPIC_ENTITIES, i, env) for i, (env, _) in enumerate([v3, v5, v2, other])]
    fake = FakeKafkaConsumer([[*polled, polled[0]], polled])
    assert svc.runtime.inbox_table is not None
    consumer = InboxConsumer(
        name="entities",
        service=svc.settings.service_name,
        consumer=cast(KafkaConsumer, fake),
        session_factory=svc.runtime.sessions,
        inbox=svc.runtime.inbox_table,
        handlers=svc.consumer("entities").handlers,
    )
    assert consumer.poll_once() == 5
    assert consumer.poll_once() == 4
    rows = {r["code"]: (r["version"], r["name"]) for r in projected(svc, "entity_projection")}
    assert rows == {v5[1].code: (5, "最新名称"), other[1].code: (1, other[1].name)}
    assert inbox_rows(svc, "entities") == 4
