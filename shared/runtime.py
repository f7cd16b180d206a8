"""What a running service owns besides its HTTP routes: the engines, sessions, the outbox
relay and the inbox consumers, each in a daemon thread stopped cleanly on shutdown, and
what /readyz reports of them.

Two engines on one store: requests wait at most ``store_wait_s`` for a lock or a
connection (then 503 with Retry-After), background work waits BACKGROUND_WAIT_S and
retries. The relay and the consumers connect to the broker themselves, and reconnect
after losing it: start-up never waits for the broker."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from kafka import KafkaConsumer, KafkaProducer
from sqlalchemy import Engine, MetaData, Table
from sqlalchemy.orm import Session, sessionmaker

from shared import kafka as transport
from shared.db import make_engine, make_sessionmaker, store_check
from shared.events import ALL_TOPICS, dead_letter_topic
from shared.health import ComponentHealth, Probes, broker_check
from shared.inbox import Handler, InboxConsumer, all_topics_of
from shared.migrations import upgrade
from shared.outbox import Outbox, OutboxRelay
from shared.settings import ServiceSettings

log = logging.getLogger(__name__)

# How long a relay or consumer waits for the broker when it (re)connects, before backing
# off and trying again; short, so that stopping a service never waits on it for long.
CONNECT_WAIT_S = 5.0
# SIGTERM must stop a service within 10 s: every thread gets this much in all.
STOP_DEADLINE_S = 7.0


@dataclass
class ConsumerSpec:
    """A consumer group of this service: its name (also the inbox key) and handlers."""

    name: str
    handlers: dict[str, Handler]
    after_batch: Callable[[Session], None] | None = None
    # Called once a batch that applied something has committed (e.g. to wake a worker
    # that takes the batch's work further).
    after_commit: Callable[[], None] | None = None
    # Events per poll, hence per transaction: on SQLite a batch holds the store's write
    # lock, which the relay and the requests of the same service wait for.
    max_poll_records: int = 2000


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
    # Requests' engine and sessions: short waits, see the module docstring.
    request_engine: Engine = field(init=False)
    request_sessions: sessionmaker[Session] = field(init=False)
    health: dict[str, ComponentHealth] = field(default_factory=dict, init=False)
    _stop: threading.Event = field(default_factory=threading.Event, init=False)
    _threads: list[threading.Thread] = field(default_factory=list, init=False)
    _inbox_consumers: list[InboxConsumer] = field(default_factory=list, init=False)
    _probes: Probes | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        url = self.settings.resolved_database_url
        self.engine = make_engine(url)
        self.sessions = make_sessionmaker(self.engine)
        self.request_engine = make_engine(url, wait_s=self.settings.store_wait_s)
        self.request_sessions = make_sessionmaker(self.request_engine)

    @property
    def outbox(self) -> Outbox:
        assert self.outbox_table is not None, "this service has no outbox"
        return Outbox(self.outbox_table, self.settings.service_name)

    def migrate(self) -> None:
        upgrade(self.migrations, self.engine)
        if self.after_migrate is not None:
            self.after_migrate(self.sessions)

    # -- readiness ---------------------------------------------------------------
    @property
    def uses_broker(self) -> bool:
        s = self.settings
        return (s.run_relay and self.outbox_table is not None) or (
            s.run_consumers and bool(self.consumers)
        )

    def readiness(self) -> tuple[list[str], dict[str, str]]:
        """(the parts that are down, every part's state), within READY_DEADLINE_S."""
        if self._probes is None:
            checks = {"store": lambda: store_check(self.request_engine)}
            if self.uses_broker:
                bootstrap = self.settings.kafka_bootstrap_servers
                checks["broker"] = lambda: broker_check(bootstrap)
            self._probes = Probes(checks)
        states = self._probes.run()
        states.update({name: h.report() for name, h in self.health.items()})
        down = [name for name, state in states.items() if state != "ok"]
        for parts in self.readiness_parts:  # e.g. "sync.registry.entities": "incomplete"
            for name, (ok, state) in parts().items():
                states[name] = state
                if not ok:
                    down.append(name)
        return down, states

    # -- background work ----------------------------------------------------------
    def consumers_lag(self) -> int:
        """Messages the running consumers are behind (as of their last applied batch)."""
        return sum(c.lag for c in self._inbox_consumers)

    def start_background(self) -> None:
        s = self.settings
        for name, loop in self.workers:
            self._spawn(name, loop)
        if s.run_relay and self.outbox_table is not None:
            self._spawn("relay", self.make_relay().run)
        if s.run_consumers:
            for spec in self.consumers:
                consumer = self.make_consumer(spec)
                self._inbox_consumers.append(consumer)
                self._spawn(f"consumer-{spec.name}", consumer.run)

    def ensure_topics(self, wait_s: float = 30) -> None:
        """Every topic of the contract and its dead-letter topic, whoever starts first."""
        transport.ensure_topics(
            self.settings.kafka_bootstrap_servers,
            [*ALL_TOPICS, *(dead_letter_topic(t) for t in ALL_TOPICS)],
            wait_s=wait_s,
        )

    def component(self, name: str) -> ComponentHealth:
        health = ComponentHealth(self.settings.service_name, name)
        self.health[name] = health
        return health

    def make_relay(self) -> OutboxRelay:
        assert self.outbox_table is not None
        s = self.settings

        def connect() -> KafkaProducer:
            self.ensure_topics(wait_s=CONNECT_WAIT_S)  # a broker that lost its log has none
            return transport.make_producer(
                s.kafka_bootstrap_servers, client_id=f"{s.service_name}-relay"
            )

        return OutboxRelay(
            engine=self.engine,
            table=self.outbox_table,
            connect=connect,
            service=s.service_name,
            batch_size=s.relay_batch_size,
            retention=timedelta(days=s.outbox_retention_days),
            health=self.component("relay"),
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
            after_commit=spec.after_commit,
        )

    def make_consumer(self, spec: ConsumerSpec) -> InboxConsumer:
        assert self.inbox_table is not None, "a consumer needs the inbox table"
        s = self.settings

        def connect() -> tuple[KafkaConsumer, KafkaProducer]:
            self.ensure_topics(wait_s=CONNECT_WAIT_S)
            kc = transport.make_consumer(
                s.kafka_bootstrap_servers,
                group_id=f"{s.service_name}.{spec.name}{s.consumer_group_suffix}",
                topics=all_topics_of(spec.handlers),
                client_id=f"{s.service_name}-{spec.name}",
                max_poll_records=spec.max_poll_records,
            )
            dlq = transport.make_producer(
                s.kafka_bootstrap_servers, client_id=f"{s.service_name}-dlq"
            )
            return kc, dlq

        return InboxConsumer(
            name=spec.name,
            service=s.service_name,
            connect=connect,
            session_factory=self.sessions,
            inbox=self.inbox_table,
            handlers=spec.handlers,
            after_batch=spec.after_batch,
            after_commit=spec.after_commit,
            health=self.component(f"consumer-{spec.name}"),
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

    def stop(self, deadline_s: float = STOP_DEADLINE_S) -> None:
        """Stop every thread within ``deadline_s`` in all: each loop finishes its round
        (a consumer commits and leaves its group), then the stores' pools close."""
        self._stop.set()
        end = time.monotonic() + deadline_s
        for t in self._threads:
            t.join(timeout=max(0.0, end - time.monotonic()))
            if t.is_alive():
                log.warning("%s did not stop within %.0f s", t.name, deadline_s)
        self._threads.clear()
        if self._probes is not None:
            self._probes.close()
            self._probes = None
        self.engine.dispose()
        self.request_engine.dispose()
