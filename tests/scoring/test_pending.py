"""The reclassifier (classify/pending.py): consumers only mark what they touched; the
marked entities are scored in rounds, a mark renewed during a round stays for the next
one, and a failed round loses no mark."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import orjson
import pytest
from sqlalchemy import select, update

from services.scoring.app import reclassifier_of
from services.scoring.classify import pending
from services.scoring.models import entity_classes, outbox, pending_reclassification
from shared.events import EventData
from tests.scoring.conftest import Scoring, code_of, entity, record


def apply_only(scoring: Scoring, *events: EventData) -> None:
    """Apply events as a consumer does, without the reclassifier's rounds."""
    for name, batch in (
        ("entities", [e for e in events if e.TOPIC == "registry.entities"]),
        ("records", [e for e in events if e.TOPIC != "registry.entities"]),
    ):
        if batch:
            consumer = scoring.runtime.offline_consumer(name)
            consumer.apply_envelopes([e.envelope("test") for e in batch])


def marks(scoring: Scoring) -> dict[str, tuple[bool, int]]:
    t = pending_reclassification.c
    with scoring.runtime.sessions() as s:
        return {
            c: (bool(e), n) for c, e, n in s.execute(select(t.code, t.entity_changed, t.touches))
        }


def classes(scoring: Scoring) -> dict[str, str]:
    with scoring.runtime.sessions() as s:
        return dict(s.execute(select(entity_classes.c.code, entity_classes.c.risk_class)).all())


def class_events(scoring: Scoring) -> list[str]:
    query = select(outbox.c.payload).where(outbox.c.topic == "scoring.classes")
    with scoring.runtime.sessions() as s:
        return [orjson.loads(p)["data"]["code"] for p in s.execute(query).scalars()]


def stats(scoring: Scoring, region: str = "140000") -> dict[str, Any]:
    r = scoring.client.get("/v1/projection/stats", headers=scoring.headers(region=region))
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_consumers_mark_and_the_reclassifier_scores_each_entity_once(
    scoring: Scoring, days_ago: Callable[[int], date]
) -> None:
    entities = [entity(i) for i in range(5)] + [entity(9, region="140100")]
    penalties = [
        record(code_of(i), "penalty", days_ago(30 + n), n, amount=50_000)
        for i in range(3)
        for n in range(4)
    ]
    apply_only(scoring, *entities, *penalties)
    # Facts and marks only: no class yet, each entity marked once however often touched.
    assert classes(scoring) == {}
    assert marks(scoring) == {
        **{code_of(i): (True, 2 if i < 3 else 1) for i in range(5)},
        code_of(9, "140100"): (True, 1),
    }
    assert stats(scoring)["awaiting_classification"] == 6
    assert stats(scoring, region="140500")["awaiting_classification"] == 5  # Jincheng's
    scored = reclassifier_of(scoring.runtime).drain()
    assert scored == 6
    assert marks(scoring) == {}
    assert stats(scoring)["awaiting_classification"] == 0
    assert set(classes(scoring)) == {e.code for e in entities}
    # One class announced per entity: scored once, on the facts all batches left.
    assert sorted(class_events(scoring)) == sorted(e.code for e in entities)


def test_a_mark_renewed_during_a_round_stays_for_the_next(
    scoring: Scoring, monkeypatch: pytest.MonkeyPatch
) -> None:
    apply_only(scoring, entity(1), entity(2))
    real = pending.reclassify_many

    def meanwhile(session: Any, *args: Any, **kwargs: Any) -> Any:
        # A consumer's batch touching entity 1 again, committed while the round scored.
        pending.mark(session, {code_of(1): False})
        return real(session, *args, **kwargs)

    monkeypatch.setattr(pending, "reclassify_many", meanwhile)
    reclassifier = reclassifier_of(scoring.runtime)
    assert reclassifier.round() == 2
    assert marks(scoring) == {code_of(1): (True, 2)}  # its newer facts are not lost
    monkeypatch.setattr(pending, "reclassify_many", real)
    assert reclassifier.drain() == 1
    assert marks(scoring) == {}


def test_a_failed_round_keeps_every_mark(scoring: Scoring, monkeypatch: pytest.MonkeyPatch) -> None:
    apply_only(scoring, entity(1), entity(2))
    before = marks(scoring)

    def broken(*_: Any, **__: Any) -> Any:
        raise RuntimeError("scoring failed")

    monkeypatch.setattr(pending, "reclassify_many", broken)
    reclassifier = reclassifier_of(scoring.runtime)
    assert reclassifier.round() == 0
    assert marks(scoring) == before
    assert classes(scoring) == {}
    assert reclassifier.health.report() == "failing: ReclassificationFailed"


def test_an_entity_that_fails_alone_waits_at_the_end_and_holds_up_no_other(
    scoring: Scoring, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    apply_only(scoring, *(entity(i) for i in range(4)))
    real = pending.reclassify_many
    poisoned = code_of(2)

    def fails_on_one(session: Any, outbox: Any, codes: Any, **kwargs: Any) -> Any:
        if poisoned in codes:
            raise ValueError("an entity's data trips a bug")
        return real(session, outbox, codes, **kwargs)

    monkeypatch.setattr(pending, "reclassify_many", fails_on_one)
    reclassifier = reclassifier_of(scoring.runtime)
    with caplog.at_level(logging.ERROR):
        assert reclassifier.round() == 3  # the batch failed; each entity alone, but one
    assert set(classes(scoring)) == {code_of(i) for i in (0, 1, 3)}
    assert marks(scoring) == {poisoned: (True, 1)}  # kept, to be tried again
    assert not reclassifier.health.ok
    assert any(poisoned in r.getMessage() for r in caplog.records)
    assert reclassifier.entity_failures == 1  # run() keeps the component failing
    assert not any(
        "failing" in r.getMessage() and "Error:" in r.getMessage() for r in caplog.records
    )
    # Not due again before its retry: later marks go first, the batch is whole again.
    apply_only(scoring, entity(5))
    monkeypatch.setattr(pending, "reclassify_many", real)
    assert reclassifier.drain() == 1
    assert marks(scoring) == {poisoned: (True, 1)}
    with scoring.runtime.sessions() as s, s.begin():  # its retry time comes
        past = datetime.now(UTC) - timedelta(hours=1)
        s.execute(update(pending_reclassification).values(marked_at=past))
    assert reclassifier.drain() == 1
    assert marks(scoring) == {}


def test_the_reclassifier_yields_to_consumers_far_behind_but_not_for_long(
    scoring: Scoring,
) -> None:
    behind = [0]
    reclassifier = reclassifier_of(scoring.runtime)
    reclassifier.lag = lambda: behind[0]
    assert not reclassifier.yields(since_last_round_s=0.0)  # caught up: score at once
    behind[0] = pending.YIELD_LAG
    assert reclassifier.yields(since_last_round_s=0.0)  # an import's backlog: facts first
    assert not reclassifier.yields(since_last_round_s=pending.YIELD_AT_MOST_S)  # a round now
