"""The scoring service's store. Classes, scores and warnings are scoring's own and
INTERNAL; the entity projection is a read-only copy of the registry's directory."""

from __future__ import annotations

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from shared.inbox import inbox_table
from shared.outbox import outbox_table
from shared.projections import entity_projection_table

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class ScoringBase(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


outbox = outbox_table(ScoringBase.metadata)
inbox = inbox_table(ScoringBase.metadata)
entity_projection = entity_projection_table(ScoringBase.metadata)
