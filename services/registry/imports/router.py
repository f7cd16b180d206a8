"""HTTP import for other systems and officers' uploads. The upload is spooled to disk by
the server and read as a stream, so memory stays flat; the answer carries the counts and
the first rejected rows (the CLI writes the full report for files of millions of rows).
An officer imports only within the jurisdiction the token carries: other rows are
rejected like invalid ones."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from services.registry.deps import Writer
from services.registry.imports.importer import run_import
from services.registry.imports.readers import guess_format
from shared.errors import InvalidInput
from shared.runtime import ServiceRuntime

router = APIRouter(prefix="/v1/imports", tags=["imports · 批量导入"])


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


@router.post("/{kind}", response_model=ImportResult, summary="Import a CSV or JSON Lines file")
async def import_upload(
    kind: Literal["entities", "records", "inspectors"],
    request: Request,
    principal: Writer,
    file: Annotated[UploadFile, File(description=".csv or .jsonl, see FORMAT.md")],
) -> Any:
    try:
        fmt = guess_format(file.filename or "")
    except ValueError as e:
        raise InvalidInput("文件应为 .csv 或 .jsonl", message_en=str(e), field="file") from e
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
    return ImportResult(**report.summary(), errors=[RowErrorRead(**vars(e)) for e in report.errors])
