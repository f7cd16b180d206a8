"""Replay: a producing service publishes a stream again, for consumers that lost events
(a broker that lost its log, a deleted topic, a restored backup) or never had them (a new
replica). Two sources:

- ``outbox``: the stream's outbox rows created since a moment are marked unsent, and the
  relay publishes them again with their original event ids; consumers' inboxes skip the
  ones they had applied. Only possible while the rows are kept: the relay deletes rows
  sent over ``<SERVICE>_OUTBOX_RETENTION_DAYS`` ago, so ``since`` must be within it.
- ``snapshot``: the current state, one event per item, written as new outbox rows that
  the relay publishes. New event ids, so inboxes do not skip them; the consumers' version
  guards (``shared.projections.upsert_newer``) and fact keys leave what they already hold
  untouched, so a snapshot is harmless to a consumer that is complete.

``auto`` takes the outbox when ``since`` is given and within the retention, else the
snapshot. Either way the result is a range of outbox ids; the relay has finished the
replay when no row of the range is unsent, which is what progress reports."""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import Table, and_, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from shared.access import Guard
from shared.db import transaction
from shared.errors import Conflict, InvalidInput, NotFound
from shared.events import EventData
from shared.outbox import Outbox
from shared.resync import StreamFigures

log = logging.getLogger(__name__)

ReplaySource = Literal["auto", "outbox", "snapshot"]
SNAPSHOT_PAGE = 5000  # items per outbox transaction: short write locks on SQLite


@dataclass(frozen=True)
class SnapshotBatch:
    """Events of one type restating current state: (subject, data) with each one's time."""

    event: type[EventData]
    items: list[tuple[str, dict[str, Any]]]
    times: list[datetime]


@dataclass(frozen=True)
class ReplayStream:
    """A stream a service owns: its topic, the figures consumers compare theirs with, and
    its current state as snapshot events (pages read in one transaction, so the snapshot
    is one moment's state; later changes publish their own, newer events)."""

    name: str  # e.g. "entities", the part after the service in "registry.entities"
    topic: str
    guard: Guard  # who may read its figures: the guard of the data it summarises
    figures: Callable[[Session], StreamFigures]
    snapshot: Callable[[Session], Iterator[list[SnapshotBatch]]]


class ReplayTicket(BaseModel):
    stream: str
    topic: str
    source: Literal["outbox", "snapshot"]
    rows: int = Field(description="outbox rows queued for the relay")
    first_id: int | None = Field(description="the replay's outbox id range (null: nothing)")
    last_id: int | None


class ReplayProgress(BaseModel):
    rows: int = Field(description="rows of the replay's range on its topic")
    published: int = Field(description="of which the relay has published")
    done: bool


def keyset_pages(
    session: Session, table: Table, key: str, columns: Sequence[str] | None = None
) -> Iterator[Sequence[Any]]:
    """``table``'s rows (``columns`` only, if given) in ``key`` order, a page at a time
    (keyset: no OFFSET rescans), for a stream's snapshot."""
    column = table.c[key]
    selected = [table.c[c] for c in columns] if columns else [table]
    last: Any = None
    while True:
        query = select(*selected).order_by(column).limit(SNAPSHOT_PAGE)
        if last is not None:
            query = query.where(column > last)
        rows = session.execute(query).all()
        if not rows:
            return
        yield rows
        last = getattr(rows[-1], key)


def choose_source(
    source: ReplaySource, since: datetime | None, *, retention: timedelta, now: datetime
) -> Literal["outbox", "snapshot"]:
    """Which source serves a replay; refuses an outbox replay the outbox cannot serve."""
    if since is not None and since.tzinfo is None:
        raise InvalidInput(
            "since 须带时区（例如 2026-12-01T08:00:00+08:00）",
            message_en="since needs a time zone, e.g. 2026-12-01T08:00:00+08:00",
            field="since",
        )
    if since is not None and since > now:
        raise InvalidInput(
            "since 不能晚于当前时间", message_en="since is in the future", field="since"
        )
    kept_from = now - retention
    within = since is not None and since >= kept_from
    if source == "snapshot":
        return "snapshot"
    if source == "auto":
        return "outbox" if within else "snapshot"
    if since is None:
        raise InvalidInput(
            "从发件箱重放须给出 since（从何时起重放）",
            message_en="an outbox replay needs since (replay the rows created since then)",
            field="since",
        )
    if not within:
        raise Conflict(
            f"发件箱只保留 {retention.days} 天内已发送的事件，{since.isoformat()} 之前的可能已删除；"
            "请改用快照重放（--from snapshot 或 source=snapshot）",
            message_en=f"the outbox keeps sent rows for {retention.days} days; rows before "
            f"{since.isoformat()} may be gone: replay from a snapshot instead",
            field="since",
        )
    return "outbox"


def replay(
    sessions: sessionmaker[Session],
    outbox: Outbox,
    stream: ReplayStream,
    *,
    source: ReplaySource = "auto",
    since: datetime | None = None,
    retention: timedelta,
    on_rows: Callable[[int], None] | None = None,
) -> ReplayTicket:
    """Queue ``stream`` for the relay again; ``on_rows`` hears of each batch written."""
    chosen = choose_source(source, since, retention=retention, now=datetime.now(UTC))
    if chosen == "outbox":
        assert since is not None
        ticket = _from_outbox(sessions, outbox.table, stream, since)
        if on_rows is not None:
            on_rows(ticket.rows)
    else:
        ticket = _from_snapshot(sessions, outbox, stream, on_rows)
    log.info(
        "replay of %s from the %s: %d outbox rows (ids %s-%s)",
        stream.topic,
        chosen,
        ticket.rows,
        ticket.first_id,
        ticket.last_id,
    )
    return ticket


def _from_outbox(
    sessions: sessionmaker[Session], table: Table, stream: ReplayStream, since: datetime
) -> ReplayTicket:
    in_range = and_(table.c.topic == stream.topic, table.c.created_at >= since)
    with transaction(sessions) as session:
        first, last, rows = session.execute(
            select(func.min(table.c.id), func.max(table.c.id), func.count()).where(in_range)
        ).one()
        session.execute(
            update(table).where(in_range, table.c.sent_at.is_not(None)).values(sent_at=None)
        )
    return ReplayTicket(
        stream=stream.name,
        topic=stream.topic,
        source="outbox",
        rows=rows,
        first_id=first,
        last_id=last,
    )


def _from_snapshot(
    sessions: sessionmaker[Session],
    outbox: Outbox,
    stream: ReplayStream,
    on_rows: Callable[[int], None] | None,
) -> ReplayTicket:
    table = outbox.table
    first: int | None = None
    last: int | None = None
    rows = 0
    with sessions() as reader:
        for page in stream.snapshot(reader):
            with transaction(sessions) as session:
                before = session.execute(select(func.max(table.c.id))).scalar_one() or 0
                for batch in page:
                    outbox.add_data(session, batch.event, batch.items, times=batch.times)
                after = session.execute(select(func.max(table.c.id))).scalar_one() or 0
            written = sum(len(b.items) for b in page)
            if written:
                first = before + 1 if first is None else first
                last = after
                rows += written
                if on_rows is not None:
                    on_rows(written)
    return ReplayTicket(
        stream=stream.name,
        topic=stream.topic,
        source="snapshot",
        rows=rows,
        first_id=first,
        last_id=last,
    )


def progress(session: Session, table: Table, ticket: ReplayTicket) -> ReplayProgress:
    """How much of the replay the relay has published. The range may hold other rows of
    the topic written meanwhile (PostgreSQL interleaves ids); they count too, and done
    still means that nothing of the range waits."""
    if ticket.first_id is None:
        return ReplayProgress(rows=0, published=0, done=True)
    rows, published = session.execute(
        select(func.count(), func.count(table.c.sent_at)).where(
            table.c.topic == ticket.topic, table.c.id.between(ticket.first_id, ticket.last_id)
        )
    ).one()
    return ReplayProgress(rows=rows, published=published, done=rows == published)


class ReplayJobRead(BaseModel):
    id: str
    stream: str
    status: Literal["running", "done", "failed"] = Field(
        description="running: writing the outbox rows; done: all written (see progress)"
    )
    rows_written: int
    ticket: ReplayTicket | None = None
    progress: ReplayProgress | None = Field(None, description="the relay's publication")
    failure: str | None = None
    started_at: datetime


@dataclass
class _Job:
    id: str
    stream: str
    started_at: datetime
    rows_written: int = 0
    ticket: ReplayTicket | None = None
    failure: str | None = None
    done: threading.Event = field(default_factory=threading.Event)


class ReplayJobs:
    """Replays started over HTTP: each writes its rows in a thread of its own (a snapshot
    of a province takes seconds to minutes) and is read back by id. Held in memory: a
    replay interrupted by a restart is simply started again, which is harmless."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        outbox: Outbox,
        streams: list[ReplayStream],
        *,
        retention: timedelta,
    ) -> None:
        self.sessions = sessions
        self.outbox = outbox
        self.streams = {s.name: s for s in streams}
        self.retention = retention
        self._jobs: dict[str, _Job] = {}

    def start(self, stream: str, source: ReplaySource, since: datetime | None) -> ReplayJobRead:
        spec = self.streams[stream]
        # Bad input is the caller's answer now, not a failed job later.
        choose_source(source, since, retention=self.retention, now=datetime.now(UTC))
        job = _Job(id=str(uuid.uuid4()), stream=stream, started_at=datetime.now(UTC))
        self._jobs[job.id] = job

        def on_rows(n: int) -> None:
            job.rows_written += n

        def work() -> None:
            try:
                job.ticket = replay(
                    self.sessions,
                    self.outbox,
                    spec,
                    source=source,
                    since=since,
                    retention=self.retention,
                    on_rows=on_rows,
                )
            except Exception as exc:
                log.exception("replay of %s failed", spec.topic)
                job.failure = type(exc).__name__
            finally:
                job.done.set()

        threading.Thread(target=work, name=f"replay-{stream}", daemon=True).start()
        return self.read(job.id)

    def read(self, job_id: str) -> ReplayJobRead:
        job = self._jobs.get(job_id)
        if job is None:
            raise NotFound(f"未找到重放任务 {job_id}", message_en="no such replay", field="id")
        status: Literal["running", "done", "failed"] = (
            "running" if not job.done.is_set() else "failed" if job.failure else "done"
        )
        shown = None
        if job.ticket is not None:
            with self.sessions() as session:
                shown = progress(session, self.outbox.table, job.ticket)
        return ReplayJobRead(
            id=job.id,
            stream=job.stream,
            status=status,
            rows_written=job.rows_written,
            ticket=job.ticket,
            progress=shown,
            failure=job.failure,
            started_at=job.started_at,
        )
