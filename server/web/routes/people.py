"""Wallets at scale: N card wallets in one click with their card sheet; a class list CSV made into wallets,
My page access and one letter per person (short code and a one-time sign-in link); the CSV template.

Everything here acts on wallets and people, objects of the whole event:
``wallets.manage`` for the event.  The one-time link itself is My page's
(``server.web.routes.my``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import Response
from sqlalchemy import Connection, select

from server.db import tables as t
from server.web import actions, people
from server.web.access import Admin
from server.web.authz import EVENT_OBJECT, require
from server.web.deps import PageDep, Refused, database, event_settings, services
from server.web.qr import qr_svg
from server.web.render import PageContext, page
from sync.ids import format_short_id
from sync.permissions import EVENT, Permission
from sync.tokens import WalletFlags, WalletToken, encode_token

router = APIRouter()
MANAGE = Permission.WALLETS_MANAGE
CARD_TTL_S = 7 * 86400  # as the single card (server.web.routes.wallets)
CARDS_PER_SHEET = 10  # 2 x 5 cards of 85.6 x 54 mm on A4
CARDS_PER_PAGE = 200  # cards on one printable HTML page (20 A4 sheets); ?page= for the next
LETTER_QR_MASK = 2  # a fixed mask: 1,000 letters' QR codes in about 2 s instead of 7 (server.web.qr)


def _event_wide(admin: Admin) -> None:
    if not admin.grants.allows(MANAGE, EVENT):
        raise Refused(MANAGE.value)


def _refused(request: Request, ctx: PageContext, message: str, errors: list[str] | None = None) -> Response:
    return page(request, "error.html", ctx, status_code=422, status=422, heading=ctx.t("error.invalid"),
                message=message, errors=errors or [], back="/admin/wallets")


@router.post("/admin/wallets/cards")
def cards_create(request: Request, ctx: PageDep, count: Annotated[str, Form(max_length=12)] = "",
                 class_name: Annotated[str, Form(max_length=40)] = "",
                 admin: Admin = require(MANAGE, on=EVENT_OBJECT)) -> Response:
    """Create ``count`` empty wallets (1..1,000) as one batch, then show their card sheet."""
    _event_wide(admin)
    text = count.strip()
    if not (text.isascii() and text.isdigit() and 1 <= int(text) <= people.MAX_CARDS):
        return _refused(request, ctx, ctx.t("people.err.count", n=f"{people.MAX_CARDS:,}"))
    made: dict[str, str] = {}

    def run(conn: Connection, now: int) -> dict[str, Any]:
        batch, ids = people.make_cards(conn, int(text), now_ms=now, class_name=class_name)
        made["batch"] = batch
        return {"batch": batch, "count": len(ids)}

    response = actions.perform(request, ctx, admin, "wallet.cards", run, back="/admin/wallets", done="created",
                               class_name=class_name.strip())
    if "batch" in made:
        return actions.back_to("/admin/wallets/cards", batch=made["batch"])
    return response


@router.get("/admin/wallets/cards")
def cards_sheet(request: Request, ctx: PageDep, batch: Annotated[str, Query(max_length=40)] = "",
                page_no: Annotated[int, Query(alias="page", ge=1, le=1000)] = 1,
                admin: Admin = require(MANAGE, on=EVENT_OBJECT)) -> Response:
    """The printable card sheet of one batch: 10 cards per A4 sheet with cut marks, short code, QR, name, class."""
    _event_wide(admin)
    if not batch:
        return actions.back_to("/admin/wallets")
    svc = services(request)
    now_s = ctx.now_ms // 1000
    event = event_settings(request)
    with database(request).read() as conn:
        everyone = people.batch_people(conn, batch)
        shown = everyone[(page_no - 1) * CARDS_PER_PAGE: page_no * CARDS_PER_PAGE]
        a = t.accounts
        state = {int(r.ref): r for r in conn.execute(
            select(a.c.ref, a.c.balance, a.c.seq, a.c.flags, a.c.blocked).where(
                a.c.kind == "wallet", a.c.ref.in_([p.wallet_id for p in shown])))} if shown else {}
        issuer = svc.issuer.active(conn)
    cards = []
    for person in shown:
        row = state.get(person.wallet_id)
        if row is None or row.blocked:  # a blocked wallet gets no long-lived card
            continue
        token = WalletToken(person.wallet_id, int(row.balance), int(row.seq), now_s, now_s + CARD_TTL_S,
                            event.offline_limit, WalletFlags(int(row.flags) & 0xFF) | WalletFlags.PRINTED_CARD)
        cards.append({"code": format_short_id(person.wallet_id), "name": person.name,
                      "class_name": person.class_name, "qr": qr_svg(encode_token(token, issuer), scale=3, border=2)})
    sheets = [cards[i:i + CARDS_PER_SHEET] for i in range(0, len(cards), CARDS_PER_SHEET)]
    pages = max(1, -(-len(everyone) // CARDS_PER_PAGE))
    return page(request, "wallet_cards.html", ctx, active="wallets", sheets=sheets, batch=batch, total=len(everyone),
                page_no=page_no, pages=pages, event=event, expires_ms=(now_s + CARD_TTL_S) * 1000)


def _letters(request: Request, ctx: PageContext, made: list[people.Person], batch: str) -> Response:
    base = services(request).settings.base_url  # what enrollment codes point at: the address phones reach
    event = event_settings(request)
    letters = []
    for p in made:
        if p.link:
            url = f"{base}/my/link/{p.link}"
            letters.append({"code": format_short_id(p.wallet_id), "name": p.name, "class_name": p.class_name,
                            "kind": p.kind, "url": url, "qr": qr_svg(url, scale=3, mask=LETTER_QR_MASK)})
    return page(request, "people_letters.html", ctx, active="wallets", letters=letters, batch=batch, event=event,
                base=base)


@router.post("/admin/wallets/import")
async def people_import(request: Request, ctx: PageDep, file: Annotated[UploadFile, File()],
                        default_kind: Annotated[str, Form(max_length=10)] = "student",
                        admin: Admin = require(MANAGE, on=EVENT_OBJECT)) -> Response:
    """A class list (name, class, e-mail, kind) made into wallets with My page access: all, or none."""
    _event_wide(admin)
    if default_kind not in people.KINDS:
        return _refused(request, ctx, ctx.t("people.err.kind", text=default_kind[:10]))
    raw = await file.read(people.MAX_CSV_BYTES + 1)
    try:
        rows = people.parse_people_csv(people.read_csv_bytes(raw, t=ctx.t), t=ctx.t, default_kind=default_kind)
    except people.PeopleError as exc:
        return _refused(request, ctx, ctx.t("people.err.refused"), exc.errors)
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(_import, request, ctx, admin, rows, (file.filename or "")[:200])


def _import(request: Request, ctx: PageContext, admin: Admin, rows: list[people.Row], filename: str) -> Response:
    made: dict[str, Any] = {}

    def run(conn: Connection, now: int) -> dict[str, Any]:
        batch, persons = people.import_people(conn, rows, now_ms=now)
        made.update(batch=batch, persons=persons)
        return {"batch": batch, "count": len(persons), "file": filename}

    response = actions.perform(request, ctx, admin, "people.import", run, back="/admin/wallets", done="created")
    if "batch" not in made:
        return response
    return _letters(request, ctx, made["persons"], made["batch"])


@router.post("/admin/wallets/letters")
def letters_again(request: Request, ctx: PageDep, batch: Annotated[str, Form(max_length=40)] = "",
                  admin: Admin = require(MANAGE, on=EVENT_OBJECT)) -> Response:
    """Print a batch's letters again: new one-time links for those who have not signed in yet (old ones stop)."""
    _event_wide(admin)
    with database(request).read() as conn:
        persons = people.batch_people(conn, batch)
    if not batch or not persons:
        return _refused(request, ctx, ctx.t("people.err.no_batch"))
    made: dict[str, Any] = {}

    def run(conn: Connection, now: int) -> dict[str, Any]:
        links = people.issue_links(conn, [p.wallet_id for p in persons], now_ms=now)
        made["links"] = links
        return {"batch": batch, "count": len(links)}

    response = actions.perform(request, ctx, admin, "people.letters", run, back="/admin/wallets", done="created")
    if "links" not in made:
        return response
    links = made["links"]
    return _letters(request, ctx, [people.Person(p.wallet_id, p.name, p.class_name, p.email, p.kind,
                                                 links.get(p.wallet_id, "")) for p in persons], batch)


@router.get("/admin/wallets/people-template.csv")
def people_template(request: Request, ctx: PageDep, admin: Admin = require(MANAGE, on=EVENT_OBJECT)) -> Response:
    """The class-list template (UTF-8 with a BOM, so spreadsheet programs read the kana)."""
    return Response("\ufeff" + people.template_csv(lang=ctx.lang), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="ennichi-people-template.csv"'})
