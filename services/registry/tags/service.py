"""Tags and tag rules. A rule change re-evaluates every object it could touch, and each
object whose tags change gets a new version and a ``registry.entities`` event, so the
sampling population behind a tag stays exact."""

from __future__ import annotations

from sqlalchemy import delete, false, func, insert, or_, select, update
from sqlalchemy.orm import Session

from services.registry.entities.service import to_read
from services.registry.entities.writer import ENTITIES, ENTITY_TAGS, snapshot_of
from services.registry.models import Entity, EntityLicence, EntityTag, Tag, TagRule
from services.registry.tags.rules import RuleSet
from services.registry.tags.schemas import TagCreate, TagRead, TagRuleCreate, TagRuleRead
from shared.errors import Conflict, NotFound
from shared.outbox import Outbox

CHUNK = 500


def list_tags(session: Session, region_prefix: str) -> list[TagRead]:
    """Every tag, with the number of objects carrying it within ``region_prefix``."""
    counts = dict(
        session.execute(
            select(EntityTag.tag_id, func.count(func.distinct(EntityTag.code)))
            .join(Entity, Entity.code == EntityTag.code)
            .where(Entity.region_code.startswith(region_prefix, autoescape=True))
            .group_by(EntityTag.tag_id)
        ).all()
    )
    return [
        TagRead(id=t.id, name=t.name, description=t.description, entities=counts.get(t.id, 0))
        for t in session.execute(select(Tag).order_by(Tag.name)).scalars()
    ]


def create_tag(session: Session, body: TagCreate) -> TagRead:
    if session.execute(select(Tag.id).where(Tag.name == body.name)).first():
        raise Conflict(
            f"标签“{body.name}”已存在", message_en=f"tag {body.name} exists", field="name"
        )
    tag = Tag(name=body.name, description=body.description)
    session.add(tag)
    session.flush()
    return TagRead(id=tag.id, name=tag.name, description=tag.description, entities=0)


def _tag_id(session: Session, name: str) -> int:
    tag_id = session.execute(select(Tag.id).where(Tag.name == name)).scalar()
    if tag_id is None:
        tag_id = session.execute(insert(Tag).values(name=name).returning(Tag.id)).scalar_one()
    return tag_id


def list_rules(session: Session) -> list[TagRuleRead]:
    rows = session.execute(
        select(TagRule, Tag.name).join(Tag, Tag.id == TagRule.tag_id).order_by(TagRule.id)
    )
    return [_rule_read(r, name) for r, name in rows]


def _rule_read(rule: TagRule, tag: str, retagged: int | None = None) -> TagRuleRead:
    return TagRuleRead(
        id=rule.id,
        tag=tag,
        industry_prefixes=rule.industry_prefixes,
        licence_kinds=rule.licence_kinds,
        active=rule.active,
        created_at=rule.created_at,
        entities_retagged=retagged,
    )


def create_rule(session: Session, outbox: Outbox, body: TagRuleCreate) -> TagRuleRead:
    rule = TagRule(
        tag_id=_tag_id(session, body.tag),
        industry_prefixes=body.industry_prefixes,
        licence_kinds=body.licence_kinds,
        active=True,
    )
    session.add(rule)
    session.flush()
    retagged = reevaluate_tag(session, outbox, rule.tag_id)
    session.refresh(rule)
    return _rule_read(rule, body.tag, retagged)


def deactivate_rule(session: Session, outbox: Outbox, rule_id: int) -> TagRuleRead:
    rule = session.get(TagRule, rule_id)
    if rule is None:
        raise NotFound(
            f"未找到标签规则 {rule_id}", message_en=f"no tag rule {rule_id}", field="rule_id"
        )
    rule.active = False
    session.flush()
    retagged = reevaluate_tag(session, outbox, rule.tag_id)
    tag = session.get(Tag, rule.tag_id)
    return _rule_read(rule, tag.name if tag else "", retagged)


def reevaluate_tag(session: Session, outbox: Outbox, tag_id: int) -> int:
    """Bring rule-tag rows of one tag in line with its active rules; returns objects changed."""
    rules = [r for r in RuleSet.load(session).rules if r.tag_id == tag_id]
    prefixes = [p for r in rules for p in r.industry_prefixes]
    kinds = sorted({k for r in rules for k in r.licence_kinds})
    tagged = select(EntityTag.code).where(EntityTag.tag_id == tag_id, EntityTag.source == "rule")
    candidates = or_(
        Entity.code.in_(tagged),
        *(Entity.industry_code.startswith(p) for p in prefixes),
        Entity.code.in_(select(EntityLicence.code).where(EntityLicence.kind.in_(kinds)))
        if kinds
        else false(),
    )
    changed_total = 0
    after = ""
    while True:
        entities = list(
            session.execute(
                select(Entity)
                .where(candidates, Entity.code > after)
                .order_by(Entity.code)
                .limit(CHUNK)
            ).scalars()
        )
        if not entities:
            return changed_total
        after = entities[-1].code
        codes = [e.code for e in entities]
        has = set(session.execute(tagged.where(EntityTag.code.in_(codes))).scalars())
        to_add, to_remove = [], []
        for read in to_read(session, entities):
            want = any(r.matches(read.industry_code, read.licences) for r in rules)
            if want and read.code not in has:
                to_add.append(read.code)
            elif not want and read.code in has:
                to_remove.append(read.code)
        if to_add:
            session.execute(
                insert(ENTITY_TAGS),
                [{"code": c, "tag_id": tag_id, "source": "rule"} for c in to_add],
            )
        if to_remove:
            session.execute(
                delete(EntityTag).where(
                    EntityTag.tag_id == tag_id,
                    EntityTag.source == "rule",
                    EntityTag.code.in_(to_remove),
                )
            )
        changed = to_add + to_remove
        if changed:
            session.execute(
                update(ENTITIES)
                .where(ENTITIES.c.code.in_(changed))
                .values(version=ENTITIES.c.version + 1, updated_at=func.now())
            )
            session.expire_all()
            fresh = session.execute(select(Entity).where(Entity.code.in_(changed))).scalars().all()
            outbox.add(
                session,
                *(
                    snapshot_of(r, version=r.version, change="changed", tags=r.tags)
                    for r in to_read(session, fresh)
                ),
            )
            changed_total += len(changed)
