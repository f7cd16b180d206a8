"""The sampling service's store. The entity and inspector projections are read-only
copies of the registry's two directories, the populations draws are made from."""

from __future__ import annotations

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from shared.inbox import inbox_table
from shared.outbox import outbox_table
from shared.projections import entity_projection_table, inspector_projection_table

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class SamplingBase(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


outbox = outbox_table(SamplingBase.metadata)
inbox = inbox_table(SamplingBase.metadata)
entity_projection = entity_projection_table(SamplingBase.metadata)
inspector_projection = inspector_projection_table(SamplingBase.metadata)
