"""Operator reads of the projection, limited to the caller's jurisdiction."""

from __future__ import annotations

from sqlalchemy.orm import Session

from services.publication.models import entity_projection
from services.publication.projection.schemas import ProjectionStats
from shared.auth import Principal
from shared.projections import count_in_jurisdiction


def stats(session: Session, *, principal: Principal) -> ProjectionStats:
    return ProjectionStats(
        region_prefix=principal.region_prefix,
        entities=count_in_jurisdiction(session, entity_projection, principal),
    )
