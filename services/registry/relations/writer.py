"""The one write path for declared relations, in batches (the API writes a batch of one).
A relation is keyed by (code, kind, counterpart_name): declaring it again unchanged is a
no-op; declaring it again after its removal, or with another counterpart code or start
date, updates the row and emits ``added`` (consumers upsert on the key). Only flushes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from services.registry.models import Entity, Relation
from services.registry.relations.schemas import RelationCreate
from shared.db import chunks
from shared.events import RelationChanged
from shared.outbox import Outbox

RELATIONS = cast(Table, Relation.__table__)
Action = Literal["created", "updated", "unchanged", "error"]
Key = tuple[str, str, str]


@dataclass(frozen=True)
class RelationOutcome:
    code: str
    kind: str
    counterpart_name: str
    action: Action
    field: str | None = None
    reason_zh: str | None = None
    reason_en: str | None = None


def key_of(item: RelationCreate) -> Key:
    return (item.code, item.kind, item.counterpart_name)


def write_relations(
    session: Session, outbox: Outbox, items: Sequence[RelationCreate]
) -> list[RelationOutcome]:
    codes = sorted({i.code for i in items})
    known: set[str] = set()
    held: dict[Key, dict[str, Any]] = {}
    for chunk in chunks(codes):
        known.update(session.execute(select(Entity.code).where(Entity.code.in_(chunk))).scalars())
        for r in session.execute(
            select(
                Relation.id,
                Relation.code,
                Relation.kind,
                Relation.counterpart_name,
                Relation.counterpart_code,
                Relation.since,
                Relation.removed_on,
            ).where(Relation.code.in_(chunk))
        ).mappings():
            held[(r["code"], r["kind"], r["counterpart_name"])] = dict(r)

    new_rows: dict[Key, dict[str, Any]] = {}
    changed_rows: dict[Key, dict[str, Any]] = {}
    events: list[RelationChanged] = []
    outcomes: list[RelationOutcome] = []
    for item in items:
        key = key_of(item)
        if item.code not in known:
            outcomes.append(
                _error(
                    item,
                    "code",
                    f"检查对象名录中没有 {item.code}",
                    f"no entity with code {item.code} in the directory",
                )
            )
            continue
        if item.counterpart_code == item.code:
            outcomes.append(
                _error(
                    item,
                    "counterpart_code",
                    "关联方不能是对象本身",
                    "an entity cannot be related to itself",
                )
            )
            continue
        values = {
            "counterpart_code": item.counterpart_code,
            "since": item.since,
            "removed_on": None,
        }
        current = new_rows.get(key) or changed_rows.get(key) or held.get(key)
        if current is not None and all(current[k] == v for k, v in values.items()):
            outcomes.append(RelationOutcome(*key, "unchanged"))
            continue
        if key in new_rows:
            new_rows[key].update(values)
        elif current is None:
            new_rows[key] = {
                "code": item.code,
                "kind": item.kind,
                "counterpart_name": item.counterpart_name,
                **values,
            }
        else:
            changed_rows[key] = {**current, **values}
        events.append(
            RelationChanged(
                change="added",
                code=item.code,
                kind=item.kind,  # type: ignore[arg-type]
                counterpart_name=item.counterpart_name,
                counterpart_code=item.counterpart_code,
                since=item.since,
            )
        )
        outcomes.append(RelationOutcome(*key, "created" if current is None else "updated"))

    if new_rows:
        session.execute(insert(RELATIONS), list(new_rows.values()))
    if changed_rows:
        session.execute(
            update(RELATIONS).where(RELATIONS.c.id == bindparam("b_id")),
            [
                {
                    "b_id": r["id"],
                    "counterpart_code": r["counterpart_code"],
                    "since": r["since"],
                    "removed_on": None,
                }
                for r in changed_rows.values()
            ],
        )
    outbox.add(session, *events)
    return outcomes


def end_relations(session: Session, outbox: Outbox, ids: Sequence[int], *, removed_on: date) -> int:
    """Mark the standing relations among ``ids`` removed on ``removed_on``; already removed
    ones are left alone and emit nothing. Returns how many were ended."""
    ended: list[Relation] = []
    for chunk in [ids[i : i + 900] for i in range(0, len(ids), 900)]:
        ended.extend(
            session.execute(
                select(Relation).where(Relation.id.in_(chunk), Relation.removed_on.is_(None))
            ).scalars()
        )
    if not ended:
        return 0
    session.execute(
        update(RELATIONS).where(RELATIONS.c.id == bindparam("b_id")),
        [{"b_id": r.id, "removed_on": removed_on} for r in ended],
    )
    outbox.add(
        session,
        *(
            RelationChanged(
                change="removed",
                code=r.code,
                kind=r.kind,  # type: ignore[arg-type]
                counterpart_name=r.counterpart_name,
                counterpart_code=r.counterpart_code,
                since=r.since,
            )
            for r in ended
        ),
    )
    return len(ended)


def _error(item: RelationCreate, field_name: str, zh: str, en: str) -> RelationOutcome:
    return RelationOutcome(*key_of(item), "error", field=field_name, reason_zh=zh, reason_en=en)
