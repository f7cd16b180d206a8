"""Writers of one SQLite file in one process take turns in arrival order: a request that
needs to write gets through a steady stream of background transactions instead of
starving in SQLite's busy handler."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import MetaData, text
from sqlalchemy.orm import sessionmaker

from shared.credit_code import make_uscc
from shared.db import make_engine
from shared.events import EntitySnapshot
from shared.projections import entity_projection_table, entity_row, upsert_newer_many
from shared.sqlite_writers import WriterGate
from tests.waiting import wait_until


def test_waiters_are_served_in_arrival_order() -> None:
    gate = WriterGate()
    assert gate.acquire(1)
    served: list[int] = []

    def writer(i: int) -> None:
        assert gate.acquire(60)
        served.append(i)
        gate.release()

    threads = []
    for i in range(5):
        t = threading.Thread(target=writer, args=(i,))
        t.start()
        threads.append(t)
        wait_until(lambda n=i + 1: len(gate._queue) == n, timeout=30, what=f"writer {i} queued")
    gate.release()
    for t in threads:
        t.join(timeout=30)
    assert served == [0, 1, 2, 3, 4]


def test_a_thread_may_take_its_turn_twice_and_a_waiter_gives_up_after_its_wait() -> None:
    gate = WriterGate()
    assert gate.acquire(1) and gate.acquire(1)  # re-entrant: nested units of work
    outcome: list[bool] = []
    t = threading.Thread(target=lambda: outcome.append(gate.acquire(0.2)))
    t.start()
    t.join(timeout=30)
    assert outcome == [False] and not gate._queue  # gave up and left the queue
    gate.release()
    gate.release()
    t = threading.Thread(target=lambda: outcome.append(gate.acquire(1)))
    t.start()
    t.join(timeout=30)
    assert outcome == [False, True]


def test_a_request_writes_between_back_to_back_background_transactions(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    background = make_engine(url)
    requests = make_engine(url, wait_s=2)  # as a request waits: briefly
    with background.begin() as conn:
        conn.execute(text("CREATE TABLE t (who TEXT)"))
    stop = threading.Event()
    batches = 0

    def steady_writer() -> None:
        # A consumer applying batch after batch, each holding the write lock a while.
        nonlocal batches
        while not stop.is_set():
            with background.begin() as conn:
                conn.execute(text("INSERT INTO t VALUES ('consumer')"))
                time.sleep(0.2)  # the batch's work, inside its transaction
            batches += 1

    writer = threading.Thread(target=steady_writer)
    writer.start()
    try:
        wait_until(lambda: batches >= 3, timeout=60, what="the background writer to run")
        for _ in range(10):
            with requests.begin() as conn:  # raised "database is locked" before the gate
                conn.execute(text("INSERT INTO t VALUES ('request')"))
    finally:
        stop.set()
        writer.join(timeout=60)
    with requests.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM t WHERE who = 'request'")).scalar() == 10
    background.dispose()
    requests.dispose()


@pytest.mark.parametrize("statement", ["INSERT INTO t VALUES ('x')", "  update t SET who = 'y'"])
def test_the_turn_is_given_back_at_commit_and_rollback(tmp_path: Path, statement: str) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 's.sqlite3'}", wait_s=1)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (who TEXT)"))
    for end in ("commit", "rollback"):
        with engine.connect() as conn:
            conn.execute(text(statement))
            getattr(conn, end)()
        # Another thread's writer gets its turn at once: nothing kept it.
        done: list[int] = []

        def write(done: list[int]) -> None:
            with engine.begin() as c:
                c.execute(text(statement))
            done.append(1)

        other = threading.Thread(target=write, args=(done,))
        other.start()
        other.join(timeout=30)
        assert done == [1], f"the turn was not given back at {end}"
    engine.dispose()


def test_begin_immediate_takes_its_turn_too(tmp_path: Path) -> None:
    """The audit log opens its transaction with BEGIN IMMEDIATE (the write lock before it
    reads the chain's head). Had that not queued at the gate, its INSERT would wait for
    the gate while the writer holding the gate waited for SQLite's lock: a deadlock."""
    url = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    engine = make_engine(url, wait_s=5)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (who TEXT)"))
    began = threading.Event()
    outcome: list[str] = []

    def audit_like() -> None:
        with engine.connect() as conn:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            began.set()
            time.sleep(0.3)  # reads the head, under the lock
            conn.execute(text("INSERT INTO t VALUES ('audit')"))
            conn.commit()
        outcome.append("audit")

    t = threading.Thread(target=audit_like)
    t.start()
    began.wait(timeout=30)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO t VALUES ('other')"))
    outcome.append("other")
    t.join(timeout=60)
    assert outcome == ["audit", "other"]
    engine.dispose()


def test_a_projection_batch_below_sqlalchemy_takes_its_turn_too(tmp_path: Path) -> None:
    """``upsert_newer_many`` writes on the driver's cursor, which the gate's statement
    hook does not see. Had it not taken its turn, a later statement of its transaction
    would wait for the gate while another writer holding the gate waited for the SQLite
    lock the batch holds: both stuck until a timeout (seen as 30 s stalls in scoring)."""
    engine = make_engine(f"sqlite:///{tmp_path / 'store.sqlite3'}", wait_s=5)
    table = entity_projection_table(MetaData())
    table.metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE marks (code TEXT)"))
    sessions = sessionmaker(engine)
    upserted = threading.Event()
    outcome: list[str] = []

    def consumer_like() -> None:
        with sessions() as s, s.begin():
            upsert_newer_many(s, table, "code", [projection_row()])
            upserted.set()
            time.sleep(0.3)  # the other writer arrives meanwhile
            s.execute(text("INSERT INTO marks VALUES ('E1')"))
        outcome.append("consumer")

    t = threading.Thread(target=consumer_like)
    t.start()
    upserted.wait(timeout=30)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO marks VALUES ('other')"))
    outcome.append("other")
    t.join(timeout=60)
    assert outcome == ["consumer", "other"]
    engine.dispose()


def projection_row() -> dict[str, object]:
    snapshot = EntitySnapshot(
        change="registered",
        code=make_uscc("9", "1", "140502", "MA000001"),
        code_kind="uscc",
        version=1,
        name="测试企业",
        entity_type="enterprise",
        region_code="140502",
        status="active",
    )
    return entity_row(snapshot, at=datetime.now(UTC))
