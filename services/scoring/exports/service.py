"""Current classes of a jurisdiction as CSV (format: services/scoring/EXPORT.md).

The row count goes out in a header before any row, so count and rows must come from one
snapshot: a REPEATABLE READ, read-only transaction on PostgreSQL; on SQLite an explicit
BEGIN, since WAL then keeps the snapshot of the first read for the whole transaction (the
driver on its own would run each SELECT in a transaction of its own). The audit row,
with that count, is committed before the first byte leaves. Rows are then fetched and
written CHUNK_ROWS at a time (a server-side cursor on PostgreSQL), so memory stays flat
however many rows there are."""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from services.scoring.audit import log as audit
from services.scoring.models import entity_classes
from shared.auth import Principal

log = logging.getLogger(__name__)

FORMAT = "scoring-classes-csv/1"
COLUMNS = (
    "credit_code",
    "risk_class",
    "as_of",
    "model_id",
    "model_version",
    "region_code",
    "industry_code",
)
CHUNK_ROWS = 5000
_T = entity_classes.c


@dataclass
class ClassExport:
    scope: str
    rows: int
    audit_seq: int
    chunks: Iterator[bytes]
    conn: Connection

    def close(self) -> None:
        _close(self.conn)


def open_export(
    engine: Engine, sessions: sessionmaker[Session], principal: Principal
) -> ClassExport:
    """Count, audit, and return the (not yet started) stream of the caller's jurisdiction."""
    scope = principal.region_prefix
    conn = _snapshot(engine)
    try:
        rows = conn.execute(
            select(func.count()).select_from(entity_classes).where(_in_scope(scope))
        ).scalar_one()
        seq = audit.record_committed(
            sessions,
            principal,
            "export_classes",
            f"classes:{scope}",
            {"rows": rows, "region": scope, "format": FORMAT},
        )
    except BaseException:
        _close(conn)
        raise
    log.info("export of %d classes for region %s started (audit seq %d)", rows, scope, seq)
    return ClassExport(scope, rows, seq, _stream(conn, scope, rows), conn)


def _snapshot(engine: Engine) -> Connection:
    conn = engine.connect()
    if conn.dialect.name == "postgresql":
        conn.execution_options(isolation_level="REPEATABLE READ")
        conn.exec_driver_sql("SET TRANSACTION READ ONLY")
    else:
        conn.exec_driver_sql("BEGIN")
    return conn


def _in_scope(scope: str):
    return _T.region_code.startswith(scope, autoescape=True)


def _stream(conn: Connection, scope: str, expected: int) -> Iterator[bytes]:
    sent = 0
    try:
        yield _csv([COLUMNS])
        result = conn.execute(
            select(
                _T.code,
                _T.risk_class,
                _T.as_of,
                _T.model_id,
                _T.model_version,
                _T.region_code,
                _T.industry_code,
            )
            .where(_in_scope(scope))
            .order_by(_T.code),
            execution_options={"stream_results": True, "yield_per": CHUNK_ROWS},
        )
        for part in result.partitions(CHUNK_ROWS):
            sent += len(part)
            yield _csv(
                (code, cls, as_of.isoformat(), model, version, region, industry or "")
                for code, cls, as_of, model, version, region, industry in part
            )
    finally:
        _close(conn)
        if sent != expected:
            # Client gone or store error: the receiver's count check will fail too.
            log.warning("export for region %s stopped after %d of %d rows", scope, sent, expected)


def _csv(rows: object) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(rows)  # type: ignore[arg-type]
    return buf.getvalue().encode("utf-8")


def _close(conn: Connection) -> None:
    if conn.closed:
        return
    try:
        conn.rollback()  # read only: nothing to keep; ends the snapshot
    finally:
        conn.close()
