"""The app factory: ``create_app(settings, clock=...)`` builds everything; importing connects nothing."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from server.api.deps import ApiProblem, Services
from server.api.middleware import AdmissionControl, BodyLimit
from server.api.routes import authorize, desk, enroll, gates, health, products, sync, wallets
from server.clock import Clock, system_clock
from server.db.engine import Database
from server.issuer import IssuerKeys
from server.observability import configure_logging, install_observability
from server.settings import ServerSettings

__all__ = ["app_from_env", "create_app"]

log = logging.getLogger("ennichi.server")


def _problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiProblem)
    return JSONResponse({"detail": exc.detail, **exc.extra}, status_code=exc.status, headers=exc.headers)


def _invalid(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ())]
        errors.append({"loc": loc, "msg": str(err.get("msg", "")), "type": str(err.get("type", ""))})
    first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
    where = ".".join(first["loc"])
    detail = f"invalid request: {where}: {first['msg']}" if where else f"invalid request: {first['msg']}"
    return JSONResponse({"detail": detail, "errors": errors[:20]}, status_code=422)


def create_app(settings: ServerSettings, *, clock: Clock = system_clock, db: Database | None = None,
               web: bool = True) -> FastAPI:
    """Build the FastAPI app for one event (the database is opened lazily, on first use).

    ``web`` mounts the dashboard and My page (tests of the web pages mount it themselves).
    """
    database = db or Database(settings.url, synchronous=settings.sqlite_synchronous, pool_size=settings.pool_size)
    services = Services(settings=settings, db=database, clock=clock,
                        issuer=IssuerKeys(settings.issuer_key_path))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        anyio.to_thread.current_default_thread_limiter().total_tokens = max(1, settings.worker_threads)
        try:
            yield
        finally:
            if db is None:
                database.dispose()

    app = FastAPI(
        title="Ennichi server", version="1", lifespan=lifespan,
        description="Terminal sync and authorization API of an Ennichi event (see DESIGN.md, 'Sync').",
    )
    app.state.services = services
    app.add_exception_handler(ApiProblem, _problem)
    app.add_exception_handler(RequestValidationError, _invalid)
    for module in (health, enroll, sync, authorize, wallets, desk, products, gates):
        app.include_router(module.router, prefix="/api/v1")
    admission = AdmissionControl(app.router, max_inflight=settings.max_inflight,
                                 wait_s=settings.admission_wait_ms / 1000, exempt=("/api/v1/health",))
    app.state.admission = admission
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(_Wrap, inner=admission)  # outermost: shed before reading
    if web:
        from server.web import include_web

        include_web(app)
    install_observability(app, settings=settings, db=database, clock=clock)  # request ids, logs, /metrics
    return app


def app_from_env() -> FastAPI:
    """The uvicorn factory of ``ennichi server run --workers N``: settings from ``ENNICHI_*``; raises ValueError."""
    settings = ServerSettings.load()
    configure_logging(settings.log_level)
    return create_app(settings)


class _Wrap:
    """Put an already built ASGI middleware object into Starlette's middleware stack."""

    def __init__(self, app: object, *, inner: AdmissionControl) -> None:
        inner.app = app
        self.inner = inner

    async def __call__(self, scope: dict[str, object], receive: object, send: object) -> None:
        await self.inner(scope, receive, send)
