"""Composition root of the registry service."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from services.registry.entities.router import router as entities_router
from services.registry.imports.jobs import ImportJobs
from services.registry.imports.router import jobs_router as import_jobs_router
from services.registry.imports.router import router as imports_router
from services.registry.inspectors.router import router as inspectors_router
from services.registry.models import RegistryBase, inbox, outbox
from services.registry.records.router import router as records_router
from services.registry.relations.router import router as relations_router
from services.registry.replay import STREAMS
from services.registry.settings import RegistrySettings
from services.registry.tags.router import router as tags_router
from shared.app import create_app
from shared.resync_api import owner_routers, serve_replays
from shared.runtime import ServiceRuntime

MIGRATIONS = Path(__file__).parent / "migrations"


def build_runtime(settings: RegistrySettings) -> ServiceRuntime:
    return ServiceRuntime(
        settings=settings,
        metadata=RegistryBase.metadata,
        migrations=MIGRATIONS,
        outbox_table=outbox,
        inbox_table=inbox,
    )


def build_app(settings: RegistrySettings | None = None) -> FastAPI:
    settings = settings or RegistrySettings()
    runtime = build_runtime(settings)
    jobs = ImportJobs(runtime.sessions, runtime.outbox, settings.data_dir / "import-spool")
    runtime.workers.append(("import-jobs", jobs.run))
    app = create_app(
        runtime,
        title="Registry service · 检查对象名录库与执法检查人员名录库",
        description="Inspection objects, inspectors and credit-relevant records (一单两库, 信息归集).",
        routers=[
            entities_router,
            tags_router,
            imports_router,
            import_jobs_router,
            records_router,
            relations_router,
            inspectors_router,
            *owner_routers("registry", STREAMS),
        ],
    )
    app.state.import_jobs = jobs
    serve_replays(app, runtime, STREAMS)
    return app
