"""Scoring's inbox handlers: keep the facts, then reclassify each touched entity once at
the end of the batch (a backfill of twenty records of one firm scores it once).

The consumer loop owns the transaction and the inbox row, so the facts, the new class,
its ``scoring.classes`` event and any warning commit together, exactly once."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from services.scoring.classify.incremental import reclassify
from services.scoring.features import facts as fact_of
from services.scoring.models import annual_reports, entity_projection, facts, outbox, relations
from services.scoring.warnings import hooks
from shared.events import (
    CreditRecordEvent,
    EntitySnapshot,
    Envelope,
    EventData,
    InspectionResultEvent,
    RelationChanged,
)
from shared.inbox import Handler
from shared.outbox import Outbox
from shared.projections import entity_row, upsert_newer
from shared.workdays import china_today

OUTBOX = Outbox(outbox, "scoring")
_TOUCHED = "scoring.touched"


def touch(session: Session, code: str) -> None:
    session.info.setdefault(_TOUCHED, set()).add(code)


def reclassify_touched(session: Session) -> None:
    """``after_batch`` of scoring's consumers: reclassify every entity the batch touched."""
    today = china_today()
    for code in sorted(session.info.pop(_TOUCHED, ())):
        reclassify(session, OUTBOX, code, as_of=today)


def store_fact(session: Session, fact: fact_of.Fact | fact_of.AnnualReport) -> bool:
    """Keep one fact (or the newer annual report); False if it was already kept."""
    if isinstance(fact, fact_of.AnnualReport):
        stored = session.execute(
            select(annual_reports.c.year).where(annual_reports.c.code == fact.code)
        ).scalar_one_or_none()
        if stored is not None and stored > fact.year:
            return False
        session.execute(delete(annual_reports).where(annual_reports.c.code == fact.code))
        session.execute(annual_reports.insert().values(**fact.__dict__))
        return True
    seen = session.execute(select(facts.c.id).where(facts.c.source_id == fact.source_id)).first()
    if seen is not None:
        return False
    session.execute(facts.insert().values(fact.row()))
    return True


def on_entity(session: Session, envelope: Envelope, data: EventData) -> None:
    assert isinstance(data, EntitySnapshot)
    if upsert_newer(session, entity_projection, "code", entity_row(data, at=envelope.time)):
        touch(session, data.code)
        hooks.on_entity(session, OUTBOX, data.code, as_of=china_today())


def on_record(session: Session, envelope: Envelope, data: EventData) -> None:
    assert isinstance(data, CreditRecordEvent)
    fact = fact_of.from_record(data.record_id, data.code, data.kind, data.occurred_on, data.payload)
    if fact is not None and store_fact(session, fact):
        touch(session, data.code)
        hooks.on_record(session, OUTBOX, data.code, data.kind, as_of=china_today())


def on_result(session: Session, envelope: Envelope, data: EventData) -> None:
    assert isinstance(data, InspectionResultEvent)
    fact = fact_of.from_inspection_result(
        data.visit_id, data.item, data.code, list(data.results), data.finished_on
    )
    if store_fact(session, fact):
        touch(session, data.code)
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
    if data.change == "added":
        hooks.on_relation(session, OUTBOX, data.code, as_of=china_today())


ENTITY_HANDLERS: dict[str, Handler] = {EntitySnapshot.TYPE: on_entity}
RECORD_HANDLERS: dict[str, Handler] = {
    CreditRecordEvent.TYPE: on_record,
    RelationChanged.TYPE: on_relation,
    InspectionResultEvent.TYPE: on_result,
}
