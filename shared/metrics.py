"""Prometheus metrics: ASGI middleware labelled by route template (not raw path, so ids
do not explode cardinality), a per-service prefix, base units; outbox backlog and
consumer lag."""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import cache

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send


@dataclass(frozen=True)
class ServiceMetrics:
    requests: Counter
    latency: Histogram
    events_relayed: Counter
    outbox_backlog: Gauge
    outbox_purged: Counter
    events_consumed: Counter
    events_dead_lettered: Counter
    consumer_lag: Gauge
    consumer_batch_seconds: Histogram
    resync_state: Gauge
    resync_items: Gauge
    resync_checks: Counter


@cache
def service_metrics(service: str) -> ServiceMetrics:
    """One set per service per process (the default registry refuses duplicates)."""
    p = service
    return ServiceMetrics(
        requests=Counter(
            f"{p}_http_requests_total", "HTTP requests", ["method", "route", "status"]
        ),
        latency=Histogram(
            f"{p}_http_request_duration_seconds",
            "HTTP request latency",
            ["method", "route"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        ),
        events_relayed=Counter(
            f"{p}_outbox_events_relayed_total", "Outbox events published to Kafka"
        ),
        outbox_backlog=Gauge(f"{p}_outbox_backlog", "Outbox events not yet published"),
        outbox_purged=Counter(
            f"{p}_outbox_purged_total", "Published outbox events deleted after their retention"
        ),
        events_consumed=Counter(
            f"{p}_events_consumed_total", "Events applied from Kafka", ["consumer", "outcome"]
        ),
        events_dead_lettered=Counter(
            f"{p}_events_dead_lettered_total", "Events sent to a dead-letter topic", ["consumer"]
        ),
        consumer_lag=Gauge(f"{p}_consumer_lag", "Messages behind the partition end", ["consumer"]),
        # How long one batch's transaction holds the store: on SQLite, the write lock the
        # relay and the requests of the same service wait for.
        consumer_batch_seconds=Histogram(
            f"{p}_consumer_batch_seconds",
            "Duration of one consumed batch's transaction",
            ["consumer"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
        ),
        # shared.resync: a projection compared with its owner's state (counts only).
        resync_state=Gauge(
            f"{p}_resync_state",
            "Projection against its owner: 0 in sync, 1 behind, 2 incomplete, 3 ahead, -1 unknown",
            ["stream"],
        ),
        resync_items=Gauge(
            f"{p}_resync_items", "Items of a stream held here and by its owner", ["stream", "side"]
        ),
        resync_checks=Counter(
            f"{p}_resync_checks_total", "Projection checks against the owner", ["stream", "state"]
        ),
    )


@dataclass(frozen=True)
class ComponentMetrics:
    """Background loops' health, what an alert watches: ``up`` 0 while the relay or a
    consumer is failing, failures by error kind, recoveries, and logs a consumer found
    replaced under it (a topic recreated, a broker that lost its log)."""

    up: Gauge
    failures: Counter
    restarts: Counter
    logs_replaced: Counter
    assigned_partitions: Gauge
    items: Counter
    backlog: Gauge


@cache
def component_metrics(service: str) -> ComponentMetrics:
    p = service
    return ComponentMetrics(
        up=Gauge(
            f"{p}_component_up", "1 while the component works, 0 while it fails", ["component"]
        ),
        failures=Counter(
            f"{p}_component_failures_total", "Failed rounds of a component", ["component", "error"]
        ),
        restarts=Counter(
            f"{p}_component_restarts_total",
            "Recoveries of a component after failures",
            ["component"],
        ),
        logs_replaced=Counter(
            f"{p}_consumer_logs_replaced_total",
            "Topics found recreated under a consumer, re-read from their start",
            ["consumer", "topic"],
        ),
        assigned_partitions=Gauge(
            f"{p}_consumer_assigned_partitions",
            "Partitions the consumer holds in its group (0 while it joins or is stopped)",
            ["consumer"],
        ),
        # A worker's throughput and what waits for it (scoring's reclassifier: entities
        # scored, entities marked and not scored yet).
        items=Counter(
            f"{p}_component_items_total", "Items a background worker has done", ["component"]
        ),
        backlog=Gauge(
            f"{p}_component_backlog", "Items waiting for a background worker", ["component"]
        ),
    )


def _route_template(scope: Scope) -> str:
    """The matched route's path template. The router records the route it picked in the
    scope (FastAPI includes routers lazily, so the app's own route list holds no /v1
    paths to match against)."""
    route = scope.get("route")
    return getattr(route, "path_format", None) or getattr(route, "path", None) or "unmatched"


class MetricsMiddleware:
    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.metrics = service_metrics(service)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500
        start = time.perf_counter()

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = _route_template(scope)
            method = scope.get("method", "GET")
            self.metrics.latency.labels(method, route).observe(time.perf_counter() - start)
            self.metrics.requests.labels(method, route, str(status)).inc()


def metrics_response(_request: Request) -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
