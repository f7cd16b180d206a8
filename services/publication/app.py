"""Composition root of the publication service."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from services.publication.models import PublicationBase, entity_projection, inbox, outbox
from services.publication.projection.handlers import ENTITY_HANDLERS
from services.publication.projection.router import router as projection_router
from services.publication.settings import PublicationSettings
from shared.app import create_app
from shared.events import TOPIC_ENTITIES
from shared.resync import projection_stream, watch
from shared.resync_api import resync_router
from shared.runtime import ConsumerSpec, ServiceRuntime

MIGRATIONS = Path(__file__).parent / "migrations"

DESCRIPTION = """\
Public disclosure (公示) of sampling plans and inspection results.

Built: the internal projection of the registry's entities (`registry.entities`) and a
token-only stats endpoint. Nothing internal is public.

Not yet built (later issues): the open, rate-limited public API; consumption of
`sampling.plans` / `sampling.results`; stop-publication. Risk classes are never received
or stored here."""


def build_runtime(settings: PublicationSettings) -> ServiceRuntime:
    return ServiceRuntime(
        settings=settings,
        metadata=PublicationBase.metadata,
        migrations=MIGRATIONS,
        outbox_table=outbox,
        inbox_table=inbox,
        consumers=[ConsumerSpec("entities", ENTITY_HANDLERS)],
    )


def build_app(settings: PublicationSettings | None = None) -> FastAPI:
    runtime = build_runtime(settings or PublicationSettings())
    monitor = watch(
        runtime,
        [projection_stream(TOPIC_ENTITIES, entity_projection)],
    )
    app = create_app(
        runtime,
        title="Publication service · 抽查结果公示",
        description=DESCRIPTION,
        routers=[projection_router, resync_router()],
    )
    app.state.resync = monitor
    return app
