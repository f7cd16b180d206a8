"""Reads of the projections, limited to the caller's jurisdiction."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.sampling.models import entity_projection, inspector_projection
from services.sampling.projection.schemas import ProjectionStats
from shared.auth import Principal, ensure_covers
from shared.errors import NotFound
from shared.projections import (
    EntityProjectionRead,
    InspectorProjectionRead,
    count_in_jurisdiction,
    read_entity,
)


def get_entity(session: Session, *, code: str, principal: Principal) -> EntityProjectionRead:
    return read_entity(session, entity_projection, code=code, principal=principal)


def get_inspector(
    session: Session, *, certificate_no: str, principal: Principal
) -> InspectorProjectionRead:
    t = inspector_projection
    row = session.execute(select(t).where(t.c.certificate_no == certificate_no.strip())).first()
    if row is None:
        raise NotFound(
            f"未找到执法检查人员 {certificate_no}",
            message_en=f"no inspector with certificate {certificate_no}",
            field="certificate_no",
        )
    ensure_covers(principal, row.region_code)
    return InspectorProjectionRead.model_validate(row)


def stats(session: Session, *, principal: Principal) -> ProjectionStats:
    prefix = principal.region_prefix
    return ProjectionStats(
        region_prefix=prefix,
        entities=count_in_jurisdiction(session, entity_projection, principal),
        inspectors=count_in_jurisdiction(session, inspector_projection, principal),
    )
