"""Composition root of the scoring service."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from services.scoring.models import ScoringBase, inbox, outbox
from services.scoring.projection.handlers import ENTITY_HANDLERS
from services.scoring.projection.router import router as projection_router
from services.scoring.settings import ScoringSettings
from shared.app import create_app
from shared.runtime import ConsumerSpec, ServiceRuntime

MIGRATIONS = Path(__file__).parent / "migrations"

DESCRIPTION = """\
Credit-risk classification of inspection objects (信用风险分类) for the sampling service.

Built: the projection of the registry's entities (consumed from `registry.entities`).

Not yet built (later issues): indicator models, A/B/C/D classification, early warning,
analysis, and the `scoring.classes` / `scoring.warnings` events."""


def build_runtime(settings: ScoringSettings) -> ServiceRuntime:
    return ServiceRuntime(
        settings=settings,
        metadata=ScoringBase.metadata,
        migrations=MIGRATIONS,
        outbox_table=outbox,
        inbox_table=inbox,
        consumers=[ConsumerSpec("entities", ENTITY_HANDLERS)],
    )


def build_app(settings: ScoringSettings | None = None) -> FastAPI:
    runtime = build_runtime(settings or ScoringSettings())
    return create_app(
        runtime,
        title="Scoring service · 信用风险分类",
        description=DESCRIPTION,
        routers=[projection_router],
    )
