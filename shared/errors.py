"""One JSON error format for every service: {"error": {"code", "message", "message_en",
"field"?, "details"?}}. Expected conditions are 4xx; bad input is never a 500."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.validation import problems_of

log = logging.getLogger(__name__)


class AppError(Exception):
    status_code = 400
    code = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        message_en: str | None = None,
        field: str | None = None,
        details: Any = None,
    ) -> None:
        super().__init__(message_en or message)
        self.message = message
        self.message_en = message_en or message
        self.field = field
        self.details = details


class NotFound(AppError):
    status_code = 404
    code = "not_found"


class Conflict(AppError):
    status_code = 409
    code = "conflict"


class InvalidInput(AppError):
    status_code = 422
    code = "invalid_input"


class Unauthorized(AppError):
    status_code = 401
    code = "unauthorized"


class Forbidden(AppError):
    status_code = 403
    code = "forbidden"


def error_body(
    code: str, message: str, message_en: str, field: str | None = None, details: Any = None
) -> dict[str, Any]:
    err: dict[str, Any] = {"code": code, "message": message, "message_en": message_en}
    if field is not None:
        err["field"] = field
    if details is not None:
        err["details"] = details
    return {"error": err}


def _field_path(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or ".".join(str(p) for p in loc)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def _app_error(_req: Request, exc: AppError) -> JSONResponse:
        return JSONResponse(
            error_body(exc.code, exc.message, exc.message_en, exc.field, exc.details),
            status_code=exc.status_code,
            headers={"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(_req: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"field": _field_path(tuple(e.get("loc", ()))), "message": p.zh, "message_en": p.en}
            for e, p in zip(exc.errors(), problems_of(exc), strict=True)
        ]
        first = (
            errors[0] if errors else {"field": None, "message": "输入无效", "message_en": "invalid"}
        )
        return JSONResponse(
            error_body(
                "invalid_input",
                f"{first['field']}: {first['message']}",
                f"{first['field']}: {first['message_en']}",
                first["field"],
                errors,
            ),
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_req: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(
            error_body(f"http_{exc.status_code}", str(exc.detail), str(exc.detail)),
            status_code=exc.status_code,
        )

    @app.exception_handler(Exception)
    async def _unexpected(_req: Request, exc: Exception) -> JSONResponse:
        # The message stays generic: internals (and any class or score) must not leak.
        log.error("unhandled error: %s", type(exc).__name__, exc_info=exc)
        return JSONResponse(
            error_body("internal_error", "服务器内部错误", "internal server error"), status_code=500
        )
