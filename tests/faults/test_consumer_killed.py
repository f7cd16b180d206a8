"""A consumer's process is SIGKILLed mid-stream (no shutdown, no offset commit for the
batch it was applying) and started again: its projection ends equal to the owner's, every
event applied once. Its store is the parametrised one."""

from __future__ import annotations

import io
import signal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from deploy.processes import ServiceProcess
from services.registry.app import build_app as build_registry
from services.registry.imports.importer import run_import
from services.registry.models import Entity
from services.registry.settings import RegistrySettings
from services.sampling.models import entity_projection, inbox
from shared.db import make_engine
from tests.faults.system import broker, entity_rows
from tests.realparts import free_port
from tests.waiting import wait_until

pytestmark = pytest.mark.kafka

N = 6000


def test_consumer_killed_mid_stream_applies_every_event_once(db_url: str, tmp_path: Path) -> None:
    with broker() as b:
        settings = RegistrySettings(
            environment="test",
            database_url=f"sqlite:///{tmp_path / 'registry.sqlite3'}",
            data_dir=tmp_path / "registry",
            kafka_bootstrap_servers=b.bootstrap,
            run_consumers=False,
        )
        sampling = ServiceProcess.configured(
            "sampling", free_port(), tmp_path / "sampling", b.bootstrap,
            SAMPLING_DATABASE_URL=db_url,
        )  # fmt: skip
        store = make_engine(db_url)

        def projected() -> int:
            with store.connect() as conn:
                return conn.execute(
                    select(func.count()).select_from(entity_projection)
                ).scalar_one()

        with TestClient(build_registry(settings)) as registry:
            rt = registry.app.state.runtime  # type: ignore[attr-defined]
            sampling.start()
            try:
                sampling.wait_ready()
                report = run_import(
                    rt.sessions, rt.outbox, "entities", io.BytesIO(entity_rows(1, N)), "csv"
                )
                assert report.created == N
                # Kill while the stream is being applied: some applied, not all.
                wait_until(
                    lambda: (0 < projected() < N) or not sampling.alive(),
                    timeout=300,
                    interval=0.02,
                    what="sampling to be part-way through the stream",
                )
                assert sampling.alive(), sampling.log_path.read_text()[-3000:]
                assert sampling.proc is not None
                sampling.proc.send_signal(signal.SIGKILL)
                sampling.proc.wait(timeout=60)
                at_kill = projected()
                assert at_kill < N, "the kill came after the stream was applied"

                sampling.start()
                wait_until(lambda: projected() == N, timeout=300, what="every entity in sampling")
            finally:
                sampling.kill()
            with rt.sessions() as s:
                owner = {c: v for c, v in s.execute(select(Entity.code, Entity.version))}
        with store.connect() as conn:
            copy = {
                c: v
                for c, v in conn.execute(
                    select(entity_projection.c.code, entity_projection.c.version)
                )
            }
            applied = conn.execute(
                select(func.count()).select_from(inbox).where(inbox.c.consumer == "entities")
            ).scalar_one()
        store.dispose()
        assert copy == owner
        assert applied == N  # one inbox row per event: nothing applied twice
