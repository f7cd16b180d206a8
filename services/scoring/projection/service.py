"""Reads of the projection, limited to the caller's jurisdiction."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.scoring.models import entity_projection
from services.scoring.projection.schemas import ProjectionStats
from shared.auth import Principal, ensure_covers
from shared.errors import NotFound
from shared.projections import EntityProjectionRead

t = entity_projection


def get_entity(session: Session, *, code: str, principal: Principal) -> EntityProjectionRead:
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


def stats(session: Session, *, principal: Principal) -> ProjectionStats:
    prefix = principal.region_prefix
    count = session.execute(
        select(func.count())
        .select_from(t)
        .where(t.c.region_code.startswith(prefix, autoescape=True))
    ).scalar_one()
    return ProjectionStats(region_prefix=prefix, entities=count)
