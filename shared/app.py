"""FastAPI application factory shared by the services: error format, metrics middleware,
/healthz, /readyz, /metrics, and a lifespan that migrates the store and starts the relay
and consumers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi_offline import FastAPIOffline
from sqlalchemy.orm import Session

from shared.db import transaction
from shared.errors import API_ERRORS, error_body, error_responses, install_error_handlers
from shared.metrics import MetricsMiddleware, metrics_response
from shared.outbox import Outbox
from shared.runtime import ServiceRuntime

DOCS_ASSETS = "/docs/static"  # Swagger UI's and ReDoc's files


def create_app(
    runtime: ServiceRuntime,
    *,
    title: str,
    description: str,
    routers: Iterable[APIRouter],
    version: str = "1.0.0",
) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime.migrate()
        runtime.start_background()
        try:
            yield
        finally:
            runtime.stop()

    # /docs and /redoc load their scripts and styles from the service (fastapi-offline
    # ships them), never from a CDN: officers' intranets have no internet. No online
    # validator badge either (it would send the spec's address to validator.swagger.io).
    app = FastAPIOffline(
        title=title,
        description=description,
        version=version,
        lifespan=lifespan,
        static_url=DOCS_ASSETS,
        swagger_ui_parameters={"validatorUrl": None},
    )
    app.state.runtime = runtime
    app.state.settings = runtime.settings
    install_error_handlers(app)
    app.add_middleware(MetricsMiddleware, service=runtime.settings.service_name)

    @app.get("/healthz", tags=["ops"], summary="Alive")
    def healthz() -> dict[str, str]:
        return {"status": "ok", "service": runtime.settings.service_name}

    @app.get(
        "/readyz",
        tags=["ops"],
        summary="Store and broker reachable",
        responses=error_responses(503),
    )
    def readyz() -> JSONResponse:
        checks: dict[str, bool | str] = {
            "store": runtime.store_ready(),
            "broker": runtime.broker_ready(),
        }
        ready = all(checks.values())
        for parts in runtime.readiness_parts:  # e.g. "sync.registry.entities": "incomplete"
            for name, (ok, state) in parts().items():
                checks[name] = state
                ready = ready and ok
        if ready:
            return JSONResponse({"status": "ready", "checks": checks})
        return JSONResponse(
            error_body("not_ready", "服务未就绪", "not ready", details=checks), status_code=503
        )

    app.add_api_route(
        "/metrics", metrics_response, methods=["GET"], tags=["ops"], include_in_schema=False
    )
    app.state.routers = list(routers)  # what the access test walks (see shared.access)
    for router in app.state.routers:
        app.include_router(router, responses=API_ERRORS)
    return app


def get_session(request: Request) -> Any:
    """One transaction per request: commits if the handler returns, rolls back on error.
    Service functions only flush; the outbox rows commit with the change."""
    runtime: ServiceRuntime = request.app.state.runtime
    with transaction(runtime.sessions) as session:
        yield session


def get_outbox(request: Request) -> Outbox:
    runtime: ServiceRuntime = request.app.state.runtime
    return runtime.outbox


# scope="function": the commit happens when the handler returns, before the response is
# sent, so a failed commit is an error answer, never a success answer for lost work.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
OutboxDep = Annotated[Outbox, Depends(get_outbox)]
