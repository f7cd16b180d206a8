"""SQLAlchemy 2.0 engine and session helpers shared by the services."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import partial
from typing import Any, TypeVar

import orjson
import psycopg
from sqlalchemy import Connection, DateTime, Engine, MetaData, Table, create_engine, event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from shared import sqlite_writers

T = TypeVar("T")


class UtcDateTime(TypeDecorator[datetime]):
    """A moment, stored in UTC and always read back with its time zone. SQLite keeps no
    zone: without this its rows came back naive and the API served times without an
    offset, while PostgreSQL's came back aware. Naive values written are taken as UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None or value.tzinfo is None:
            return value
        # SQLite stores the wall-clock digits only: convert first, or +08:00 turns into UTC.
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def json_text(value: object) -> str:
    """JSON columns' serializer: orjson (dates as ISO text), about ten times faster than
    the standard library's on the million-row writes of a monthly run."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


# What a failing store raises, through SQLAlchemy or from the driver directly (the bulk
# paths below use the DBAPI connection). Anything else a loop meets is not the store's.
STORE_ERRORS: tuple[type[Exception], ...] = (DBAPIError, PoolTimeout, sqlite3.Error, psycopg.Error)

# How long background work (relay, consumers, imports, monthly runs) waits for a lock or a
# connection before its round fails and is retried. Requests wait far less: see
# ServiceSettings.store_wait_s and shared.runtime.
BACKGROUND_WAIT_S = 30.0


def make_engine(url: str, *, wait_s: float = BACKGROUND_WAIT_S, **kwargs: object) -> Engine:
    """An engine whose every wait on the store is bounded by ``wait_s``: SQLite's busy
    timeout; PostgreSQL's connect timeout, pool checkout and lock_timeout. A locked or
    unreachable store is then an error after ``wait_s``, never a hang."""
    kwargs.setdefault("json_serializer", json_text)
    if url.startswith("postgresql://"):
        # psycopg 3 is the driver we ship; plain postgresql:// would ask for psycopg2.
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": wait_s}, **kwargs
        )
        event.listen(engine, "connect", partial(_sqlite_pragmas, busy_ms=int(wait_s * 1000)))
        sqlite_writers.install(engine, wait_s)
        return engine
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=10,
        max_overflow=10,
        pool_timeout=wait_s,
        connect_args={
            # No server-side prepared statements: psycopg prepares a query after 5 runs and
            # PG may then keep a generic plan made while a table was empty. Measured: a bulk
            # import's key lookups fell to seq scans and the import to ~500 rows/s.
            "prepare_threshold": None,
            "connect_timeout": max(1, round(wait_s)),
            "options": f"-c lock_timeout={int(wait_s * 1000)}",
        },
        **kwargs,
    )


def _sqlite_pragmas(dbapi_conn: object, _record: object, *, busy_ms: int) -> None:
    # WAL lets the API read while the relay and importers write; NORMAL sync is safe with WAL.
    cur = dbapi_conn.cursor()  # type: ignore[attr-defined]
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute(f"PRAGMA busy_timeout={busy_ms}")
    # 128 MB page cache: the indexes of million-row imports stay mostly in memory
    # (measured: peak RSS of a 1M-entity import stays well under 500 MB).
    cur.execute("PRAGMA cache_size=-131072")
    cur.execute("PRAGMA temp_store=MEMORY")
    cur.close()


def is_lock_wait(exc: BaseException) -> bool:
    """Whether SQLite gave up waiting for another writer's lock ("database is locked",
    SQLITE_BUSY) or this process's writers' gate did (shared.sqlite_writers)."""
    text = str(exc).lower()
    return "locked" in text or "busy" in text


STORE_PROBE_WAIT_MS = 1000


def store_check(engine: Engine) -> str:
    """ "ok", "locked" or "unreachable: <error>", for /readyz. On SQLite a SELECT succeeds
    under another writer's lock (WAL readers never wait), so the probe asks for the write
    lock itself, briefly, as every write request would; PostgreSQL's row locks leave the
    store usable, and a connection answering is the question."""
    try:
        with engine.connect() as conn:
            if conn.dialect.name != "sqlite":
                conn.exec_driver_sql("SELECT 1")
                return "ok"
            # This process's writers first (its gate, in turn), then other processes'.
            sqlite_writers.hold_writer_turn(conn, STORE_PROBE_WAIT_MS / 1000)
            dbapi = conn.connection.driver_connection
            (previous,) = dbapi.execute("PRAGMA busy_timeout").fetchone()  # type: ignore[union-attr]
            dbapi.execute(f"PRAGMA busy_timeout={STORE_PROBE_WAIT_MS}")  # type: ignore[union-attr]
            try:
                dbapi.execute("BEGIN IMMEDIATE")  # type: ignore[union-attr]
                dbapi.execute("ROLLBACK")  # type: ignore[union-attr]
            finally:
                dbapi.execute(f"PRAGMA busy_timeout={int(previous)}")  # type: ignore[union-attr]
            return "ok"
    except Exception as exc:
        return "locked" if is_lock_wait(exc) else f"unreachable: {type(exc).__name__}"


def begin_immediate(session: Session) -> None:
    """On SQLite, open the session's transaction with BEGIN IMMEDIATE: the write lock
    before the first read, for a transaction that reads what it will write (the driver
    would otherwise read outside any transaction and take the lock only at the first
    write). It queues at the writers' gate like any write. Nothing on PostgreSQL, whose
    row locks do this job."""
    conn = session.connection()
    if conn.dialect.name != "sqlite":
        return
    dbapi = conn.connection.dbapi_connection
    if dbapi is not None and not dbapi.in_transaction:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commits on success, rolls back on any exception."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


# Deterministic constraint names, so Alembic migrations name them the same on every store.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def service_metadata() -> MetaData:
    """A fresh MetaData for one service's store (never shared across stores)."""
    return MetaData(naming_convention=NAMING_CONVENTION)


IN_LIST_CHUNK = 900  # stays under SQLite's bound-parameter limit in IN (...) lists


def chunks(seq: Sequence[T], size: int = IN_LIST_CHUNK) -> list[Sequence[T]]:
    return [seq[i : i + size] for i in range(0, len(seq), size)]


def bulk_insert(
    target: Session | Connection,
    table: Table,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    constants: Mapping[str, Any] | None = None,
) -> None:
    """Insert ``rows`` (tuples in ``columns`` order) into ``table`` inside the session's
    (or connection's) transaction, below SQLAlchemy: measured, its per-row parameter
    processing cost as much as SQLite's own insert. The columns' bind processors still
    apply (SQLite stores dates as text). ``constants`` are columns with one value for
    every row (the batch's timestamps), converted once. PostgreSQL gets COPY, other
    stores one executemany."""
    conn = target.connection() if isinstance(target, Session) else target
    dialect = conn.dialect
    consts = dict(constants or {})
    const_values = tuple(bind_processor(table, name, dialect)(v) for name, v in consts.items())
    rows = _processed(rows, [bind_processor(table, c, dialect) for c in columns], const_values)
    quote = dialect.identifier_preparer.quote
    into = f"{quote(table.name)} ({', '.join(quote(n) for n in [*columns, *consts])})"
    dbapi = conn.connection.driver_connection
    if dialect.name == "postgresql":
        # COPY: one stream instead of a statement per row. Binary: measured, a third of
        # the client's time of text COPY, which escapes and formats every value.
        types = [_copy_type(table, name, dialect) for name in [*columns, *consts]]
        with (
            dbapi.cursor() as cur,  # type: ignore[union-attr]
            cur.copy(f"COPY {into} FROM STDIN (FORMAT BINARY)") as copy,
        ):
            copy.set_types(types)
            for row in rows:
                copy.write_row(row)
        return
    marks = ", ".join([placeholder(dialect)] * (len(columns) + len(consts)))
    driver_executemany(conn, f"INSERT INTO {into} VALUES ({marks})", rows)


def driver_executemany(conn: Connection, sql: str, params: Iterable[Sequence[Any]]) -> None:
    """``sql`` for each of ``params`` on the driver's own cursor, in ``conn``'s
    transaction (the bulk paths). On SQLite it first takes the writers' turn, which the
    gate's statement hook cannot see down here: without it, a later statement of the same
    transaction waited for the gate while the gate's holder waited for the SQLite lock this
    one held (measured: 30 s stalls of scoring's consumers)."""
    sqlite_writers.hold_writer_turn(conn)
    cur = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cur.executemany(sql, params)
    finally:
        cur.close()


# SQL type names psycopg does not know under the name SQLAlchemy compiles.
_COPY_TYPE_NAMES = {"float": "float8", "double": "float8", "real": "float4"}


def _copy_type(table: Table, column: str, dialect: Any) -> str:
    """The column's PostgreSQL type as psycopg names it ("VARCHAR(40)" -> "varchar",
    "TIMESTAMP WITH TIME ZONE" stays, psycopg knows it by that name too)."""
    name = table.c[column].type.compile(dialect=dialect).split("(")[0].strip().lower()
    return _COPY_TYPE_NAMES.get(name, name)


def placeholder(dialect: Any) -> str:
    """A positional parameter in the driver's own style."""
    return "?" if dialect.paramstyle == "qmark" else "%s"


def _identity(value: Any) -> Any:
    return value


def bind_processor(table: Table, column: str, dialect: Any) -> Any:
    """The column type's conversion of a Python value for this driver (identity if none)."""
    return table.c[column].type.dialect_impl(dialect).bind_processor(dialect) or _identity


def _processed(
    rows: Iterable[Sequence[Any]], processors: list[Any], tail: tuple[Any, ...]
) -> Iterable[Sequence[Any]]:
    """``rows`` with each column's processor applied and ``tail`` appended; the rows as
    they are when there is nothing to do."""
    convert = [(i, p) for i, p in enumerate(processors) if p is not _identity]
    if not convert and not tail:
        return rows
    if not convert:
        return [(*r, *tail) for r in rows]
    out = []
    for r in rows:
        values = [*r, *tail]
        for i, process in convert:
            values[i] = process(values[i])
        out.append(values)
    return out


def select_by_keys(
    session: Session, table: Table, columns: Sequence[str], key: str, keys: Sequence[Any]
) -> list[Sequence[Any]]:
    """Rows (``columns``) of ``table`` whose ``key`` is one of ``keys``, below SQLAlchemy
    like ``bulk_insert``: measured, binding thousands of IN parameters through it cost
    more than the index lookups. PostgreSQL takes the keys as one array; other stores
    get IN lists of at most IN_LIST_CHUNK. Values come back as the column types load
    them."""
    if not keys:
        return []
    conn = session.connection()
    dialect = conn.dialect
    quote = dialect.identifier_preparer.quote
    head = (
        f"SELECT {', '.join(quote(c) for c in columns)} FROM {quote(table.name)} WHERE {quote(key)}"
    )
    cur = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        if dialect.name == "postgresql":
            cur.execute(f"{head} = ANY(%s)", (list(keys),))
            found = cur.fetchall()
        else:
            found = []
            for chunk in chunks(keys):
                cur.execute(f"{head} IN ({', '.join([placeholder(dialect)] * len(chunk))})", chunk)
                found.extend(cur.fetchall())
    finally:
        cur.close()
    load = [table.c[c].type.dialect_impl(dialect).result_processor(dialect, None) for c in columns]
    if not any(load):
        return found
    return [tuple(p(v) if p else v for p, v in zip(load, row, strict=True)) for row in found]


# WAL pages an SQLite bulk load lets accumulate before it checkpoints (~1 GB of disk).
# Measured at a million entities: 10,800 entities/s against 9,200 at 100,000 pages (each
# checkpoint writes back the pages of every index the batches since touched).
BULK_LOAD_CHECKPOINT_PAGES = 250_000


def refresh_statistics(sessions: sessionmaker[Session]) -> None:
    """ANALYZE a PostgreSQL store after a bulk load, as its documentation advises: until
    autovacuum gets to it, the planner believes the loaded tables as small as before.
    Measured: the relay's pick of unsent outbox rows then sorted every unsent row on
    disk (130 ms a batch at 50,000) instead of reading 5,000 in index order (6 ms)."""
    engine = sessions.kw["bind"]
    if engine.dialect.name != "postgresql":
        return
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")


@contextmanager
def bulk_load(sessions: sessionmaker[Session]) -> Iterator[Callable[[], Session]]:
    """A session factory for a bulk load's transactions, all on one connection. On
    SQLite that connection checkpoints the WAL every BULK_LOAD_CHECKPOINT_PAGES pages,
    not every 1000: each batch dirties pages all over the growing indexes, and measured
    at a million entities, checkpointing after every batch wrote each of them back
    again (100 kB of disk writes per row) and took longer than the inserts. A passive
    checkpoint and the connection's own setting come back at the end."""
    engine = sessions.kw["bind"]
    with engine.connect() as conn:
        dbapi = conn.connection.driver_connection
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            # On the DBAPI connection: a PRAGMA through SQLAlchemy would open a transaction.
            (previous,) = dbapi.execute("PRAGMA wal_autocheckpoint").fetchone()
            dbapi.execute(f"PRAGMA wal_autocheckpoint={BULK_LOAD_CHECKPOINT_PAGES}")
        try:
            yield partial(sessions, bind=conn)
        finally:
            if sqlite:
                dbapi.execute(f"PRAGMA wal_autocheckpoint={int(previous)}")
                dbapi.execute("PRAGMA wal_checkpoint(PASSIVE)")
