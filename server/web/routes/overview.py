"""The overview: today's sales, top-ups, terminals, people inside, open anomalies; refreshed live."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from server.web import queries
from server.web.access import Admin
from server.web.authz import Visible, anomaly_scope, require
from server.web.charts import bar_chart, line_chart
from server.web.deps import PageDep, database, event_settings
from server.web.render import PageContext, page
from sync.permissions import Permission
from sync.timezone import day_hours, hour_label

router = APIRouter()
GATE_BUCKET_MS = 15 * 60_000


def day_start_ms(ctx: PageContext) -> int:
    """Midnight of today in the event's time zone, in Unix ms."""
    now = dt.datetime.fromtimestamp(ctx.now_ms / 1000, ctx.tz)
    return int(now.replace(hour=0, minute=0, second=0, microsecond=0).timestamp() * 1000)


def overview_data(request: Request, ctx: PageContext, admin: Admin) -> dict[str, Any]:
    """Everything the overview shows, read in one snapshot; a scoped person sees only their stalls and gates.

    Event-wide figures (top-ups, transactions counted, people inside) need the permission for the event.
    """
    since = day_start_ms(ctx)
    now = ctx.now_ms
    online_window = max(60_000, 3 * event_settings(request).pull_interval_s * 1000)
    see = Visible(admin.grants, Permission.DASHBOARD)
    with database(request).read() as conn:
        names = queries.stall_names(conn)
        day = request.app.state.web.live.read(conn, since_ms=since, gate_bucket_ms=GATE_BUCKET_MS)
        terminals = [r for r in queries.terminal_health(conn) if see.terminal(r)]
        held = queries.balances_held_total(conn) if see.event else (0, 0)
        if see.event:
            anomalies = queries.open_anomalies(conn)
        else:
            anomalies = {}
            for row in queries.anomalies(conn, open_only=True, kind=None, limit=10_000):
                if see.scope(anomaly_scope(conn, row["terminal_id"])):
                    anomalies[row["kind"]] = anomalies.get(row["kind"], 0) + 1
    takings = [(kind, stall, bucket, amount) for (kind, stall, bucket), amount in day.takings.items()
               if see.stall(stall)]
    totals = {kind: (day.counts[kind], day.sums[kind]) for kind in day.counts} if see.event else {}
    flow = [(gate, bucket, direction, n) for (gate, bucket, direction), n in day.flow.items() if see.gate(gate)]
    inside_before = day.inside_before if see.event else 0
    hour_starts = day_hours(since, ctx.tz)  # 23 or 25 on a DST day
    hours = [0] * len(hour_starts)
    per_stall: dict[int, dict[str, int]] = {}
    for kind, stall_id, bucket, amount in takings:
        row = per_stall.setdefault(stall_id, {"sales": 0, "refunds": 0})
        if kind == "sale":
            row["sales"] += amount
            if 0 <= bucket < len(hours):
                hours[bucket] += amount
        else:
            row["refunds"] += -amount
    stalls: list[dict[str, Any]] = sorted(
        ({"id": sid, "name": names.get(sid, f"#{sid}"), "sales": v["sales"], "refunds": v["refunds"],
          "net": v["sales"] - v["refunds"]} for sid, v in per_stall.items()),
        key=lambda r: -r["sales"])
    buckets = max(1, (now - since) // GATE_BUCKET_MS + 1)
    delta = [0] * buckets
    for _gate, bucket, direction, n in flow:
        if 0 <= bucket < buckets:
            delta[bucket] += n if direction == "in" else -n
    inside, running = [], inside_before
    for d in delta:
        running += d
        inside.append(running)
    live = [r for r in terminals if not r.revoked]
    online = [r for r in live if r.last_seen_ms is not None and now - r.last_seen_ms <= online_window]
    online_ids = {r.id for r in online}
    offline = [r for r in live if r.id not in online_ids]
    sales_total = sum(s["sales"] for s in stalls)
    refunds_total = sum(s["refunds"] for s in stalls)
    label_every = 4 if buckets > 24 else 1
    return {
        "event_wide": see.event,
        "sale_count": totals.get("sale", (0, 0))[0],
        "sales_total": sales_total, "refunds_total": refunds_total, "net_total": sales_total - refunds_total,
        "topups": totals.get("topup", (0, 0)),
        "stalls": stalls,
        "hour_chart": bar_chart(hours, [hour_label(h, ctx.tz, "%H") for h in hour_starts],
                                title=ctx.t("overview.per_hour"),
                                fmt=ctx.money, label_every=2),
        "inside": inside[-1] if inside else inside_before,
        "inside_chart": line_chart(inside or [inside_before],
                                   [ctx.time(since + i * GATE_BUCKET_MS, "%H:%M") for i in range(len(inside))],
                                   title=ctx.t("overview.inside_chart"), label_every=label_every * 2),
        "online": online, "offline": offline,
        "unsynced_count": sum(int(r.unsynced_count) for r in live),
        "unsynced_amount": sum(int(r.unsynced_amount) for r in live),
        "anomalies": anomalies, "anomaly_total": sum(anomalies.values()),
        "held": held,
    }


@router.get("/admin")
def overview(request: Request, ctx: PageDep, admin: Admin = require(Permission.DASHBOARD)) -> Response:
    """The overview page."""
    poll = request.app.state.web.settings.poll_interval_s
    return page(request, "overview.html", ctx, active="overview", d=overview_data(request, ctx, admin), poll_s=poll)


@router.get("/admin/overview/live")
def overview_live(request: Request, ctx: PageDep, admin: Admin = require(Permission.DASHBOARD)) -> Response:
    """The live part of the overview as HTML inside JSON, for the page's poller."""
    html = request.app.state.web.templates.get_template("_overview_live.html").render(
        ctx=ctx, t=ctx.t, label=ctx.label, money=ctx.money, time=ctx.time, ago=ctx.ago, lang=ctx.lang, can=admin.can,
        d=overview_data(request, ctx, admin))
    return JSONResponse({"html": html, "at": ctx.time(ctx.now_ms, "%H:%M:%S")},
                        headers={"Cache-Control": "no-store"})
