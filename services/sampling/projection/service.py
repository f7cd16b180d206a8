"""Reads of the projections, limited to the caller's jurisdiction."""

from __future__ import annotations

from sqlalchemy import Table, func, select
from sqlalchemy.orm import Session

from services.sampling.models import entity_projection, inspector_projection
from services.sampling.projection.schemas import ProjectionStats
from shared.auth import Principal, ensure_covers
from shared.errors import NotFound
from shared.projections import EntityProjectionRead, InspectorProjectionRead


def get_entity(session: Session, *, code: str, principal: Principal) -> EntityProjectionRead:
    t = entity_projection
    row = None
    # Credit codes are upper case; object codes are kept as the registry stored them.
    for key in dict.fromkeys((code.strip().upper(), code.strip())):
        row = session.execute(select(t).where(t.c.code == key)).first()
        if row is not None:
            break
    if row is None:
        raise NotFound(
            f"未找到检查对象 {code}", message_en=f"no object with code {code}", field="code"
        )
    ensure_covers(principal, row.region_code)
    return EntityProjectionRead.model_validate(row)


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


def _count_in(session: Session, table: Table, prefix: str) -> int:
    query = select(func.count()).select_from(table)
    query = query.where(table.c.region_code.startswith(prefix, autoescape=True))
    return session.execute(query).scalar_one()


def stats(session: Session, *, principal: Principal) -> ProjectionStats:
    prefix = principal.region_prefix
    return ProjectionStats(
        region_prefix=prefix,
        entities=_count_in(session, entity_projection, prefix),
        inspectors=_count_in(session, inspector_projection, prefix),
    )
