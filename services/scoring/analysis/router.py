"""Regional and industry risk analysis (区域性、行业性风险研判) for credit officers, within
their jurisdiction; every read is audited."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from services.scoring.analysis import service
from services.scoring.analysis.schemas import By, Distribution, Hotspots
from services.scoring.audit.deps import AuditSessions
from shared.access import CreditOfficer
from shared.app import SessionDep
from shared.validation import StoredCount, StoredId

router = APIRouter(prefix="/v1/analysis", tags=["analysis · 区域性、行业性风险研判"])

RegionQ = Annotated[
    str | None,
    Query(
        max_length=6,
        description="GB/T 2260 code or 2/4-digit prefix of the area (default: your jurisdiction)",
    ),
]
LevelQ = Annotated[
    StoredCount | None,
    Query(
        description="region: prefix length 2, 4 or 6 (default: one level below the area); "
        "industry: 1 (门类 section), 2, 3 or 4 digits of the GB/T 4754 code (default 2)",
    ),
]


@router.get(
    "/distribution",
    response_model=Distribution,
    summary="Class counts and shares per region or industry, with the month-on-month change",
)
def distribution(
    session: SessionDep,
    audit_sessions: AuditSessions,
    principal: CreditOfficer,
    by: By = "region",
    region: RegionQ = None,
    level: LevelQ = None,
) -> Distribution:
    return service.distribution(
        session, audit_sessions, principal, by=by, region=region, level=level
    )


@router.get(
    "/hotspots",
    response_model=Hotspots,
    summary="Groups with the highest share of classes C+D",
)
def hotspots(
    session: SessionDep,
    audit_sessions: AuditSessions,
    principal: CreditOfficer,
    by: By = "region",
    region: RegionQ = None,
    level: LevelQ = None,
    top: Annotated[int, Query(ge=1, le=100)] = 10,
    min_size: Annotated[
        StoredId, Query(description="groups with fewer classified entities are left out")
    ] = 30,
) -> Hotspots:
    return service.hotspots(
        session,
        audit_sessions,
        principal,
        by=by,
        region=region,
        level=level,
        top=top,
        min_size=min_size,
    )
