"""The reclassifier: scores the entities the consumers marked, in large batches.

The consumers keep facts and mark each entity they touched (``pending_reclassification``)
in the same transaction as the facts and the inbox row; the reclassifier takes the oldest
marks, runs the entity warning rules where the directory entry changed, reclassifies them
all in one pass (``reclassify_many``: the class, its history and ``scoring.classes`` on a
change) and removes the marks, all in one transaction. A mark renewed meanwhile (a later
batch touched the entity again) stays for the next round, so nothing is missed; a round
that fails leaves every mark in place, so nothing is lost. Measured: reclassifying inside
the consumers' batches held scoring's entity consumer near 1,000 events/s, most of it
scoring the same entities again batch after batch."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg
from sqlalchemy import Select, bindparam, delete, func, or_, select, update
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker

from services.scoring.classify.incremental import reclassify_many
from services.scoring.models import entity_projection
from services.scoring.models import pending_reclassification as pending
from services.scoring.warnings import hooks
from shared.auth import Principal
from shared.backoff import Backoff
from shared.db import begin_immediate
from shared.health import ComponentHealth
from shared.metrics import component_metrics
from shared.outbox import Outbox
from shared.projections import dialect_insert
from shared.workdays import china_today

log = logging.getLogger(__name__)

# Entities per round. A round holds SQLite's write lock: measured, 1,000 entities (their
# frame, rules and writes) take about 0.3 s, which the consumers and requests of the
# service wait for at most.
BATCH = 1000
# An entity that failed alone is tried again after this (and reported failing meanwhile).
RETRY_FAILED_AFTER = timedelta(minutes=10)
# Errors of a store that is unwell, which the whole round waits out (backoff); any other
# error is the batch's own and sends it one entity at a time.
TRANSIENT: tuple[type[Exception], ...] = (
    OperationalError,
    InterfaceError,
    PoolTimeout,
    sqlite3.OperationalError,
    psycopg.OperationalError,
)
# While the consumers are this far behind (a province's import), the reclassifier lets
# them have the process, one round every YIELD_AT_MOST_S at least: facts first, classes
# right after, the same total work. Measured at 200,000 entities: taking turns with every
# batch for the process's one core, the reclassifier held the entity facts at 1,355
# events/s (2,540 yielding).
YIELD_LAG = 20_000
YIELD_AT_MOST_S = 5.0
# Idle, the reclassifier looks for marks ever less often, up to this; a consumer's
# commit wakes it at once (``wake``).
IDLE_MAX_S = 1.0


def mark(session: Session, entity_changed: Mapping[str, bool]) -> None:
    """Mark entities for reclassification; ``entity_changed[code]``: its directory entry
    changed (not only its facts). Marking an entity marked already keeps its place in
    the queue and counts the touch."""
    if not entity_changed:
        return
    now = datetime.now(UTC)
    stmt = dialect_insert(session.get_bind().dialect.name, pending)
    stmt = stmt.on_conflict_do_update(
        index_elements=[pending.c.code],
        set_={
            "entity_changed": or_(pending.c.entity_changed, stmt.excluded.entity_changed),
            "touches": pending.c.touches + 1,
        },
    )
    session.execute(
        stmt,
        [
            {"code": code, "entity_changed": changed, "touches": 1, "marked_at": now}
            for code, changed in sorted(entity_changed.items())
        ],
    )


def reclassify_marked(
    session: Session,
    outbox: Outbox,
    *,
    as_of: date,
    limit: int = BATCH,
    skip_locked: bool = True,
    code: str | None = None,
) -> int:
    """One round in the caller's transaction: the oldest ``limit`` marks (or ``code``'s
    alone); returns how many were taken. ``skip_locked``: on PostgreSQL, leave marks
    another reclassifier holds to it (a second replica); without it, wait for them (a
    drain that must see everything done)."""
    # SQLite has no row locks: the write lock from the start, so that no other writer (in
    # this process or another) reads the same marks or changes them before the delete.
    begin_immediate(session)
    query = _oldest_due(
        pending.c.code, pending.c.entity_changed, pending.c.touches, pending.c.marked_at
    )
    query = query.limit(limit).with_for_update(skip_locked=skip_locked)
    if code is not None:
        query = query.where(pending.c.code == code)
    rows = session.execute(query).all()
    if not rows:
        return 0
    hooks.on_entities(session, outbox, [r.code for r in rows if r.entity_changed], as_of=as_of)
    reclassify_many(session, outbox, [r.code for r in rows], as_of=as_of)
    # Only the marks as read: one renewed meanwhile (touches) or removed and made again
    # (marked_at) stands for facts this round may not have seen.
    session.execute(
        delete(pending).where(
            pending.c.code == bindparam("m_code"),
            pending.c.touches == bindparam("m_touches"),
            pending.c.marked_at == bindparam("m_at"),
        ),
        [{"m_code": r.code, "m_touches": r.touches, "m_at": r.marked_at} for r in rows],
    )
    return len(rows)


def _oldest_due(*columns: Any) -> Select[Any]:
    """Marks that are due (a failed one waits for its retry), oldest first."""
    return (
        select(*columns)
        .where(pending.c.marked_at <= datetime.now(UTC))
        .order_by(pending.c.marked_at, pending.c.code)
    )


def pending_in_jurisdiction(session: Session, principal: Principal) -> int:
    """Marked entities of the caller's jurisdiction (an entity not projected yet, a
    record overtaking its entity, counts for the province only)."""
    p = entity_projection.c
    query = select(func.count()).select_from(pending)
    if principal.region_prefix:
        query = query.join(entity_projection, p.code == pending.c.code).where(
            p.region_code.startswith(principal.region_prefix, autoescape=True)
        )
    return int(session.execute(query).scalar_one())


class ReclassificationFailed(Exception):
    """What the component's health carries for a failed entity: the error's type only."""


def _kind(exc: BaseException) -> str:
    return type(exc).__name__


class Reclassifier:
    """The background loop of ``reclassify_marked`` (a worker of scoring's consumer
    process), healing like the relay: a failed round is retried after a jittered backoff
    and reported on /readyz and the component metrics."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        outbox: Outbox,
        health: ComponentHealth,
        wake: threading.Event | None = None,
        lag: Callable[[], int] = lambda: 0,
    ) -> None:
        self.sessions = sessions
        self.outbox = outbox
        self.health = health
        self.wake = wake or threading.Event()  # the consumers set it after a commit
        self.backoff = Backoff()
        self.metrics = component_metrics(health.service)
        self.retry_failed_after = RETRY_FAILED_AFTER
        self.lag = lag  # the consumers' backlog, to yield to (see YIELD_LAG)
        self.entity_failures = 0  # in the last round

    def _count(self, scored: int) -> None:
        self.metrics.items.labels(self.health.name).inc(scored)
        with self.sessions() as session:
            waiting = session.execute(select(func.count()).select_from(pending)).scalar_one()
        self.metrics.backlog.labels(self.health.name).set(waiting)

    def round(self, *, skip_locked: bool = True) -> int:
        """One batch of the oldest due marks. A batch failing for another reason than a
        store that is unwell (a bug an entity's data trips, a constraint) is scored one
        entity at a time, and an entity that fails alone is retried after
        ``retry_failed_after``, so that one entity never holds up the province's
        classification; meanwhile the component reports failing. Errors are logged by
        type only: a database error's message may quote a row, class included."""
        self.entity_failures = 0
        try:
            with self.sessions() as session, session.begin():
                return reclassify_marked(
                    session, self.outbox, as_of=china_today(), skip_locked=skip_locked
                )
        except TRANSIENT:
            raise
        except Exception as exc:
            log.error("reclassifier: a round failed (%s); one entity at a time", _kind(exc))
        with self.sessions() as session:
            codes = list(session.execute(_oldest_due(pending.c.code).limit(BATCH)).scalars())
        done = 0
        for code in codes:
            try:
                with self.sessions() as session, session.begin():
                    done += reclassify_marked(session, self.outbox, as_of=china_today(), code=code)
            except TRANSIENT:
                raise
            except Exception as exc:
                self.entity_failures += 1
                log.error("reclassifier: scoring %s failed (%s); retried later", code, _kind(exc))
                self.health.failed(ReclassificationFailed(_kind(exc)))
                with self.sessions() as session, session.begin():
                    retry_at = datetime.now(UTC) + self.retry_failed_after
                    session.execute(
                        update(pending).where(pending.c.code == code).values(marked_at=retry_at)
                    )
        return done

    def drain(self) -> int:
        """Rounds until no mark is due (tests, bulk loads; a failed entity's mark waits for
        its retry); returns the entities scored."""
        total = 0
        while n := self.round(skip_locked=False):
            total += n
        return total

    def yields(self, since_last_round_s: float) -> bool:
        """Whether to leave the process to the consumers for now (see YIELD_LAG)."""
        return since_last_round_s < YIELD_AT_MOST_S and self.lag() >= YIELD_LAG

    def run(self, stop: threading.Event) -> None:
        idle = 0.05
        last_round = time.monotonic()
        while not stop.is_set():
            if self.yields(time.monotonic() - last_round):
                stop.wait(0.2)
                continue
            last_round = time.monotonic()
            try:
                n = self.round()
            except Exception as exc:
                self.health.failed(exc)
                stop.wait(self.backoff.next_delay())
                continue
            if not self.entity_failures:
                self.health.succeeded()
            self.backoff.reset()
            self._count(n)
            if n:
                idle = 0.05
                continue
            if self.wake.wait(idle):
                self.wake.clear()
                idle = 0.05
            else:
                idle = min(2 * idle, IDLE_MAX_S)
