"""The publication service's store. The entity projection holds only what the registry
publishes about an object; there is deliberately no column for a risk class or score —
publication never receives them (scoring.classes is internal)."""

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


class PublicationBase(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


outbox = outbox_table(PublicationBase.metadata)
inbox = inbox_table(PublicationBase.metadata)
entity_projection = entity_projection_table(PublicationBase.metadata)
