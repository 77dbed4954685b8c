"""Jinja2 templates and the helpers every page uses (money, times, short ids, t())."""

from __future__ import annotations

import datetime as dt
import secrets
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse

from server.web.i18n import MESSAGES, translate
from sync.ids import format_short_id
from sync.money import JPY, Currency, MoneyError, amount_input, currency_for, known_locale
from sync.permissions import EVENT, Permission

FORM_KEY_BYTES = 16  # 22 characters of urlsafe base64

__all__ = ["NAV_ITEMS", "PageContext", "make_templates", "page"]

# The dashboard's pages: (path, catalog key under "nav.", the permission that shows it, whether the page is the
# event's: shown only to whoever holds the permission for the event, as server.web.authz decides the page).
NAV_ITEMS: tuple[tuple[str, str, Permission, bool], ...] = (
    ("/admin", "overview", Permission.DASHBOARD, False),
    ("/admin/stalls", "stalls", Permission.STALLS_MANAGE, False),
    ("/admin/staff", "staff", Permission.STAFF_MANAGE, True),
    ("/admin/roles", "roles", Permission.ROLES_MANAGE, True),
    ("/admin/terminals", "terminals", Permission.TERMINALS_MANAGE, False),
    ("/admin/wallets", "wallets", Permission.WALLETS_VIEW, False),
    ("/admin/tickets", "tickets", Permission.TICKETS_MANAGE, True),
    ("/admin/anomalies", "anomalies", Permission.ANOMALIES_RESOLVE, False),
    ("/admin/reports", "reports", Permission.REPORTS_VIEW, False),
    ("/admin/event", "event", Permission.EVENT_MANAGE, True),
    ("/admin/close", "close", Permission.EVENT_MANAGE, True),
    ("/admin/audit", "audit", Permission.AUDIT_VIEW, True),
)

TEMPLATES = Path(__file__).resolve().parent / "templates"


def make_templates() -> jinja2.Environment:
    """The template environment (autoescaping on)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=jinja2.select_autoescape(["html", "svg"]),
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["short_id"] = lambda value: format_short_id(int(value)) if value is not None else ""
    return env


class PageContext:
    """What a template knows about the request: language, clock, currency, who is signed in."""

    def __init__(self, request: Request, *, lang: str, now_ms: int, currency: str = "JPY",
                 timezone: str = "Asia/Tokyo", number_locale: str = "ja_JP") -> None:
        self.request = request
        self.lang = lang
        self.now_ms = now_ms
        try:
            self.currency: Currency = currency_for(currency)
        except MoneyError:
            self.currency = JPY
        self.number_locale = number_locale if known_locale(number_locale) else "ja_JP"
        try:
            self.tz: dt.tzinfo = ZoneInfo(timezone)
        except (KeyError, ValueError):
            self.tz = dt.UTC

    def t(self, key: str, **values: object) -> str:
        """Translate ``key`` into this page's language."""
        return translate(self.lang, key, **values)

    def label(self, prefix: str, value: str) -> str:
        """The catalog text of ``prefix + value``, or ``value`` itself for a kind the catalog lacks."""
        key = f"{prefix}{value}"
        return self.t(key) if key in MESSAGES["en"] else value

    def money(self, amount: int | None) -> str:
        """Format integer minor units, e.g. ``¥1,200``."""
        return "" if amount is None else self.currency.format(int(amount))

    def amount_input(self, amount: int | None) -> str:
        """An amount as an input field holds it: the event's decimal mark, no symbol (``parse_amount`` reads it)."""
        return "" if amount is None else amount_input(int(amount), self.currency, locale=self.number_locale)

    def time(self, ms: int | None, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
        """Format Unix milliseconds in the event's time zone."""
        if ms is None:
            return ""
        return dt.datetime.fromtimestamp(ms / 1000, self.tz).strftime(fmt)

    def ago(self, ms: int | None) -> str:
        """How long ago ``ms`` was, e.g. ``3 min ago``."""
        if ms is None:
            return self.t("common.never")
        seconds = max(0, (self.now_ms - ms) // 1000)
        if seconds < 60:
            return self.t("common.ago_s", n=seconds)
        if seconds < 3600:
            return self.t("common.ago_m", n=seconds // 60)
        return self.t("common.ago_h", n=seconds // 3600)


class FormFields:
    """``{{ csrf }}`` in a form: the session's CSRF token and a fresh idempotency key per form rendered.

    Each time a template prints it, a new ``form_key`` is drawn, so every form
    on a page has its own; the server applies a POST carrying a key once
    (``server.web.actions.claim_form``): a double click or a resubmitted form
    books nothing twice.
    """

    __slots__ = ("token",)

    def __init__(self, token: str) -> None:
        self.token = token

    def __html__(self) -> str:
        return str(Markup('<input type="hidden" name="csrf" value="{}">'
                          '<input type="hidden" name="form_key" value="{}">').format(
            self.token, secrets.token_urlsafe(FORM_KEY_BYTES)))

    __str__ = __html__


def page(request: Request, template: str, ctx: PageContext, *, status_code: int = 200,
         **values: Any) -> HTMLResponse:
    """Render ``template`` with the page context and the request's session state."""
    env: jinja2.Environment = request.app.state.web.templates
    state = getattr(request.state, "web", None)
    values.setdefault("active", "")
    done = request.query_params.get("done", "")
    values.setdefault("flash", ctx.t(f"done.{done}") if f"done.{done}" in MESSAGES["en"] else "")
    html = env.get_template(template).render(
        nav_items=NAV_ITEMS, lang_base="/my" if request.url.path.startswith("/my") else "/admin",
        ctx=ctx, t=ctx.t, label=ctx.label, money=ctx.money, amount_input=ctx.amount_input,
        time=ctx.time, ago=ctx.ago, lang=ctx.lang,
        csrf=FormFields(state.csrf if state else ""),
        csrf_token=state.csrf if state else "", me=state.admin if state else None,
        can=state.can if state else (lambda *_a, **_k: False),
        can_event=(lambda p: state.can(p, EVENT)) if state else (lambda *_a, **_k: False), url=request.url, **values,
    )
    return HTMLResponse(html, status_code=status_code, headers={"Cache-Control": "no-store"})
