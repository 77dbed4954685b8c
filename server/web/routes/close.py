"""The close of the event: where the money is, balances still held, payout runs, the closing rule, stall settlement.

Everything here acts on the whole event (``event.manage`` in event scope), except the
per-stall settlement page, which a stall's own lead may open (``reports.view`` in
that stall's scope).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from server import closing
from server.drawers import list_closeouts
from server.web import actions, queries
from server.web.access import Admin
from server.web.authz import EVENT_OBJECT, LISTED, require, stall_in_path
from server.web.csvout import csv_response
from server.web.deps import PageDep, Refused, database
from server.web.forms import checkbox
from server.web.render import PageContext, page
from sync.permissions import Permission, Scope

router = APIRouter()
MANAGE, REPORTS = Permission.EVENT_MANAGE, Permission.REPORTS_VIEW


def _event_wide(admin: Admin) -> None:
    if not admin.grants.allows(MANAGE):
        raise Refused(MANAGE.value)


def _lock(request: Request) -> bool:
    return not database(request).is_sqlite


def _refused(request: Request, ctx: PageContext, exc: closing.CloseError) -> Response:
    return page(request, "error.html", ctx, status_code=422, status=422, heading=ctx.t("error.invalid"),
                message=ctx.t(f"close.err.{exc.code}"), back="/admin/close")


@router.get("/admin/close")
def close_page(request: Request, ctx: PageDep, admin: Admin = require(MANAGE, on=EVENT_OBJECT)) -> Response:
    """Money in and where it is, balances still held, waiting requests, runs, the closing settings."""
    _event_wide(admin)
    with database(request).read() as conn:
        settings = closing.close_settings(conn)
        summary = closing.money_summary(conn)
        held = closing.balances_held(conn, limit=50)
        pending = closing.pending_requests(conn)
        runs = closing.payout_runs_list(conn)
        drawers = list_closeouts(conn, limit=100)
        deposits = closing.deposits_held(conn)
    claim_until = "" if settings.claim_until is None else dt.datetime.fromtimestamp(
        settings.claim_until / 1000, ctx.tz).strftime("%Y-%m-%dT%H:%M")
    return page(request, "close.html", ctx, active="close", s=settings, fee_percent=_percent(settings.stall_fee_bp),
                claim_until=claim_until, summary=summary, held=held, pending=pending, runs=runs, drawers=drawers,
                deposits=deposits, deposits_total=sum(d["held"] for d in deposits),
                pending_total=sum(max(0, int(p["balance"])) for p in pending))


def _percent(bp: int) -> str:
    return f"{Decimal(bp) / 100:f}".rstrip("0").rstrip(".") if bp else "0"


def parse_fee_percent(text: str) -> int:
    """A fee typed as a percentage (``5``, ``2.5``, ``２．５``, ``5%``) in basis points; raises CloseError."""
    import unicodedata

    cleaned = unicodedata.normalize("NFKC", text).strip().removesuffix("%").strip()
    try:
        value = Decimal(cleaned)
    except InvalidOperation as exc:
        raise closing.CloseError("fee", "not a percentage") from exc
    bp = value * 100
    if not value.is_finite() or bp != bp.to_integral_value() or not 0 <= bp <= closing.MAX_FEE_BP:
        raise closing.CloseError("fee_range", "the stall fee is 0 to 100 %, in steps of 0.01 %")
    return int(bp)


@router.post("/admin/close/settings")
def close_settings_save(request: Request, ctx: PageDep, admin: Admin = require(MANAGE, on=EVENT_OBJECT),
                        fee_percent: Annotated[str, Form(max_length=20)] = "0",
                        payouts_open: Annotated[str | None, Form(max_length=10)] = None,
                        claim_until: Annotated[str, Form(max_length=40)] = "",
                        unclaimed_rule: Annotated[str, Form(max_length=20)] = "keep") -> Response:
    """Save the fee rate, whether My page takes payout requests, and the closing rule."""
    _event_wide(admin)
    try:
        bp = parse_fee_percent(fee_percent)
        until = None
        if claim_until.strip():
            try:
                local = dt.datetime.fromisoformat(claim_until.strip())
            except ValueError as exc:
                raise closing.CloseError("date", "not a date") from exc
            until = int((local.replace(tzinfo=ctx.tz) if local.tzinfo is None else local).timestamp() * 1000)
        if unclaimed_rule not in ("donate", "keep"):
            raise closing.CloseError("rule", "unclaimed balances are donated or kept")
        if until is not None and not 0 < until < 2**53:
            raise closing.CloseError("date", "not a date")
        value = closing.CloseSettings(bp, checkbox(payouts_open), until, unclaimed_rule)
    except closing.CloseError as exc:
        return _refused(request, ctx, exc)
    return actions.perform(request, ctx, admin, "close.settings",
                           lambda conn, now: closing.save_close_settings(conn, value, now_ms=now),
                           back="/admin/close", done="saved", stall_fee_bp=bp, payouts_open=value.payouts_open,
                           claim_until=until, unclaimed_rule=unclaimed_rule)


@router.post("/admin/close/run")
def payout_run(request: Request, ctx: PageDep, admin: Admin = require(MANAGE, on=EVENT_OBJECT)) -> Response:
    """Book every waiting payout request at its wallet's balance now, as one run."""
    _event_wide(admin)
    lock = _lock(request)

    def run(conn: Any, now: int) -> dict[str, int]:
        return {"run_id": closing.make_payout_run(conn, actor=admin.actor, lock=lock, now_ms=now)}

    try:
        return actions.perform(request, ctx, admin, "payout.run", run, back="/admin/close", done="payout_run")
    except closing.CloseError as exc:
        return _refused(request, ctx, exc)


@router.post("/admin/close/unclaimed")
def unclaimed(request: Request, ctx: PageDep, admin: Admin = require(MANAGE, on=EVENT_OBJECT)) -> Response:
    """Apply the closing rule: donate every positive balance nobody claimed by the date."""
    _event_wide(admin)
    lock = _lock(request)

    def run(conn: Any, now: int) -> dict[str, int]:
        wallets, total = closing.apply_unclaimed_rule(conn, lock=lock, now_ms=now)
        return {"wallets": wallets, "total": total}

    try:
        return actions.perform(request, ctx, admin, "payout.unclaimed", run, back="/admin/close",
                               done="unclaimed_donated")
    except closing.CloseError as exc:
        return _refused(request, ctx, exc)


@router.post("/admin/close/deposits")
def deposits_closeout(request: Request, ctx: PageDep, admin: Admin = require(MANAGE, on=EVENT_OBJECT)) -> Response:
    """Close out the deposits nobody came back for: each stall's still held deposits go to its own revenue."""
    _event_wide(admin)
    lock = _lock(request)

    def run(conn: Any, now: int) -> dict[str, Any]:
        return closing.close_out_deposits(conn, lock=lock, now_ms=now)

    try:
        return actions.perform(request, ctx, admin, "close.deposits", run, back="/admin/close",
                               done="deposits_closed")
    except closing.CloseError as exc:
        return _refused(request, ctx, exc)


@router.get("/admin/close/runs/{run_id}.csv")
def run_file(request: Request, ctx: PageDep, run_id: int,
             admin: Admin = require(MANAGE, on=EVENT_OBJECT)) -> Response:
    """The bank-transfer file of one run (CSV, UTF-8 with a BOM so spreadsheet programs read the kana)."""
    _event_wide(admin)
    if not 0 < run_id < 2**31:
        raise Refused("unknown run")
    with database(request).read() as conn:
        body = closing.run_csv(conn, run_id)
    return Response("\ufeff" + body, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="ennichi-payouts-{run_id}.csv"'})


def stall_settlement(conn: Any, stall_id: int, fee_bp: int) -> dict[str, Any]:
    """One stall's whole event: gross sales, discounts, refunds, net, units per product, the fee and what it is owed.

    Deposits taken and returned are shown beside it and never in the net: the deposits a
    stall still holds (``deposits_held``) are owed to customers bringing cups back, not to
    the stall.  At the close the deposits nobody came back for are moved to the stall
    (``closing.close_out_deposits``: ``deposits_kept``): they pay for its cups that never
    came back, so they are added to what it is owed after the fee (the fee is on sales).
    """
    sales = refunds = 0
    count = 0
    for kind, sid, _bucket, amount in queries.stall_takings(conn, since_ms=0, bucket_ms=2**62, discounts=False):
        if sid != stall_id:
            continue
        if kind == "sale":
            sales += amount
        else:
            refunds -= amount
    products = [p for p in queries.product_sales(conn, since_ms=None) if p["stall_id"] == stall_id]
    kinds = queries.product_kinds(conn, [p["product_id"] for p in products])
    for p in products:
        p["kind"] = kinds.get(p["product_id"], "normal")
    count = sum(p["qty"] for p in products if p["kind"] == "normal")
    lines = queries.stall_lines(conn, stall_id)
    net = sales - lines["discounts"] - refunds
    fee = closing.stall_fee(net, fee_bp)
    return {"sales": sales, "refunds": refunds, "net": net, "fee": fee, "owed": net - fee + lines["deposits_kept"],
            "units": count,
            "products": products, "fee_bp": fee_bp, **lines}


@router.get("/admin/reports/stall/{stall_id}")
def stall_settlement_page(request: Request, ctx: PageDep, stall_id: int,
                          admin: Admin = require(REPORTS, on=stall_in_path)) -> Response:
    """A printable settlement sheet for one stall (print CSS: one A4 page)."""
    if not 0 < stall_id < 2**31 or not admin.grants.allows(REPORTS, Scope.stall(stall_id)):
        raise Refused(REPORTS.value)
    with database(request).read() as conn:
        names = queries.stall_names(conn)
        if stall_id not in names:
            raise Refused("unknown stall")
        data = stall_settlement(conn, stall_id, closing.close_settings(conn).stall_fee_bp)
    return page(request, "stall_settlement.html", ctx, active="reports", stall_name=names[stall_id],
                stall_id=stall_id, d=data, fee_percent=_percent(data["fee_bp"]))


@router.get("/admin/close/settlement.csv")
def settlement_csv(request: Request, ctx: PageDep, admin: Admin = require(REPORTS, on=LISTED)) -> Response:
    """Every visible stall's settlement: sales, discounts, refunds, net, units, fee, owed, and its deposits
    (taken, returned, kept by the stall at the close, still held)."""
    with database(request).read() as conn:
        names = queries.stall_names(conn)
        fee_bp = closing.close_settings(conn).stall_fee_bp
        rows = [(sid, names[sid], stall_settlement(conn, sid, fee_bp))
                for sid in admin.grants.stall_ids(REPORTS, names)]
    return csv_response("ennichi-settlement.csv",
                        ["stall_id", "stall", "sales", "discounts", "refunds", "net", "units", "fee_bp", "fee", "owed",
                         "deposits_taken", "deposits_returned", "deposits_kept", "deposits_held"],
                        ([sid, name, d["sales"], d["discounts"], d["refunds"], d["net"], d["units"], d["fee_bp"],
                          d["fee"], d["owed"], d["deposits_taken"], d["deposits_returned"], d["deposits_kept"],
                          d["deposits_held"]]
                         for sid, name, d in rows))
