"""The real parts tests use: PostgreSQL databases, each service's migrated template, and
Tansu brokers.

Where no PostgreSQL runs (a newcomer's laptop), PostgreSQL tests skip with the reason;
CI sets CS_REQUIRE_REAL_PARTS=1, which turns that skip into a failure."""

from __future__ import annotations

import functools
import os
import shutil
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

# Shared with bench/ (which never imports tests/), so they live in deploy/.
from deploy.scratch_db import PG_ADMIN_URL, scratch_database, template_database
from deploy.tansu import free_port, tansu_broker
from services.publication.app import build_runtime as publication_runtime
from services.publication.settings import PublicationSettings
from services.registry.app import build_runtime as registry_runtime
from services.registry.settings import RegistrySettings
from services.sampling.app import build_runtime as sampling_runtime
from services.sampling.settings import SamplingSettings
from services.scoring.app import build_runtime as scoring_runtime
from services.scoring.settings import ScoringSettings
from shared.runtime import ServiceRuntime
from shared.settings import ServiceSettings

__all__ = ["PG_ADMIN_URL", "free_port", "scratch_database", "tansu_broker"]

SERVICES: dict[str, tuple[type[ServiceSettings], Callable[..., ServiceRuntime]]] = {
    "registry": (RegistrySettings, registry_runtime),
    "scoring": (ScoringSettings, scoring_runtime),
    "sampling": (SamplingSettings, sampling_runtime),
    "publication": (PublicationSettings, publication_runtime),
}


def real_parts_required() -> bool:
    return os.environ.get("CS_REQUIRE_REAL_PARTS") == "1"


def skip_or_fail(reason: str) -> None:
    if real_parts_required():
        pytest.fail(f"{reason} (CS_REQUIRE_REAL_PARTS=1 makes this required)")
    pytest.skip(reason)


@functools.cache
def postgres_available() -> str | None:
    """None if reachable, else the reason (asked once per session)."""
    try:
        engine = create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as e:
        return f"no PostgreSQL at {PG_ADMIN_URL}: {type(e).__name__}"


def docker_cli() -> str | None:
    return shutil.which("docker")


def migrate(service: str, url: str) -> None:
    """Bring ``url`` to ``service``'s head as its start-up does, then let go of it."""
    settings_cls, build_runtime = SERVICES[service]
    runtime = build_runtime(
        settings_cls(environment="test", database_url=url, run_relay=False, run_consumers=False)
    )
    runtime.migrate()
    runtime.engine.dispose()


class StoreTemplates:
    """Each service's store migrated once per session and store kind, for tests to copy.
    Measured, alternating on the busy two-core machine: a scoring test's store, app start
    and stop took 2.84 s with every migration run into an empty PostgreSQL database and
    1.61 s as a template copy (median of 8); on SQLite 0.55 s and 0.11 s."""

    def __init__(self, folder: Path, stack: ExitStack) -> None:
        self._folder = folder
        self._stack = stack
        self._sqlite: dict[str, Path] = {}
        self._postgresql: dict[str, str] = {}

    def sqlite_copy(self, service: str, to: Path) -> str:
        template = self._sqlite.get(service)
        if template is None:
            template = self._folder / f"{service}.sqlite3"
            migrate(service, f"sqlite:///{template}")  # closed: no -wal file left beside it
            self._sqlite[service] = template
        shutil.copyfile(template, to)
        return f"sqlite:///{to}"

    def postgresql_template(self, service: str) -> str:
        name = self._postgresql.get(service)
        if name is None:
            prepare = functools.partial(migrate, service)
            name = self._stack.enter_context(template_database(prepare, f"cs_tpl_{service}"))
            self._postgresql[service] = name
        return name
