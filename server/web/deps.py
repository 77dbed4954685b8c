"""Dependencies of every web route: the session, CSRF, the signed-in admin, permission checks.

    SessionDep      the request's WebState (session, CSRF token, who is signed in)
    AdminDep        the signed-in admin; otherwise a redirect to the sign-in page
    (permission checks on the object's scope: server.web.authz.require)
    WalletDep       the signed-in customer's wallet id (My page)

Every POST under /admin and /my must carry the session's CSRF token (form
field ``csrf`` or header ``X-CSRF-Token``), or it is refused before the route
runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

import jinja2
from fastapi import Depends
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.api.deps import Services
from server.db.engine import Database
from server.event import EventMissing, get_event_settings
from server.staff import load_access
from server.web import queries
from server.web.access import Admin, Grants
from server.web.config import WebSettings
from server.web.i18n import pick_lang
from server.web.live import LiveTotals
from server.web.render import PageContext
from server.web.session import ADMIN_COOKIE, CUSTOMER_COOKIE, Session, SessionCodec, credential_fingerprint
from server.web.signin import SigninLimiter
from sync.permissions import Permission
from sync.permissions import Scope as PermScope
from sync.schemas import EventSettings

__all__ = [
    "AdminDep", "CsrfFailed", "PageDep", "Refused", "SessionDep", "SignInRequired", "WalletDep", "WebApp",
    "WebCookieMiddleware", "WebState", "clock_ms", "database",
]


class Refused(Exception):
    """The signed-in person may not use this page or action (rendered as the 403 page)."""


class SignInRequired(Exception):
    """Nobody is signed in (rendered as a redirect to the sign-in page)."""

    def __init__(self, area: str) -> None:
        super().__init__(area)
        self.area = area


class CsrfFailed(Exception):
    """A POST without this session's CSRF token (rendered as a 403 page)."""


@dataclass(slots=True)
class WebApp:
    """What the web part keeps on ``app.state.web``."""

    settings: WebSettings
    codec: SessionCodec
    templates: jinja2.Environment
    live: LiveTotals = field(default_factory=LiveTotals)
    limiter: SigninLimiter | None = None  # failed sign-ins per client address (set by include_web)

    def signin_refused_ms(self, request: Request, now_ms: int) -> int:
        """0 when this client may try to sign in; otherwise ms until it may (too many failures)."""
        return self.limiter.retry_after_ms(client_address(request), now_ms) if self.limiter else 0

    def signin_begin(self, request: Request, now_ms: int) -> int:
        """Count this client's sign-in attempt before it is checked; 0 when it may go on, else ms to wait."""
        return self.limiter.begin(client_address(request), now_ms) if self.limiter else 0

    def signin_ok(self, request: Request, now_ms: int) -> None:
        """The attempt ``signin_begin`` counted at ``now_ms`` succeeded: it does not count against the client."""
        if self.limiter:
            self.limiter.forgive(client_address(request), now_ms)

    def signin_failed(self, request: Request, now_ms: int) -> None:
        """Count a failed sign-in of this client."""
        if self.limiter:
            self.limiter.failed(client_address(request), now_ms)


def client_address(request: Request) -> str:
    """The peer address (uvicorn applies X-Forwarded-For only from its trusted proxies)."""
    return request.client.host if request.client else ""


@dataclass(slots=True)
class WebState:
    """Per request: the session, its CSRF token and, once loaded, the admin."""

    area: str  # "admin" or "my"
    session: Session
    csrf: str
    admin: Admin | None = None
    cookies: list[str] = field(default_factory=list)
    form_key: str = ""  # the POSTed form's idempotency key ('' when it has none)

    def can(self, permission: Permission | str, scope: PermScope | None = None) -> bool:
        """Template helper: may the signed-in admin use ``permission``?"""
        return self.admin is not None and self.admin.can(permission, scope)


def services(request: Request) -> Services:
    """The server's services (settings, database, clock, issuer keys) built by the app factory."""
    found: Services = request.app.state.services
    return found


def database(request: Request) -> Database:
    """The server's Database."""
    return services(request).db


def clock_ms(request: Request) -> int:
    """Now, in Unix milliseconds, from the app's injected clock."""
    return int(services(request).clock())


def event_settings(request: Request) -> EventSettings:
    """The event's settings (currency, time zone, token lifetime, ...)."""
    try:
        with database(request).read() as conn:
            return get_event_settings(conn)
    except EventMissing:
        return EventSettings()


def cookie_header(request: Request, name: str, value: str, *, max_age: int) -> str:
    """A Set-Cookie value: HttpOnly, SameSite=Lax, Secure when configured or over https."""
    web: WebApp = request.app.state.web
    secure = web.settings.cookie_secure == "1" or (
        web.settings.cookie_secure == "auto" and request.url.scheme == "https")
    parts = [f"{name}={value}", "Path=/", f"Max-Age={max_age}", "HttpOnly", "SameSite=Lax"]
    if secure:
        parts.append("Secure")
    return "; ".join(parts)


def _area(request: Request) -> str:
    return "my" if request.url.path.startswith("/my") else "admin"


async def web_session(request: Request) -> WebState:
    """Load (or start) the session of this area and check CSRF on POST; raises CsrfFailed."""
    existing = getattr(request.state, "web", None)
    if existing is not None:
        return existing  # type: ignore[no-any-return]
    web: WebApp = request.app.state.web
    area = _area(request)
    cookie = CUSTOMER_COOKIE if area == "my" else ADMIN_COOKIE
    now_s = clock_ms(request) // 1000
    session = web.codec.loads(request.cookies.get(cookie), now=now_s)
    state = WebState(area, session or Session.anonymous(now_s, web.settings.session_ttl_s), "")
    if session is None:
        state.cookies.append(cookie_header(request, cookie, web.codec.dumps(state.session),
                                           max_age=web.settings.session_ttl_s))
    state.csrf = web.codec.csrf_token(state.session)
    request.state.web = state
    if request.method == "POST":
        token = request.headers.get("x-csrf-token")
        if token is None:
            form = await request.form()
            value = form.get("csrf")
            token = value if isinstance(value, str) else None
            key = form.get("form_key")
            if isinstance(key, str) and 16 <= len(key) <= 64 and key.replace("-", "").replace("_", "").isalnum():
                state.form_key = key
        if session is None or not web.codec.check_csrf(session, token):
            raise CsrfFailed()
    return state


SessionDep = Annotated[WebState, Depends(web_session)]


def current_admin(request: Request, state: SessionDep) -> Admin:
    """The signed-in admin, loaded fresh (a deactivated account or changed password ends the session)."""
    if state.admin is not None:
        return state.admin
    session = state.session
    if session.kind != "admin":
        raise SignInRequired("admin")
    now_ms = clock_ms(request)
    with database(request).read() as conn:
        row = queries.admin_by_id(conn, session.sub)
        if row is None or not row.active or not row.password_hash or not row.login \
                or credential_fingerprint(row.password_hash) != session.fp:
            raise SignInRequired("admin")
        access = load_access(conn, [session.sub])[session.sub]
    state.admin = Admin(int(row.id), row.login, row.name, Grants(access, now_ms // 1000))
    return state.admin


AdminDep = Annotated[Admin, Depends(current_admin)]


def current_wallet(request: Request, state: SessionDep) -> int:
    """The wallet id of the signed-in customer (a changed PIN ends the session)."""
    from server.web.customers import customer

    if state.session.kind != "wallet":
        raise SignInRequired("my")
    with database(request).read() as conn:
        person = customer(conn, state.session.sub)
    if person is None or credential_fingerprint(person.pin_hash) != state.session.fp:
        raise SignInRequired("my")
    return state.session.sub


WalletDep = Annotated[int, Depends(current_wallet)]


def page_context(request: Request, state: SessionDep) -> PageContext:
    """Language, clock and currency of this page."""
    settings = event_settings(request)
    return PageContext(request, lang=pick_lang(request), now_ms=clock_ms(request), currency=settings.currency,
                       timezone=settings.timezone, number_locale=settings.number_locale)


PageDep = Annotated[PageContext, Depends(page_context)]


class WebCookieMiddleware:
    """Adds the Set-Cookie headers a web route queued on ``request.state.web``; ignores other paths."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(("/admin", "/my")):
            await self.app(scope, receive, send)
            return

        async def send_with_cookies(message: Message) -> None:
            if message["type"] == "http.response.start":
                state = scope.get("state", {}).get("web")
                if state is not None and state.cookies:
                    headers = list(message.get("headers", []))
                    headers += [(b"set-cookie", c.encode("latin-1")) for c in state.cookies]
                    message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_cookies)
