"""The sampling service's store. The entity and inspector projections are read-only
copies of the registry's two directories, the populations draws are made from."""

from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase

from shared.db import service_metadata
from shared.inbox import inbox_table
from shared.outbox import outbox_table
from shared.projections import entity_projection_table, inspector_projection_table


class SamplingBase(DeclarativeBase):
    metadata = service_metadata()


outbox = outbox_table(SamplingBase.metadata)
inbox = inbox_table(SamplingBase.metadata)
entity_projection = entity_projection_table(SamplingBase.metadata)
inspector_projection = inspector_projection_table(SamplingBase.metadata)
