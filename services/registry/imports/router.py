"""HTTP import for other systems and officers' uploads. The upload is spooled to disk by
the server and read as a stream, so memory stays flat; the answer carries the counts and
the first rejected rows (the CLI writes the full report for files of millions of rows).
An officer imports only within the jurisdiction the token carries: other rows are
rejected like invalid ones."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Query, Request, Response, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.registry.imports.importer import csv_report, run_import
from services.registry.imports.jobs import JOBS, ImportJobs, job_errors
from services.registry.imports.readers import Format, guess_format
from shared.access import DirectoryWriter
from shared.app import SessionDep
from shared.auth import Principal
from shared.errors import InvalidInput, NotFound
from shared.runtime import ServiceRuntime

router = APIRouter(prefix="/v1/imports", tags=["imports · 批量导入"])
jobs_router = APIRouter(prefix="/v1/import-jobs", tags=["imports · 批量导入"])
KindParam = Literal["entities", "records", "inspectors"]


class RowErrorRead(BaseModel):
    row: int
    field: str
    reason_zh: str
    reason_en: str


class ImportResult(BaseModel):
    kind: str
    rows: int
    created: int
    updated: int
    unchanged: int
    rejected: int
    errors: list[RowErrorRead]
    unreadable: RowErrorRead | None = Field(
        default=None, description="where reading stopped: the rest of the file is not text"
    )


@router.post("/{kind}", response_model=ImportResult, summary="Import a CSV or JSON Lines file")
async def import_upload(
    kind: KindParam,
    request: Request,
    principal: DirectoryWriter,
    file: Annotated[UploadFile, File(description=".csv or .jsonl, see FORMAT.md")],
) -> Any:
    """Imports while the request waits: for files of thousands of rows. Larger files go
    to POST /v1/import-jobs, which answers at once and shows progress."""
    fmt = _format_of(file)
    runtime: ServiceRuntime = request.app.state.runtime
    report = await run_in_threadpool(
        run_import,
        runtime.sessions,
        runtime.outbox,
        kind,
        file.file,
        fmt,
        scope=principal.region_prefix,
    )
    return ImportResult(
        **report.summary(),
        errors=[RowErrorRead(**vars(e)) for e in report.errors],
        unreadable=RowErrorRead(**vars(report.unreadable)) if report.unreadable else None,
    )


def _format_of(file: UploadFile) -> Format:
    try:
        return guess_format(file.filename or "")
    except ValueError as e:
        raise InvalidInput("文件应为 .csv 或 .jsonl", message_en=str(e), field="file") from e


class ImportJobRead(BaseModel):
    id: str
    kind: str
    filename: str
    status: Literal["queued", "running", "done", "failed"]
    submitted_by: str
    submitted_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    progress: float  # share of the file read, 0–1
    rows: int
    created: int
    updated: int
    unchanged: int
    rejected: int
    failure_zh: str | None
    failure_en: str | None
    errors_url: str


def _job_read(row: Any) -> ImportJobRead:
    done = row.status == "done" or not row.bytes_total
    return ImportJobRead(
        **{k: getattr(row, k) for k in ImportJobRead.model_fields if hasattr(row, k)},
        progress=1.0 if done else round(min(row.bytes_read / row.bytes_total, 1.0), 4),
        errors_url=f"/v1/import-jobs/{row.id}/errors",
    )


def _visible_job(session: Session, principal: Principal, job_id: str) -> Any:
    """The job, if it lies in the principal's jurisdiction (else 404, as if absent)."""
    row = session.execute(select(JOBS).where(JOBS.c.id == job_id)).first()
    if row is None or not row.scope.startswith(principal.region_prefix):
        raise NotFound("没有这个导入任务", message_en="no such import job", field="job_id")
    return row


@jobs_router.post(
    "",
    response_model=ImportJobRead,
    status_code=202,
    summary="Upload a file to import in the background",
)
async def submit_import_job(
    request: Request,
    response: Response,
    principal: DirectoryWriter,
    kind: Annotated[KindParam, Form(description="entities, records or inspectors")],
    file: Annotated[UploadFile, File(description=".csv or .jsonl, see FORMAT.md")],
) -> Any:
    """Answers at once with the queued job; poll its URL for progress and counts, and
    download every rejected row from ``errors_url``. Rows outside the jurisdiction of
    the token are rejected, as in POST /v1/imports/{kind}."""
    fmt = _format_of(file)
    jobs: ImportJobs = request.app.state.import_jobs
    job_id = await run_in_threadpool(
        jobs.submit, kind, file.filename or f"upload.{fmt}", file.file, principal
    )
    response.headers["Location"] = f"/v1/import-jobs/{job_id}"
    runtime: ServiceRuntime = request.app.state.runtime
    with runtime.sessions() as session:
        return _job_read(_visible_job(session, principal, job_id))


@jobs_router.get("", response_model=list[ImportJobRead], summary="Recent import jobs")
def list_import_jobs(
    session: SessionDep,
    principal: DirectoryWriter,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Any:
    """The newest jobs in the caller's jurisdiction first."""
    rows = session.execute(
        select(JOBS)
        .where(JOBS.c.scope.startswith(principal.region_prefix, autoescape=True))
        .order_by(JOBS.c.submitted_at.desc())
        .limit(limit)
    )
    return [_job_read(r) for r in rows]


@jobs_router.get("/{job_id}", response_model=ImportJobRead, summary="An import job's progress")
def get_import_job(job_id: str, session: SessionDep, principal: DirectoryWriter) -> Any:
    return _job_read(_visible_job(session, principal, job_id))


@jobs_router.get(
    "/{job_id}/errors",
    summary="Every rejected row of an import job (CSV)",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}}},
)
def import_job_errors(
    job_id: str, request: Request, principal: DirectoryWriter
) -> StreamingResponse:
    """Row number, field and reason in Chinese and English, UTF-8 with a byte-order mark
    so that spreadsheet programs show the Chinese."""
    runtime: ServiceRuntime = request.app.state.runtime
    with runtime.sessions() as session:
        _visible_job(session, principal, job_id)

    def lines() -> Iterator[str]:
        buffer = io.StringIO()
        buffer.write("\ufeff")
        write = csv_report(buffer)
        with runtime.sessions() as session:
            for err in job_errors(session, job_id):
                write(err)
                if buffer.tell() > 1 << 16:
                    yield buffer.getvalue()
                    buffer.seek(0)
                    buffer.truncate()
        yield buffer.getvalue()

    return StreamingResponse(
        lines(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="import-{job_id}-errors.csv"'},
    )
