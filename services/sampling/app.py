"""Composition root of the sampling service."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from services.sampling.models import (
    SamplingBase,
    entity_projection,
    inbox,
    inspector_projection,
    outbox,
)
from services.sampling.projection.handlers import ENTITY_HANDLERS, INSPECTOR_HANDLERS
from services.sampling.projection.router import router as projection_router
from services.sampling.settings import SamplingSettings
from shared.app import create_app
from shared.events import TOPIC_ENTITIES, TOPIC_INSPECTORS
from shared.resync import projection_stream, watch
from shared.resync_api import resync_router
from shared.runtime import ConsumerSpec, ServiceRuntime

MIGRATIONS = Path(__file__).parent / "migrations"

DESCRIPTION = """\
Double random sampling (双随机): who is inspected, and by whom.

Built: projections of the registry's entities (`registry.entities`) and inspectors
(`registry.inspectors`).

Not yet built (later issues): the item list, plans and tasks, verifiable draws (RFC 3797),
assignments, results, the consumption of `scoring.classes` / `scoring.warnings`, and the
`sampling.plans` / `sampling.results` events."""


def build_runtime(settings: SamplingSettings) -> ServiceRuntime:
    return ServiceRuntime(
        settings=settings,
        metadata=SamplingBase.metadata,
        migrations=MIGRATIONS,
        outbox_table=outbox,
        inbox_table=inbox,
        # Separate groups: a burst of entity changes never delays inspector updates.
        consumers=[
            ConsumerSpec("entities", ENTITY_HANDLERS),
            ConsumerSpec("inspectors", INSPECTOR_HANDLERS),
        ],
    )


def build_app(settings: SamplingSettings | None = None) -> FastAPI:
    runtime = build_runtime(settings or SamplingSettings())
    monitor = watch(
        runtime,
        [
            projection_stream(TOPIC_ENTITIES, entity_projection),
            projection_stream(TOPIC_INSPECTORS, inspector_projection),
        ],
    )
    app = create_app(
        runtime,
        title="Sampling service · 双随机抽查",
        description=DESCRIPTION,
        routers=[projection_router, resync_router()],
    )
    app.state.resync = monitor
    return app
