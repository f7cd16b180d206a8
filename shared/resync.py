"""Is a consumer's projection the owner's state? Each side sums up a stream the same way:
how many items it holds and the sum of their versions. Versions grow by one with every
change of an item, and a projection only ever holds items the owner has (the registry
never deletes an object), so equal counts and equal sums mean every item is there at
its newest version; a smaller count means items are missing (``incomplete``: a lost log,
a fresh replica), an equal count with a smaller sum means stale versions (``behind``: a
restored backup, lost changes). The figures say nothing about any single item: for
scoring's streams they are counts and version sums only, never a class.

The consumer side (``ResyncMonitor``) reads the owner's figures over HTTP, periodically
and on demand, and reports each stream on /readyz, in metrics and in the log. The cure
is the owner's ``replay`` command (``shared.replay``)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import httpx
from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, Table, func, select
from sqlalchemy.orm import Session, sessionmaker

from shared.auth import Role, mint_token
from shared.metrics import service_metrics
from shared.runtime import ServiceRuntime

log = logging.getLogger(__name__)

SyncState = Literal["in_sync", "behind", "incomplete", "ahead", "unknown"]
# What keeps a service out of rotation. ``unknown`` (owner unreachable, not configured)
# does not: an owner's outage must not take its consumers down with it.
DIVERGENT: frozenset[str] = frozenset({"behind", "incomplete", "ahead"})
_STATE_CODE = {"in_sync": 0, "behind": 1, "incomplete": 2, "ahead": 3, "unknown": -1}


class StreamFigures(BaseModel):
    """One side's summary of a stream: nothing about any single item."""

    stream: str = Field(description="the owner's stream, e.g. registry.entities")
    count: int = Field(description="items held")
    version_sum: int | None = Field(
        description="sum of the items' versions; null where the stream's events carry none"
    )


def table_figures(
    session: Session, stream: str, table: Table, version: ColumnElement[Any] | None = None
) -> StreamFigures:
    """Count and version sum of ``table`` (``version``: its version column, or an
    expression standing for one; None for a stream without versions)."""
    if version is None:
        count = session.execute(select(func.count()).select_from(table)).scalar_one()
        return StreamFigures(stream=stream, count=count, version_sum=None)
    count, total = session.execute(
        select(func.count(), func.coalesce(func.sum(version), 0)).select_from(table)
    ).one()
    return StreamFigures(stream=stream, count=count, version_sum=int(total))


def compare(local: StreamFigures, owner: StreamFigures) -> SyncState:
    if local.count < owner.count:
        return "incomplete"
    if local.count > owner.count:
        return "ahead"  # e.g. the owner was restored from an older backup
    if local.version_sum is None or owner.version_sum is None:
        return "in_sync"
    if local.version_sum < owner.version_sum:
        return "behind"
    if local.version_sum > owner.version_sum:
        return "ahead"
    return "in_sync"


@dataclass(frozen=True)
class WatchedStream:
    """A projection this service keeps of another service's stream."""

    stream: str  # the owner's stream name, e.g. "registry.entities"
    owner: str  # the owning service, whose URL comes from settings (``<owner>_url``)
    local: Callable[[Session], StreamFigures]

    @property
    def owner_stream(self) -> str:
        return self.stream.split(".", 1)[1]


def projection_stream(stream: str, table: Table) -> WatchedStream:
    """A projection kept from snapshots with a ``version`` column (entities, inspectors)."""
    owner = stream.split(".", 1)[0]
    return WatchedStream(
        stream, owner, lambda session: table_figures(session, stream, table, table.c.version)
    )


class StreamStatus(BaseModel):
    stream: str
    state: SyncState
    local: StreamFigures
    owner: StreamFigures | None = None
    error: str | None = Field(None, description="why the owner's figures are unknown")
    checked_at: datetime
    cure: str | None = Field(None, description="the operator's command, when divergent")


def cure_command(stream: str) -> str:
    owner, name = stream.split(".", 1)
    return f"python -m services.{owner} replay --stream {name}"


class ResyncMonitor:
    """Compares this service's projections with their owners', every ``interval_s``
    (every ``retry_s`` while one differs, so readiness follows a catch-up promptly) and on
    demand (``check``). The owner's figures are read with a service token minted from the
    shared AUTH_SECRET, as one service calls another."""

    def __init__(
        self,
        *,
        service: str,
        streams: list[WatchedStream],
        sessions: sessionmaker[Session],
        owner_urls: dict[str, str | None],
        auth_secret: str,
        interval_s: float = 60.0,
        retry_s: float = 5.0,
        timeout_s: float = 2.0,
    ) -> None:
        self.service = service
        self.streams = streams
        self.sessions = sessions
        self.owner_urls = owner_urls
        self.auth_secret = auth_secret
        self.interval_s = interval_s
        self.retry_s = retry_s
        self.metrics = service_metrics(service)
        self.statuses: dict[str, StreamStatus] = {}
        self._lock = threading.Lock()
        self._client = httpx.Client(timeout=httpx.Timeout(timeout_s))
        self._token: tuple[str, float] | None = None

    def check(self) -> list[StreamStatus]:
        with self._lock:  # the periodic check and an operator's may run at once
            return [self._check(s) for s in self.streams]

    def readiness(self) -> dict[str, tuple[bool, str]]:
        """Named parts for /readyz: ``sync.<stream>`` -> (ready, state)."""
        statuses = list(self.statuses.values())  # the check thread may be adding one
        return {f"sync.{s.stream}": (s.state not in DIVERGENT, s.state) for s in statuses}

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                statuses = self.check()
            except Exception:  # never let a check stop the service; say so and retry
                log.exception("%s: resync check failed", self.service)
                statuses = []
            divergent = any(s.state in DIVERGENT for s in statuses)
            stop.wait(min(self.retry_s, self.interval_s) if divergent else self.interval_s)
        self._client.close()

    def _check(self, stream: WatchedStream) -> StreamStatus:
        with self.sessions() as session:
            local = stream.local(session)
        owner: StreamFigures | None = None
        error: str | None = None
        try:
            owner = self._owner_figures(stream)
            state = compare(local, owner)
        except (httpx.HTTPError, ValueError) as exc:
            state, error = "unknown", f"{type(exc).__name__}: {exc}"[:300]
        status = StreamStatus(
            stream=stream.stream,
            state=state,
            local=local,
            owner=owner,
            error=error,
            checked_at=datetime.now(UTC),
            cure=cure_command(stream.stream) if state in DIVERGENT else None,
        )
        self._report(self.statuses.get(stream.stream), status)
        self.statuses[stream.stream] = status
        return status

    def _owner_figures(self, stream: WatchedStream) -> StreamFigures:
        base = self.owner_urls.get(stream.owner)
        if not base:
            raise ValueError(f"no URL set for the {stream.owner} service")
        r = self._client.get(
            f"{base.rstrip('/')}/v1/streams/{stream.owner_stream}/figures",
            headers={"Authorization": f"Bearer {self._service_token()}"},
        )
        r.raise_for_status()
        return StreamFigures.model_validate(r.json())

    def _service_token(self) -> str:
        now = time.monotonic()
        if self._token is None or self._token[1] < now:
            token = mint_token(
                self.auth_secret,
                subject=f"{self.service}-resync",
                role=Role.SERVICE,
                region="140000",  # the figures are province-wide
                ttl_seconds=3600,
            )
            self._token = (token, now + 1800)
        return self._token[0]

    def _report(self, before: StreamStatus | None, now: StreamStatus) -> None:
        m = self.metrics
        m.resync_state.labels(now.stream).set(_STATE_CODE[now.state])
        m.resync_items.labels(now.stream, "local").set(now.local.count)
        if now.owner is not None:
            m.resync_items.labels(now.stream, "owner").set(now.owner.count)
        m.resync_checks.labels(now.stream, now.state).inc()
        if before is not None and before.state == now.state:
            return
        if now.state in DIVERGENT:
            assert now.owner is not None
            log.warning(
                "%s: projection of %s is %s: %d items (version sum %s), the owner has %d (%s);"
                " to resync run: %s",
                self.service,
                now.stream,
                now.state,
                now.local.count,
                now.local.version_sum,
                now.owner.count,
                now.owner.version_sum,
                now.cure,
            )
        elif now.state == "unknown":
            log.warning("%s: cannot check %s: %s", self.service, now.stream, now.error)
        else:
            log.info("%s: projection of %s is in sync", self.service, now.stream)


def watch(runtime: ServiceRuntime, streams: list[WatchedStream]) -> ResyncMonitor:
    """Give a consuming service its monitor: checked periodically while it runs (when an
    owner's URL is set), on demand, and a named part of /readyz per stream."""
    s = runtime.settings
    owner_urls = {"registry": s.registry_url, "scoring": s.scoring_url}
    monitor = ResyncMonitor(
        service=s.service_name,
        streams=streams,
        sessions=runtime.sessions,
        owner_urls=owner_urls,
        auth_secret=s.auth_secret,
        interval_s=s.resync_interval_s,
    )
    if s.run_consumers and any(owner_urls.get(w.owner) for w in streams):
        runtime.workers.append(("resync", monitor.run))
    runtime.readiness_parts.append(monitor.readiness)
    return monitor
