"""Transactional outbox. A service writes its events as outbox rows in the same
transaction as the change; a relay publishes unsent rows to Kafka in id order and marks
them sent. Killed between publish and mark, it publishes those rows again on restart:
delivery is at least once, and consumers' inboxes make application exactly once."""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
import zlib
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from kafka import KafkaProducer
from sqlalchemy import (
    BigInteger,
    Column,
    ColumnElement,
    Connection,
    Engine,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Select,
    String,
    Table,
    Text,
    and_,
    cast,
    delete,
    func,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session

from shared.backoff import Backoff
from shared.db import STORE_ERRORS, UtcDateTime, bulk_insert
from shared.events import EventData, envelope_json
from shared.health import ComponentHealth
from shared.metrics import service_metrics

log = logging.getLogger(__name__)


def outbox_table(metadata: MetaData) -> Table:
    return Table(
        "outbox",
        metadata,
        Column(
            "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
        ),
        Column("event_id", String(36), nullable=False),
        Column("event_type", String(100), nullable=False),
        Column("topic", String(100), nullable=False),
        Column("key", String(64), nullable=False),
        Column("payload", Text, nullable=False),
        Column("created_at", UtcDateTime(), nullable=False),
        Column("sent_at", UtcDateTime(), nullable=True),
        # Partial index: the relay only ever looks for unsent rows, in id order.
        Index(
            "ix_outbox_unsent",
            "id",
            sqlite_where=text("sent_at IS NULL"),
            postgresql_where=text("sent_at IS NULL"),
        ),
    )


def unsent_count(session: Session, table: Table) -> int:
    return session.execute(
        select(func.count()).select_from(table).where(table.c.sent_at.is_(None))
    ).scalar_one()


class Outbox:
    """Writes events of one service (``source``) into its outbox table."""

    def __init__(self, table: Table, source: str) -> None:
        self.table = table
        self.source = source

    def rows(self, events: Sequence[EventData]) -> list[dict[str, object]]:
        now = datetime.now(UTC)
        rows = []
        for ev in events:
            event_id = str(uuid.uuid4())
            rows.append(
                {
                    "event_id": event_id,
                    "event_type": ev.TYPE,
                    "topic": ev.TOPIC,
                    "key": ev.subject(),
                    "payload": ev.envelope_bytes(self.source, event_id, now).decode(),
                    "created_at": now,
                }
            )
        return rows

    def add(self, session: Session, *events: EventData) -> None:
        if events:
            session.execute(self.table.insert(), self.rows(events))

    def add_data(
        self,
        session: Session,
        event: type[EventData],
        items: Sequence[tuple[str, dict[str, Any]]],
        *,
        times: Sequence[datetime] | None = None,
    ) -> None:
        """Bulk writers' path: events of one type given as (subject, data), ``data`` being
        what ``event.model_dump()`` would hold, fields in declaration order (the envelope
        is ``shared.events.envelope_json``'s, as for every event). Measured: building millions of
        event models was a tenth of an import's time. ``times``, one per item, are the
        envelopes' times when they are not now: a replayed snapshot carries the moment of
        the change it restates, so a projection rebuilt from it equals the original."""
        if not items:
            return
        now = datetime.now(UTC)
        ats = times if times is not None else [now] * len(items)
        rows = [
            (
                event_id,
                event.TYPE,
                event.TOPIC,
                subject,
                envelope_json(event, self.source, event_id, at, subject, data).decode(),
            )
            for event_id, (subject, data), at in zip(
                uuid4_strings(len(items)), items, ats, strict=True
            )
        ]
        columns = ("event_id", "event_type", "topic", "key", "payload")
        bulk_insert(session, self.table, columns, rows, constants={"created_at": now})

    def backlog(self, session: Session) -> int:
        return unsent_count(session, self.table)


# Hex digit of a random nibble with the RFC 4122 variant bits (10xx) set.
_VARIANT = {f"{n:x}": f"{(n & 0x3) | 0x8:x}" for n in range(16)}


def uuid4_strings(n: int) -> Iterator[str]:
    """``n`` random (version 4) UUIDs as ``str(uuid.uuid4())`` writes them, from one
    os.urandom call: uuid4() per event cost as much as serialising the event."""
    digits = os.urandom(16 * n).hex()
    for i in range(0, 32 * n, 32):
        h = digits[i : i + 32]
        yield f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:]}"


def id_runs(ids: Sequence[int]) -> list[tuple[int, int]]:
    """Sorted distinct ``ids`` as maximal runs of consecutive integers (first, last)."""
    runs: list[tuple[int, int]] = []
    for i in ids:
        if runs and i == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], i)
        else:
            runs.append((i, i))
    return runs


# How long a batch's publish may take before the relay gives up on the producer; the
# rows stay unsent and go again with a new one.
FLUSH_TIMEOUT_S = 30.0


class OutboxRelay:
    """Publishes the outbox. Given ``connect`` instead of a ``producer``, it builds its
    producer itself and rebuilds it after any broker failure: kafka-python's idempotent
    producer does not recover from a broker that lost its state (it retried
    InitProducerId with UnknownError forever), a new producer does."""

    def __init__(
        self,
        *,
        engine: Engine,
        table: Table,
        service: str,
        producer: KafkaProducer | None = None,
        connect: Callable[[], KafkaProducer] | None = None,
        batch_size: int = 5000,
        idle_sleep_s: float = 0.1,
        # Idle, the relay looks for new rows ever less often, up to this. Measured, an
        # idle relay with its producer: 1.5 % of a core polling every 0.1 s, 0.3 %
        # backing off to 1 s. The first event after a quiet spell waits at most this
        # long; those of a busy stream 0.1 s at most, as before.
        idle_max_sleep_s: float = 1.0,
        retention: timedelta = timedelta(days=7),
        purge_every: timedelta = timedelta(hours=1),
        health: ComponentHealth | None = None,
    ) -> None:
        self.engine = engine
        self.table = table
        self.producer = producer
        self.connect = connect
        self.health = health or ComponentHealth(service, "relay")
        self.backoff = Backoff()
        self.batch_size = batch_size
        self.idle_sleep_s = idle_sleep_s
        self.idle_max_sleep_s = max(idle_max_sleep_s, idle_sleep_s)
        self.retention = retention
        self.purge_every = purge_every
        self._last_purge: float | None = None
        self.metrics = service_metrics(service)
        self._partitions: dict[str, int] = {}

    def _producer(self) -> KafkaProducer:
        if self.producer is None:
            assert self.connect is not None, "a relay needs a producer or a way to make one"
            self.producer = self.connect()
        return self.producer

    def _drop_producer(self) -> None:
        """Forget a producer that failed (rebuilt at the next batch), if it can be rebuilt."""
        if self.connect is None or self.producer is None:
            return
        producer, self.producer = self.producer, None
        self._partitions.clear()  # a recreated topic may have other partitions
        try:
            producer.close(timeout=0)
        except Exception:
            log.debug("closing a failed producer", exc_info=True)

    def close(self) -> None:
        if self.producer is not None:
            self.producer.close(timeout=5)
            self.producer = None

    def relay_batch(self) -> int:
        """Publish one batch of unsent rows; returns how many were published."""
        postgres = self.engine.dialect.name == "postgresql"
        with self.engine.begin() as conn:
            now = datetime.now(UTC)
            # On PostgreSQL the rows are marked in the same statement that picks them;
            # nobody sees the mark before this transaction commits, after the publish.
            rows = list(conn.execute(self._claim(now) if postgres else self._pick()))
            if not rows:
                return 0
            rows.sort(key=lambda r: r[0])  # RETURNING keeps no order; publish in id order
            # Connected only when there is work: an idle relay without a broker stays idle.
            producer = self._producer()
            send, partition = producer.send, self._partition
            futures = []
            for _, topic, key, payload in rows:
                k = key.encode()
                futures.append(send(topic, key=k, value=payload, partition=partition(topic, k)))
            producer.flush(timeout=FLUSH_TIMEOUT_S)
            for f in futures:
                f.get(timeout=1)  # raises if the broker refused: the transaction rolls back
            if not postgres:
                self._mark_sent(conn, [r[0] for r in rows], now)
        self.metrics.events_relayed.inc(len(rows))
        return len(rows)

    def _partition(self, topic: str, key: bytes) -> int:
        """The key's partition: CRC-32 (C) of the key modulo the topic's partitions. Same
        key, same partition, so each entity's events stay in order, as with the client's
        default partitioner, whose pure-Python murmur2 cost a tenth of the relay's time.
        The partition count is read once per topic: adding partitions to a live topic
        moves keys under any partitioner, and needs the relay restarted."""
        n = self._partitions.get(topic)
        if n is None:
            n = self._partitions[topic] = len(self._producer().partitions_for(topic))
        return zlib.crc32(key) % n

    def _payload_bytes(self) -> ColumnElement[bytes]:
        """The payload as the bytes Kafka gets, read as such (no decode and re-encode)."""
        if self.engine.dialect.name == "postgresql":
            return func.convert_to(self.table.c.payload, "UTF8", type_=LargeBinary)
        return cast(self.table.c.payload, LargeBinary)  # SQLite: the stored UTF-8 as is

    def _unsent(self) -> Select[tuple[int]]:
        t = self.table
        return select(t.c.id).where(t.c.sent_at.is_(None)).order_by(t.c.id).limit(self.batch_size)

    def _pick(self) -> Select[Any]:
        t = self.table
        return (
            select(t.c.id, t.c.topic, t.c.key, self._payload_bytes())
            .where(t.c.sent_at.is_(None))
            .order_by(t.c.id)
            .limit(self.batch_size)
        )

    def _claim(self, now: datetime) -> Any:
        """PostgreSQL: one statement locks, marks and returns a batch; a second relay (hot
        standby) skips the rows the first holds. Measured: a SELECT … FOR UPDATE and an
        UPDATE per 1000 ids wrote every row twice and halved the relay."""
        t = self.table
        unsent = self._unsent().with_for_update(skip_locked=True)
        return (
            update(t)
            .where(t.c.id.in_(unsent.scalar_subquery()))
            .values(sent_at=now)
            .returning(t.c.id, t.c.topic, t.c.key, self._payload_bytes())
        )

    def _mark_sent(self, conn: Connection, ids: list[int], now: datetime) -> None:
        """Mark ``ids`` sent by id ranges: a batch is usually one run of consecutive ids.
        Only ids of the batch are in its runs, so rows it skipped stay unsent."""
        runs = id_runs(ids)
        for i in range(0, len(runs), 400):  # 2 parameters a run, under SQLite's limit
            ranges = [self.table.c.id.between(a, b) for a, b in runs[i : i + 400]]
            conn.execute(update(self.table).where(or_(*ranges)).values(sent_at=now))

    def purge_sent(self, before: datetime, chunk: int = 10_000) -> int:
        """Delete the rows sent before ``before``, oldest first, a chunk per transaction.
        Ids grow with time, so the oldest rows are the candidates: a pass stops at the
        first row that must stay (unsent, or sent since), and reads about what it
        deletes instead of scanning the table. Returns how many rows went."""
        t = self.table
        old_enough = and_(t.c.sent_at.is_not(None), t.c.sent_at < before)
        purged = 0
        while True:
            with self.engine.begin() as conn:
                oldest = conn.execute(
                    select(t.c.id, old_enough).order_by(t.c.id).limit(chunk)
                ).all()
                last = None
                for row_id, purgeable in oldest:
                    if not purgeable:
                        break
                    last = row_id
                if last is None:
                    return purged
                # The condition again: a row committed since the read, with a lower id
                # (PostgreSQL hands out ids before commit), is not old enough and stays.
                purged += conn.execute(delete(t).where(t.c.id <= last, old_enough)).rowcount
            if last != oldest[-1][0]:
                return purged

    def _purge_if_due(self) -> None:
        now = time.monotonic()
        due = self._last_purge is None or now - self._last_purge >= self.purge_every.total_seconds()
        if not due:
            return
        self._last_purge = now
        purged = self.purge_sent(datetime.now(UTC) - self.retention)
        if purged:
            log.info("outbox: purged %d rows sent over %s ago", purged, self.retention)
            self.metrics.outbox_purged.inc(purged)

    def drain(self) -> int:
        total = 0
        while n := self.relay_batch():
            total += n
        return total

    def run(self, stop: threading.Event) -> None:
        """Relay until ``stop``; every failure is retried after a jittered backoff, with a
        new producer when the broker side failed. Idle, it looks for new rows ever less
        often, up to ``idle_max_sleep_s``. Closes its producer at the end."""
        idle_wait = self.idle_sleep_s
        try:
            while not stop.is_set():
                try:
                    n = self.relay_batch()
                    if n == 0:  # caught up: housekeeping, then wait for new rows
                        self._update_backlog()
                        self._purge_if_due()
                except Exception as exc:
                    self._failed(exc)
                    stop.wait(self.backoff.next_delay())
                    continue
                self.health.succeeded()
                self.backoff.reset()
                if n == 0:
                    stop.wait(idle_wait)
                    idle_wait = min(2 * idle_wait, self.idle_max_sleep_s)
                else:
                    idle_wait = self.idle_sleep_s
        finally:
            self.close()

    def _failed(self, exc: Exception) -> None:
        if not isinstance(exc, STORE_ERRORS):
            self._drop_producer()  # the broker side failed: start over with a new producer
        self.health.failed(exc)

    def _update_backlog(self) -> None:
        with Session(self.engine) as s:
            self.metrics.outbox_backlog.set(unsent_count(s, self.table))
