"""National export (全量推送/上报国家级) of current classes: province-level credit officers
and admins only, the caller's jurisdiction, streamed as CSV, audited with its row count."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from starlette.background import BackgroundTask

from services.scoring.exports import service
from shared.access import CreditOfficer
from shared.auth import ensure_province_level

router = APIRouter(prefix="/v1/exports", tags=["exports · 全量推送/上报"])


@router.get(
    "/classes",
    response_class=StreamingResponse,
    summary="Current classes of your jurisdiction as CSV (see EXPORT.md)",
    responses={
        200: {
            "content": {"text/csv": {}},
            "description": "CSV; X-Row-Count gives the number of data rows",
        }
    },
)
def export_classes(request: Request, principal: CreditOfficer) -> StreamingResponse:
    ensure_province_level(principal)
    runtime = request.app.state.runtime
    export = service.open_export(runtime.engine, runtime.sessions, principal)
    filename = f"entity-classes-{export.scope}-{date.today():%Y%m%d}.csv"
    return StreamingResponse(
        export.chunks,
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
            "X-Row-Count": str(export.rows),
            "X-Region-Prefix": export.scope,
            "X-Audit-Seq": str(export.audit_seq),
            "X-Export-Format": service.FORMAT,
        },
        # Returns the snapshot's connection even if the stream never starts.
        background=BackgroundTask(export.close),
    )
