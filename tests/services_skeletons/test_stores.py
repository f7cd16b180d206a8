"""Migrations match the models, and the version guard holds, on SQLite and PostgreSQL
(``db_url`` from tests/conftest.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select

from shared.events import TOPIC_ENTITIES
from shared.projections import entity_row, upsert_newer
from tests.services_skeletons.helpers import (
    SKELETONS,
    Skeleton,
    entity,
    inbox_consumer,
    record,
    running,
)


@pytest.mark.parametrize("skeleton", SKELETONS, ids=lambda s: s.name)
def test_migrations_match_models_and_guard_versions(skeleton: Skeleton, db_url: str) -> None:
    with running(skeleton, db_url) as svc:
        with svc.runtime.engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), svc.runtime.metadata) == []

        table = svc.table("entity_projection")
        at = datetime.now(UTC)
        with svc.runtime.sessions() as s, s.begin():
            assert upsert_newer(s, table, "code", entity_row(entity(1, 2)[1], at=at)) is True
            assert upsert_newer(s, table, "code", entity_row(entity(1, 1)[1], at=at)) is False
            assert upsert_newer(s, table, "code", entity_row(entity(1, 2)[1], at=at)) is False
            assert upsert_newer(s, table, "code", entity_row(entity(1, 5)[1], at=at)) is True
        with svc.runtime.sessions() as s:
            assert s.execute(select(table.c.version)).scalars().all() == [5]

        env, _ = entity(2, 1)
        calls: list[str] = []
        consumer, _ = inbox_consumer(svc, "entities", [[record(TOPIC_ENTITIES, 0, env)]] * 2, calls)
        consumer.poll_once()
        consumer.poll_once()
        assert calls == [env.id]
