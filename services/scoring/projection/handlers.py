"""Inbox handlers: the consumer loop owns the transaction and the inbox row; these only
write the projection."""

from __future__ import annotations

from sqlalchemy.orm import Session

from services.scoring.models import entity_projection
from shared.events import EntitySnapshot, Envelope, EventData
from shared.inbox import Handler
from shared.projections import entity_row, upsert_newer


def apply_entity_snapshot(session: Session, envelope: Envelope, data: EventData) -> None:
    if not isinstance(data, EntitySnapshot):
        raise TypeError(f"expected an entity snapshot, got {type(data).__name__}")
    upsert_newer(session, entity_projection, "code", entity_row(data, at=envelope.time))


ENTITY_HANDLERS: dict[str, Handler] = {EntitySnapshot.TYPE: apply_entity_snapshot}
