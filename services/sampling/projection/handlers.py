"""Inbox handlers: the consumer loop owns the transaction and the inbox row; these only
write the projections."""

from __future__ import annotations

from sqlalchemy.orm import Session

from services.sampling.models import entity_projection, inspector_projection
from shared.events import EntitySnapshot, Envelope, EventData, InspectorSnapshot
from shared.inbox import Handler
from shared.projections import entity_row, inspector_row, upsert_newer


def apply_entity_snapshot(session: Session, envelope: Envelope, data: EventData) -> None:
    if not isinstance(data, EntitySnapshot):
        raise TypeError(f"expected an entity snapshot, got {type(data).__name__}")
    upsert_newer(session, entity_projection, "code", entity_row(data, at=envelope.time))


def apply_inspector_snapshot(session: Session, envelope: Envelope, data: EventData) -> None:
    if not isinstance(data, InspectorSnapshot):
        raise TypeError(f"expected an inspector snapshot, got {type(data).__name__}")
    upsert_newer(
        session, inspector_projection, "certificate_no", inspector_row(data, at=envelope.time)
    )


ENTITY_HANDLERS: dict[str, Handler] = {EntitySnapshot.TYPE: apply_entity_snapshot}
INSPECTOR_HANDLERS: dict[str, Handler] = {InspectorSnapshot.TYPE: apply_inspector_snapshot}
