"""The audit log over HTTP: verify the chain, list entries. Province-level credit officers
and admins only: the log spans the whole province."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from services.scoring.audit import log
from services.scoring.audit.schemas import AuditPage, VerifyReport
from shared.access import CreditOfficer
from shared.app import SessionDep
from shared.auth import ensure_province_level
from shared.errors import InvalidInput
from shared.validation import StoredCount, StoredId

router = APIRouter(prefix="/v1/audit", tags=["audit · 审计日志"])


@router.get(
    "/verify",
    response_model=VerifyReport,
    summary="Recompute the hash chain (ok=false names the first bad row)",
)
def verify_chain(
    session: SessionDep,
    principal: CreditOfficer,
    anchor_seq: Annotated[
        StoredId | None, Query(description="seq of a head noted earlier (detects a cut tail)")
    ] = None,
    anchor_hash: Annotated[
        str | None, Query(pattern="^[0-9a-f]{64}$", description="hash of that row")
    ] = None,
) -> VerifyReport:
    ensure_province_level(principal)
    if (anchor_seq is None) != (anchor_hash is None):
        field = "anchor_hash" if anchor_hash is None else "anchor_seq"
        raise InvalidInput(
            "anchor_seq 与 anchor_hash 须同时提供",
            message_en="give both anchor_seq and anchor_hash",
            field=field,
        )
    anchor = (anchor_seq, anchor_hash) if anchor_seq is not None and anchor_hash else None
    return log.verify(session, anchor=anchor)


@router.get("", response_model=AuditPage, summary="Audit entries, oldest first (keyset on seq)")
def list_entries(
    session: SessionDep,
    principal: CreditOfficer,
    after_seq: Annotated[StoredCount, Query(description="next_after_seq of the previous page")] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> AuditPage:
    ensure_province_level(principal)
    return log.list_entries(session, after_seq=after_seq, limit=limit)
