"""Composition root of the scoring service."""

from __future__ import annotations

import threading
from pathlib import Path

from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

from services.scoring.analysis.router import router as analysis_router
from services.scoring.audit.router import router as audit_router
from services.scoring.classify.pending import Reclassifier
from services.scoring.classify.router import router as classes_router
from services.scoring.exports.router import router as exports_router
from services.scoring.features.handlers import (
    ENTITY_HANDLERS,
    RECORD_HANDLERS,
    mark_touched,
)
from services.scoring.indicators.router import router as models_router
from services.scoring.indicators.store import seed_shipped
from services.scoring.models import ScoringBase, entity_projection, inbox, outbox
from services.scoring.projection.router import router as projection_router
from services.scoring.replay import STREAMS
from services.scoring.settings import ScoringSettings
from services.scoring.warnings.router import router as warnings_router
from shared.app import create_app
from shared.db import transaction
from shared.events import TOPIC_ENTITIES
from shared.resync import projection_stream, watch
from shared.resync_api import owner_routers, resync_router, serve_replays
from shared.runtime import ConsumerSpec, ServiceRuntime

MIGRATIONS = Path(__file__).parent / "migrations"

DESCRIPTION = """\
Credit-risk classification of inspection objects (企业信用风险分类) for the sampling service.
Classes are an internal reference (内部参考): every endpoint needs a credit officer's
token, answers within the officer's jurisdiction, and every read of classes is audited.

- **Indicator models** as data (通用型 + 专业型), versioned, editable by province-level officers.
- **Classes** A/B/C/D: incremental on every record, and a monthly full run with stability.
- **Early warning** (监测预警), **regional and industry analysis**, **audit**, **export**.

Consumes `registry.entities`, `registry.records` and `sampling.results`; emits
`scoring.classes` (to sampling only) and `scoring.warnings`."""


def seed_reference_data(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        seed_shipped(session)


def build_runtime(settings: ScoringSettings) -> ServiceRuntime:
    wake = threading.Event()
    runtime = ServiceRuntime(
        settings=settings,
        metadata=ScoringBase.metadata,
        migrations=MIGRATIONS,
        outbox_table=outbox,
        inbox_table=inbox,
        consumers=[
            ConsumerSpec(name, handlers, after_batch=mark_touched, after_commit=wake.set)
            for name, handlers in (("entities", ENTITY_HANDLERS), ("records", RECORD_HANDLERS))
        ],
        after_migrate=seed_reference_data,
    )
    # The consuming process also scores what its consumers marked.
    if settings.run_consumers:
        runtime.workers.append(("reclassifier", reclassifier_of(runtime, wake).run))
    return runtime


def reclassifier_of(runtime: ServiceRuntime, wake: threading.Event | None = None) -> Reclassifier:
    """The reclassifier on ``runtime``'s store (also for tests and bulk loads, which
    ``drain`` it after applying events offline)."""
    return Reclassifier(
        runtime.sessions,
        runtime.outbox,
        runtime.component("reclassifier"),
        wake,
        lag=runtime.consumers_lag,
    )


def build_app(settings: ScoringSettings | None = None) -> FastAPI:
    runtime = build_runtime(settings or ScoringSettings())
    monitor = watch(runtime, [projection_stream(TOPIC_ENTITIES, entity_projection)])
    app = create_app(
        runtime,
        title="Scoring service · 信用风险分类",
        description=DESCRIPTION,
        routers=[
            projection_router,
            classes_router,
            models_router,
            analysis_router,
            audit_router,
            exports_router,
            warnings_router,
            *owner_routers("scoring", STREAMS),
            resync_router(),
        ],
    )
    app.state.resync = monitor
    serve_replays(app, runtime, STREAMS)
    return app
