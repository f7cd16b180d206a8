"""Declaring, ending and reading relations. Reads add relations computed from the
directory: other objects at the same registered address (一址多照) and other objects with
the same legal representative's name, both limited to the caller's jurisdiction."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import InstrumentedAttribute, Session

from services.registry.models import Entity, Relation
from services.registry.records.service import require_entity
from services.registry.relations.schemas import EntityRelations, RelationCreate, RelationRead
from services.registry.relations.writer import end_relations, write_relations
from shared.auth import Principal, ensure_covers
from shared.errors import InvalidInput, NotFound
from shared.outbox import Outbox
from shared.workdays import china_today


def create_relation(
    session: Session, outbox: Outbox, *, item: RelationCreate, principal: Principal
) -> tuple[RelationRead, bool]:
    """Declare one relation; returns it and whether anything changed."""
    entity = session.get(Entity, item.code)
    if entity is not None:
        ensure_covers(principal, entity.region_code)
    outcome = write_relations(session, outbox, [item])[0]
    if outcome.action == "error":
        raise InvalidInput(
            outcome.reason_zh or "", message_en=outcome.reason_en, field=outcome.field
        )
    session.flush()
    row = session.execute(
        select(Relation)
        .where(
            Relation.code == item.code,
            Relation.kind == item.kind,
            Relation.counterpart_name == item.counterpart_name,
        )
        .execution_options(populate_existing=True)
    ).scalar_one()
    return _declared(row), outcome.action != "unchanged"


def remove_relation(
    session: Session, outbox: Outbox, *, relation_id: int, principal: Principal
) -> RelationRead:
    """End a relation today; ending one already ended changes nothing."""
    row = _relation(session, relation_id)
    require_entity(session, row.code, principal)
    if row.removed_on is None:
        end_relations(session, outbox, [relation_id], removed_on=china_today())
        session.flush()
        session.expire_all()
        row = _relation(session, relation_id)
    return _declared(row)


def entity_relations(
    session: Session, *, code: str, principal: Principal, include_removed: bool, limit: int
) -> EntityRelations:
    entity = require_entity(session, code, principal)
    query = select(Relation).where(Relation.code == entity.code)
    if not include_removed:
        query = query.where(Relation.removed_on.is_(None))
    items = [
        _declared(r) for r in session.execute(query.order_by(Relation.kind, Relation.id)).scalars()
    ]
    truncated = False
    for kind, column, value in (
        ("same_address", Entity.address, entity.address),
        ("legal_representative", Entity.legal_representative, entity.legal_representative),
    ):
        found, more = _sharing(session, entity, column, value, principal, limit)
        truncated |= more
        items.extend(
            RelationRead(
                id=None,
                code=entity.code,
                kind=kind,
                counterpart_name=other.name,
                counterpart_code=other.code,
                since=None,
                removed_on=None,
                source="directory",
                shared_value=value,
            )
            for other in found
        )
    return EntityRelations(code=entity.code, items=items, truncated=truncated)


def _sharing(
    session: Session,
    entity: Entity,
    column: InstrumentedAttribute[str | None],
    value: str | None,
    principal: Principal,
    limit: int,
) -> tuple[list[Entity], bool]:
    """Other objects in the caller's jurisdiction whose ``column`` equals ``value``."""
    if not value:
        return [], False
    rows = list(
        session.execute(
            select(Entity)
            .where(
                column == value,
                Entity.code != entity.code,
                Entity.region_code.startswith(principal.region_prefix, autoescape=True),
            )
            .order_by(Entity.code)
            .limit(limit + 1)
        ).scalars()
    )
    return rows[:limit], len(rows) > limit


def _relation(session: Session, relation_id: int) -> Relation:
    row = session.get(Relation, relation_id)
    if row is None:
        raise NotFound(
            f"未找到关联关系 {relation_id}", message_en=f"no relation {relation_id}", field="id"
        )
    return row


def _declared(r: Relation) -> RelationRead:
    return RelationRead(
        id=r.id,
        code=r.code,
        kind=r.kind,
        counterpart_name=r.counterpart_name,
        counterpart_code=r.counterpart_code,
        since=r.since,
        removed_on=r.removed_on,
        source="declared",
    )
