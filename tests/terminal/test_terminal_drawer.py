"""A top-up desk's cash drawer at close-out, against a real server: counted − expected booked as imbalance.

Expected = float + top-ups − cash-outs since the desk's previous close-out, worked out again
by the server from its own books; the difference goes to the imbalance account, and the
event's money still adds up: wallets + cash-outs + imbalance = money in, and reconcile says so.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pg_helpers import postgres_base_url
from sqlalchemy import select
from terminal_live import PIN, Live

from server.db import tables as t
from server.drawers import SYSTEM_IMBALANCE, list_closeouts
from server.reconcile import reconcile
from server.testing import fresh_postgres_database
from sync.ids import format_short_id
from sync.schemas import EventSettings
from terminal.decisions import DeclineReason as R
from terminal.engine import Terminal


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def desk_live(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Live]:
    url, drop = "", None
    if request.param == "postgres":
        url, drop = fresh_postgres_database(postgres_base_url())
    event = EventSettings(floor_limit=1000, offline_limit=3000, push_debounce_ms=50, pull_interval_s=1,
                          authorize_timeout_ms=500, staff_idle_logout_s=86400)
    live = Live(tmp_path, event, database_url=url)
    live.desker = live.seed.staff("Mio", pin=PIN, roles=[("cashdesk", "event", None)])  # type: ignore[attr-defined]
    yield live
    live.close()
    if drop:
        drop()


def _desk(live: Live, data_dir: Path) -> Terminal:
    term = Terminal.open(data_dir, pause=lambda _s: None)
    term.enroll(live.code("topup"), name=data_dir.name)
    assert term.sync_now().online
    assert term.login(live.seed.badge(live.desker), PIN).ok  # type: ignore[attr-defined]
    return term


def _imbalance(live: Live) -> int:
    a = t.accounts
    with live.seed.db.read() as conn:
        return int(conn.execute(select(a.c.balance).where(a.c.kind == "system", a.c.ref == SYSTEM_IMBALANCE))
                   .scalar_one_or_none() or 0)


def test_a_short_drawer_books_the_difference_and_the_money_still_adds_up(desk_live: Live, tmp_path: Path) -> None:
    live = desk_live
    wallet = live.seed.wallet(0)
    desk = _desk(live, tmp_path / "desk")
    code = format_short_id(wallet)
    assert desk.topup(code, 1000, cash_received=5000).approved  # ¥5,000 in, ¥4,000 change out
    assert desk.cash_out(code, 300).approved
    report = desk.shift_report()
    assert (report.topups_amount, report.cash_received, report.change_given, report.cashouts_amount) == (
        1000, 5000, 4000, 300)
    assert report.cash_expected == 700
    closed = desk.close_drawer(start_float=10_000, counted=10_600)  # ¥100 short
    assert closed.approved and closed.kind == "drawer"
    assert (closed.params["expected"], closed.params["difference"]) == (10_700, -100)
    assert desk.sync_now().unsynced_count == 0
    with live.seed.db.read() as conn:
        (row,) = list_closeouts(conn)
        summary = reconcile(conn)
    assert (row["expected"], row["counted"], row["difference"], row["desk_expected"]) == (10_700, 10_600, -100,
                                                                                          10_700)
    assert (row["topups"], row["cashouts"], row["start_float"]) == (1000, 300, 10_000)
    assert _imbalance(live) == -100
    assert summary.ok, summary.text()
    s = summary.summary
    assert s["money_in"] == 900  # the cash really there: ¥1,000 taken, ¥100 of it missing
    assert s["wallets"] + s["cash_outs"] + s["imbalance"] + s["stall_revenue"] + s["payouts"] == s["money_in"]
    assert desk.sync_now().unsynced_count == 0
    with live.seed.db.read() as conn:
        assert len(list_closeouts(conn)) == 1  # pushed again: booked once

    assert desk.topup(code, 500).approved  # the next shift starts after the close-out
    again = desk.close_drawer(start_float=10_000, counted=10_500)
    assert (again.params["expected"], again.params["difference"], again.params["topups"]) == (10_500, 0, 500)
    desk.sync_now()
    with live.seed.db.read() as conn:
        latest = list_closeouts(conn)[0]
        assert reconcile(conn).ok
    assert (latest["expected"], latest["difference"]) == (10_500, 0) and _imbalance(live) == -100
    desk.close()


def test_the_drawer_stays_open_while_a_top_up_is_in_doubt_and_bad_counts_change_nothing(
        desk_live: Live, tmp_path: Path) -> None:
    live = desk_live
    wallet = live.seed.wallet(0)
    desk = _desk(live, tmp_path / "desk")
    for bad in (-1, 10**9 + 1, True, "100"):
        assert desk.close_drawer(start_float=0, counted=bad).reason is R.INVALID_AMOUNT  # type: ignore[arg-type]
    live.proxy.set_mode("lose_responses")
    assert desk.topup(format_short_id(wallet), 1000).reason is R.TOPUP_IN_DOUBT
    refused = desk.close_drawer(start_float=0, counted=1000)
    assert refused.reason is R.DRAWER_DOUBTS_OPEN and refused.params["open"] == 1
    live.proxy.set_mode("pass")
    desk.sync_now()  # settled: booked
    closed = desk.close_drawer(start_float=0, counted=1000)
    assert closed.approved and closed.params["difference"] == 0
    desk.sync_now()
    with live.seed.db.read() as conn:
        assert [r["difference"] for r in list_closeouts(conn)] == [0]
        assert reconcile(conn).ok
    desk.close()
