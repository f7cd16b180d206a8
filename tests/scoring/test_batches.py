"""A consumer's batch leaves the store as the same events applied one at a time would:
facts, current classes with their points, and the class changes announced. (Batches
bulk-write, score every touched entity in one pass and run the warning rules once per
entity; issue 10 item 4.)"""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from services.registry.generator.generate import generate
from services.scoring.app import build_runtime, reclassifier_of
from services.scoring.models import entity_classes, facts, outbox, warnings
from services.scoring.settings import ScoringSettings
from shared.events import TOPIC_ENTITIES, EventData
from shared.runtime import ServiceRuntime
from tests.scoring.conftest import events_of


@pytest.fixture(scope="module")
def population(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("gen")
    generate(out, n=120, seed=5, progress=False)
    return out


def fed(db_url: str, events: list[EventData], batch: int) -> ServiceRuntime:
    runtime = build_runtime(
        ScoringSettings(
            environment="test", database_url=db_url, run_relay=False, run_consumers=False
        )
    )
    runtime.migrate()
    reclassifier = reclassifier_of(runtime)
    for name, topic_events in (
        ("entities", [e for e in events if e.TOPIC == TOPIC_ENTITIES]),
        ("records", [e for e in events if e.TOPIC != TOPIC_ENTITIES]),
    ):
        consumer = runtime.offline_consumer(name)
        envelopes = [e.envelope("registry") for e in topic_events]
        for i in range(0, len(envelopes), batch):
            consumer.apply_envelopes(envelopes[i : i + batch])
            reclassifier.drain()
    return runtime


def state(sessions: sessionmaker[Session]) -> dict[str, object]:
    with sessions() as s:
        classes = {
            code: (risk_class, score, points)
            for code, risk_class, score, points in s.execute(
                select(
                    entity_classes.c.code,
                    entity_classes.c.risk_class,
                    entity_classes.c.score,
                    entity_classes.c.points,
                )
            )
        }
        kept = set(s.execute(select(facts.c.source_id, facts.c.code, facts.c.kind)).all())
        query = select(outbox.c.payload).where(outbox.c.topic == "scoring.classes")
        announced = {}  # the last class announced for each entity
        for payload in s.execute(query.order_by(outbox.c.id)).scalars():
            data = orjson.loads(payload)["data"]
            announced[data["code"]] = data["risk_class"]
        warned = set(s.execute(select(warnings.c.code, warnings.c.rule_id)).all())
    return {"classes": classes, "facts": kept, "announced": announced, "warned": warned}


def test_a_batch_leaves_what_one_event_at_a_time_leaves(
    population: Path, db_url: str, tmp_path: Path
) -> None:
    events = events_of(population)
    one_by_one = fed(f"sqlite:///{tmp_path / 'one.sqlite3'}", events, batch=1)
    batched = fed(db_url, events, batch=2000)
    try:
        want, got = state(one_by_one.sessions), state(batched.sessions)
    finally:
        one_by_one.stop()
        batched.stop()
    assert len(want["classes"]) > 80 and len(want["facts"]) > 100  # type: ignore[arg-type]
    assert got["classes"] == want["classes"]
    assert got["facts"] == want["facts"]
    # Sampling hears each entity's current class (not the intermediate ones of a batch:
    # it scores each entity once, on the facts the batch leaves).
    current = {code: c[0] for code, c in got["classes"].items()}  # type: ignore[attr-defined]
    assert got["announced"] == want["announced"] == current
    assert got["warned"] == want["warned"]
