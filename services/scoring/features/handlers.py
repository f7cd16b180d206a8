"""Scoring's inbox handlers: keep the facts and mark each touched entity for the
reclassifier (classify/pending.py), which scores the marked ones in large batches (a
backfill of twenty records of one firm, and its entity event, score it once).

The consumer loop owns the transaction and the inbox row, so the facts, the marks and
any warning a record raises commit together, exactly once; the class, its
``scoring.classes`` event and the entity warnings commit with the removal of the mark."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete
from sqlalchemy.orm import Session

from services.scoring.classify import pending
from services.scoring.features import facts as fact_of
from services.scoring.models import annual_reports, entity_projection, facts, outbox, relations
from services.scoring.warnings import hooks
from shared.db import chunks, select_by_keys
from shared.events import (
    CreditRecordEvent,
    EntitySnapshot,
    Envelope,
    EventData,
    InspectionResultEvent,
    RelationChanged,
)
from shared.inbox import Batched, Handler
from shared.outbox import Outbox
from shared.projections import (
    entity_row,
    newest_per_key,
    snapshot_rows,
    stored_versions,
    upsert_newer_many,
)
from shared.workdays import china_today

OUTBOX = Outbox(outbox, "scoring")
_TOUCHED = "scoring.touched"


def touch(session: Session, code: str, *, entity_changed: bool = False) -> None:
    """Mark ``code`` for reclassification when the batch commits; ``entity_changed``:
    its directory entry changed (the entity warning rules run too)."""
    touched: dict[str, bool] = session.info.setdefault(_TOUCHED, {})
    touched[code] = touched.get(code, False) or entity_changed


def mark_touched(session: Session) -> None:
    """Mark every entity touched so far (``after_batch`` of scoring's consumers, and the
    record handlers before they run the warning rules). Marks come before warnings in
    every transaction, the reclassifier's too (it locks its marks, then raises
    warnings): in one order, a consumer and the reclassifier raising a warning on the same
    neighbour wait for each other instead of deadlocking on PostgreSQL."""
    pending.mark(session, session.info.pop(_TOUCHED, {}))


def store_fact(session: Session, fact: fact_of.Fact | fact_of.AnnualReport) -> bool:
    """Keep one fact (or the newer annual report); False if it was already kept."""
    return store_facts(session, [fact])[0]


def store_facts(
    session: Session, items: Sequence[fact_of.Fact | fact_of.AnnualReport]
) -> list[bool]:
    """``store_fact`` of each item in turn, with one read and one write per table for
    all of them: per item, its SELECT and INSERT were half the records consumer's time."""
    reports = [f for f in items if isinstance(f, fact_of.AnnualReport)]
    year: dict[str, int] = {
        code: y
        for code, y in select_by_keys(
            session, annual_reports, ["code", "year"], "code", [r.code for r in reports]
        )
    }
    plain = [f for f in items if isinstance(f, fact_of.Fact)]
    held = {
        source_id
        for (source_id,) in select_by_keys(
            session, facts, ["source_id"], "source_id", [f.source_id for f in plain]
        )
    }
    kept: list[bool] = []
    newest: dict[str, fact_of.AnnualReport] = {}
    new_facts: list[fact_of.Fact] = []
    for f in items:
        if isinstance(f, fact_of.AnnualReport):
            stored = year.get(f.code)
            kept.append(stored is None or stored <= f.year)  # an equal year replaces
            if kept[-1]:
                year[f.code] = f.year
                newest[f.code] = f
        else:
            kept.append(f.source_id not in held)
            if kept[-1]:
                held.add(f.source_id)
                new_facts.append(f)
    if newest:
        for chunk in chunks(sorted(newest)):
            session.execute(delete(annual_reports).where(annual_reports.c.code.in_(chunk)))
        session.execute(annual_reports.insert(), [r.__dict__ for r in newest.values()])
    if new_facts:
        session.execute(facts.insert(), [f.row() for f in new_facts])
    return kept


def on_entities(session: Session, events: Sequence[tuple[Envelope, EventData]]) -> None:
    """Keep the newest snapshots of a run of entity events; the entities whose projection
    changed are marked for the reclassifier, which also runs the entity warning rules."""
    rows = newest_per_key(snapshot_rows(events, EntitySnapshot, entity_row), "code")
    stored = stored_versions(session, entity_projection, "code", [r["code"] for r in rows])
    newer = [r for r in rows if r["version"] > stored.get(r["code"], -1)]
    upsert_newer_many(session, entity_projection, "code", newer)
    for row in newer:
        touch(session, row["code"], entity_changed=True)


def on_entity(session: Session, envelope: Envelope, data: EventData) -> None:
    on_entities(session, [(envelope, data)])


def on_records(session: Session, events: Sequence[tuple[Envelope, EventData]]) -> None:
    """Keep the facts of a run of records. The warning rules a record can trip run once
    per entity and kind of record in the batch, on the facts as the batch leaves them
    (as the class is computed once per entity): twenty complaints of one firm in a
    batch evaluate the complaint surge once."""
    found = []
    for _, data in events:
        assert isinstance(data, CreditRecordEvent)
        fact = fact_of.from_record(
            data.record_id, data.code, data.kind, data.occurred_on, data.payload
        )
        if fact is not None:
            found.append((data.code, data.kind, fact))
    kept = store_facts(session, [fact for _, _, fact in found])
    stored = dict.fromkeys(
        (code, kind) for (code, kind, _), k in zip(found, kept, strict=True) if k
    )
    today = china_today()
    for code, _ in stored:
        touch(session, code)
    mark_touched(session)  # before the rules: see mark_touched
    for code, kind in stored:
        hooks.on_record(session, OUTBOX, code, kind, as_of=today)


def on_record(session: Session, envelope: Envelope, data: EventData) -> None:
    on_records(session, [(envelope, data)])


def on_result(session: Session, envelope: Envelope, data: EventData) -> None:
    assert isinstance(data, InspectionResultEvent)
    fact = fact_of.from_inspection_result(
        data.visit_id, data.item, data.code, list(data.results), data.finished_on
    )
    if store_fact(session, fact):
        touch(session, data.code)
        mark_touched(session)
        hooks.on_record(session, OUTBOX, data.code, "inspection_result", as_of=china_today())


def on_relation(session: Session, envelope: Envelope, data: EventData) -> None:
    assert isinstance(data, RelationChanged)
    key = (
        (relations.c.code == data.code)
        & (relations.c.kind == data.kind)
        & (relations.c.counterpart_name == data.counterpart_name)
    )
    session.execute(delete(relations).where(key))
    if data.change == "added":
        session.execute(
            relations.insert().values(
                code=data.code,
                kind=data.kind,
                counterpart_name=data.counterpart_name,
                counterpart_code=data.counterpart_code,
            )
        )
    touch(session, data.code)
    mark_touched(session)
    if data.change == "added":
        hooks.on_relation(session, OUTBOX, data.code, as_of=china_today())


ENTITY_HANDLERS: dict[str, Handler] = {EntitySnapshot.TYPE: Batched(on_entity, on_entities)}
RECORD_HANDLERS: dict[str, Handler] = {
    CreditRecordEvent.TYPE: Batched(on_record, on_records),
    RelationChanged.TYPE: on_relation,
    InspectionResultEvent.TYPE: on_result,
}
