"""What /readyz reports: each background component's own state, and probes of the store
and the broker that answer within a bound however those parts fail.

A probe that hangs (a broker that accepts no connection, a store that holds its lock) must
not hang /readyz: probes run in a small thread pool and are given READY_DEADLINE_S; one
still running when asked again is awaited again, never started twice."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field

from shared.metrics import component_metrics

log = logging.getLogger(__name__)

READY_DEADLINE_S = 1.5  # /readyz must answer within 2 s in every state


@dataclass
class ComponentHealth:
    """One background loop's health (the relay, a consumer): ok after a successful round,
    failed with the error's name after a failed one. Each failure and each recovery also
    moves the component's metrics, which is what alerts watch."""

    service: str
    name: str
    ok: bool = True
    error: str | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self._metrics = component_metrics(self.service)
        self._metrics.up.labels(self.name).set(1)

    def succeeded(self) -> None:
        with self._lock:
            if self.ok:
                return
            self.ok, self.error = True, None
        self._metrics.up.labels(self.name).set(1)
        self._metrics.restarts.labels(self.name).inc()
        log.info("%s %s: recovered", self.service, self.name)

    def failed(self, exc: BaseException) -> None:
        """Record a failed round and log it: the first of a run of failures with its
        traceback, the others in one line each (a broker away for minutes must not fill
        the log with tracebacks)."""
        kind = type(exc).__name__
        with self._lock:
            first = self.ok
            self.ok, self.error = False, kind
        self._metrics.up.labels(self.name).set(0)
        self._metrics.failures.labels(self.name, kind).inc()
        if first:
            log.error("%s %s failed; retrying with backoff", self.service, self.name, exc_info=exc)
        else:
            log.warning("%s %s still failing: %s: %s", self.service, self.name, kind, exc)

    def report(self) -> str:
        return "ok" if self.ok else f"failing: {self.error}"


def broker_check(bootstrap: str, timeout_s: float = 1.0) -> str:
    """ "ok" when some bootstrap address accepts a TCP connection. A Kafka client would try
    for its whole request timeout; a connection refused or timed out is the answer here."""
    last = "unreachable"
    for address in bootstrap.split(","):
        host, _, port = address.strip().rpartition(":")
        try:
            with socket.create_connection((host or "127.0.0.1", int(port)), timeout=timeout_s):
                return "ok"
        except OSError as exc:
            last = f"unreachable: {type(exc).__name__}"
    return last


class Probes:
    """Runs named checks, each returning "ok" or what is wrong, within READY_DEADLINE_S."""

    def __init__(self, checks: dict[str, Callable[[], str]]) -> None:
        self.checks = checks
        self._pool = ThreadPoolExecutor(max_workers=len(checks) or 1, thread_name_prefix="probe")
        self._running: dict[str, Future[str]] = {}
        self._lock = threading.Lock()

    def run(self, deadline_s: float = READY_DEADLINE_S) -> dict[str, str]:
        with self._lock:
            for name, check in self.checks.items():
                f = self._running.get(name)
                if f is None or f.done():
                    self._running[name] = self._pool.submit(_safe, check)
            futures = dict(self._running)
        end = time.monotonic() + deadline_s  # one deadline: the probes run side by side
        results = {}
        for name, f in futures.items():
            try:
                results[name] = f.result(timeout=max(0.0, end - time.monotonic()))
            except FutureTimeout:
                results[name] = "no answer"
        return results

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def _safe(check: Callable[[], str]) -> str:
    try:
        return check()
    except Exception as exc:  # a probe reports, it never raises into /readyz
        return f"failing: {type(exc).__name__}"
