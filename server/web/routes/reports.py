"""Reports: settlement per stall, per product, per hour; CSV of each and of the raw transactions; audit log."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from server.web import queries
from server.web.access import Admin
from server.web.authz import EVENT_OBJECT, Visible, authorize_object, require
from server.web.csvout import csv_response
from server.web.deps import PageDep, Refused, database
from server.web.describe import action_label, describe
from server.web.render import PageContext, page
from server.web.routes.overview import day_start_ms
from sync.ids import format_short_id
from sync.permissions import EVENT, Permission
from sync.timezone import BUCKET_MS, hour_label, local_hour_start_ms

router = APIRouter()
P, AUDIT = Permission.REPORTS_VIEW, Permission.AUDIT_VIEW


def _since(ctx: PageContext, period: str) -> int | None:
    return None if period == "all" else day_start_ms(ctx)


def settlement(request: Request, ctx: PageContext, period: str, admin: Admin) -> dict[str, Any]:
    """Per stall (sales, refunds, net), per hour and per product, for the stalls the admin may see."""
    since = _since(ctx, period)
    with database(request).read() as conn:
        names = queries.stall_names(conn)
        takings = queries.stall_takings(conn, since_ms=since or 0, bucket_ms=BUCKET_MS)
        products = queries.product_sales(conn, since_ms=since)
    visible = Visible(admin.grants, P).stalls(names)
    stalls: dict[int, dict[str, Any]] = {}
    hours: dict[int, dict[str, int]] = {}
    for kind, stall_id, bucket, amount in takings:
        if stall_id not in visible:
            continue
        row = stalls.setdefault(stall_id, {"id": stall_id, "name": names.get(stall_id, ""), "sales": 0,
                                           "sale_count": 0, "refunds": 0})
        hour = hours.setdefault(local_hour_start_ms((since or 0) + bucket * BUCKET_MS, ctx.tz),
                                {"sales": 0, "refunds": 0})
        if kind == "sale":
            row["sales"] += amount
            hour["sales"] += amount
        else:
            row["refunds"] -= amount
            hour["refunds"] -= amount
    for row in stalls.values():
        row["net"] = row["sales"] - row["refunds"]
    hour_rows = [{"hour": hour_label(h, ctx.tz), **v, "net": v["sales"] - v["refunds"]}
                 for h, v in sorted(hours.items())]
    product_rows = [p | {"stall": names.get(p["stall_id"], "")} for p in products if p["stall_id"] in visible]
    stall_rows = sorted(stalls.values(), key=lambda r: r["id"])
    totals = {k: sum(r[k] for r in stall_rows) for k in ("sales", "refunds", "net")}
    return {"stalls": stall_rows, "hours": hour_rows, "products": product_rows, "totals": totals}


@router.get("/admin/reports")
def reports_page(request: Request, ctx: PageDep, period: str = "today", admin: Admin = require(P)) -> Response:
    """Settlement tables with their CSV links."""
    data = settlement(request, ctx, period, admin)
    return page(request, "reports.html", ctx, active="reports", period=period, d=data,
                raw_allowed=admin.grants.allows(P))


@router.get("/admin/reports/{name}.csv")
def report_csv(request: Request, ctx: PageDep, name: str, period: str = "today",
               admin: Admin = require(P)) -> Response:
    """One report as CSV: stalls, products, hours; or every raw transaction."""
    stamp = dt.datetime.fromtimestamp(ctx.now_ms / 1000, ctx.tz).strftime("%Y%m%d-%H%M")
    if name == "transactions":
        authorize_object(admin.grants, P, EVENT)  # raw rows of every stall (wallets too): the event's
        return csv_response(f"ennichi-transactions-{stamp}.csv",
                            ["txn_id", "time", "kind", "amount", "wallet", "wallet_amount", "stall_id", "terminal_id",
                             "staff_id", "record_id", "ref_txn", "note"],
                            _transactions(request, ctx, _since(ctx, period)))
    data = settlement(request, ctx, period, admin)
    if name == "stalls":
        return csv_response(f"ennichi-stalls-{stamp}.csv", ["stall_id", "stall", "sales", "refunds", "net"],
                            ([r["id"], r["name"], r["sales"], r["refunds"], r["net"]] for r in data["stalls"]))
    if name == "products":
        return csv_response(f"ennichi-products-{stamp}.csv", ["stall_id", "stall", "product_id", "product", "qty",
                                                              "gross"],
                            ([p["stall_id"], p["stall"], p["product_id"] or "", p["name"], p["qty"], p["gross"]]
                             for p in data["products"]))
    if name == "hours":
        return csv_response(f"ennichi-hours-{stamp}.csv", ["hour", "sales", "refunds", "net"],
                            ([h["hour"], h["sales"], h["refunds"], h["net"]] for h in data["hours"]))
    raise Refused("unknown report")


def _transactions(request: Request, ctx: PageContext, since: int | None) -> Iterator[list[object]]:
    with database(request).read() as conn:
        for r in queries.transactions_for_export(conn, since_ms=since):
            yield [r.id, ctx.time(r.created_at), r.kind, r.amount,
                   format_short_id(int(r.wallet_id)) if r.wallet_id is not None else "", r.wallet_amount,
                   r.stall_id, r.terminal_id, r.staff_id, r.record_id, r.ref_txn, r.note]


@router.get("/admin/audit")
def audit_page(request: Request, ctx: PageDep, actor: str = "", action: str = "", before: int | None = None,
               admin: Admin = require(AUDIT, on=EVENT_OBJECT)) -> Response:
    """The audit log of every admin action, newest first, 200 a page."""
    with database(request).read() as conn:
        rows = queries.audit_entries(conn, actor=actor.strip(), action=action.strip(), before_id=before)
    return page(request, "audit.html", ctx, active="audit", rows=rows, actor=actor, action=action,
                describe=lambda kind, detail: describe(ctx, kind, detail),
                action_label=lambda name: action_label(ctx, name))


@router.get("/admin/audit.csv")
def audit_csv(request: Request, ctx: PageDep, admin: Admin = require(AUDIT, on=EVENT_OBJECT)) -> Response:
    """The whole audit log as CSV."""
    with database(request).read() as conn:
        rows = queries.audit_entries(conn, limit=None)
    return csv_response("ennichi-audit.csv", ["id", "time", "actor", "action", "detail"],
                        ([r.id, ctx.time(r.at), r.actor, r.action, r.detail] for r in reversed(rows)))
