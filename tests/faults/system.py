"""A small running system for the fault tests: a broker that can be stopped and started
again on the same address, and the registry and sampling as in production (relay and
consumers in the API process), on the real broker and the parametrised store."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from deploy.tansu import LocalBroker, local_broker
from services.registry.app import build_app as build_registry
from services.registry.imports.importer import run_import
from services.registry.models import Entity
from services.registry.settings import RegistrySettings
from services.sampling.app import build_app as build_sampling
from services.sampling.settings import SamplingSettings
from shared.credit_code import make_uscc
from shared.runtime import ServiceRuntime
from tests.waiting import wait_until

# The broker the fault tests stop and start (deploy/tansu.py): a restart loses its log.
Broker = LocalBroker
broker = local_broker


def entity_rows(first: int, n: int) -> bytes:
    """A CSV of entities ``first`` .. ``first + n - 1`` (codes as the registry tests make them)."""
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["code", "entity_type", "name", "region_code", "industry_code"])
    for i in range(first, first + n):
        w.writerow(
            [
                make_uscc("9", "1", "140502", f"MA{i:06d}"),
                "enterprise",
                f"晋城故障测试{i}号有限公司",
                "140502",
                "5211",
            ]
        )
    return out.getvalue().encode()


@dataclass
class System:
    registry: TestClient
    sampling: TestClient

    @staticmethod
    def runtime(client: TestClient) -> ServiceRuntime:
        return client.app.state.runtime  # type: ignore[attr-defined,no-any-return]

    def import_entities(self, first: int, n: int) -> None:
        rt = self.runtime(self.registry)
        report = run_import(
            rt.sessions, rt.outbox, "entities", io.BytesIO(entity_rows(first, n)), "csv"
        )
        assert report.created == n, report

    def registry_entities(self) -> dict[str, int]:
        with self.runtime(self.registry).sessions() as s:
            return {c: v for c, v in s.execute(select(Entity.code, Entity.version))}

    def projected_entities(self) -> dict[str, int]:
        rt = self.runtime(self.sampling)
        table = rt.metadata.tables["entity_projection"]
        with rt.sessions() as s:
            return {c: v for c, v in s.execute(select(table.c.code, table.c.version))}

    def inbox_rows(self, consumer: str) -> int:
        rt = self.runtime(self.sampling)
        assert rt.inbox_table is not None
        t = rt.inbox_table
        with rt.sessions() as s:
            return s.execute(
                select(func.count()).select_from(t).where(t.c.consumer == consumer)
            ).scalar_one()

    def unsent(self) -> int:
        rt = self.runtime(self.registry)
        with rt.sessions() as s:
            return rt.outbox.backlog(s)

    def wait_projected(self, n: int) -> None:
        wait_until(
            lambda: len(self.projected_entities()) >= n,
            timeout=180,
            what=f"{n} entities in sampling's projection",
        )


@contextmanager
def running_system(
    db_url: str, bootstrap: str, tmp_path: Path, **overrides: Any
) -> Iterator[System]:
    """The registry on a SQLite file of its own, sampling on ``db_url``; both relay and
    consume in their API processes, as ``./dev up`` runs them."""
    common = {"environment": "test", "kafka_bootstrap_servers": bootstrap, **overrides}
    registry = RegistrySettings(
        database_url=f"sqlite:///{tmp_path / 'registry.sqlite3'}",
        data_dir=tmp_path / "registry-data",
        relay_batch_size=50,
        **common,
    )
    sampling = SamplingSettings(database_url=db_url, data_dir=tmp_path / "sampling-data", **common)
    with TestClient(build_registry(registry)) as r, TestClient(build_sampling(sampling)) as s:
        yield System(r, s)
