"""One writer at a time per SQLite file in a process, served in arrival order.

SQLite lets one connection write at a time; the others wait in its busy handler, which
sleeps and retries. Under a steady writer (a consumer committing batch after batch) a
waiting request kept missing the moments the lock was free and starved: `GET /v1/classes`
(whose audit row is a write) answered 500 after 31 s while scoring ingested a 5,000-entity
demo. Here every write transaction of the process first takes its turn at a gate shared by
all the engines on the file (the requests' and the background one), in the order the
writers came, so a request waits for the transactions ahead of it, not for luck. Writers in
other processes (a command-line import) still meet SQLite's own busy timeout.

A transaction takes its turn at its first writing statement and gives it back when it
commits or rolls back; a connection returned to the pool without either gives it back too.
Re-entrant per thread: a thread writing on two connections at once (nested units of work)
does not wait for itself here (SQLite's own lock still orders those two)."""

from __future__ import annotations

import sqlite3
import threading
import time
import weakref
from collections import deque
from typing import Any

from sqlalchemy import Engine, event

# Statements that take (or may take) the write lock; BEGIN IMMEDIATE takes it at once.
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLAC", "CREATE", "DROP", "ALTER", "WITH", "BEGIN")
_HELD = "sqlite_writer_turn"


class WriterGate:
    """A fair, thread-re-entrant lock: waiters are served first come, first served."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._queue: deque[int] = deque()  # tickets of threads waiting, in order
        self._owner: int | None = None
        self._depth = 0
        self._next_ticket = 0

    def acquire(self, timeout_s: float) -> bool:
        me = threading.get_ident()
        with self._cond:
            if self._owner == me:
                self._depth += 1
                return True
            ticket = self._next_ticket
            self._next_ticket += 1
            self._queue.append(ticket)
            deadline = time.monotonic() + timeout_s
            while self._owner is not None or self._queue[0] != ticket:
                left = deadline - time.monotonic()
                if left <= 0:
                    self._queue.remove(ticket)  # give up; the next in line may go
                    self._cond.notify_all()
                    return False
                self._cond.wait(left)
            self._queue.popleft()
            self._owner, self._depth = me, 1
            return True

    def release(self) -> None:
        with self._cond:
            self._depth -= 1
            if self._depth == 0:
                self._owner = None
                self._cond.notify_all()


_gates: dict[str, WriterGate] = {}
_gates_lock = threading.Lock()
# Each engine's gate and wait, for writes that bypass the statement hook.
_engines: weakref.WeakKeyDictionary[Engine, tuple[WriterGate, float]] = weakref.WeakKeyDictionary()


def gate_for(path: str) -> WriterGate:
    with _gates_lock:
        return _gates.setdefault(path, WriterGate())


def install(engine: Engine, wait_s: float) -> None:
    """Make ``engine``'s write transactions take their turn at the file's gate, waiting at
    most ``wait_s`` (then "database is locked", as SQLite itself would say)."""
    path = engine.url.database or ":memory:"
    gate = gate_for(path)

    @event.listens_for(engine, "before_cursor_execute")
    def _take_turn(conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if not conn.info.get(_HELD) and statement.lstrip()[:6].upper().startswith(_WRITES):
            take_turn(conn.info, gate, wait_s)

    def _give_back(info: dict[str, Any]) -> None:
        if info.pop(_HELD, None) is not None:
            gate.release()

    event.listen(engine, "commit", lambda conn: _give_back(conn.info))
    event.listen(engine, "rollback", lambda conn: _give_back(conn.info))
    event.listen(engine.pool, "reset", lambda _dbapi, record, _state: _give_back(record.info))
    event.listen(engine.pool, "checkin", lambda _dbapi, record: _give_back(record.info))
    _engines[engine] = (gate, wait_s)


def take_turn(info: dict[str, Any], gate: WriterGate, wait_s: float) -> None:
    """Take the writer's turn for the connection whose ``info`` this is (once)."""
    if info.get(_HELD):
        return
    if not gate.acquire(wait_s):
        raise sqlite3.OperationalError(
            f"database is locked (this process's other writers held it for {wait_s:.0f} s)"
        )
    info[_HELD] = True


def hold_writer_turn(conn: Any, wait_s: float | None = None) -> None:
    """For writes issued on the driver's connection directly (bulk inserts, the store
    probe), which the statement hook does not see: take the turn first, waiting the
    engine's wait or ``wait_s``. A no-op on engines without a gate (PostgreSQL)."""
    setting = _engines.get(conn.engine)
    if setting is not None:
        gate, engine_wait = setting
        take_turn(conn.info, gate, engine_wait if wait_s is None else wait_s)
