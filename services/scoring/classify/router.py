"""Classes (INTERNAL, 内部参考), their history and explanation, and the monthly runs."""

from __future__ import annotations

import logging
import threading
from typing import Annotated

from fastapi import APIRouter, Query, Request
from sqlalchemy import select

from services.scoring.audit import log as audit
from services.scoring.classify import service
from services.scoring.classify.full_run import check_can_run, run_monthly
from services.scoring.classify.schemas import (
    ClassHistoryEntry,
    ClassPage,
    EntityClassRead,
    RunRead,
    RunRequest,
)
from services.scoring.models import class_runs
from shared.access import CreditOfficer
from shared.app import SessionDep
from shared.auth import ensure_province_level, region_prefix
from shared.errors import AppError, InternalFailure, NotFound

log = logging.getLogger(__name__)
router = APIRouter(prefix="/v1", tags=["classes · 信用风险分类 (内部参考)"])


@router.get(
    "/classes/{code}", response_model=EntityClassRead, summary="An entity's class, explained"
)
def read_class(code: str, session: SessionDep, principal: CreditOfficer) -> EntityClassRead:
    return service.read_class(session, code, principal)


@router.get(
    "/classes/{code}/history", response_model=list[ClassHistoryEntry], summary="Dated classes"
)
def read_history(
    code: str, session: SessionDep, principal: CreditOfficer
) -> list[ClassHistoryEntry]:
    return service.read_history(session, code, principal)


@router.get("/classes", response_model=ClassPage, summary="Classes in jurisdiction (paged)")
def list_classes(
    session: SessionDep,
    principal: CreditOfficer,
    region: Annotated[str | None, Query(pattern=r"^\d{2,6}$")] = None,
    risk_class: Annotated[str | None, Query(pattern=r"^[ABCD]$")] = None,
    after: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> ClassPage:
    return service.list_classes(
        session,
        principal,
        region=region_prefix(region) if region else None,
        risk_class=risk_class,
        after=after,
        limit=limit,
    )


@router.get("/runs", response_model=list[RunRead], summary="Monthly runs and their stability")
def list_runs(session: SessionDep, principal: CreditOfficer) -> list[RunRead]:
    return service.list_runs(session)


@router.post("/runs", response_model=RunRead, status_code=202, summary="Start the monthly full run")
def start_run(
    body: RunRequest, request: Request, session: SessionDep, principal: CreditOfficer
) -> RunRead:
    """Runs in the background (a million entities take about a minute); poll GET /v1/runs."""
    ensure_province_level(principal)
    check_can_run(session, body.month, replace_newer=body.replace_newer)
    as_of = body.resolved_as_of()
    audit.record(
        session,
        principal,
        "start_monthly_run",
        body.month,
        {"as_of": str(as_of), "replace_newer": body.replace_newer},
    )
    session.commit()
    runtime = request.app.state.runtime
    started = threading.Event()
    failed: list[BaseException] = []

    def work() -> None:
        try:
            run_monthly(
                runtime.sessions,
                runtime.outbox,
                month=body.month,
                as_of=as_of,
                replace_newer=body.replace_newer,
                progress=lambda step: started.set() if step == "started" else None,
            )
        except BaseException as e:  # the thread's end: nobody else would see it
            failed.append(e)
            # The kind and message only: a run's failure is no place for an entity's class.
            log.error("monthly run %s failed: %s: %s", body.month, type(e).__name__, e)
        finally:
            started.set()

    worker = threading.Thread(target=work, name=f"monthly-run-{body.month}", daemon=True)
    worker.start()
    started.wait(timeout=30)  # until the run row exists (or it failed), so GET shows it
    row = session.execute(select(class_runs).where(class_runs.c.month == body.month)).first()
    if row is None:
        # The run failed and removed its row (a failure after 'started' may not be in
        # `failed` yet): wait for the thread to finish telling why.
        worker.join(timeout=30)
    if failed:  # the run row is gone either way
        if isinstance(failed[0], AppError):
            raise failed[0]  # refused (409)
        raise InternalFailure(
            "月度分类运行失败，原因已写入服务日志", message_en="the monthly run failed; see the log"
        )
    if row is None:
        raise NotFound("月度分类未能启动", message_en="the run did not start", field="month")
    return service.run_read(row)
