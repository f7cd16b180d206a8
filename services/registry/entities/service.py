"""Reading, searching and changing inspection objects. Writes go through the writer;
every read is limited to the caller's jurisdiction."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Select, exists, select
from sqlalchemy.orm import Session

from services.registry.entities.schemas import EntityCreate, EntityRead, EntityUpdate
from services.registry.entities.writer import Change, EntityOutcome, TagCache, write_entities
from services.registry.models import Entity, EntityLicence, EntityTag, Tag
from services.registry.tags.rules import RuleSet
from shared.auth import Principal, ensure_covers, region_prefix
from shared.credit_code import fold_code
from shared.errors import Conflict, NotFound
from shared.outbox import Outbox


@dataclass(frozen=True)
class EntityFilter:
    code: str | None = None
    name: str | None = None
    region: str | None = None
    industry: str | None = None
    tag: str | None = None
    entity_type: str | None = None
    status: str | None = None
    licence: str | None = None


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def apply_filter(query: Select, f: EntityFilter, principal: Principal) -> Select:
    query = query.where(Entity.region_code.startswith(principal.region_prefix, autoescape=True))
    if f.code:
        query = query.where(Entity.code == fold_code(f.code))
    if f.name:
        query = query.where(Entity.name.like(f"%{_like_escape(f.name.strip())}%", escape="\\"))
    if f.region:
        query = query.where(Entity.region_code.startswith(region_prefix(f.region), autoescape=True))
    if f.industry:
        query = query.where(Entity.industry_code.startswith(f.industry, autoescape=True))
    if f.entity_type:
        query = query.where(Entity.entity_type == f.entity_type)
    if f.status:
        query = query.where(Entity.status == f.status)
    if f.licence:
        query = query.where(
            exists().where(EntityLicence.code == Entity.code, EntityLicence.kind == f.licence)
        )
    if f.tag:
        query = query.where(
            exists().where(
                EntityTag.code == Entity.code, EntityTag.tag_id == Tag.id, Tag.name == f.tag
            )
        )
    return query


def search(
    session: Session, *, principal: Principal, f: EntityFilter, after: str | None, limit: int
) -> tuple[list[EntityRead], str | None]:
    """Keyset pagination on the code: stable under concurrent inserts, O(limit) per page."""
    query = apply_filter(select(Entity), f, principal).order_by(Entity.code).limit(limit + 1)
    if after:
        query = query.where(Entity.code > after)
    rows = list(session.execute(query).scalars())
    more = len(rows) > limit
    rows = rows[:limit]
    return to_read(session, rows), (rows[-1].code if more and rows else None)


def to_read(session: Session, rows: Sequence[Entity]) -> list[EntityRead]:
    codes = [r.code for r in rows]
    licences: dict[str, list[str]] = defaultdict(list)
    manual: dict[str, set[str]] = defaultdict(set)
    all_tags: dict[str, set[str]] = defaultdict(set)
    if codes:
        for code, kind in session.execute(
            select(EntityLicence.code, EntityLicence.kind).where(EntityLicence.code.in_(codes))
        ):
            licences[code].append(kind)
        for code, name, source in session.execute(
            select(EntityTag.code, Tag.name, EntityTag.source)
            .join(Tag, Tag.id == EntityTag.tag_id)
            .where(EntityTag.code.in_(codes))
        ):
            all_tags[code].add(name)
            if source == "manual":
                manual[code].add(name)
    return [
        EntityRead(
            code=r.code,
            code_kind=r.code_kind,
            entity_type=r.entity_type,
            name=r.name,
            legal_representative=r.legal_representative,
            address=r.address,
            region_code=r.region_code,
            industry_code=r.industry_code,
            registered_on=r.registered_on,
            registered_capital=r.registered_capital,
            status=r.status,
            licences=sorted(licences[r.code]),
            tags=sorted(all_tags[r.code]),
            manual_tags=sorted(manual[r.code]),
            version=r.version,
            created_at=r.created_at,
            updated_at=r.updated_at,
        )
        for r in rows
    ]


def get_entity(session: Session, code: str, principal: Principal) -> EntityRead:
    entity = session.get(Entity, fold_code(code)) or session.get(Entity, code.strip())
    if entity is None:
        raise NotFound(
            f"未找到检查对象 {code}", message_en=f"no object with code {code}", field="code"
        )
    ensure_covers(principal, entity.region_code)
    return to_read(session, [entity])[0]


def create_entity(
    session: Session, outbox: Outbox, *, item: EntityCreate, principal: Principal
) -> EntityRead:
    ensure_covers(principal, item.region_code)
    if session.get(Entity, item.code) is not None:
        raise Conflict(
            f"检查对象 {item.code} 已存在", message_en=f"object {item.code} exists", field="code"
        )
    _write(session, outbox, item)
    return get_entity(session, item.code, principal)


def update_entity(
    session: Session, outbox: Outbox, *, code: str, patch: EntityUpdate, principal: Principal
) -> EntityRead:
    current = get_entity(session, code, principal)
    merged = EntityCreate.model_validate(
        {
            **current.model_dump(include=set(EntityCreate.model_fields) - {"tags"}),
            "tags": current.manual_tags,
            **patch.model_dump(exclude_unset=True),
        }
    )
    ensure_covers(principal, merged.region_code)
    _write(session, outbox, merged)
    return get_entity(session, merged.code, principal)


def deregister_entity(
    session: Session, outbox: Outbox, *, code: str, status: str, principal: Principal
) -> EntityRead:
    current = get_entity(session, code, principal)
    if current.status == status:
        return current
    merged = EntityCreate.model_validate(
        {
            **current.model_dump(include=set(EntityCreate.model_fields) - {"tags"}),
            "tags": current.manual_tags,
            "status": status,
        }
    )
    _write(session, outbox, merged, change="deregistered")
    return get_entity(session, code, principal)


def _write(
    session: Session, outbox: Outbox, item: EntityCreate, change: Change | None = None
) -> EntityOutcome:
    outcome = write_entities(
        session, outbox, [item], rules=RuleSet.load(session), tags=TagCache(), change=change
    )
    session.flush()
    session.expire_all()
    return outcome[0]
