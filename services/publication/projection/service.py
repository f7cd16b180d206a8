"""Operator reads of the projection, limited to the caller's jurisdiction."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.publication.models import entity_projection
from services.publication.projection.schemas import ProjectionStats
from shared.auth import Principal


def stats(session: Session, *, principal: Principal) -> ProjectionStats:
    t = entity_projection
    prefix = principal.region_prefix
    query = select(func.count()).select_from(t)
    query = query.where(t.c.region_code.startswith(prefix, autoescape=True))
    return ProjectionStats(region_prefix=prefix, entities=session.execute(query).scalar_one())
