"""The publication service's store. The entity projection holds only what the registry
publishes about an object; there is deliberately no column for a risk class or score —
publication never receives them (scoring.classes is internal)."""

from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase

from shared.db import service_metadata
from shared.inbox import inbox_table
from shared.outbox import outbox_table
from shared.projections import entity_projection_table


class PublicationBase(DeclarativeBase):
    metadata = service_metadata()


outbox = outbox_table(PublicationBase.metadata)
inbox = inbox_table(PublicationBase.metadata)
entity_projection = entity_projection_table(PublicationBase.metadata)
