"""HTTP side of resync. An owning service serves each stream's figures (for its
consumers' checks) and starts replays; a consuming service shows and re-runs its checks.
Figures and replays cover the whole province: they need a province-level token."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi import APIRouter, FastAPI, Request, status
from pydantic import BaseModel, Field

from shared.access import Operator, guarded
from shared.app import SessionDep
from shared.auth import Principal, ensure_province_level
from shared.errors import InvalidInput, error_responses
from shared.replay import ReplayJobRead, ReplayJobs, ReplaySource, ReplayStream
from shared.resync import ResyncMonitor, StreamFigures, StreamStatus
from shared.runtime import ServiceRuntime


def figures_router(service: str, streams: list[ReplayStream]) -> APIRouter:
    """``GET /v1/streams/{stream}/figures`` for each stream, under its data's guard."""
    router = APIRouter(prefix="/v1/streams", tags=["resync · 重放与核对"])
    for stream in streams:
        _add_figures_route(router, service, stream)
    return router


def _add_figures_route(router: APIRouter, service: str, stream: ReplayStream) -> None:
    def read_figures(
        session: SessionDep,
        principal: Principal = guarded(stream.guard),  # type: ignore[assignment]
    ) -> StreamFigures:
        ensure_province_level(principal)
        return stream.figures(session)

    router.add_api_route(
        f"/{stream.name}/figures",
        read_figures,
        methods=["GET"],
        response_model=StreamFigures,
        summary=f"Count and version sum of {service}.{stream.name} (for consumers' checks)",
        name=f"figures_{stream.name}",
    )


class ReplayCreate(BaseModel):
    stream: str = Field(description="the stream to publish again, e.g. entities")
    source: ReplaySource = Field(
        "auto",
        description="outbox: rows created since `since`, original ids; snapshot: current "
        "state; auto: the outbox when `since` is within its retention, else a snapshot",
    )
    since: datetime | None = Field(None, description="with a time zone; the outbox's start")


def replay_router(streams: list[ReplayStream]) -> APIRouter:
    router = APIRouter(prefix="/v1/admin/replays", tags=["resync · 重放与核对"])
    names = [s.name for s in streams]

    @router.post(
        "",
        response_model=ReplayJobRead,
        status_code=status.HTTP_202_ACCEPTED,
        summary="Publish a stream again (answers at once; poll the replay for progress)",
        responses=error_responses(409, 422),
    )
    def start_replay(body: ReplayCreate, request: Request, principal: Operator) -> ReplayJobRead:
        ensure_province_level(principal)
        if body.stream not in names:
            raise InvalidInput(
                f"未知的事件流 {body.stream}，可选：{'、'.join(names)}",
                message_en=f"unknown stream {body.stream}; one of {', '.join(names)}",
                field="stream",
            )
        jobs: ReplayJobs = request.app.state.replays
        return jobs.start(body.stream, body.source, body.since)

    @router.get("/{replay_id}", response_model=ReplayJobRead, summary="A replay's progress")
    def read_replay(replay_id: str, request: Request, principal: Operator) -> ReplayJobRead:
        ensure_province_level(principal)
        jobs: ReplayJobs = request.app.state.replays
        return jobs.read(replay_id)

    return router


def resync_router() -> APIRouter:
    """A consumer's view of its projections against their owners."""
    router = APIRouter(prefix="/v1/admin/resync", tags=["resync · 重放与核对"])

    @router.get("", response_model=list[StreamStatus], summary="The last check of each stream")
    def read_resync(request: Request, principal: Operator) -> list[StreamStatus]:
        monitor: ResyncMonitor = request.app.state.resync
        return list(monitor.statuses.values())

    @router.post(
        "/check",
        response_model=list[StreamStatus],
        summary="Check every stream against its owner now",
    )
    def check_now(request: Request, principal: Operator) -> list[StreamStatus]:
        monitor: ResyncMonitor = request.app.state.resync
        return monitor.check()

    return router


def owner_routers(service: str, streams: list[ReplayStream]) -> list[APIRouter]:
    return [figures_router(service, streams), replay_router(streams)]


def serve_replays(app: FastAPI, runtime: ServiceRuntime, streams: list[ReplayStream]) -> None:
    """The replay jobs behind ``replay_router`` (an app built with ``owner_routers``)."""
    retention = timedelta(days=runtime.settings.outbox_retention_days)
    app.state.replays = ReplayJobs(runtime.sessions, runtime.outbox, streams, retention=retention)
