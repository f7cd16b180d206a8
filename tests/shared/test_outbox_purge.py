"""Published outbox rows are deleted after their retention; unpublished ones never are."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, MetaData, Table, insert, select

from shared.db import make_engine
from shared.outbox import OutboxRelay, outbox_table
from tests.waiting import wait_until

NOW = datetime.now(UTC)
LONG_AGO = NOW - timedelta(days=10)
YESTERDAY = NOW - timedelta(days=1)
RETENTION = timedelta(days=7)


@pytest.fixture
def store(db_url: str) -> Iterator[tuple[Engine, Table]]:
    engine = make_engine(db_url)
    table = outbox_table(MetaData())
    table.create(engine)
    yield engine, table
    engine.dispose()


def relay_of(engine: Engine, table: Table, **kwargs: object) -> OutboxRelay:
    # Purging never publishes, and a relay with nothing unsent never touches its producer.
    return OutboxRelay(engine=engine, table=table, producer=None, service="registry", **kwargs)  # type: ignore[arg-type]


def add_rows(engine: Engine, table: Table, sent_at: list[datetime | None]) -> None:
    with engine.begin() as conn:
        conn.execute(
            insert(table),
            [
                {
                    "event_id": f"e{i}",
                    "event_type": "t",
                    "topic": "registry.entities",
                    "key": "k",
                    "payload": "{}",
                    "created_at": LONG_AGO,
                    "sent_at": at,
                }
                for i, at in enumerate(sent_at)
            ],
        )


def remaining(engine: Engine, table: Table) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(select(table.c.event_id).order_by(table.c.id)).scalars())


def test_rows_sent_before_the_retention_go_and_recent_or_unsent_rows_stay(
    store: tuple[Engine, Table],
) -> None:
    engine, table = store
    add_rows(engine, table, [LONG_AGO] * 5 + [YESTERDAY, None])

    purged = relay_of(engine, table).purge_sent(NOW - RETENTION, chunk=2)

    assert purged == 5  # in three chunks of at most two
    assert remaining(engine, table) == ["e5", "e6"]


def test_purge_stops_at_the_oldest_row_not_yet_published(store: tuple[Engine, Table]) -> None:
    """A row the relay has not published holds back the old rows after it: the purge
    reads the oldest rows only, instead of scanning a table of millions."""
    engine, table = store
    add_rows(engine, table, [LONG_AGO, LONG_AGO, None, LONG_AGO])

    assert relay_of(engine, table).purge_sent(NOW - RETENTION) == 2
    assert remaining(engine, table) == ["e2", "e3"]


def test_the_running_relay_purges_when_it_has_caught_up(store: tuple[Engine, Table]) -> None:
    engine, table = store
    add_rows(engine, table, [LONG_AGO] * 3 + [YESTERDAY])
    relay = relay_of(engine, table, retention=RETENTION, idle_sleep_s=0.01)
    stop = threading.Event()
    thread = threading.Thread(target=relay.run, args=(stop,), daemon=True)
    thread.start()
    try:
        wait_until(lambda: remaining(engine, table) == ["e3"], timeout=30, what="the purge")
    finally:
        stop.set()
        thread.join(timeout=10)
    assert not thread.is_alive()
