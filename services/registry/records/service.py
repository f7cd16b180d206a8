"""Collecting and reading credit-relevant records and list entries. Writes go through the
writer; every read is limited to the caller's jurisdiction through the entity's region."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from services.registry.models import CreditRecord, Entity, ListEntry
from services.registry.records.schemas import (
    ListEntryRead,
    RecordCreate,
    RecordRead,
    normalise_code,
)
from services.registry.records.writer import write_records
from shared.auth import Principal, ensure_covers
from shared.errors import InvalidInput, NotFound
from shared.outbox import Outbox


@dataclass(frozen=True)
class RecordFilter:
    code: str | None = None
    kind: str | None = None
    occurred_from: date | None = None
    occurred_to: date | None = None


def require_entity(session: Session, code: str, principal: Principal) -> Entity:
    """The entity with ``code``: 404 if unknown, 403 if outside the caller's jurisdiction."""
    entity = session.get(Entity, normalise_code(code))
    if entity is None:
        raise NotFound(
            f"未找到检查对象 {code}", message_en=f"no object with code {code}", field="code"
        )
    ensure_covers(principal, entity.region_code)
    return entity


def create_record(
    session: Session, outbox: Outbox, *, item: RecordCreate, principal: Principal
) -> tuple[RecordRead, bool]:
    """Collect one record; returns it and whether it was new (an identical re-post is a
    no-op that emits nothing)."""
    entity = session.get(Entity, item.code)
    if entity is not None:
        ensure_covers(principal, entity.region_code)
    outcome = write_records(session, outbox, [item])[0]
    if outcome.action == "error":
        raise InvalidInput(
            outcome.reason_zh or "", message_en=outcome.reason_en, field=outcome.field
        )
    session.flush()
    return get_record(session, item.record_id, principal), outcome.action == "created"


def get_record(session: Session, record_id: str, principal: Principal) -> RecordRead:
    row = session.execute(
        select(CreditRecord, Entity.region_code)
        .join(Entity, Entity.code == CreditRecord.code)
        .where(CreditRecord.record_id == record_id)
    ).first()
    if row is None:
        raise NotFound(
            f"未找到信息 {record_id}", message_en=f"no record {record_id}", field="record_id"
        )
    ensure_covers(principal, row.region_code)
    return _read(row[0])


def encode_cursor(record: RecordRead) -> str:
    return f"{record.occurred_on.isoformat()}:{record.record_id}"


def decode_cursor(after: str) -> tuple[date, str]:
    try:
        if after[10] != ":":
            raise ValueError(after)
        return date.fromisoformat(after[:10]), after[11:]
    except (IndexError, ValueError) as e:
        raise InvalidInput(
            "翻页游标无效，应为上一页的 next_after",
            message_en="invalid cursor: pass next_after of the previous page",
            field="after",
        ) from e


def search_records(
    session: Session, *, principal: Principal, f: RecordFilter, after: str | None, limit: int
) -> tuple[list[RecordRead], str | None]:
    """Keyset pagination on (occurred_on, record_id), oldest first: stable under concurrent
    inserts (a record collected late lands where it belongs), O(limit) per page."""
    query = (
        select(CreditRecord)
        .join(Entity, Entity.code == CreditRecord.code)
        .where(Entity.region_code.startswith(principal.region_prefix, autoescape=True))
    )
    if f.code:
        entity = require_entity(session, f.code, principal)
        query = query.where(CreditRecord.code == entity.code)
    if f.kind:
        query = query.where(CreditRecord.kind == f.kind)
    if f.occurred_from:
        query = query.where(CreditRecord.occurred_on >= f.occurred_from)
    if f.occurred_to:
        query = query.where(CreditRecord.occurred_on <= f.occurred_to)
    if after:
        on, record_id = decode_cursor(after)
        query = query.where(
            or_(
                CreditRecord.occurred_on > on,
                and_(CreditRecord.occurred_on == on, CreditRecord.record_id > record_id),
            )
        )
    query = query.order_by(CreditRecord.occurred_on, CreditRecord.record_id).limit(limit + 1)
    rows = [_read(r) for r in session.execute(query).scalars()]
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (encode_cursor(rows[-1]) if more and rows else None)


def list_entries(
    session: Session, *, code: str, principal: Principal, standing: bool | None = None
) -> list[ListEntryRead]:
    entity = require_entity(session, code, principal)
    query = select(ListEntry).where(ListEntry.code == entity.code)
    if standing is True:
        query = query.where(ListEntry.removed_on.is_(None))
    elif standing is False:
        query = query.where(ListEntry.removed_on.is_not(None))
    query = query.order_by(ListEntry.listed_on, ListEntry.id)
    return [
        ListEntryRead(
            id=e.id,
            code=e.code,
            list_kind=e.list_kind,
            listed_on=e.listed_on,
            listing_reason=e.listing_reason,
            listing_record_id=e.listing_record_id,
            removed_on=e.removed_on,
            removal_reason=e.removal_reason,
            removal_record_id=e.removal_record_id,
            standing=e.removed_on is None,
        )
        for e in session.execute(query).scalars()
    ]


def _read(r: CreditRecord) -> RecordRead:
    return RecordRead(
        record_id=r.record_id,
        code=r.code,
        kind=r.kind,
        occurred_on=r.occurred_on,
        source_department=r.source_department,
        payload=r.payload,
        collected_late=r.collected_late,
        received_at=r.received_at,
    )
