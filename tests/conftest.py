from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from deploy.scratch_db import BackgroundDrops
from tests.realparts import (
    SERVICES,
    StoreTemplates,
    postgres_available,
    scratch_database,
    skip_or_fail,
    tansu_broker,
)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_kind(request: pytest.FixtureRequest) -> str:
    """The store kind a test runs on: the embedded default and the real PostgreSQL server."""
    if request.param == "postgresql":
        reason = postgres_available()
        if reason:
            skip_or_fail(reason)
    return str(request.param)


@pytest.fixture(scope="session")
def database_drops() -> Iterator[BackgroundDrops]:
    drops = BackgroundDrops()
    try:
        yield drops
    finally:
        drops.close()


@pytest.fixture
def db_url(store_kind: str, tmp_path: Path, database_drops: BackgroundDrops) -> Iterator[str]:
    """An empty store, for tests of migrations and of tables they create themselves."""
    if store_kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.sqlite3'}"
        return
    with scratch_database(drops=database_drops) as url:
        yield url


@pytest.fixture(scope="session")
def store_templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StoreTemplates]:
    with ExitStack() as stack:
        yield StoreTemplates(tmp_path_factory.mktemp("store-templates"), stack)


@pytest.fixture
def service_db(
    store_kind: str,
    tmp_path: Path,
    store_templates: StoreTemplates,
    database_drops: BackgroundDrops,
) -> Iterator[Callable[[str], str]]:
    """``service_db("scoring")``: a store of the test's kind with that service's schema at
    head, copied from the session's template (SQLite: the file; PostgreSQL: CREATE
    DATABASE … TEMPLATE). Each call is a store of its own."""
    with ExitStack() as stack:
        copies = itertools.count()

        def copy(service: str) -> str:
            if store_kind == "sqlite":
                to = tmp_path / f"{service}-{next(copies)}.sqlite3"
                return store_templates.sqlite_copy(service, to)
            template = store_templates.postgresql_template(service)
            return stack.enter_context(scratch_database(template=template, drops=database_drops))

        yield copy


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    """The session's broker. A test that reads topics from their start (every new
    consumer group does) gets earlier tests' messages too: ``broker`` is one of its own."""
    with tansu_broker() as bootstrap:
        yield bootstrap


@pytest.fixture
def broker() -> Iterator[str]:
    """A broker for this test alone (Tansu starts in about 0.1 s): its topics hold this
    test's messages only, so its consumers neither wade through nor count others'."""
    with tansu_broker() as bootstrap:
        yield bootstrap


@pytest.fixture(autouse=True)
def fresh_consumer_groups(monkeypatch: pytest.MonkeyPatch) -> str:
    """Every service started in a test, in-process or as a child process, joins consumer
    groups of this test alone: with the production ids a test's consumers joined a group
    that an earlier test's consumers had left or were leaving, started from its committed
    offsets and waited out the departed members. Returns the suffix."""
    suffix = f".test-{uuid.uuid4().hex[:12]}"
    for settings_cls, _ in SERVICES.values():
        prefix = str(settings_cls.model_config.get("env_prefix", ""))
        monkeypatch.setenv(f"{prefix}CONSUMER_GROUP_SUFFIX", suffix)
    return suffix
