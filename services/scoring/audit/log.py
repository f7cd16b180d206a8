"""Append-only, hash-chained audit log (审计日志): every read of classes, every export and
every model change leaves one row; ``verify`` recomputes the chain.

Row hash = sha256(prev_hash + canonical JSON of {action, actor, at, details, role, target}),
hex. The canonical JSON is orjson with sorted keys; ``details`` enters it as the exact text
stored in the row (itself canonical JSON), so verify never re-serialises a value and
cannot disagree with record over float formatting. ``at`` enters as UTC
``YYYY-MM-DDTHH:MM:SS.ffffffZ``: SQLite gives the stored datetime back naive (we store UTC),
PostgreSQL gives it back aware in the session's time zone; both normalise to the same text.
The first row's prev_hash is 64 zeros.

``seq`` is not hashed but is assigned densely (previous + 1) under the append lock instead
of by the database sequence: a PostgreSQL sequence leaves gaps when a transaction rolls
back, and then a gap could not tell a deleted row from a rolled-back one. With dense seqs
every gap is a deletion, and the primary key refuses a fork outright: two appends chained
onto the same head would both take head + 1 (the append lock makes them wait instead).

What verify detects: an edited row (its hash no longer matches), a deleted row in the
middle (seq gap, and the next row's prev_hash points at nothing), deleted leading rows
(the first row is not seq 1 with a zero prev_hash), a row edited *and* re-hashed (the next
row's prev_hash breaks), and a deleted tail only against an anchor (a (seq, hash) noted
earlier outside the database). What it cannot detect: a deleted tail without an anchor,
and a wholesale rewrite of the chain from some row onwards by someone who can write the
table (the hash is unkeyed; anyone can recompute it). Keeping the head (seq, hash) outside
the store — the verify report prints it — and the PostgreSQL trigger below close most of
that; a keyed HMAC would need a secret the writer cannot read.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session, sessionmaker

from services.scoring.audit.schemas import AuditEntry, AuditPage, VerifyReport
from services.scoring.models import audit_log
from shared.auth import Principal
from shared.db import begin_immediate, transaction

ZERO_HASH = "0" * 64
# pg_advisory_xact_lock key of the append lock: "audit_lg" in ASCII, a fixed bigint that no
# other lock in this store uses.
APPEND_LOCK_KEY = 0x61756469745F6C67
_VERIFY_BATCH = 5000
_T = audit_log.c


def record(
    session: Session, principal: Principal, action: str, target: str, details: dict[str, Any]
) -> None:
    """Append one row in the caller's transaction: it commits or rolls back with the act it
    records. Call it last in the transaction: on PostgreSQL the append lock is held until
    commit, so every other audited request waits behind this one meanwhile. The caller's
    jurisdiction is added to ``details`` (as "jurisdiction") since no column holds it."""
    _append(session, principal, action, target, details)


def record_committed(
    sessions: sessionmaker[Session],
    principal: Principal,
    action: str,
    target: str,
    details: dict[str, Any],
) -> int:
    """Append one row in a transaction of its own, committed on return; returns its seq.
    For reads whose data leaves after the request transaction would commit (streams), so
    that no data leaves without its audit row already stored."""
    with transaction(sessions) as session:
        return _append(session, principal, action, target, details)


def _append(
    session: Session, principal: Principal, action: str, target: str, details: dict[str, Any]
) -> int:
    _take_append_lock(session)
    # Read the head only now, under the lock: see _take_append_lock.
    head = session.execute(select(_T.seq, _T.hash).order_by(_T.seq.desc()).limit(1)).first()
    prev_seq, prev_hash = (head.seq, head.hash) if head is not None else (0, ZERO_HASH)
    details = {"jurisdiction": principal.region, **details}
    row: dict[str, Any] = {
        "seq": prev_seq + 1,
        # Microseconds survive both stores, so the stored value hashes back the same.
        "at": datetime.now(UTC),
        # Truncated to the column sizes before hashing, so what is hashed is what is stored.
        "actor": principal.subject[:100],
        "role": str(principal.role)[:32],
        "action": action[:40],
        "target": target[:200],
        "details": orjson.dumps(details, option=orjson.OPT_SORT_KEYS).decode(),
        "prev_hash": prev_hash,
    }
    row["hash"] = row_hash(row)
    session.execute(insert(audit_log).values(**row))
    return row["seq"]


def _take_append_lock(session: Session) -> None:
    """Serialise appends so that two transactions never chain onto the same head.

    PostgreSQL: a transaction-scoped advisory lock, released at commit/rollback. The head
    is read *after* it is granted; under READ COMMITTED each statement takes a fresh
    snapshot, so that read sees the previous holder's committed row. Under REPEATABLE READ
    the snapshot would date from the transaction's first statement, possibly before the
    lock, and two appends could fork the chain: refuse that.

    SQLite: one writer at a time already, but the Python driver only opens a transaction
    before a data-changing statement, so a plain SELECT of the head would run outside it
    and another writer could append between that SELECT and our INSERT. If the caller's
    transaction has not written yet, BEGIN IMMEDIATE takes the write lock before the read.
    If it has written, the lock is already held. (Had someone opened a deferred transaction
    by hand and only read, WAL would refuse our INSERT from the stale snapshot with
    SQLITE_BUSY rather than let it fork the chain.)"""
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        isolation = conn.execute(
            text("SELECT current_setting('transaction_isolation')")
        ).scalar_one()
        if isolation != "read committed":
            raise RuntimeError(f"audit append needs READ COMMITTED, not {isolation}")
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": APPEND_LOCK_KEY})
    else:
        begin_immediate(session)


def as_utc(at: datetime) -> datetime:
    """Naive values (SQLite) are UTC as stored; aware ones (PostgreSQL) are converted."""
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def at_text(at: datetime) -> str:
    """The hashed form of ``at``."""
    return as_utc(at).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def row_hash(row: Any) -> str:
    """The hash of a row (a mapping or a result row) from its stored columns."""
    get = row.__getitem__ if isinstance(row, dict) else row._mapping.__getitem__
    payload = orjson.dumps(
        {
            "action": get("action"),
            "actor": get("actor"),
            "at": at_text(get("at")),
            "details": get("details"),
            "role": get("role"),
            "target": get("target"),
        },
        option=orjson.OPT_SORT_KEYS,
    )
    return hashlib.sha256(get("prev_hash").encode("ascii") + payload).hexdigest()


def verify(session: Session, *, anchor: tuple[int, str] | None = None) -> VerifyReport:
    """Walk the chain in seq order, in batches (memory stays flat), and report the first row
    that breaks it. ``anchor``: a (seq, hash) noted earlier; it must still be in the chain,
    which is how a deleted tail shows."""
    expected_seq, expected_prev = 1, ZERO_HASH
    rows = 0
    after = 0
    while True:
        batch = session.execute(
            select(audit_log).where(_T.seq > after).order_by(_T.seq).limit(_VERIFY_BATCH)
        ).all()
        if not batch:
            break
        for r in batch:
            rows += 1
            problem = _problem(r, expected_seq, expected_prev)
            if problem is None and anchor is not None and r.seq == anchor[0]:
                problem = _anchor_problem(r, anchor[1])
            if problem is not None:
                return VerifyReport(
                    ok=False,
                    rows=rows,
                    first_bad_seq=r.seq,
                    reason=problem[0],
                    reason_zh=problem[1],
                )
            expected_seq, expected_prev = r.seq + 1, r.hash
        after = batch[-1].seq
    head_seq = expected_seq - 1 if rows else None
    head_hash = expected_prev if rows else None
    if anchor is not None and anchor[0] > (head_seq or 0):
        return VerifyReport(
            ok=False,
            rows=rows,
            first_bad_seq=(head_seq or 0) + 1,
            reason=f"chain ends at seq {head_seq or 0} before the anchor {anchor[0]}: "
            "rows at the end were deleted",
            reason_zh=f"审计链止于第 {head_seq or 0} 条，锚定的第 {anchor[0]} 条缺失：末尾记录被删除",
            head_seq=head_seq,
            head_hash=head_hash,
        )
    return VerifyReport(ok=True, rows=rows, head_seq=head_seq, head_hash=head_hash)


def _anchor_problem(r: Any, anchor_hash: str) -> tuple[str, str] | None:
    if r.hash == anchor_hash:
        return None
    return (f"row {r.seq} differs from the anchor hash", f"第 {r.seq} 条记录与锚定哈希不一致")


def _problem(r: Any, expected_seq: int, expected_prev: str) -> tuple[str, str] | None:
    """(English, Chinese) reason why row ``r`` breaks the chain, or None."""
    if r.seq != expected_seq:
        return (
            f"rows {expected_seq}..{r.seq - 1} are missing (deleted)",
            f"第 {expected_seq}..{r.seq - 1} 条记录缺失（被删除）",
        )
    if r.prev_hash != expected_prev:
        if expected_seq == 1:
            return ("the first row does not start the chain", "首条记录不是审计链的起点")
        return (
            f"prev_hash does not match the hash of row {r.seq - 1} (edited or replaced rows)",
            f"prev_hash 与第 {r.seq - 1} 条记录的哈希不符（记录被修改或替换）",
        )
    if row_hash(r) != r.hash:
        return ("the row does not match its hash (edited)", "记录内容与其哈希不符（被修改）")
    return None


def list_entries(session: Session, *, after_seq: int, limit: int) -> AuditPage:
    """Entries oldest first, keyset-paginated on seq."""
    rows = session.execute(
        select(audit_log).where(_T.seq > after_seq).order_by(_T.seq).limit(limit + 1)
    ).all()
    items = [
        AuditEntry(
            seq=r.seq,
            at=as_utc(r.at),
            actor=r.actor,
            role=r.role,
            action=r.action,
            target=r.target,
            details=orjson.loads(r.details),
            prev_hash=r.prev_hash,
            hash=r.hash,
        )
        for r in rows[:limit]
    ]
    next_after = items[-1].seq if len(rows) > limit else None
    return AuditPage(items=items, next_after_seq=next_after)
