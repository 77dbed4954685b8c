"""Admin sign-in, sign-out and the language switch."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from server.audit import audit
from server.web import queries
from server.web.deps import PageDep, SessionDep, WebApp, client_address, clock_ms, cookie_header, database
from server.web.i18n import LANG_COOKIE, LANGS
from server.web.render import page
from server.web.session import ADMIN_COOKIE, Session, credential_fingerprint
from server.web.signin import Lockout, begin_attempt, check_secret, finish_attempt

router = APIRouter()


def safe_next(target: str | None, default: str) -> str:
    """Only same-site paths are followed after sign-in or a language switch."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


@router.get("/admin/signin")
def signin_page(ctx: PageDep, state: SessionDep, request: Request, next: str = "/admin") -> Response:
    """The sign-in form."""
    return page(request, "signin.html", ctx, next=safe_next(next, "/admin"), login="", error="")


@router.post("/admin/signin")
def signin(ctx: PageDep, state: SessionDep, request: Request, login: Annotated[str, Form(max_length=100)],
           password: Annotated[str, Form(max_length=200)], next: Annotated[str, Form()] = "/admin") -> Response:
    """Check the password; N failures in a row lock the login for M minutes."""
    web: WebApp = request.app.state.web
    db = database(request)
    login = login.strip().lower()
    actor = f"admin:{login}"
    now_ms = clock_ms(request)
    if wait_ms := web.signin_begin(request, now_ms):  # one address spraying many logins
        return page(request, "signin.html", ctx, status_code=429, next=safe_next(next, "/admin"), login=login,
                    error=ctx.t("auth.locked", minutes=max(1, -(-wait_ms // 60_000))))
    until = begin_attempt(db, actor, address=client_address(request), limits=Lockout.of("web", web.settings),
                          now_ms=now_ms)  # counted before it is checked: at most the limit is ever checked
    if until is not None:
        minutes = max(1, -(-(until - now_ms) // 60_000))
        return page(request, "signin.html", ctx, status_code=429, next=safe_next(next, "/admin"), login=login,
                    error=ctx.t("auth.locked", minutes=minutes))
    with db.read() as conn:
        row = queries.admin_by_login(conn, login)
    usable = row is not None and row.active and row.password_hash is not None
    ok = check_secret(password, row.password_hash if usable else None)
    finish_attempt(db, actor, area="web", ok=ok, now_ms=now_ms)
    if not ok:
        return page(request, "signin.html", ctx, status_code=401, next=safe_next(next, "/admin"), login=login,
                    error=ctx.t("auth.failed"))
    web.signin_ok(request, now_ms)  # only failures count against the address
    now_s = now_ms // 1000
    session = Session("admin", int(row.id), now_s, now_s + web.settings.session_ttl_s,
                      Session.anonymous(now_s, 0).nonce, credential_fingerprint(row.password_hash))
    state.cookies[:] = [cookie_header(request, ADMIN_COOKIE, web.codec.dumps(session),
                                      max_age=web.settings.session_ttl_s)]
    return RedirectResponse(safe_next(next, "/admin"), status_code=303)


@router.post("/admin/signout")
def signout(state: SessionDep, request: Request) -> Response:
    """End the session: the cookie is replaced by a fresh anonymous one."""
    web: WebApp = request.app.state.web
    if state.session.kind == "admin":
        with database(request).write() as conn:
            row = queries.admin_by_id(conn, state.session.sub)
            if row is not None and row.login:
                audit(conn, actor=f"admin:{row.login}", action="web.signout", now_ms=clock_ms(request))
    anon = Session.anonymous(clock_ms(request) // 1000, web.settings.session_ttl_s)
    state.cookies[:] = [cookie_header(request, ADMIN_COOKIE, web.codec.dumps(anon),
                                      max_age=web.settings.session_ttl_s)]
    return RedirectResponse("/admin/signin", status_code=303)


@router.get("/admin/lang")
@router.get("/my/lang")
def switch_language(request: Request, to: str = "ja", next: str = "/admin") -> Response:
    """Remember the chosen language in a cookie and go back."""
    response = RedirectResponse(safe_next(next, "/admin"), status_code=303)
    if to in LANGS:
        response.set_cookie(LANG_COOKIE, to, max_age=365 * 86400, httponly=True, samesite="lax")
    return response
