"""The scoring service's store. Classes, scores and warnings are scoring's own and
INTERNAL; the entity projection is a read-only copy of the registry's directory."""

from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase

from shared.db import service_metadata
from shared.inbox import inbox_table
from shared.outbox import outbox_table
from shared.projections import entity_projection_table


class ScoringBase(DeclarativeBase):
    metadata = service_metadata()


outbox = outbox_table(ScoringBase.metadata)
inbox = inbox_table(ScoringBase.metadata)
entity_projection = entity_projection_table(ScoringBase.metadata)
