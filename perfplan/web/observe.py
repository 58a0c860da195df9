"""Seeing that it runs: one log line per request (ids only: method, route, status, time,
request id — never a name, an address or a query string), and Prometheus metrics
(`/metrics`, for admins): request counts and latencies, and the clockwork's figures
read from the database when scraped (`views.status`).

With several `perfplan web` workers each process counts its own requests; set
`PROMETHEUS_MULTIPROC_DIR` to have them added up (prometheus-client's multiprocess mode).
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from views.status import ClockworkStatus, Queue

log = logging.getLogger("perfplan.web")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class Instruments:
    """The app's own metrics, in a registry of its own (an app per test, one per worker)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "perfplan_http_requests_total",
            "HTTP requests answered, by method, route and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "perfplan_http_request_seconds",
            "Time to answer an HTTP request, by method and route",
            ["method", "route"],
            registry=self.registry,
        )


def _route(scope: Scope) -> str:
    """The route's template (`/api/plans/{plan_id}`), never the values a client sent:
    each segment that is a path parameter is named, not shown."""
    if scope.get("route") is None:
        return "unmatched"
    names = {str(value): name for name, value in (scope.get("path_params") or {}).items()}
    segments = str(scope.get("path", "")).split("/")
    return "/".join(f"{{{names[part]}}}" if part in names else part for part in segments)


def _request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"x-request-id":
            given = value.decode("latin-1")
            return given if _REQUEST_ID.match(given) else uuid.uuid4().hex
    return uuid.uuid4().hex


class RequestLog:
    """Times every HTTP request, counts it, and logs one line about it."""

    def __init__(self, app: ASGIApp, instruments: Instruments) -> None:
        self.app = app
        self.instruments = instruments

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started, status = time.perf_counter(), 500
        request_id = _request_id(scope)

        async def noted(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode()),
                ]
            await send(message)

        try:
            await self.app(scope, receive, noted)
        finally:
            self._note(scope, status, time.perf_counter() - started, request_id)

    def _note(self, scope: Scope, status: int, seconds: float, request_id: str) -> None:
        method, route = scope["method"], _route(scope)
        self.instruments.requests.labels(method, route, str(status)).inc()
        self.instruments.latency.labels(method, route).observe(seconds)
        log.info(
            "%s %s %d %.1f ms",
            method,
            route,
            status,
            seconds * 1000,
            extra={
                "request_id": request_id,
                "method": method,
                "route": route,
                "status": status,
                "ms": round(seconds * 1000, 1),
            },
        )


def _gauge(name: str, text: str, value: float, labels: dict[str, str] | None = None) -> Metric:
    family = GaugeMetricFamily(name, text, labels=list(labels or {}))
    family.add_metric(list((labels or {}).values()), value)
    return family


def _age(name: str, text: str, queue: Queue, now: datetime) -> Metric:
    """The age of the queue's oldest row, in seconds."""
    return _gauge(name, text, queue.age_seconds(now))


def _timestamp(value: datetime) -> float:
    return value.timestamp()


class ClockworkCollector(Collector):
    """The clockwork's figures, read when Prometheus scrapes."""

    def __init__(self, read: Callable[[], tuple[ClockworkStatus, datetime]]) -> None:
        self.read = read

    def collect(self) -> Iterator[Metric]:
        status, now = self.read()
        effects, messages = status.effects, status.messages
        yield _gauge("perfplan_outbox_waiting", "Effects not carried out yet", effects.waiting)
        yield _age(
            "perfplan_outbox_oldest_seconds", "Age of the oldest waiting effect", effects, now
        )
        yield _gauge("perfplan_outbox_failed", "Effects that gave up", status.effects_failed)
        yield _gauge("perfplan_messages_queued", "Messages waiting to be sent", messages.waiting)
        yield _age(
            "perfplan_messages_oldest_seconds", "Age of the oldest queued message", messages, now
        )
        yield _gauge(
            "perfplan_messages_retrying", "Queued messages that failed before", status.retrying
        )
        dead = GaugeMetricFamily(
            "perfplan_messages_dead", "Dead letters, by channel", labels=["channel"]
        )
        for channel, count in status.dead_by_channel.items():
            dead.add_metric([channel], count)
        yield dead
        yield _gauge(
            "perfplan_followups_due", "Follow-ups due and not swept yet", status.timers_due
        )
        yield from self._runs(status)

    def _runs(self, status: ClockworkStatus) -> Iterator[Metric]:
        finished = GaugeMetricFamily(
            "perfplan_last_run_timestamp_seconds",
            "When each kind of run last finished",
            labels=["kind"],
        )
        ok = GaugeMetricFamily("perfplan_last_run_ok", "Whether it went well", labels=["kind"])
        took = GaugeMetricFamily("perfplan_last_run_seconds", "How long it took", labels=["kind"])
        for kind, run in status.last.items():
            finished.add_metric([kind], _timestamp(run.finished_at))
            ok.add_metric([kind], 1.0 if run.ok else 0.0)
            took.add_metric([kind], run.seconds)
        yield from (finished, ok, took)


def with_clockwork(instruments: Instruments, read: Callable[[], Any]) -> Instruments:
    instruments.registry.register(ClockworkCollector(read))
    return instruments


def configure_logging(log_format: str, level: str) -> None:
    """perfplan's own loggers (requests, the clockwork) to standard error, as text or as
    JSON objects (python-json-logger), once per process."""
    from pythonjsonlogger.json import JsonFormatter

    handler = logging.StreamHandler()
    if log_format == "json":
        handler.setFormatter(JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    for name in ("perfplan.web", "perfplan.clockwork"):
        logger = logging.getLogger(name)
        logger.handlers = [handler]
        logger.setLevel(level)
        logger.propagate = False
