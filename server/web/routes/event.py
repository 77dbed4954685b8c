"""The event settings page: everything terminals and the server take from the event row (``EventSettings``).

Only whoever holds ``event.manage`` for the event opens or saves it.  A save
reads every field (amounts through ``sync.money.parse_amount``, integers
within the schema's bounds), refuses the whole form with one line per bad
field, or writes the new settings and one ``event.update`` audit entry with
what changed; terminals take them on their next pull.  The currency changes
only while no money has moved.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from server.event import get_event_settings, set_event_settings
from server.web import actions
from server.web.access import Admin
from server.web.authz import EVENT_OBJECT, require
from server.web.deps import PageDep, Refused, database
from server.web.event_form import AMOUNT_FIELDS, INT_FIELDS, currency_locked, form_values, read_event_form
from server.web.render import PageContext, page
from sync.money import amount_input, currency_codes, currency_for
from sync.permissions import EVENT, Permission
from sync.schemas import OfflineFallback

router = APIRouter()
MANAGE = Permission.EVENT_MANAGE
FORM_FIELDS = ("event_name", "currency", "timezone", "number_locale", "offline_fallback", *AMOUNT_FIELDS,
               *(f.name for f in INT_FIELDS), "opening_hours")


def _render(request: Request, ctx: PageContext, values: dict[str, str], *, locked: bool, status_code: int = 200,
            errors: list[str] | None = None) -> Response:
    with database(request).read() as conn:
        current = get_event_settings(conn)
    return page(request, "event.html", ctx, active="event", v=values, locked=locked, errors=errors or [],
                status_code=status_code, current=current, currencies=sorted(currency_codes()),
                fallbacks=[f.value for f in OfflineFallback], amount_fields=AMOUNT_FIELDS, int_fields=INT_FIELDS,
                symbol=currency_for(values.get("currency") or current.currency).symbol
                if values.get("currency") in currency_codes() else current.currency)


@router.get("/admin/event")
def event_page(request: Request, ctx: PageDep, admin: Admin = require(MANAGE, on=EVENT_OBJECT)) -> Response:
    """The settings form with the event's values and what each one does."""
    with database(request).read() as conn:
        current = get_event_settings(conn)
        locked = currency_locked(conn)
    values = form_values(current, lambda a: amount_input(a, currency_for(current.currency),
                                                          locale=current.number_locale))
    return _render(request, ctx, values, locked=locked)


Text = Annotated[str, Form(max_length=200)]


@router.post("/admin/event")
def event_save(request: Request, ctx: PageDep, admin: Admin = require(MANAGE, on=EVENT_OBJECT),
               event_name: Text = "", currency: Text = "", timezone: Text = "", number_locale: Text = "",
               offline_fallback: Text = "", floor_limit: Text = "", offline_limit: Text = "", unsynced_cap: Text = "",
               overdraft_tolerance: Text = "", max_offline_s: Text = "", staff_idle_logout_s: Text = "",
               wallet_token_ttl_s: Text = "", authorize_timeout_ms: Text = "", pull_interval_s: Text = "",
               push_debounce_ms: Text = "", opening_hours: Annotated[str, Form(max_length=2000)] = "") -> Response:
    """Save the settings: all fields read, or nothing changes (422 with one line per refused field)."""
    if not admin.grants.allows(MANAGE, EVENT):
        raise Refused(MANAGE.value)
    given = locals()
    form = {name: str(given[name]) for name in FORM_FIELDS}
    if not any(form.values()):  # no form at all (a script, the matrix): nothing to read
        return page(request, "error.html", ctx, status_code=422, status=422, heading=ctx.t("error.invalid"),
                    message=ctx.t("event.err.empty"), back="/admin/event")
    return _save(request, ctx, admin, form)


def _save(request: Request, ctx: PageContext, admin: Admin, form: dict[str, str]) -> Response:
    with database(request).read() as conn:
        read = read_event_form(form, get_event_settings(conn), t=ctx.t, lang=ctx.lang, locked=currency_locked(conn))
        locked = currency_locked(conn)
    if read.settings is None:
        return _render(request, ctx, form, locked=locked, status_code=422, errors=read.errors)

    def run(conn: Any, now: int) -> dict[str, Any]:
        # read again in the write transaction: a sale or another admin's save may have come in between
        again = read_event_form(form, get_event_settings(conn), t=ctx.t, lang=ctx.lang,
                                locked=currency_locked(conn))
        if again.settings is None:
            raise ValueError(" ".join(again.errors))
        if again.changes:
            set_event_settings(conn, again.settings)
        return {"changes": {k: list(v) for k, v in again.changes.items()}}

    return actions.perform(request, ctx, admin, "event.update", run, back="/admin/event", done="saved")
