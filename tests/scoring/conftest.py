"""The scoring service under test: its app on SQLite and PostgreSQL, tokens, and events
applied through its own inbox handlers (no broker; tests/integration covers the broker)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient

from services.scoring.app import build_app, reclassifier_of
from services.scoring.features.bootstrap import code_kind
from services.scoring.settings import ScoringSettings
from shared.auth import Role, mint_token
from shared.credit_code import make_uscc
from shared.events import (
    TOPIC_ENTITIES,
    CreditRecordEvent,
    EntitySnapshot,
    EventData,
)
from shared.runtime import ServiceRuntime
from shared.workdays import china_today

REFERENCE_DAY = date(2026, 11, 1)


@dataclass
class Scoring:
    client: TestClient
    settings: ScoringSettings

    @property
    def runtime(self) -> ServiceRuntime:
        return self.client.app.state.runtime  # type: ignore[attr-defined]

    def headers(self, role: Role | str = Role.CREDIT_OFFICER, region: str = "140000") -> dict:
        token = mint_token(self.settings.auth_secret, subject="officer-1", role=role, region=region)
        return {"Authorization": f"Bearer {token}"}

    def apply(self, *events: EventData, batch: int = 1) -> None:
        """Apply events as the consumers would, exactly once (inbox), ``batch`` at a
        time (consecutive events of one consumer share a transaction)."""
        now = datetime.now(UTC)
        pending: list = []
        current = None
        for ev in [*events, None]:
            consumer = (
                None if ev is None else "entities" if ev.TOPIC == TOPIC_ENTITIES else "records"
            )
            if pending and (consumer != current or len(pending) >= batch):
                self.runtime.offline_consumer(current).apply_envelopes(pending)  # type: ignore[arg-type]
                reclassifier_of(self.runtime).drain()  # as the consumers' process does
                pending = []
            if ev is not None:
                current = consumer
                pending.append(ev.envelope("test", at=now))


@pytest.fixture
def scoring(service_db: Callable[[str], str]) -> Iterator[Scoring]:
    settings = ScoringSettings(
        environment="test", database_url=service_db("scoring"), run_relay=False, run_consumers=False
    )
    with TestClient(build_app(settings)) as client:
        yield Scoring(client, settings)


def code_of(i: int, region: str = "140502") -> str:
    return make_uscc("9", "1", region, f"MA{i:06d}")


def entity(i: int, region: str = "140502", version: int = 1, **fields: object) -> EntitySnapshot:
    base: dict[str, object] = {
        "change": "registered",
        "code": code_of(i, region),
        "code_kind": "uscc",
        "version": version,
        "name": f"测试企业{i}有限公司",
        "entity_type": "enterprise",
        "region_code": region,
        "industry_code": "5261",
        "registered_on": date(2015, 5, 1),
        "registered_capital": 100.0,
        "status": "active",
        "address": f"山西省晋城市城区测试路{i}号",
        "legal_representative": f"法人{i}",
    }
    base.update(fields)
    return EntitySnapshot(**base)  # type: ignore[arg-type]


def record(
    code: str, kind: str, occurred_on: date, n: int = 0, **payload: object
) -> CreditRecordEvent:
    return CreditRecordEvent(
        record_id=f"R-{code}-{kind}-{occurred_on.isoformat()}-{n}",
        code=code,
        kind=kind,
        occurred_on=occurred_on,
        source_department="晋城市市场监督管理局",
        payload=dict(payload),
    )


def events_of(folder: Path) -> list[EventData]:
    """A generated population (registry import files) as the events the registry's import
    would send: every entity, then every record in file order (each entity's oldest first)."""
    out: list[EventData] = []
    for line in (folder / "entities.jsonl").read_bytes().splitlines():
        e = orjson.loads(line)
        out.append(
            EntitySnapshot(change="registered", code_kind=code_kind(e["code"]), version=1, **e)
        )
    for line in (folder / "records.jsonl").read_bytes().splitlines():
        out.append(CreditRecordEvent(**orjson.loads(line)))
    return out


@pytest.fixture
def today() -> date:
    """China's date when the test starts. A module's constant was taken at collection,
    which a long run can carry past midnight (Beijing time) before the test runs."""
    return china_today()


@pytest.fixture
def days_ago(today: date) -> Callable[[int], date]:
    return lambda n: today - timedelta(days=n)


@pytest.fixture
def no_rule_failures(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Fails the test if a warning rule failed: the hooks log and skip a failing rule."""
    yield
    assert not [
        r
        for r in caplog.records
        if r.name.startswith("services.scoring.warnings") and r.levelno >= logging.ERROR
    ]
