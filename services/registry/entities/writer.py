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
from typing import Literal, Protocol

import orjson
from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from services.registry.entities.schemas import EntityCreate
from services.registry.models import Entity, EntityLicence, EntityTag, Tag
from services.registry.tags.rules import RuleSet
from shared.db import chunks
from shared.events import EntitySnapshot
from shared.outbox import Outbox

# Core tables, not ORM bulk operations: imports write millions of rows through here.
ENTITIES = Entity.__table__
Action = Literal["created", "updated", "unchanged"]


@dataclass(frozen=True)
class EntityOutcome:
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
    return hashlib.sha256(
        orjson.dumps(item.model_dump(mode="json"), option=orjson.OPT_SORT_KEYS)
    ).hexdigest()


def write_entities(
    session: Session,
    outbox: Outbox,
    items: Sequence[EntityCreate],
    *,
    rules: RuleSet,
    tags: TagCache,
    change: Literal["registered", "changed", "deregistered"] | None = None,
) -> list[EntityOutcome]:
    """Create or update ``items`` (codes unique within the batch). ``change`` overrides
    the event's change kind (the deregister endpoint says "deregistered")."""
    existing: dict[str, tuple[str, int]] = {}
    for chunk in chunks([i.code for i in items]):
        for code, h, version in session.execute(
            select(Entity.code, Entity.content_hash, Entity.version).where(Entity.code.in_(chunk))
        ):
            existing[code] = (h, version)

    now = datetime.now(UTC)
    new_rows: list[dict[str, object]] = []
    changed_rows: list[dict[str, object]] = []
    licence_rows: list[dict[str, object]] = []
    tag_rows: list[dict[str, object]] = []
    snapshots: list[EntitySnapshot] = []
    outcomes: list[EntityOutcome] = []
    manual_ids = tags.resolve(session, {t for i in items for t in i.tags})

    for item in items:
        h = content_hash(item)
        old = existing.get(item.code)
        if old is not None and old[0] == h and change is None:
            outcomes.append(EntityOutcome(item.code, "unchanged", old[1]))
            continue
        version = 1 if old is None else old[1] + 1
        row = {k: v for k, v in item.__dict__.items() if k not in ("licences", "tags")}
        row.update(code_kind=item.code_kind, content_hash=h, version=version, updated_at=now)
        (new_rows if old is None else changed_rows).append(row)
        licence_rows.extend({"code": item.code, "kind": k} for k in item.licences)
        rule_tags = rules.tags_for(item.industry_code, item.licences)
        tag_rows.extend(
            {"code": item.code, "tag_id": manual_ids[t], "source": "manual"} for t in item.tags
        )
        tag_rows.extend({"code": item.code, "tag_id": tid, "source": "rule"} for tid in rule_tags)
        kind = change or (
            "registered"
            if old is None
            else "deregistered"
            if item.status != "active"
            else "changed"
        )
        snapshots.append(
            snapshot_of(
                item,
                version=version,
                change=kind,
                tags=sorted(set(item.tags) | set(rule_tags.values())),
            )
        )
        outcomes.append(EntityOutcome(item.code, "created" if old is None else "updated", version))

    if new_rows:
        session.execute(insert(ENTITIES), [{**r, "created_at": now} for r in new_rows])
    if changed_rows:
        changed_codes = [str(r["code"]) for r in changed_rows]
        for chunk in chunks(changed_codes):
            session.execute(delete(EntityLicence).where(EntityLicence.code.in_(chunk)))
            session.execute(delete(EntityTag).where(EntityTag.code.in_(chunk)))
        session.execute(
            update(ENTITIES).where(ENTITIES.c.code == bindparam("b_code")),
            [
                {**{k: v for k, v in r.items() if k != "code"}, "b_code": r["code"]}
                for r in changed_rows
            ],
        )
    if licence_rows:
        session.execute(insert(EntityLicence.__table__), licence_rows)
    if tag_rows:
        session.execute(insert(EntityTag.__table__), tag_rows)
    outbox.add(session, *snapshots)
    return outcomes


class _EntityLike(Protocol):
    code: str
    code_kind: str
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


def snapshot_of(
    item: _EntityLike,
    *,
    version: int,
    change: Literal["registered", "changed", "deregistered"],
    tags: list[str],
) -> EntitySnapshot:
    # model_construct: the item was validated on the way in; bulk imports build millions.
    return EntitySnapshot.model_construct(
        change=change,
        code=item.code,
        code_kind=item.code_kind,  # type: ignore[arg-type]
        version=version,
        name=item.name,
        entity_type=item.entity_type,  # type: ignore[arg-type]
        legal_representative=item.legal_representative,
        address=item.address,
        region_code=item.region_code,
        industry_code=item.industry_code,
        registered_on=item.registered_on,
        registered_capital=float(item.registered_capital)
        if item.registered_capital is not None
        else None,
        status=item.status,  # type: ignore[arg-type]
        licences=item.licences,
        tags=tags,
    )
