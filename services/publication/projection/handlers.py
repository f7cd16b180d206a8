"""Inbox handlers writing the entity projection."""

from services.publication.models import entity_projection
from shared.inbox import Handler
from shared.projections import entity_snapshot_handlers

ENTITY_HANDLERS: dict[str, Handler] = entity_snapshot_handlers(entity_projection)
