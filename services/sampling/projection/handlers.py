"""Inbox handlers writing the entity and inspector projections."""

from services.sampling.models import entity_projection, inspector_projection
from shared.inbox import Handler
from shared.projections import entity_snapshot_handlers, inspector_snapshot_handlers

ENTITY_HANDLERS: dict[str, Handler] = entity_snapshot_handlers(entity_projection)
INSPECTOR_HANDLERS: dict[str, Handler] = inspector_snapshot_handlers(inspector_projection)
