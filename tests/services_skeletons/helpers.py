"""What the skeleton tests share: the three services as data, snapshots, tokens, and a
fake Kafka consumer that feeds records to the real inbox loop."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

from fastapi import FastAPI
from fastapi.testclient import TestClient
from kafka import KafkaConsumer, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord
from sqlalchemy import Table

from services.publication.app import build_app as publication_app
from services.publication.settings import PublicationSettings
from services.sampling.app import build_app as sampling_app
from services.sampling.settings import SamplingSettings
from services.scoring.app import build_app as scoring_app
from services.scoring.settings import ScoringSettings
from shared.auth import Role, mint_token
from shared.credit_code import make_uscc
from shared.events import EntitySnapshot, Envelope, EventData, InspectorSnapshot
from shared.inbox import Handler, InboxConsumer
from shared.runtime import ConsumerSpec, ServiceRuntime
from shared.settings import ServiceSettings


@dataclass(frozen=True)
class Skeleton:
    name: str
    settings_cls: type[ServiceSettings]
    build_app: Callable[[Any], FastAPI]
    port: int
    # consumer name -> topics it reads
    consumers: dict[str, list[str]]
    # every /v1 route, method and path template (built services: at least these)
    routes: set[tuple[str, str]]
    built: bool = False


# A consumer's resync checks (shared.resync_api), in every consuming service.
RESYNC_ROUTES = {("GET", "/v1/admin/resync"), ("POST", "/v1/admin/resync/check")}

SCORING = Skeleton(
    "scoring",
    ScoringSettings,
    scoring_app,
    8002,
    {"entities": ["registry.entities"], "records": ["registry.records", "sampling.results"]},
    {
        ("GET", "/v1/projection/entities/{code}"),
        ("GET", "/v1/projection/stats"),
        ("GET", "/v1/classes/{code}"),
        ("GET", "/v1/models"),
        ("POST", "/v1/runs"),
    },
    built=True,
)
SAMPLING = Skeleton(
    "sampling",
    SamplingSettings,
    sampling_app,
    8003,
    {"entities": ["registry.entities"], "inspectors": ["registry.inspectors"]},
    {
        ("GET", "/v1/projection/entities/{code}"),
        ("GET", "/v1/projection/inspectors/{certificate_no}"),
        ("GET", "/v1/projection/stats"),
        *RESYNC_ROUTES,
    },
)
PUBLICATION = Skeleton(
    "publication",
    PublicationSettings,
    publication_app,
    8004,
    {"entities": ["registry.entities"]},
    {("GET", "/v1/projection/stats"), *RESYNC_ROUTES},
)
SKELETONS = [SCORING, SAMPLING, PUBLICATION]
WITH_ENTITY_READ = [SCORING, SAMPLING]


@dataclass
class Running:
    skeleton: Skeleton
    client: TestClient
    settings: ServiceSettings

    @property
    def runtime(self) -> ServiceRuntime:
        return cast(ServiceRuntime, self.client.app.state.runtime)  # type: ignore[attr-defined]

    def table(self, name: str) -> Table:
        return self.runtime.metadata.tables[name]

    def consumer(self, name: str) -> ConsumerSpec:
        return next(c for c in self.runtime.consumers if c.name == name)

    def headers(self, region: str = "140000", role: Role = Role.CREDIT_OFFICER) -> dict[str, str]:
        token = mint_token(self.settings.auth_secret, subject="test", role=role, region=region)
        return {"Authorization": f"Bearer {token}"}

    def apply(self, consumer: str, envelope: Envelope, data: EventData) -> None:
        """Call the service's own handler in one transaction, as the consumer loop does."""
        handler = self.consumer(consumer).handlers[envelope.type]
        with self.runtime.sessions() as session, session.begin():
            handler(session, envelope, data)


@contextmanager
def running(skeleton: Skeleton, db_url: str) -> Iterator[Running]:
    settings = skeleton.settings_cls(
        environment="test", database_url=db_url, run_consumers=False, run_relay=False
    )
    with TestClient(skeleton.build_app(settings)) as client:
        yield Running(skeleton, client, settings)


def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'store.sqlite3'}"


T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def entity_code(i: int, region: str = "140502") -> str:
    return make_uscc("9", "1", region, f"MA{i:06d}")


def entity(
    i: int, version: int, *, region: str = "140502", **fields: Any
) -> tuple[Envelope, EntitySnapshot]:
    snapshot = EntitySnapshot.model_validate(
        {
            "change": "registered" if version == 1 else "changed",
            "code": entity_code(i, region),
            "code_kind": "uscc",
            "version": version,
            "name": f"测试企业{i}有限公司",
            "entity_type": "enterprise",
            "region_code": region,
            "status": "active",
            **fields,
        }
    )
    return snapshot.envelope("registry", at=T0 + timedelta(minutes=version)), snapshot


def inspector(
    cert: str, version: int, *, region: str = "140502", **fields: Any
) -> tuple[Envelope, InspectorSnapshot]:
    snapshot = InspectorSnapshot.model_validate(
        {
            "certificate_no": cert,
            "version": version,
            "name": "张三",
            "department": "晋城市城区市场监督管理局",
            "region_code": region,
            "certificate_expires_on": "2027-12-31",
            "status": "on_duty",
            **fields,
        }
    )
    return snapshot.envelope("registry", at=T0 + timedelta(minutes=version)), snapshot


def record(topic: str, offset: int, envelope: Envelope) -> ConsumerRecord:
    value = envelope.to_bytes()
    return ConsumerRecord(
        topic, 0, -1, offset, 0, 0, envelope.subject.encode(), value, [], None, -1, len(value), -1
    )


@dataclass
class FakeKafkaConsumer:
    """Hands out one prepared batch per poll (a redelivery is the same record twice)."""

    batches: list[list[ConsumerRecord]]
    commits: int = 0
    polled: list[int] = field(default_factory=list)

    def poll(self, timeout_ms: int = 0) -> dict[TopicPartition, list[ConsumerRecord]]:
        if not self.batches:
            return {}
        batch = self.batches.pop(0)
        self.polled.append(len(batch))
        return {TopicPartition(batch[0].topic, 0): batch} if batch else {}

    def commit(self) -> None:
        self.commits += 1

    def assignment(self) -> set[TopicPartition]:
        return set()

    def close(self) -> None:
        pass


def counting(handlers: dict[str, Handler], calls: list[str]) -> dict[str, Handler]:
    """The service's handlers, recording the id of every event they are given."""

    def wrap(handler: Handler) -> Handler:
        def counted(session: Any, envelope: Envelope, data: EventData) -> None:
            calls.append(envelope.id)
            handler(session, envelope, data)

        return counted

    return {t: wrap(h) for t, h in handlers.items()}


def inbox_consumer(
    svc: Running, name: str, batches: Sequence[list[ConsumerRecord]], calls: list[str]
) -> tuple[InboxConsumer, FakeKafkaConsumer]:
    fake = FakeKafkaConsumer([list(b) for b in batches])
    assert svc.runtime.inbox_table is not None
    consumer = InboxConsumer(
        name=name,
        service=svc.settings.service_name,
        consumer=cast(KafkaConsumer, fake),
        session_factory=svc.runtime.sessions,
        inbox=svc.runtime.inbox_table,
        handlers=counting(svc.consumer(name).handlers, calls),
    )
    return consumer, fake
