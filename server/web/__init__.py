"""The admin dashboard and My page: server-rendered pages on the same FastAPI app.

``include_web(app)`` mounts everything: the routers under ``/admin`` and
``/my``, static files under ``/web/static``, the cookie middleware and the
handlers that turn a refusal into the 403 page and a missing session into the
sign-in page.  The app must carry ``state.services`` (server.api.deps.Services).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from fastapi import Depends, FastAPI, HTTPException
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.requests import Request

from server.web.config import WebSettings, load_secret
from server.web.deps import CsrfFailed, Refused, SignInRequired, WebApp, WebCookieMiddleware, clock_ms, event_settings
from server.web.headers import SecurityHeadersMiddleware
from server.web.i18n import pick_lang
from server.web.render import PageContext, make_templates, page
from server.web.session import SessionCodec
from server.web.signin import SigninLimiter

__all__ = ["include_web"]

STATIC = Path(__file__).resolve().parent / "static"


def include_web(app: FastAPI, *, settings: WebSettings | None = None, secret: bytes | None = None) -> None:
    """Mount the dashboard and My page on ``app``; raises ValueError on a too-short secret."""
    from server.web.routes import ROUTERS

    if secret is None:
        secret = load_secret(Path(app.state.services.settings.data_dir))
    settings = settings or WebSettings.from_env()
    app.state.web = WebApp(settings, SessionCodec(secret), make_templates(),
                           limiter=SigninLimiter(settings.signin_ip_failures, settings.signin_ip_window_s))
    for router in ROUTERS:
        app.include_router(router, include_in_schema=False, dependencies=[Depends(_bounded_path_ids)])
    app.mount("/web/static", StaticFiles(directory=str(STATIC)), name="web-static")
    app.add_middleware(WebCookieMiddleware)
    app.add_middleware(SecurityHeadersMiddleware)  # outermost: every response, errors included
    app.add_exception_handler(Refused, _refused)
    app.add_exception_handler(CsrfFailed, _csrf_failed)
    app.add_exception_handler(SignInRequired, _sign_in)


async def _bounded_path_ids(request: Request) -> None:
    """A numeric path id no database integer can hold is a page that does not exist (not a 500)."""
    for value in request.path_params.values():
        text = str(value)
        if text.isascii() and text.isdigit() and (len(text) > 19 or int(text) >= 1 << 63):
            raise HTTPException(404, "not found")


def _context(request: Request) -> PageContext:
    settings = event_settings(request)
    return PageContext(request, lang=pick_lang(request), now_ms=clock_ms(request), currency=settings.currency,
                       timezone=settings.timezone, number_locale=settings.number_locale)


async def _refused(request: Request, exc: Exception) -> Response:
    ctx = _context(request)
    back = "/my" if request.url.path.startswith("/my") else "/admin"
    return page(request, "error.html", ctx, status_code=403, status=403, heading=ctx.t("error.forbidden"),
                message=ctx.t("error.forbidden_text"), back=back)


async def _csrf_failed(request: Request, exc: Exception) -> Response:
    ctx = _context(request)
    return page(request, "error.html", ctx, status_code=403, status=403, heading=ctx.t("error.csrf"),
                message=ctx.t("error.csrf_text"), back=request.headers.get("referer", "/admin").split("#")[0]
                if request.headers.get("referer", "").startswith(str(request.base_url)) else "/admin")


async def _sign_in(request: Request, exc: Exception) -> Response:
    area = exc.area if isinstance(exc, SignInRequired) else "admin"
    target = "/my/signin" if area == "my" else "/admin/signin"
    if request.method == "GET":
        target += "?next=" + quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
    return RedirectResponse(target, status_code=303)
