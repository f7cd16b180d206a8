"""One JSON error format for every service: {"error": {"code", "message", "message_en",
"field"?, "details"?}}. Expected conditions are 4xx; bad input is never a 500."""

from __future__ import annotations

import logging
import math
import re
import sqlite3
from http import HTTPStatus
from typing import Any

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.db import STORE_ERRORS, is_lock_wait
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


class InternalFailure(AppError):
    """A failure the caller cannot fix, told as such; the cause goes to the log, not the answer."""

    status_code = 500
    code = "internal_error"


class FieldError(BaseModel):
    field: str | None
    message: str
    message_en: str


class ErrorDetail(BaseModel):
    code: str = Field(description="machine code, e.g. invalid_input, forbidden, not_found")
    message: str = Field(description="中文说明")
    message_en: str
    field: str | None = Field(None, description="the field at fault, when there is one")
    details: Any = Field(None, description="invalid_input: every field problem")


class ErrorResponse(BaseModel):
    """The one error body of every service."""

    error: ErrorDetail


_STATUS_ZH = {
    400: "请求体无法解析",
    401: "未登录或令牌无效",
    403: "无权操作或对象不在辖区内",
    404: "对象不存在",
    409: "与现有数据冲突",
    422: "输入无效（error.field 指明字段）",
    503: "服务暂不可用，请稍后重试",
}


# Starlette's own answers (no route, wrong method, a body that is not JSON), in Chinese.
_HTTP_ZH = {400: _STATUS_ZH[400], 404: "路径不存在", 405: "不支持该请求方法"}


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for the error statuses a route may answer, all with
    ``ErrorResponse``: callers (and the fuzz run's status check) see them declared."""
    return {
        code: {
            "model": ErrorResponse,
            "description": f"{_STATUS_ZH.get(code, '')} ({HTTPStatus(code).phrase})",
        }
        for code in codes
    }


# What any /v1 route may answer besides its own success (503: the store is locked or
# unreachable, see store_unavailable).
API_ERRORS = error_responses(400, 401, 403, 404, 409, 422, 503)


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
    if loc and loc[0] == "body" and all(isinstance(p, int) for p in loc[1:]):
        return "body"  # a JSON syntax error: FastAPI puts the character offset after "body"
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or ".".join(str(p) for p in loc)


def invalid_input_response(exc: RequestValidationError | ValidationError) -> JSONResponse:
    """422 naming the first bad field, with every problem in ``details``."""
    errors = [
        {"field": _field_path(tuple(e.get("loc", ()))), "message": p.zh, "message_en": p.en}
        for e, p in zip(exc.errors(), problems_of(exc), strict=True)
    ]
    first = errors[0] if errors else {"field": None, "message": "输入无效", "message_en": "invalid"}
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


def allowed_methods(app: FastAPI, path: str) -> list[str]:
    """Every method the API declares for ``path``. The router's own 405 names only the
    first route that matched the path (GET of /v1/entities, not its POST)."""
    table = getattr(app.state, "allowed_methods", None)
    if table is None:
        table = [
            (re.compile("[^/]+".join(map(re.escape, re.split(r"\{[^/}]+\}", template)))), ops)
            for template, ops in app.openapi().get("paths", {}).items()
        ]
        app.state.allowed_methods = table
    return sorted({m.upper() for pattern, ops in table if pattern.fullmatch(path) for m in ops})


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
        return invalid_input_response(exc)

    # A model validated inside a service (a PATCH merged onto the stored object, say) is
    # bad input too, never a 500.
    @app.exception_handler(ValidationError)
    async def _model_validation(_req: Request, exc: ValidationError) -> JSONResponse:
        return invalid_input_response(exc)

    @app.exception_handler(StarletteHTTPException)
    async def _http(req: Request, exc: StarletteHTTPException) -> JSONResponse:
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(allowed_methods(req.app, req.url.path))
        message = _HTTP_ZH.get(exc.status_code, str(exc.detail))
        return JSONResponse(
            error_body(f"http_{exc.status_code}", message, str(exc.detail)),
            status_code=exc.status_code,
            headers=headers or None,
        )

    for store_error in STORE_ERRORS:
        app.add_exception_handler(store_error, _store_error)

    @app.exception_handler(Exception)
    async def _unexpected(_req: Request, exc: Exception) -> JSONResponse:
        return internal_error(exc)


def internal_error(exc: Exception) -> JSONResponse:
    # The message stays generic: internals (and any class or score) must not leak.
    log.error("unhandled error: %s", type(exc).__name__, exc_info=exc)
    return JSONResponse(
        error_body("internal_error", "服务器内部错误", "internal server error"), status_code=500
    )


def store_unavailable(exc: Exception) -> bool:
    """Whether ``exc`` says the store could not be had in time (locked, busy, connection
    refused or lost, pool exhausted), which the caller may retry, rather than a fault of
    ours (an SQL or constraint error the code did not expect)."""
    if isinstance(exc, PoolTimeout):
        return True
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return True
        exc = exc.orig if isinstance(exc.orig, Exception) else exc
    if isinstance(exc, psycopg.OperationalError):  # connection, lock_timeout, cancel
        return True
    if isinstance(exc, sqlite3.OperationalError):  # also "no such table": only these
        return is_lock_wait(exc) or "unable to open" in str(exc).lower()
    return False


async def _store_error(req: Request, exc: Exception) -> JSONResponse:
    """503 with Retry-After for a store that is locked or down; a 500 for anything else the
    driver raised (a bug of ours: constraint or SQL errors the services did not expect).
    Retry-After is one request's own wait for the store (store_wait_s, rounded up)."""
    if not store_unavailable(exc):
        return internal_error(exc)
    log.warning("store unavailable: %s", type(exc).__name__)
    return JSONResponse(
        error_body(
            "store_unavailable",
            "数据库繁忙或无法连接，请稍后重试",
            "the store is busy or unreachable; retry later",
        ),
        status_code=503,
        headers={"Retry-After": str(math.ceil(req.app.state.settings.store_wait_s))},
    )
