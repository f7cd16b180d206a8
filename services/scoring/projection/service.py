"""Reads of the projection, limited to the caller's jurisdiction."""

from __future__ import annotations

from sqlalchemy.orm import Session

from services.scoring.classify.pending import pending_in_jurisdiction
from services.scoring.models import entity_projection
from services.scoring.projection.schemas import ProjectionStats
from shared.auth import Principal
from shared.projections import EntityProjectionRead, count_in_jurisdiction, read_entity


def get_entity(session: Session, *, code: str, principal: Principal) -> EntityProjectionRead:
    return read_entity(session, entity_projection, code=code, principal=principal)


def stats(session: Session, *, principal: Principal) -> ProjectionStats:
    return ProjectionStats(
        region_prefix=principal.region_prefix,
        entities=count_in_jurisdiction(session, entity_projection, principal),
        awaiting_classification=pending_in_jurisdiction(session, principal),
    )
