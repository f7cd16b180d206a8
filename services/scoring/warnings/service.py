"""The warnings API's logic: every read and transition is limited to the caller's
jurisdiction (the warning's region_code); a warning outside it is answered exactly as a
missing one, so its existence is not revealed. Rules are read by any credit officer and
changed only at province level, each change recorded in the audit log."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Row, Select, select, update
from sqlalchemy.orm import Session

from services.scoring.models import entity_projection, warning_rules, warnings
from services.scoring.warnings import lifecycle
from services.scoring.warnings import rules as R
from services.scoring.warnings.schemas import (
    RuleRead,
    RuleUpdate,
    WarningActionCreate,
    WarningClose,
    WarningPage,
    WarningRead,
)
from shared.auth import Principal, ensure_province_level, region_prefix
from shared.credit_code import fold_code
from shared.errors import InvalidInput, NotFound
from shared.outbox import Outbox
from shared.validation import problems_of

OPEN = "open"  # list filter: raised or actioned


@dataclass(frozen=True)
class WarningFilter:
    status: str | None = None
    rule: str | None = None
    region: str | None = None
    code: str | None = None


def _query() -> Select[Any]:
    return select(warnings, entity_projection.c.name.label("entity_name")).outerjoin(
        entity_projection, entity_projection.c.code == warnings.c.code
    )


def _in_jurisdiction(query: Select[Any], principal: Principal) -> Select[Any]:
    return query.where(warnings.c.region_code.startswith(principal.region_prefix, autoescape=True))


def list_warnings(
    session: Session, *, principal: Principal, f: WarningFilter, after: str | None, limit: int
) -> WarningPage:
    """Newest first; keyset pagination on the (time-ordered) warning id."""
    query = _in_jurisdiction(_query(), principal)
    if f.status == OPEN:
        query = query.where(warnings.c.status != lifecycle.CLOSED)
    elif f.status:
        query = query.where(warnings.c.status == f.status)
    if f.rule:
        if f.rule not in R.shipped_rules():
            raise InvalidInput(
                f"未知的预警规则“{f.rule}”，可选: {'、'.join(R.shipped_rules())}",
                message_en=f"unknown rule {f.rule}",
                field="rule",
            )
        query = query.where(warnings.c.rule_id == f.rule)
    if f.region:
        query = query.where(
            warnings.c.region_code.startswith(region_prefix(f.region), autoescape=True)
        )
    if f.code:
        query = query.where(warnings.c.code == fold_code(f.code))
    if after:
        query = query.where(warnings.c.warning_id < after)
    rows = session.execute(query.order_by(warnings.c.warning_id.desc()).limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    return WarningPage(
        items=[to_read(r, principal) for r in rows],
        next_after=rows[-1].warning_id if more and rows else None,
    )


def _row(
    session: Session, warning_id: str, principal: Principal, *, lock: bool = False
) -> Row[Any]:
    query = _query().where(warnings.c.warning_id == warning_id.strip().lower())
    if lock and session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(of=warnings)
    row = session.execute(query).first()
    if row is None or not principal.covers(row.region_code):
        raise NotFound(
            f"未找到预警 {warning_id}",
            message_en=f"no warning {warning_id}",
            field="warning_id",
        )
    return row


def get_warning(session: Session, *, warning_id: str, principal: Principal) -> WarningRead:
    return to_read(_row(session, warning_id, principal), principal)


def action_warning(
    session: Session,
    outbox: Outbox,
    *,
    warning_id: str,
    body: WarningActionCreate,
    principal: Principal,
) -> WarningRead:
    row = _row(session, warning_id, principal, lock=True)
    lifecycle.act(session, outbox, row, action=body.action, by=principal.subject, note=body.note)
    return get_warning(session, warning_id=warning_id, principal=principal)


def close_warning(
    session: Session, outbox: Outbox, *, warning_id: str, body: WarningClose, principal: Principal
) -> WarningRead:
    row = _row(session, warning_id, principal, lock=True)
    lifecycle.close(session, outbox, row, by=principal.subject, note=body.note)
    return get_warning(session, warning_id=warning_id, principal=principal)


def to_read(row: Row[Any], principal: Principal) -> WarningRead:
    details = dict(row.details or {})
    notes = details.get("notes", {})
    return WarningRead(
        warning_id=row.warning_id,
        code=row.code,
        entity_name=row.entity_name,
        rule_id=row.rule_id,
        rule_name=R.rule_name(row.rule_id),
        status=row.status,
        status_zh=lifecycle.STATUS_ZH.get(row.status, row.status),
        region_code=row.region_code,
        summary=str(details.get("summary", "")),
        summary_en=str(details.get("summary_en", "")),
        details=shown_details(details, principal),
        raised_on=row.raised_on,
        raised_at=row.raised_at,
        action=row.action,
        action_zh=lifecycle.ACTIONS.get(row.action) if row.action else None,
        actioned_by=row.actioned_by,
        actioned_at=row.actioned_at,
        action_note=notes.get(lifecycle.ACTIONED),
        closed_by=row.closed_by,
        closed_at=row.closed_at,
        close_note=notes.get(lifecycle.CLOSED),
    )


# Bookkeeping kept in details that is not evidence.
_NOT_SHOWN = ("basis", "summary", "summary_en", "notes")


def shown_details(details: dict[str, Any], principal: Principal) -> dict[str, Any]:
    """The evidence as the caller may see it: other entities outside the caller's
    jurisdiction are counted, not named (that one of them is high-risk is itself
    internal to its own jurisdiction)."""
    out = {k: v for k, v in details.items() if k not in _NOT_SHOWN}
    for key in ("peers", "links"):
        if isinstance(out.get(key), list):
            out[key], out[f"{key}_outside_jurisdiction"] = _visible(out[key], principal)
    if isinstance(out.get("clusters"), list):
        clusters = []
        for cluster in out["clusters"]:
            c = dict(cluster)
            c["peers"], c["peers_outside_jurisdiction"] = _visible(c.get("peers", []), principal)
            clusters.append(c)
        out["clusters"] = clusters
    return out


def _visible(refs: list[Any], principal: Principal) -> tuple[list[Any], int]:
    shown = [r for r in refs if isinstance(r, dict) and principal.covers(r.get("region_code"))]
    return shown, len(refs) - len(shown)


# rules ---------------------------------------------------------------------------


def list_rules(session: Session) -> list[RuleRead]:
    return [_rule_read(rule) for rule in R.current_rules(session).values()]


def _rule_read(rule: R.Rule) -> RuleRead:
    s = rule.shipped
    return RuleRead(
        rule_id=s.rule_id,
        name=s.name,
        name_en=s.name_en,
        description=s.description,
        description_en=s.description_en,
        enabled=rule.enabled,
        params=rule.params.model_dump(),
        updated_at=rule.updated_at,
        updated_by=rule.updated_by,
    )


def update_rule(
    session: Session, *, rule_id: str, body: RuleUpdate, principal: Principal
) -> RuleRead:
    ensure_province_level(principal)
    rules = R.current_rules(session)  # seeds the row if missing
    if rule_id not in rules:
        raise NotFound(
            f"未知的预警规则 {rule_id}", message_en=f"no rule {rule_id}", field="rule_id"
        )
    try:
        params = R.PARAMS_MODELS[rule_id].model_validate(body.params)
    except ValidationError as exc:
        problems = problems_of(exc)
        first = problems[0]
        raise InvalidInput(
            f"params.{first.field}: {first.zh}",
            message_en=f"params.{first.field}: {first.en}",
            field=f"params.{first.field}",
            details=[
                {"field": f"params.{p.field}", "message": p.zh, "message_en": p.en}
                for p in problems
            ],
        ) from exc
    before = rules[rule_id]
    session.execute(
        update(warning_rules)
        .where(warning_rules.c.rule_id == rule_id)
        .values(
            enabled=body.enabled,
            params=params.model_dump(),
            updated_at=datetime.now(UTC),
            updated_by=principal.subject,
        )
    )
    R.forget_cached_rules(session)
    after = R.current_rules(session)[rule_id]
    # Last in the transaction: on PostgreSQL the audit append lock is held until commit.
    _audit(
        session,
        principal,
        rule_id,
        {
            "before": {"enabled": before.enabled, "params": before.params.model_dump()},
            "after": {"enabled": after.enabled, "params": after.params.model_dump()},
        },
    )
    return _rule_read(after)


def _audit(session: Session, principal: Principal, rule_id: str, details: dict[str, Any]) -> None:
    # Imported when used: the audit log is its own module, written alongside this one.
    log = importlib.import_module("services.scoring.audit.log")
    log.record(session, principal, "warning_rule.update", f"warning_rule:{rule_id}", details)
