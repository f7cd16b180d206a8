"""Resync under faults (issue 10, items 1 and 7): a consumer that lost events or never had
them notices by itself, and the runbook's command (deploy/RUNBOOK.md) brings its
projection back to exactly the owner's state, with no event applied twice.

Real parts only: a Tansu broker of the test's own (restarted, it loses its whole log),
the registry as its own process (`python -m services.registry`, relay inside), sampling
with its consumers in this process on the parametrised store. The registry's store is of
the same kind as the consumer's."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from kafka.admin import KafkaAdminClient
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from deploy.processes import ServiceProcess
from services.sampling.app import build_app as build_sampling
from services.sampling.models import entity_projection, inbox, inspector_projection
from services.sampling.settings import SamplingSettings
from shared.auth import mint_token
from shared.events import TOPIC_ENTITIES
from shared.settings import DEV_AUTH_SECRET
from tests.faults.system import Broker
from tests.faults.system import broker as restartable_broker
from tests.realparts import PG_ADMIN_URL, free_port, scratch_database
from tests.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.kafka
ENTITIES_SYNC = f"sync.{TOPIC_ENTITIES}"


@pytest.fixture
def broker() -> Iterator[Broker]:
    """A broker this test can restart (the shared fixture's cannot)."""
    with restartable_broker() as b:
        yield b


@pytest.fixture
def registry_url(db_url: str) -> Iterator[str]:
    """The registry's store, of the same kind as the consumer's."""
    if db_url.startswith("sqlite"):
        yield db_url.replace("store.sqlite3", "registry.sqlite3")
        return
    with scratch_database() as url:
        yield url


# -- the registry, as an operator runs it -----------------------------------------------
class Registry:
    def __init__(self, database_url: str, bootstrap: str, data: Path) -> None:
        self.process = ServiceProcess.configured(
            "registry",
            free_port(),
            data,
            bootstrap,
            REGISTRY_DATABASE_URL=database_url,
            REGISTRY_ENVIRONMENT="test",
            REGISTRY_RUN_CONSUMERS="false",
            AUTH_SECRET=DEV_AUTH_SECRET,
        )
        self.url = self.process.url("")
        self.env = self.process.env
        self.engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://"))

    def start(self) -> None:
        self.process.start()
        self.process.wait_ready("/healthz", timeout_s=60)

    def stop(self) -> None:
        if self.process.alive():
            self.process.terminate(timeout_s=20)

    def command(self, *args: str) -> str:
        """``python -m services.registry …`` as the runbook types it."""
        done = subprocess.run(
            [sys.executable, "-m", "services.registry", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    def unsent(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(
                text("SELECT count(*) FROM outbox WHERE sent_at IS NULL")
            ).scalar_one()

    def relayed(self) -> bool:
        self.process.check_alive()
        return self.unsent() == 0

    def entities(self) -> dict[str, dict[str, Any]]:
        """The owner's state, read from its tables (not through the replay's code)."""
        with self.engine.connect() as conn:
            rows = conn.execute(text("SELECT * FROM entities")).mappings().all()
            licences = _grouped(conn.execute(text("SELECT code, kind FROM entity_licences")))
            tags = _grouped(
                conn.execute(
                    text(
                        "SELECT et.code, t.name FROM entity_tags et JOIN tags t ON t.id = et.tag_id"
                    )
                )
            )
        return {
            r["code"]: {
                **{k: r[k] for k in ENTITY_FIELDS},
                "registered_capital": _capital(r["registered_capital"]),
                "registered_on": str(r["registered_on"]) if r["registered_on"] else None,
                "licences": licences.get(r["code"], []),
                "tags": tags.get(r["code"], []),
            }
            for r in rows
        }

    def inspectors(self) -> dict[str, dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(text("SELECT * FROM inspectors")).mappings().all()
        return {r["certificate_no"]: _inspector(r) for r in rows}


ENTITY_FIELDS = (
    "code",
    "code_kind",
    "name",
    "entity_type",
    "legal_representative",
    "address",
    "region_code",
    "industry_code",
    "status",
    "version",
)
INSPECTOR_FIELDS = (
    "certificate_no",
    "name",
    "department",
    "region_code",
    "status",
    "is_professional",
    "version",
)
INSPECTOR_LISTS = ("specialties", "avoid_entities", "avoid_regions", "avoid_persons")


def _grouped(rows: Any) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for code, value in rows:
        out.setdefault(code, []).append(value)
    return {k: sorted(set(v)) for k, v in out.items()}


def _capital(value: Any) -> float | None:
    return None if value is None else round(float(value), 2)


def _as_list(value: Any) -> list[str]:
    return sorted(json.loads(value) if isinstance(value, str) else value)


def _inspector(r: Any) -> dict[str, Any]:
    return {
        **{k: r[k] for k in INSPECTOR_FIELDS},
        "is_professional": bool(r["is_professional"]),
        "certificate_expires_on": str(r["certificate_expires_on"])
        if r["certificate_expires_on"]
        else None,
        **{k: _as_list(r[k]) for k in INSPECTOR_LISTS},
    }


@pytest.fixture
def registry(registry_url: str, broker: Broker, tmp_path: Path) -> Iterator[Registry]:
    r = Registry(registry_url, broker.bootstrap, tmp_path)
    r.start()
    try:
        yield r
    finally:
        r.stop()
        r.engine.dispose()


# -- sampling, the consumer ----------------------------------------------------------------
@dataclass
class Sampling:
    client: TestClient
    headers: dict[str, str]

    @property
    def sessions(self) -> Any:
        return self.client.app.state.runtime.sessions  # type: ignore[attr-defined]

    def check(self) -> dict[str, str]:
        r = self.client.post("/v1/admin/resync/check", headers=self.headers)
        assert r.status_code == 200, r.text
        return {s["stream"]: s["state"] for s in r.json()}

    def in_sync(self) -> bool:
        return set(self.check().values()) == {"in_sync"}

    def readyz(self) -> tuple[int, dict[str, Any]]:
        r = self.client.get("/readyz")
        body = r.json()
        return r.status_code, body.get("checks") or body["error"]["details"]

    def entities(self) -> dict[str, dict[str, Any]]:
        with self.sessions() as s:
            rows = s.execute(select(entity_projection)).mappings().all()
        return {
            r["code"]: {
                **{k: r[k] for k in ENTITY_FIELDS},
                "registered_capital": _capital(r["registered_capital"]),
                "registered_on": str(r["registered_on"]) if r["registered_on"] else None,
                "licences": sorted(r["licences"]),
                "tags": sorted(r["tags"]),
            }
            for r in rows
        }

    def inspectors(self) -> dict[str, dict[str, Any]]:
        with self.sessions() as s:
            rows = s.execute(select(inspector_projection)).mappings().all()
        return {r["certificate_no"]: _inspector(r) for r in rows}

    def inbox_ids(self, consumer: str) -> list[str]:
        with self.sessions() as s:
            return list(
                s.execute(select(inbox.c.event_id).where(inbox.c.consumer == consumer)).scalars()
            )


@pytest.fixture
def sampling_factory(db_url: str, broker: Broker, registry: Registry) -> Callable[..., Any]:
    @contextmanager
    def running(database_url: str = db_url) -> Iterator[Sampling]:
        settings = SamplingSettings(
            environment="test",
            database_url=database_url,
            kafka_bootstrap_servers=broker.bootstrap,
            run_relay=False,
            run_consumers=True,
            registry_url=registry.url,
            resync_interval_s=1,
        )
        token = mint_token(settings.auth_secret, subject="ops", role="admin", region="140000")
        with TestClient(build_sampling(settings)) as client:
            yield Sampling(client, {"Authorization": f"Bearer {token}"})

    return running


# -- data ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def population(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two batches of a generated population: the second adds objects and renames some of
    the first (their version 2), and one inspector file."""
    out = tmp_path_factory.mktemp("population")
    subprocess.run(
        [sys.executable, "-m", "services.registry", "generate", "--n", "240", "--out", str(out)],
        cwd=ROOT,
        env={**os.environ, "REGISTRY_DATA_DIR": str(out)},
        check=True,
        capture_output=True,
    )
    lines = (out / "entities.jsonl").read_text(encoding="utf-8").splitlines()
    first, rest = lines[:160], lines[160:]
    renamed = []
    for line in first[:40]:
        row = json.loads(line)
        row["name"] = row["name"] + "（更名）"
        renamed.append(json.dumps(row, ensure_ascii=False))
    (out / "batch1.jsonl").write_text("\n".join(first) + "\n", encoding="utf-8")
    (out / "batch2.jsonl").write_text("\n".join(rest + renamed) + "\n", encoding="utf-8")
    return {
        "batch1": out / "batch1.jsonl",
        "batch2": out / "batch2.jsonl",
        "inspectors": out / "inspectors.jsonl",
    }


def import_batch(registry: Registry, path: Path, kind: str = "entities") -> None:
    registry.command("import", kind, str(path), "--no-progress")
    wait_until(registry.relayed, timeout=120, what="the registry's relay to publish everything")


def assert_projection_is_the_owners(registry: Registry, sampling: Sampling) -> None:
    assert sampling.entities() == registry.entities()


def assert_detected(sampling: Sampling, *states: str) -> None:
    """The periodic check notices by itself: /readyz names the stream and answers 503."""

    def divergent() -> Any:
        code, checks = sampling.readyz()
        return code == 503 and checks.get(ENTITIES_SYNC) in states and checks

    checks = wait_until(divergent, timeout=60, what=f"/readyz to report {states}")
    assert checks[ENTITIES_SYNC] in states


def resync_state_metric(sampling: Sampling) -> float:
    for line in sampling.client.get("/metrics").text.splitlines():
        if line.startswith(f'sampling_resync_state{{stream="{TOPIC_ENTITIES}"}}'):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError("no sampling_resync_state for registry.entities in /metrics")


def resync(registry: Registry, sampling: Sampling, *replays: list[str]) -> None:
    """The runbook's cure (a replay per stream), then wait for the check to say in sync
    and /readyz ready."""
    for args in replays:
        registry.command("replay", *args)
    wait_until(sampling.in_sync, timeout=180, what="sampling's projections in sync again")
    wait_until(lambda: sampling.readyz()[0] == 200, timeout=30, what="/readyz ready")


def batch_two_published_unread(
    registry: Registry, sampling_factory: Callable[..., Any], population: dict[str, Path]
) -> None:
    """Sampling applies batch 1 and stops; batch 2 is published while it is down."""
    import_batch(registry, population["batch1"])
    with sampling_factory() as sampling:
        wait_until(sampling.in_sync, timeout=120, what="sampling in sync")
    import_batch(registry, population["batch2"])


# -- the faults ----------------------------------------------------------------------------
def test_a_new_replica_with_an_empty_store_gets_the_full_state(
    registry: Registry,
    sampling_factory: Callable[..., Any],
    population: dict[str, Path],
    tmp_path: Path,
    db_url: str,
) -> None:
    import_batch(registry, population["batch1"])
    import_batch(registry, population["inspectors"], "inspectors")
    with sampling_factory() as first:
        wait_until(first.in_sync, timeout=120, what="the first replica in sync")
    # A second replica joins the same consumer group with a store of its own: the group's
    # offsets are past every event, so the broker gives it nothing.
    with fresh_store(db_url, tmp_path) as fresh, sampling_factory(fresh) as replica:
        assert_detected(replica, "incomplete")
        assert replica.entities() == {}
        resync(registry, replica, ["--stream", "entities"], ["--stream", "inspectors"])
        assert_projection_is_the_owners(registry, replica)
        assert replica.inspectors() == registry.inspectors()
        ids = replica.inbox_ids("entities")
        assert len(ids) == len(set(ids)) == len(registry.entities())


def test_a_deleted_topic_is_rebuilt_from_a_snapshot(
    registry: Registry,
    broker: Broker,
    sampling_factory: Callable[..., Any],
    population: dict[str, Path],
) -> None:
    batch_two_published_unread(registry, sampling_factory, population)
    # Then the topic is deleted, batch 2 still unread.
    admin = KafkaAdminClient(bootstrap_servers=[broker.bootstrap], client_id="test-admin")
    try:
        admin.delete_topics([TOPIC_ENTITIES])
        wait_until(
            lambda: TOPIC_ENTITIES not in admin.list_topics(), timeout=30, what="the topic gone"
        )
    finally:
        admin.close()
    with sampling_factory() as sampling:  # its start creates the missing topic, empty
        assert_detected(sampling, "incomplete")
        assert resync_state_metric(sampling) == 2.0  # incomplete, for the alert
        before = sampling.entities()
        resync(registry, sampling, ["--stream", "entities"])
        assert_projection_is_the_owners(registry, sampling)
        assert resync_state_metric(sampling) == 0.0
        # What it held before stayed as it was (the version guard), nothing went back.
        now = sampling.entities()
        assert all(now[c]["version"] >= v["version"] for c, v in before.items())


def test_a_lost_broker_log_is_healed_by_a_snapshot(
    registry: Registry,
    broker: Broker,
    sampling_factory: Callable[..., Any],
    population: dict[str, Path],
) -> None:
    batch_two_published_unread(registry, sampling_factory, population)
    broker.stop()
    broker.start()  # memory-only: every event and every group offset is gone; the
    # registry's relay heals by itself (no restart)
    with sampling_factory() as sampling:
        assert_detected(sampling, "incomplete", "behind")
        resync(registry, sampling, ["--stream", "entities"])
        assert_projection_is_the_owners(registry, sampling)
        ids = sampling.inbox_ids("entities")
        assert len(ids) == len(set(ids))


def test_a_store_restored_from_an_older_copy_is_healed_from_the_outbox(
    registry: Registry,
    sampling_factory: Callable[..., Any],
    population: dict[str, Path],
    db_url: str,
    tmp_path: Path,
) -> None:
    since = datetime.now(UTC) - timedelta(minutes=1)
    import_batch(registry, population["batch1"])
    with sampling_factory() as sampling:
        wait_until(sampling.in_sync, timeout=120, what="sampling in sync")
        kept = set(sampling.inbox_ids("entities"))
    with backup_of(db_url, tmp_path) as restore:
        import_batch(registry, population["batch2"])  # new objects and 40 renamed ones
        with sampling_factory() as sampling:
            wait_until(sampling.in_sync, timeout=120, what="sampling in sync with batch 2")
        restore()  # back to before batch 2; the group's offsets stay past it
    with sampling_factory() as sampling:
        assert_detected(sampling, "incomplete", "behind")
        assert set(sampling.inbox_ids("entities")) == kept
        # Replayed from the outbox with the original ids, since before the backup: batch
        # 1's events come again and the inbox skips them; batch 2's apply once.
        resync(
            registry,
            sampling,
            ["--stream", "entities", "--from", "outbox", "--since", since.isoformat()],
        )
        assert_projection_is_the_owners(registry, sampling)
        ids = sampling.inbox_ids("entities")
        assert len(ids) == len(set(ids))
        assert kept < set(ids)
        with registry.engine.connect() as conn:
            published = set(
                conn.execute(
                    text("SELECT event_id FROM outbox WHERE topic = :t"), {"t": TOPIC_ENTITIES}
                ).scalars()
            )
        assert set(ids) == published  # every event applied, each once


# -- stores: a fresh one, a backup and its restore ------------------------------------------
@contextmanager
def fresh_store(db_url: str, tmp_path: Path) -> Iterator[str]:
    if db_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / f'replica-{uuid.uuid4().hex[:6]}.sqlite3'}"
        return
    with scratch_database() as url:
        yield url


@contextmanager
def backup_of(db_url: str, tmp_path: Path) -> Iterator[Callable[[], None]]:
    """Copy the (stopped) consumer's store now; the yielded function puts the copy back.
    SQLite: the file (with WAL and shared memory, if any); PostgreSQL: a database made
    from it as a TEMPLATE, and the store re-made from that one."""
    if db_url.startswith("sqlite"):
        store = Path(make_url(db_url).database or "")
        copies = {}
        for suffix in ("", "-wal", "-shm"):
            src = Path(f"{store}{suffix}")
            if src.exists():
                copies[src] = tmp_path / f"backup{suffix}"
                shutil.copy2(src, copies[src])

        def restore() -> None:
            for suffix in ("-wal", "-shm"):
                Path(f"{store}{suffix}").unlink(missing_ok=True)
            for src, copy in copies.items():
                shutil.copy2(copy, src)

        yield restore
        return
    name = make_url(db_url).database
    backup = f"{name}_backup"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{backup}" TEMPLATE "{name}"'))

    def restore_pg() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{backup}"'))

    try:
        yield restore_pg
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{backup}" WITH (FORCE)'))
        admin.dispose()
