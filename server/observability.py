"""Request ids, JSON logs and Prometheus metrics for the server.

``install_observability(app, ...)`` adds the outermost middleware (a request id
per request, one JSON access line, request counters and latency histograms) and
``GET /metrics``.  ``configure_logging(level)`` makes every log line of the
process one JSON object.  Routes report what they did through
``note_terminal``, ``observe_push`` and ``observe_pull``; outside a request
those do nothing.

With several uvicorn workers, metrics use prometheus_client's multiprocess
mode: ``PROMETHEUS_MULTIPROC_DIR`` is set (``prepare_multiprocess_metrics``)
before the workers start, and a scrape answered by any worker sums them all.
Gauges that describe the event (terminals online, anomalies) are computed from
the database at scrape time, so they are the same whichever worker answers.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging
import os
import re
import shutil
import sys
import tempfile
import time
import traceback
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from starlette.routing import compile_path

from server.clock import Clock
from server.db import tables as t
from server.db.engine import Database
from server.settings import ServerSettings

__all__ = [
    "JsonFormatter",
    "Metrics",
    "configure_logging",
    "current_request_id",
    "install_observability",
    "note_terminal",
    "observe_pull",
    "observe_push",
    "prepare_multiprocess_metrics",
]

access_log = logging.getLogger("ennichi.access")

REQUEST_ID_HEADER = "X-Request-ID"
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
_FORWARDING_HEADERS = (b"x-forwarded-for", b"forwarded", b"x-real-ip")
ONLINE_WINDOW_MS = 60_000
_MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


# ---------------------------------------------------------------- the request in flight

@dataclass(slots=True)
class _RequestInfo:
    """What the middleware and the routes share about one request (mutable: routes run in threads)."""

    request_id: str
    metrics: Metrics
    terminal_id: int | None = None


_current: ContextVar[_RequestInfo | None] = ContextVar("ennichi_request", default=None)


def current_request_id() -> str | None:
    """The id of the request being served, or None outside a request."""
    info = _current.get()
    return info.request_id if info else None


def note_terminal(terminal_id: int) -> None:
    """Name the calling terminal in the current request's access line (no-op outside a request)."""
    info = _current.get()
    if info is not None:
        info.terminal_id = terminal_id


def observe_push(records: Sequence[Any], results: Sequence[Any]) -> None:
    """Count a push batch: its size and each record's kind and status (no-op outside a request)."""
    info = _current.get()
    if info is None:
        return
    info.metrics.push_batch.observe(len(records))
    for record, result in zip(records, results, strict=False):
        body = getattr(record, "body", None) or {}
        kind = str(body.get("kind", "unknown"))[:16] if isinstance(body, dict) else "unknown"
        status = getattr(result, "status", "unknown")
        info.metrics.records.labels(kind=kind, status=str(getattr(status, "value", status))).inc()


_PAGE_LISTS = ("stalls", "products", "gates", "ticket_types", "staff", "statements", "revocations", "checkins")


def observe_pull(response: Any) -> None:
    """Count the items of one pull page (no-op outside a request)."""
    info = _current.get()
    if info is not None:
        info.metrics.pull_page.observe(sum(len(getattr(response, name, ()) or ()) for name in _PAGE_LISTS))


# ---------------------------------------------------------------- JSON logs

_STANDARD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message", "asctime", "color_message"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, msg, request_id, then the record's extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        """Render ``record``; never raises for an unserializable extra (it is written as text)."""
        out: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        request_id = current_request_id()
        if request_id is not None:
            out["request_id"] = request_id
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS and not key.startswith("_") and value is not None:
                out[key] = value
        out["pid"] = record.process
        if record.exc_info:
            out["exc"] = "".join(traceback.format_exception(*record.exc_info)).rstrip()
        return json.dumps(out, ensure_ascii=False, default=str, separators=(",", ":"))


def configure_logging(level: str = "info", *, stream: TextIO | None = None) -> None:
    """Send every logger of the process to ``stream`` (stderr) as JSON lines; raises ValueError on a bad level."""
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        raise ValueError(f"unknown log level {level!r}")
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(numeric)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.asgi", "uvicorn.access"):
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers.clear()
        uvicorn_logger.propagate = name != "uvicorn.access"  # ennichi.access writes the access line


# ---------------------------------------------------------------- metrics

_LATENCY_BUCKETS = (0.0025, 0.005, 0.01, 0.015, 0.02, 0.025, 0.035, 0.05, 0.075, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                    10.0)
_BATCH_BUCKETS = (1, 5, 10, 25, 50, 100, 200, 500, 1000)


@dataclass
class Metrics:
    """The app's metrics; in multiprocess mode the values live in ``PROMETHEUS_MULTIPROC_DIR``."""

    registry: CollectorRegistry = field(default_factory=lambda: CollectorRegistry(auto_describe=True))
    multiprocess: bool = field(default_factory=lambda: bool(os.environ.get(_MULTIPROC_ENV)))

    def __post_init__(self) -> None:
        r = self.registry
        self.requests = Counter("ennichi_http_requests", "HTTP requests by route template, method and status",
                                ["route", "method", "status"], registry=r)
        self.latency = Histogram("ennichi_http_request_duration_seconds", "Time to answer, by route template",
                                 ["route", "method"], buckets=_LATENCY_BUCKETS, registry=r)
        self.push_batch = Histogram("ennichi_push_batch_records", "Records per push batch",
                                    buckets=_BATCH_BUCKETS, registry=r)
        self.pull_page = Histogram("ennichi_pull_page_items", "Items per pull page (statements, catalog, ...)",
                                   buckets=_BATCH_BUCKETS, registry=r)
        self.records = Counter("ennichi_records", "Pushed records by kind and result status",
                               ["kind", "status"], registry=r)

    def exposition(self, extra: Collector) -> bytes:
        """The text exposition of every metric plus ``extra`` (this process, or all workers)."""
        if self.multiprocess:
            from prometheus_client import multiprocess

            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        else:
            registry = CollectorRegistry()
            registry.register(_Chain(self.registry))
        registry.register(extra)
        return generate_latest(registry)


class _Chain(Collector):
    """Expose another registry's metrics inside a scrape registry."""

    def __init__(self, source: CollectorRegistry) -> None:
        self.source = source

    def collect(self) -> Iterable[Metric]:
        """Everything the source registry holds."""
        return self.source.collect()


class _EventCollector(Collector):
    """Gauges read from the database at scrape time: terminals online, anomalies by kind."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    def collect(self) -> Iterator[Metric]:
        """Query the database; a failed query yields ``ennichi_database_up 0`` instead of raising."""
        up = GaugeMetricFamily("ennichi_database_up", "1 when the scrape could read the database")
        try:
            with self.db.read() as conn:
                term = t.terminals
                online = conn.execute(select(func.count()).select_from(term).where(
                    term.c.revoked.is_(False), term.c.last_seen_ms >= self.clock() - ONLINE_WINDOW_MS)).scalar_one()
                a = t.anomalies
                rows = conn.execute(select(a.c.kind, func.count(), func.count(a.c.resolved_at))
                                    .group_by(a.c.kind)).all()
        except Exception:  # a scrape must answer even when the database does not
            logging.getLogger("ennichi.server").warning("metrics: database unreachable", exc_info=True)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        gauge = GaugeMetricFamily("ennichi_terminals_online", "Terminals seen in the last 60 s (not revoked)")
        gauge.add_metric([], int(online))
        yield gauge
        total = CounterMetricFamily("ennichi_anomalies", "Anomalies recorded, by kind", labels=["kind"])
        still_open = GaugeMetricFamily("ennichi_anomalies_open", "Anomalies not yet resolved, by kind",
                                       labels=["kind"])
        for kind, count, resolved in rows:
            total.add_metric([str(kind)], int(count))
            still_open.add_metric([str(kind)], int(count) - int(resolved))
        yield total
        yield still_open
        for writer_metric in self.db.writer_metrics():  # SQLite's group writer: queueing and group times
            yield from writer_metric.collect()


def prepare_multiprocess_metrics() -> Callable[[], None]:
    """Point ``PROMETHEUS_MULTIPROC_DIR`` at an empty directory for the workers; returns the cleanup.

    An existing setting is kept and its stale ``*.db`` files removed; otherwise a
    private temporary directory is made and removed by the cleanup.
    """
    given = os.environ.get(_MULTIPROC_ENV)
    if given:
        path = Path(given)
        path.mkdir(parents=True, exist_ok=True)
        for stale in path.glob("*.db"):
            stale.unlink()
        return lambda: None
    made = tempfile.mkdtemp(prefix="ennichi-metrics-")
    os.environ[_MULTIPROC_ENV] = made
    return lambda: shutil.rmtree(made, ignore_errors=True)


# ---------------------------------------------------------------- middleware and /metrics

class _RouteTemplates:
    """Map a request to its route template (never the raw path: ids would explode the labels).

    Built once from the OpenAPI paths (public, with the include prefixes applied)
    plus the app's plain routes; a hidden route falls back to the matched route's path.
    """

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self._table: list[tuple[re.Pattern[str], frozenset[str], str]] | None = None

    def _build(self) -> list[tuple[re.Pattern[str], frozenset[str], str]]:
        table = []
        try:
            paths = self.app.openapi().get("paths", {})
        except Exception:  # a broken schema must not break requests; plain routes still count
            logging.getLogger("ennichi.server").warning("metrics: no OpenAPI paths for route labels", exc_info=True)
            paths = {}
        for template, operations in paths.items():
            regex, _fmt, _conv = compile_path(template)
            table.append((regex, frozenset(m.upper() for m in operations), template))
        for route in self.app.router.routes:
            route_regex, path = getattr(route, "path_regex", None), getattr(route, "path", None)
            if route_regex is not None and path:
                table.append((route_regex, frozenset(getattr(route, "methods", None) or ()), str(path)))
        return table

    def __call__(self, scope: dict[str, Any]) -> str:
        if self._table is None:
            self._table = self._build()
        path, method = scope.get("path", ""), scope.get("method", "")
        partial = None
        for regex, methods, template in self._table:
            if regex.match(path):
                if not methods or method in methods or (method == "HEAD" and "GET" in methods):
                    return template
                partial = partial or template  # the path matched, the method did not (405)
        if partial:
            return partial
        route = scope.get("route")  # a route kept out of the schema (dashboard pages)
        if route is not None and getattr(route, "path", None):
            return str(route.path)
        return "<unmatched>"  # unknown paths share one label (no label per scanned URL)


class ObservabilityMiddleware:
    """Outermost ASGI middleware: a request id, one JSON access line and the request metrics per request."""

    def __init__(self, app: Any, *, fastapi_app: FastAPI, metrics: Metrics) -> None:
        self.app = app
        self.templates = _RouteTemplates(fastapi_app)
        self.metrics = metrics

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = next((v for k, v in scope.get("headers", ()) if k == b"x-request-id"), b"")
        text = incoming.decode("latin-1")
        request_id = text if _SANE_REQUEST_ID.fullmatch(text) else uuid.uuid4().hex
        info = _RequestInfo(request_id, self.metrics)
        token = _current.set(info)
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = [(k, v) for k, v in message.get("headers", ()) if k.lower() != b"x-request-id"]
                headers.append((b"x-request-id", request_id.encode("ascii")))
                message = {**message, "headers": headers}
            await send(message)

        failed = False
        try:
            await self.app(scope, receive, send_with_id)
        except BaseException:
            failed = True
            raise
        finally:
            elapsed = time.perf_counter() - started
            route, method = self.templates(scope), str(scope.get("method", ""))
            self.metrics.requests.labels(route=route, method=method, status=str(status)).inc()
            self.metrics.latency.labels(route=route, method=method).observe(elapsed)
            path = logged_path(str(scope.get("path", "")))
            fields: dict[str, Any] = {"method": method, "path": path, "status": status,
                                      "ms": round(elapsed * 1000, 2)}
            if info.terminal_id is not None:
                fields["terminal_id"] = info.terminal_id
            level = logging.ERROR if failed else logging.INFO
            access_log.log(level, "%s %s %s", method, path, status, extra=fields,
                           exc_info=failed)
            _current.reset(token)


# Paths that carry a credential: the one-time sign-in link printed on a student's letter.  Whoever reads
# the server's log (a log file, a terminal scrollback, a shared screen) must not be able to use it.
_SECRET_PATHS = re.compile(r"^(/my/link/)[^/]+")


def logged_path(path: str) -> str:
    """``path`` as the access log writes it: a credential in it replaced by ``…``."""
    return _SECRET_PATHS.sub(r"\1…", path)


def _loopback_peer(request: Request) -> bool:
    if any(name in _FORWARDING_HEADERS for name, _ in request.scope.get("headers", ())):
        return False  # came through a proxy: the peer address says nothing about the client
    host = request.client.host if request.client else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def install_observability(app: FastAPI, *, settings: ServerSettings, db: Database, clock: Clock) -> Metrics:
    """Add the request-id/log/metrics middleware (outermost) and ``GET /metrics`` to ``app``."""
    metrics = Metrics()
    app.state.metrics = metrics
    event_collector = _EventCollector(db, clock)
    admission = getattr(app.state, "admission", None)
    if admission is not None:  # a scrape is cheap and most wanted when the server is saturated
        admission.exempt = (*admission.exempt, "/metrics")

    def metrics_endpoint(request: Request) -> Response:
        """Prometheus text format: from loopback without a proxy header, or with the metrics token."""
        if not _loopback_peer(request):
            scheme, _, given = (request.headers.get("authorization") or "").partition(" ")
            expected = settings.metrics_token
            if not (expected and scheme.lower() == "bearer" and hmac.compare_digest(given.strip(), expected)):
                return JSONResponse({"detail": "metrics are served to loopback clients or with the metrics token"},
                                    status_code=403)
        return Response(metrics.exposition(event_collector), media_type=CONTENT_TYPE_LATEST)

    app.add_api_route("/metrics", metrics_endpoint, methods=["GET"], include_in_schema=False)
    app.add_middleware(ObservabilityMiddleware, fastapi_app=app, metrics=metrics)
    return metrics
