from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query

from services.scoring.warnings import service
from services.scoring.warnings.schemas import (
    RuleRead,
    RuleUpdate,
    WarningActionCreate,
    WarningClose,
    WarningPage,
    WarningRead,
)
from shared.access import CreditOfficer
from shared.app import OutboxDep, SessionDep

router = APIRouter(prefix="/v1/warnings", tags=["warnings · 监测预警"])

WarningId = Annotated[str, Path(max_length=36)]


# The rules routes come first: "/rules" must not be taken for a warning id.
@router.get("/rules", response_model=list[RuleRead], summary="The warning rules and thresholds")
def read_rules(session: SessionDep, principal: CreditOfficer) -> list[RuleRead]:
    return service.list_rules(session)


@router.put(
    "/rules/{rule_id}",
    response_model=RuleRead,
    summary="Change a rule (province-level credit officers; audited)",
)
def update_rule(
    rule_id: Annotated[str, Path(max_length=40)],
    body: RuleUpdate,
    session: SessionDep,
    principal: CreditOfficer,
) -> RuleRead:
    return service.update_rule(session, rule_id=rule_id, body=body, principal=principal)


@router.get("", response_model=WarningPage, summary="Warnings in jurisdiction, newest first")
def list_warnings(
    session: SessionDep,
    principal: CreditOfficer,
    status: Annotated[
        Literal["raised", "actioned", "closed", "open"] | None,
        Query(description="open = raised or actioned"),
    ] = None,
    rule: Annotated[str | None, Query(max_length=40, description="rule id")] = None,
    region: Annotated[
        str | None, Query(pattern=r"^\d{2,6}$", description="GB/T 2260 code or prefix")
    ] = None,
    code: Annotated[str | None, Query(max_length=40)] = None,
    after: Annotated[
        str | None, Query(max_length=36, description="next_after of the previous page")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> WarningPage:
    f = service.WarningFilter(status=status, rule=rule, region=region, code=code)
    return service.list_warnings(session, principal=principal, f=f, after=after, limit=limit)


@router.get("/{warning_id}", response_model=WarningRead, summary="Read one warning")
def read_warning(
    warning_id: WarningId, session: SessionDep, principal: CreditOfficer
) -> WarningRead:
    return service.get_warning(session, warning_id=warning_id, principal=principal)


@router.post(
    "/{warning_id}/action",
    response_model=WarningRead,
    summary="Act on a raised warning (提醒/警示/约谈/检查)",
)
def action_warning(
    warning_id: WarningId,
    body: WarningActionCreate,
    session: SessionDep,
    outbox: OutboxDep,
    principal: CreditOfficer,
) -> WarningRead:
    return service.action_warning(
        session, outbox, warning_id=warning_id, body=body, principal=principal
    )


@router.post("/{warning_id}/close", response_model=WarningRead, summary="Close an actioned warning")
def close_warning(
    warning_id: WarningId,
    body: WarningClose,
    session: SessionDep,
    outbox: OutboxDep,
    principal: CreditOfficer,
) -> WarningRead:
    return service.close_warning(
        session, outbox, warning_id=warning_id, body=body, principal=principal
    )
