"""Reads of classes within the caller's jurisdiction, each recorded in the audit log."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.scoring.audit import log as audit
from services.scoring.classify.schemas import (
    ClassHistoryEntry,
    ClassListItem,
    ClassPage,
    Contribution,
    EntityClassRead,
    RunRead,
)
from services.scoring.indicators.spec import GROUP_NAMES
from services.scoring.indicators.store import versions
from services.scoring.models import class_history, class_runs, entity_classes
from shared.auth import Principal
from shared.credit_code import fold_code
from shared.errors import Forbidden, NotFound

_C = entity_classes.c


def _not_found(code: str) -> NotFound:
    return NotFound(f"没有检查对象 {code} 的分类", message_en=f"no class for {code}", field="code")


def _row_in_jurisdiction(session: Session, code: str, principal: Principal):
    row = session.execute(select(entity_classes).where(_C.code == fold_code(code))).first()
    if row is None:
        raise _not_found(code)
    if not principal.covers(row.region_code):
        # Same answer shape as any other refusal: nothing about the entity leaks.
        raise Forbidden("该对象不在您的辖区内", message_en="object outside your jurisdiction")
    return row


def contributions(session: Session, row: object) -> list[Contribution]:
    """The row's points with the names of their indicators, largest first. Stored points
    leave out the indicators that gave none; those of the models that scored the row
    (the general one at the row's version, the professional one as active) are listed
    with zero points all the same."""
    names: dict[str, tuple[str, str, str]] = {}
    scored: list[str] = []
    general_id, _, prof_id = row.model_id.partition("+")  # type: ignore[attr-defined]
    for model_id, prefix in ((general_id, ""), (prof_id, f"{prof_id}.")):
        if not model_id:
            continue
        stored = versions(session, model_id)
        for m in stored:
            for ind in m.spec.indicators:
                names[prefix + ind.id] = (ind.group, ind.name_zh, ind.name_en)
        # The version that scored the row: the general model's is stored with it.
        is_used = (lambda m: m.active) if prefix else (lambda m: m.version == row.model_version)  # type: ignore[attr-defined]
        used = next((m for m in stored if is_used(m)), None)
        if used is not None:
            scored.extend(prefix + ind.id for ind in used.spec.indicators)
    out = []
    points = {**dict.fromkeys(scored, 0.0), **row.points}  # type: ignore[attr-defined]
    for key, pts in points.items():
        group, zh, en = names.get(key, ("", key, key))
        out.append(
            Contribution(
                indicator=key,
                group=GROUP_NAMES.get(group) or group,
                name_zh=zh,
                name_en=en,
                points=pts,
            )
        )
    return sorted(out, key=lambda c: -c.points)


def read_class(session: Session, code: str, principal: Principal) -> EntityClassRead:
    row = _row_in_jurisdiction(session, code, principal)
    audit.record(session, principal, "read_class", row.code, {})
    return EntityClassRead(
        code=row.code,
        risk_class=row.risk_class,
        score=row.score,
        model_id=row.model_id,
        model_version=row.model_version,
        as_of=row.as_of,
        cause=row.cause,
        overridden_by=row.overridden_by,
        region_code=row.region_code,
        contributions=contributions(session, row),
    )


def read_history(session: Session, code: str, principal: Principal) -> list[ClassHistoryEntry]:
    row = _row_in_jurisdiction(session, code, principal)
    audit.record(session, principal, "read_class_history", row.code, {})
    rows = session.execute(
        select(class_history)
        .where(class_history.c.code == row.code)
        .order_by(class_history.c.as_of, class_history.c.id)
    ).all()
    return [
        ClassHistoryEntry(
            risk_class=r.risk_class,
            score=r.score,
            model_id=r.model_id,
            model_version=r.model_version,
            as_of=r.as_of,
            cause=r.cause,
            run_id=r.run_id,
        )
        for r in rows
    ]


def list_classes(
    session: Session,
    principal: Principal,
    *,
    region: str | None,
    risk_class: str | None,
    after: str | None,
    limit: int,
) -> ClassPage:
    prefix = principal.region_prefix
    if region:
        if not region.startswith(prefix) and not prefix.startswith(region):
            raise Forbidden(
                "所查询区域不在您的辖区内", message_en="region outside your jurisdiction"
            )
        prefix = max(prefix, region, key=len)
    query = select(entity_classes).where(_C.region_code.startswith(prefix, autoescape=True))
    if risk_class:
        query = query.where(_C.risk_class == risk_class)
    if after:
        query = query.where(_C.code > after)
    rows = session.execute(query.order_by(_C.code).limit(limit + 1)).all()
    audit.record(
        session,
        principal,
        "list_classes",
        prefix,
        {"risk_class": risk_class, "after": after, "returned": min(len(rows), limit)},
    )
    items = [
        ClassListItem(
            code=r.code,
            risk_class=r.risk_class,
            score=r.score,
            as_of=r.as_of,
            region_code=r.region_code,
            industry_code=r.industry_code,
        )
        for r in rows[:limit]
    ]
    return ClassPage(items=items, next_after=items[-1].code if len(rows) > limit else None)


def run_read(row: object) -> RunRead:
    r = row
    return RunRead(
        run_id=r.id,  # type: ignore[attr-defined]
        month=r.month,  # type: ignore[attr-defined]
        as_of=r.as_of,  # type: ignore[attr-defined]
        status="finished" if r.finished_at else "running",  # type: ignore[attr-defined]
        entities=r.entities,  # type: ignore[attr-defined]
        class_counts=r.class_counts,  # type: ignore[attr-defined]
        changed=r.changed,  # type: ignore[attr-defined]
        psi_classes=r.psi_classes,  # type: ignore[attr-defined]
        psi_indicators=(r.psi_indicators or {}).get("psi", {}),  # type: ignore[attr-defined]
    )


def list_runs(session: Session) -> list[RunRead]:
    rows = session.execute(select(class_runs).order_by(class_runs.c.as_of.desc())).all()
    return [run_read(r) for r in rows]
