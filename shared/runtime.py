"""What a running service owns besides its HTTP routes: the engine, sessions, the outbox
relay and the inbox consumers, each in a daemon thread stopped cleanly on shutdown."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine, MetaData, Table, text
from sqlalchemy.orm import Session, sessionmaker

from shared import kafka as transport
from shared.db import make_engine, make_sessionmaker
from shared.events import ALL_TOPICS, dead_letter_topic
from shared.inbox import Handler, InboxConsumer, all_topics_of
from shared.migrations import upgrade
from shared.outbox import Outbox, OutboxRelay
from shared.settings import ServiceSettings

log = logging.getLogger(__name__)


@dataclass
class ConsumerSpec:
    """A consumer group of this service: its name (also the inbox key) and handlers."""

    name: str
    handlers: dict[str, Handler]
    after_batch: Callable[[Session], None] | None = None


@dataclass
class ServiceRuntime:
    settings: ServiceSettings
    metadata: MetaData
    migrations: Path
    outbox_table: Table | None = None
    inbox_table: Table | None = None
    consumers: list[ConsumerSpec] = field(default_factory=list)
    # Seeds reference data the schema needs (e.g. shipped models), after every migration.
    after_migrate: Callable[[sessionmaker[Session]], None] | None = None
    # Other work of the API process (name, loop taking the stop event), started with it
    # whether or not it relays or consumes.
    workers: list[tuple[str, Callable[[threading.Event], None]]] = field(default_factory=list)
    # More named parts of /readyz, each (ready, state), e.g. a projection's resync state.
    readiness_parts: list[Callable[[], dict[str, tuple[bool, str]]]] = field(default_factory=list)
    engine: Engine = field(init=False)
    sessions: sessionmaker[Session] = field(init=False)
    _stop: threading.Event = field(default_factory=threading.Event, init=False)
    _threads: list[threading.Thread] = field(default_factory=list, init=False)
    _inbox_consumers: list[InboxConsumer] = field(default_factory=list, init=False)

    def __post_init__(self) -> None:
        self.engine = make_engine(self.settings.resolved_database_url)
        self.sessions = make_sessionmaker(self.engine)

    @property
    def outbox(self) -> Outbox:
        assert self.outbox_table is not None, "this service has no outbox"
        return Outbox(self.outbox_table, self.settings.service_name)

    def migrate(self) -> None:
        upgrade(self.migrations, self.engine)
        if self.after_migrate is not None:
            self.after_migrate(self.sessions)

    def store_ready(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    def broker_ready(self) -> bool:
        return transport.broker_reachable(self.settings.kafka_bootstrap_servers)

    # -- background work ----------------------------------------------------------
    def start_background(self) -> None:
        s = self.settings
        for name, loop in self.workers:
            self._spawn(name, loop)
        if not (s.run_relay and self.outbox_table is not None) and not (
            s.run_consumers and self.consumers
        ):
            return
        self.ensure_topics()
        if s.run_relay and self.outbox_table is not None:
            self._spawn("relay", self.make_relay().run)
        if s.run_consumers:
            for spec in self.consumers:
                consumer = self.make_consumer(spec)
                self._inbox_consumers.append(consumer)
                self._spawn(f"consumer-{spec.name}", consumer.run)

    def ensure_topics(self) -> None:
        """Every topic of the contract and its dead-letter topic, whoever starts first."""
        transport.ensure_topics(
            self.settings.kafka_bootstrap_servers,
            [*ALL_TOPICS, *(dead_letter_topic(t) for t in ALL_TOPICS)],
        )

    def make_relay(self) -> OutboxRelay:
        assert self.outbox_table is not None
        producer = transport.make_producer(
            self.settings.kafka_bootstrap_servers, client_id=f"{self.settings.service_name}-relay"
        )
        return OutboxRelay(
            engine=self.engine,
            table=self.outbox_table,
            producer=producer,
            service=self.settings.service_name,
            batch_size=self.settings.relay_batch_size,
            retention=timedelta(days=self.settings.outbox_retention_days),
        )

    def offline_consumer(self, name: str) -> InboxConsumer:
        """The consumer ``name`` without a broker connection, for ``apply_envelopes``:
        replays, bulk loads and tests apply events exactly as the live consumer does."""
        assert self.inbox_table is not None, "a consumer needs the inbox table"
        spec = next(c for c in self.consumers if c.name == name)
        return InboxConsumer(
            name=spec.name,
            service=self.settings.service_name,
            consumer=None,
            session_factory=self.sessions,
            inbox=self.inbox_table,
            handlers=spec.handlers,
            after_batch=spec.after_batch,
        )

    def make_consumer(self, spec: ConsumerSpec) -> InboxConsumer:
        assert self.inbox_table is not None, "a consumer needs the inbox table"
        s = self.settings
        kc = transport.make_consumer(
            s.kafka_bootstrap_servers,
            group_id=f"{s.service_name}.{spec.name}",
            topics=all_topics_of(spec.handlers),
            client_id=f"{s.service_name}-{spec.name}",
        )
        dlq = transport.make_producer(s.kafka_bootstrap_servers, client_id=f"{s.service_name}-dlq")
        return InboxConsumer(
            name=spec.name,
            service=s.service_name,
            consumer=kc,
            session_factory=self.sessions,
            inbox=self.inbox_table,
            handlers=spec.handlers,
            dlq_producer=dlq,
            after_batch=spec.after_batch,
        )

    def _spawn(self, name: str, target: Callable[[threading.Event], None]) -> None:
        t = threading.Thread(
            target=target,
            args=(self._stop,),
            name=f"{self.settings.service_name}-{name}",
            daemon=True,
        )
        t.start()
        self._threads.append(t)

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=15)
        self._threads.clear()
        self.engine.dispose()
