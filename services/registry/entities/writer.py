"""The one write path for inspection objects, in batches: the API writes a batch of one,
the importer batches of thousands. Unchanged objects (same content hash) are skipped and
emit nothing, which is what makes a re-import idempotent. Only flushes; the caller's
transaction commits the rows and their outbox events together."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Literal, NamedTuple, Protocol, cast

import orjson
from sqlalchemy import Table, bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from services.registry.entities.schemas import EntityCreate
from services.registry.models import Entity, EntityLicence, EntityTag, Tag
from services.registry.tags.rules import RuleSet
from shared.db import bulk_insert, chunks, select_by_keys
from shared.events import EntitySnapshot
from shared.outbox import Outbox

# Core tables, not ORM bulk operations: imports write millions of rows through here.
ENTITIES = cast(Table, Entity.__table__)
LICENCES = cast(Table, EntityLicence.__table__)
ENTITY_TAGS = cast(Table, EntityTag.__table__)
Action = Literal["created", "updated", "unchanged"]
Change = Literal["registered", "changed", "deregistered"]  # the event's change kind


class EntityOutcome(NamedTuple):
    # A named tuple, not a frozen dataclass: imports make millions and its __init__ cost
    # as much as the row's insert parameters.
    code: str
    action: Action
    version: int


@dataclass
class TagCache:
    """Tag name -> id, filled lazily; creates manual tags that do not exist yet."""

    ids: dict[str, int] = field(default_factory=dict)

    def resolve(self, session: Session, names: set[str]) -> dict[str, int]:
        missing = names - self.ids.keys()
        if missing:
            for chunk in chunks(sorted(missing)):
                for tag_id, name in session.execute(
                    select(Tag.id, Tag.name).where(Tag.name.in_(chunk))
                ):
                    self.ids[name] = tag_id
            for name in sorted(missing - self.ids.keys()):
                self.ids[name] = session.execute(
                    insert(Tag).values(name=name).returning(Tag.id)
                ).scalar_one()
        return {n: self.ids[n] for n in names}


def content_hash(item: EntityCreate) -> str:
    """sha256 of the declared fields as JSON with sorted keys. ``__dict__`` holds exactly
    what ``model_dump()`` gives, and orjson writes dates as pydantic's JSON mode does, so
    this equals hashing ``model_dump(mode="json")`` without building that dict."""
    return hashlib.sha256(
        orjson.dumps(item.__dict__, default=_decimal_as_str, option=orjson.OPT_SORT_KEYS)
    ).hexdigest()


def _decimal_as_str(value: object) -> str:
    if isinstance(value, Decimal):
        return str(value)  # pydantic's JSON form of a Decimal
    raise TypeError(f"cannot hash a {type(value).__name__}")


# Column order of the entity rows built below (and of the rows the replay reads);
# created_at/updated_at are the batch's time.
ENTITY_COLUMNS = (
    "code",
    "code_kind",
    "name",
    "entity_type",
    "legal_representative",
    "address",
    "region_code",
    "industry_code",
    "registered_on",
    "registered_capital",
    "status",
    "content_hash",
    "version",
)


@dataclass
class _Rows:
    """What one batch writes besides the outcomes: plain tuples for the bulk inserts."""

    new: list[tuple[object, ...]] = field(default_factory=list)
    changed: list[dict[str, object]] = field(default_factory=list)
    licences: list[tuple[str, str]] = field(default_factory=list)
    tags: list[tuple[str, int, str]] = field(default_factory=list)
    events: list[tuple[str, dict[str, object]]] = field(default_factory=list)


def write_entities(
    session: Session,
    outbox: Outbox,
    items: Sequence[EntityCreate],
    *,
    rules: RuleSet,
    tags: TagCache,
    change: Change | None = None,
) -> list[EntityOutcome]:
    """Create or update ``items`` (codes unique within the batch). ``change`` overrides
    the event's change kind (the deregister endpoint says "deregistered")."""
    existing = _held(session, [i.code for i in items])
    manual_ids = tags.resolve(session, {t for i in items for t in i.tags})
    rule_tags_of = _RuleMemo(rules)
    rows = _Rows()
    outcomes: list[EntityOutcome] = []
    for item in items:
        h = content_hash(item)
        code = item.code
        old = existing.get(code)
        if old is not None and old[0] == h and change is None:
            outcomes.append(EntityOutcome(code, "unchanged", old[1]))
            continue
        version = 1 if old is None else old[1] + 1
        values = _entity_values(item, h, version)
        if old is None:
            rows.new.append(values)
        else:
            rows.changed.append(dict(zip(ENTITY_COLUMNS, values, strict=True)))
        rows.licences.extend((code, k) for k in item.licences)
        rule_tags = rule_tags_of(item.industry_code, item.licences)
        rows.tags.extend((code, manual_ids[t], "manual") for t in item.tags)
        rows.tags.extend((code, tid, "rule") for tid in rule_tags)
        kind = change or (
            "registered"
            if old is None
            else "deregistered"
            if item.status != "active"
            else "changed"
        )
        tag_names = sorted(set(item.tags).union(rule_tags.values()))
        rows.events.append((code, entity_event_data(values, kind, item.licences, tag_names)))
        outcomes.append(EntityOutcome(code, "created" if old is None else "updated", version))
    _store(session, outbox, rows, datetime.now(UTC))
    return outcomes


def _held(session: Session, codes: list[str]) -> dict[str, tuple[str, int]]:
    """code -> (content hash, version) of the codes already in the store."""
    found = select_by_keys(session, ENTITIES, ("code", "content_hash", "version"), "code", codes)
    return {code: (h, version) for code, h, version in found}


class _RuleMemo:
    """RuleSet.tags_for, remembered per (industry, licences): a batch of thousands holds
    few distinct combinations."""

    def __init__(self, rules: RuleSet) -> None:
        self.rules = rules
        self.seen: dict[tuple[str | None, tuple[str, ...]], dict[int, str]] = {}

    def __call__(self, industry_code: str | None, licences: list[str]) -> dict[int, str]:
        key = (industry_code, tuple(licences))
        found = self.seen.get(key)
        if found is None:
            found = self.seen[key] = self.rules.tags_for(industry_code, licences)
        return found


def _store(session: Session, outbox: Outbox, rows: _Rows, now: datetime) -> None:
    """Write a batch's rows and events; only the rare updates go through SQLAlchemy."""
    stamps = {"created_at": now, "updated_at": now}
    if rows.new:
        bulk_insert(session, ENTITIES, ENTITY_COLUMNS, rows.new, constants=stamps)
    if rows.changed:
        changed_codes = [str(r["code"]) for r in rows.changed]
        for chunk in chunks(changed_codes):
            session.execute(delete(EntityLicence).where(EntityLicence.code.in_(chunk)))
            session.execute(delete(EntityTag).where(EntityTag.code.in_(chunk)))
        session.execute(
            update(ENTITIES).where(ENTITIES.c.code == bindparam("b_code")),
            [
                {
                    **{k: v for k, v in r.items() if k != "code"},
                    "b_code": r["code"],
                    "updated_at": now,
                }
                for r in rows.changed
            ],
        )
    if rows.licences:
        bulk_insert(session, LICENCES, ("code", "kind"), rows.licences)
    if rows.tags:
        bulk_insert(session, ENTITY_TAGS, ("code", "tag_id", "source"), rows.tags)
    outbox.add_data(session, EntitySnapshot, rows.events)


class _EntityLike(Protocol):
    code: str

    @property
    def code_kind(self) -> str: ...  # computed from the code on EntityCreate

    name: str
    entity_type: str
    legal_representative: str | None
    address: str | None
    region_code: str
    industry_code: str | None
    registered_on: date | None
    registered_capital: Decimal | None
    status: str
    licences: list[str]


def _entity_values(item: _EntityLike, content_hash: str, version: int) -> tuple[Any, ...]:
    """The item's row in ``ENTITY_COLUMNS`` order."""
    return (
        item.code,
        item.code_kind,
        item.name,
        item.entity_type,
        item.legal_representative,
        item.address,
        item.region_code,
        item.industry_code,
        item.registered_on,
        item.registered_capital,
        item.status,
        content_hash,
        version,
    )


def entity_event_data(
    values: tuple[Any, ...], change: str, licences: list[str], tags: list[str]
) -> dict[str, object]:
    """The EntitySnapshot fields of an entity row, in the model's order (its event data)."""
    (code, code_kind, name, entity_type, legal, address, region, industry, registered_on) = values[
        :9
    ]
    capital, status, _hash, version = values[9:]
    return {
        "change": change,
        "code": code,
        "code_kind": code_kind,
        "version": version,
        "name": name,
        "entity_type": entity_type,
        "legal_representative": legal,
        "address": address,
        "region_code": region,
        "industry_code": industry,
        "registered_on": registered_on,
        "registered_capital": float(capital) if capital is not None else None,
        "status": status,
        "licences": licences,
        "tags": tags,
    }


def snapshot_data(
    item: _EntityLike,
    *,
    version: int,
    change: Change,
    tags: list[str],
) -> dict[str, object]:
    """The item's EntitySnapshot fields, in the model's order."""
    return entity_event_data(_entity_values(item, "", version), change, item.licences, tags)


def snapshot_of(
    item: _EntityLike,
    *,
    version: int,
    change: Change,
    tags: list[str],
) -> EntitySnapshot:
    # model_construct: the item was validated on the way in.
    return EntitySnapshot.model_construct(
        **snapshot_data(item, version=version, change=change, tags=tags)  # type: ignore[arg-type]
    )
