"""The one write path for credit-relevant records, in batches: the API writes a batch of
one, the importer batches of thousands.

Records are immutable: a record_id already held with the same content is skipped (no
event), with different content it is an error. Listing/removal kinds maintain
``list_entries`` in batch order, so a listing and its removal may arrive together. Only
flushes; the caller's transaction commits the rows and their outbox events together.

Per batch: one SELECT for the record ids already held, one for the entity codes, one for
the standing list entries of those codes (each chunked under SQLite's parameter limit).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field as dc_field
from datetime import date
from typing import Any, Literal, cast

import orjson
from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from services.registry.models import CreditRecord, Entity, ListEntry
from services.registry.records.schemas import RecordCreate
from services.registry.vocab import LIST_KINDS, LIST_RECORD_KINDS
from shared.db import chunks
from shared.events import CreditRecordEvent
from shared.outbox import Outbox
from shared.validation import FieldProblem
from shared.workdays import add_working_days, china_today

RECORDS = cast(Table, CreditRecord.__table__)
LIST_ENTRIES = cast(Table, ListEntry.__table__)
# 信息归集: a record is to be collected within 7 working days of occurring.
COLLECTION_WORKING_DAYS = 7
REASON_MAX = 300

Action = Literal["created", "unchanged", "error"]


@dataclass(frozen=True)
class RecordOutcome:
    record_id: str
    action: Action
    collected_late: bool = False
    # Set when action == "error": the field to blame and why, in Chinese and English.
    field: str | None = None
    reason_zh: str | None = None
    reason_en: str | None = None


@dataclass
class _Standing:
    """A standing listing: one already stored (``id``) or one created earlier in the batch
    (``row``, inserted at the end, so a removal in the same batch just fills it in)."""

    listing_record_id: str
    listed_on: date
    id: int | None = None
    row: dict[str, Any] | None = None


@dataclass
class _Batch:
    record_rows: list[dict[str, Any]] = dc_field(default_factory=list)
    new_entries: list[dict[str, Any]] = dc_field(default_factory=list)
    removals: list[dict[str, Any]] = dc_field(default_factory=list)
    events: list[CreditRecordEvent] = dc_field(default_factory=list)


def _content(item: RecordCreate) -> dict[str, Any]:
    return {
        "code": item.code,
        "kind": item.kind,
        "occurred_on": item.occurred_on,
        "source_department": item.source_department,
        "payload": item.payload,
    }


def content_hash(item: RecordCreate) -> str:
    """Hash of everything but the id (nested keys sorted): the same id with another hash
    is a conflict."""
    return _hash(_content(item))


def _hash(content: dict[str, Any]) -> str:
    return hashlib.sha256(orjson.dumps(content, option=orjson.OPT_SORT_KEYS)).hexdigest()


def is_collected_late(occurred_on: date, received_on: date) -> bool:
    """More than 7 working days in (occurred_on, received_on] — i.e. received after the
    7th working day following the occurrence."""
    return received_on > add_working_days(occurred_on, COLLECTION_WORKING_DAYS)


def write_records(
    session: Session,
    outbox: Outbox,
    items: Sequence[RecordCreate],
    *,
    today: date | None = None,
) -> list[RecordOutcome]:
    """Write ``items`` in order; one outcome per item, in the same order. ``today`` is the
    collection date the 7-working-day rule is measured against (default: today in China);
    ``received_at`` keeps the actual time of writing."""
    received_on = today or china_today()
    held = _held_hashes(session, items)
    known_codes = _known_codes(session, items)
    standing = _standing_entries(
        session, {i.code for i in items if i.kind in LIST_RECORD_KINDS and i.code in known_codes}
    )

    batch = _Batch()
    outcomes: list[RecordOutcome] = []
    for item in items:
        content = _content(item)
        h = _hash(content)
        if item.record_id in held:
            if held[item.record_id] == h:
                outcomes.append(RecordOutcome(item.record_id, "unchanged"))
            else:
                outcomes.append(
                    _error(
                        item,
                        "record_id",
                        f"信息编号 {item.record_id} 已存在且内容不同；已归集的信息不可修改",
                        f"record {item.record_id} exists with different content; "
                        "records are immutable",
                    )
                )
            continue
        if item.code not in known_codes:
            outcomes.append(
                _error(
                    item,
                    "code",
                    f"检查对象名录中没有 {item.code}",
                    f"no entity with code {item.code} in the directory",
                )
            )
            continue
        if item.kind in LIST_RECORD_KINDS:
            problem = _apply_list_record(item, standing, batch)
            if problem is not None:
                outcomes.append(_error(item, problem.field, problem.zh, problem.en))
                continue
        late = is_collected_late(item.occurred_on, received_on)
        batch.record_rows.append(
            {"record_id": item.record_id, **content, "content_hash": h, "collected_late": late}
        )
        # model_construct: the item was validated on the way in; imports build millions.
        batch.events.append(CreditRecordEvent.model_construct(record_id=item.record_id, **content))
        held[item.record_id] = h
        outcomes.append(RecordOutcome(item.record_id, "created", collected_late=late))

    if batch.record_rows:
        session.execute(insert(RECORDS), batch.record_rows)
    if batch.new_entries:
        session.execute(insert(LIST_ENTRIES), batch.new_entries)
    if batch.removals:
        session.execute(
            update(LIST_ENTRIES).where(LIST_ENTRIES.c.id == bindparam("b_id")),
            batch.removals,
        )
    outbox.add(session, *batch.events)
    return outcomes


def _apply_list_record(
    item: RecordCreate, standing: dict[tuple[str, str], list[_Standing]], batch: _Batch
) -> FieldProblem | None:
    list_kind, listed = LIST_RECORD_KINDS[item.kind]
    entries = standing[(item.code, list_kind)]
    reason = _reason(item.payload)
    if listed:
        # Several listings may stand at once (e.g. for different reasons); each is removed
        # on its own.
        row = {
            "code": item.code,
            "list_kind": list_kind,
            "listed_on": item.occurred_on,
            "listing_reason": reason,
            "listing_record_id": item.record_id,
            "removed_on": None,
            "removal_reason": None,
            "removal_record_id": None,
        }
        batch.new_entries.append(row)
        entries.append(_Standing(item.record_id, item.occurred_on, row=row))
        return None

    list_zh = LIST_KINDS[list_kind]
    target = _removal_target(item, entries)
    if target is None:
        wanted = item.payload.get("listing_record_id")
        if wanted:
            return FieldProblem(
                "payload.listing_record_id",
                f"{item.code} 没有编号为 {wanted} 的{list_zh}在列记录",
                f"{item.code} has no standing {list_kind} listing {wanted}",
            )
        return FieldProblem(
            "kind",
            f"{item.code} 未被列入{list_zh}，不能移出",
            f"{item.code} has no standing {list_kind} listing to remove",
        )
    if item.occurred_on < target.listed_on:
        return FieldProblem(
            "occurred_on",
            f"移出日期早于列入日期 {target.listed_on}",
            f"removal precedes the listing of {target.listed_on}",
        )
    entries.remove(target)
    removal = {
        "removed_on": item.occurred_on,
        "removal_reason": reason,
        "removal_record_id": item.record_id,
    }
    if target.row is not None:
        target.row.update(removal)
    else:
        batch.removals.append({**removal, "b_id": target.id})
    return None


def _removal_target(item: RecordCreate, entries: list[_Standing]) -> _Standing | None:
    """The listing named by payload ``listing_record_id``, else the oldest standing one."""
    wanted = item.payload.get("listing_record_id")
    if wanted:
        return next((e for e in entries if e.listing_record_id == str(wanted)), None)
    return min(entries, key=lambda e: (e.listed_on, e.listing_record_id), default=None)


def _reason(payload: dict[str, Any]) -> str | None:
    reason = payload.get("reason")
    if reason is None or reason == "":
        return None
    return str(reason)[:REASON_MAX]


def _error(item: RecordCreate, field_name: str, zh: str, en: str) -> RecordOutcome:
    return RecordOutcome(item.record_id, "error", field=field_name, reason_zh=zh, reason_en=en)


def _held_hashes(session: Session, items: Sequence[RecordCreate]) -> dict[str, str]:
    held: dict[str, str] = {}
    for chunk in chunks(sorted({i.record_id for i in items})):
        for record_id, h in session.execute(
            select(CreditRecord.record_id, CreditRecord.content_hash).where(
                CreditRecord.record_id.in_(chunk)
            )
        ):
            held[record_id] = h
    return held


def _known_codes(session: Session, items: Sequence[RecordCreate]) -> set[str]:
    known: set[str] = set()
    for chunk in chunks(sorted({i.code for i in items})):
        known.update(session.execute(select(Entity.code).where(Entity.code.in_(chunk))).scalars())
    return known


def _standing_entries(session: Session, codes: set[str]) -> dict[tuple[str, str], list[_Standing]]:
    standing: dict[tuple[str, str], list[_Standing]] = defaultdict(list)
    for chunk in chunks(sorted(codes)):
        for entry_id, code, list_kind, listed_on, listing_record_id in session.execute(
            select(
                ListEntry.id,
                ListEntry.code,
                ListEntry.list_kind,
                ListEntry.listed_on,
                ListEntry.listing_record_id,
            ).where(ListEntry.code.in_(chunk), ListEntry.removed_on.is_(None))
        ):
            standing[(code, list_kind)].append(_Standing(listing_record_id, listed_on, id=entry_id))
    return standing
