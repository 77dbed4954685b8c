"""A bar's cup deposit and staff discount from the dashboard to the settlement sheet, in real Chromium."""

from __future__ import annotations

import csv
import io

import httpx
import pytest
from sqlalchemy import select
from web_harness import Live, add_product, sign_in

from server.db import tables as t
from server.testing import Seeder

pytestmark = pytest.mark.browser


def test_a_bar_creates_a_cup_deposit_sells_it_takes_it_back_and_settles(page, live: Live, seed: Seeder) -> None:
    stall = seed.stall("Deposit bar")
    cashier = seed.staff("Mio", roles=[("cashier", "stall", stall)])
    wallet = seed.wallet(5000)
    sign_in(page)
    for name, price, kind in (("Beer", "600", "normal"), ("Cup deposit", "200", "deposit"),
                              ("Staff discount", "100", "discount")):
        add_product(page, stall, name, price, kind=kind)
    p = t.products
    with live.db.read() as conn:
        ids = {r.name: (int(r.id), r.kind) for r in conn.execute(
            select(p.c.id, p.c.name, p.c.kind).where(p.c.stall_id == stall))}
    assert {n: k for n, (_, k) in ids.items()} == {"Beer": "normal", "Cup deposit": "deposit",
                                                   "Staff discount": "discount"}
    beer, cup, staff = (ids[n][0] for n in ("Beer", "Cup deposit", "Staff discount"))
    page.goto("/admin/stalls")
    assert "Deposit" in page.inner_text("tr[data-product='Cup deposit'] [data-kind=deposit]")
    assert page.locator("tr[data-product='Beer'] [data-kind]").count() == 0
    term = seed.terminal("stall", stall_id=stall)
    baskets = [[(beer, 2, 600), (cup, 2, 200)], [(beer, 1, 600), (cup, -1, 200), (staff, -1, 100)]]
    records = [term.sale(wallet_id=wallet, amount=sum(q * u for _, q, u in b), staff_id=cashier, stall_id=stall,
                         lines=[{"product_id": i, "qty": q, "unit_price": u} for i, q, u in b]) for b in baskets]
    answer = httpx.post(f"{live.url}/api/v1/push", json={"records": records}, headers=term.headers, timeout=10)
    assert [r["status"] for r in answer.json()["results"]] == ["applied", "applied"], answer.text

    page.goto(f"/admin/reports/stall/{stall}")
    money = {k: page.inner_text(f"#settle-{k}") for k in ("sales", "discounts", "net", "owed", "deposits-taken",
                                                         "deposits-returned", "deposits-held")}
    assert money["sales"].endswith("1,800") and money["discounts"].endswith("100")
    assert money["net"].endswith("1,700") and money["owed"].endswith("1,700")
    assert money["deposits-taken"].endswith("400") and money["deposits-returned"].endswith("200")
    assert money["deposits-held"].endswith("200")  # one cup still out: owed to its customer, not to the bar

    rows = list(csv.DictReader(io.StringIO(page.request.get("/admin/close/settlement.csv").text().lstrip("\ufeff"))))
    mine = next(r for r in rows if r["stall_id"] == str(stall))
    assert (mine["sales"], mine["discounts"], mine["net"], mine["owed"]) == ("1800", "100", "1700", "1700")
    assert (mine["deposits_taken"], mine["deposits_returned"], mine["deposits_held"]) == ("400", "200", "200")


def test_cups_back_alone_show_on_my_page_and_the_close_moves_the_rest_to_the_bar(page, browser, live: Live,
                                                                                   seed: Seeder) -> None:
    from server.reconcile import reconcile
    from server.web.customers import set_customer
    from sync.ids import format_short_id

    stall = seed.stall("Cup bar")
    cashier = seed.staff("Sora", roles=[("cashier", "stall", stall)])
    beer = seed.product(stall, "Beer", 600)
    cup = seed.product(stall, "Cup", 200, kind="deposit")
    buyer, friend = seed.wallet(5000), seed.wallet(0)
    with live.db.write() as conn:
        set_customer(conn, friend, holder_name="Aoi", pin="482916", student=False, guest_quota=0,
                     guest_ticket_type=None, now_ms=live.clock())
    term = seed.terminal("stall", stall_id=stall)
    records = [term.sale(wallet_id=buyer, amount=3 * 800, staff_id=cashier, stall_id=stall,
                         lines=[{"product_id": beer, "qty": 3, "unit_price": 600},
                                {"product_id": cup, "qty": 3, "unit_price": 200}]),
               term.deposit_return(wallet_id=friend, staff_id=cashier, lines=[(cup, 1, 200)])]
    answer = httpx.post(f"{live.url}/api/v1/push", json={"records": records}, headers=term.headers, timeout=10)
    assert [r["status"] for r in answer.json()["results"]] == ["applied", "applied"], answer.text

    context = browser.new_context(base_url=live.url, locale="ja-JP")
    try:
        my = context.new_page()
        my.goto("/my/signin")
        my.fill("input[name=code]", format_short_id(friend))
        my.fill("input[name=pin]", "482916")
        my.click("button.primary")
        my.wait_for_url("**/my")
        history = my.inner_text("#my-history")
        assert "容器返却" in history and "200" in history
    finally:
        context.close()

    sign_in(page)
    page.goto("/admin/close")
    row = page.locator(f"#deposits-held tr[data-stall='{stall}']")
    assert row.inner_text().endswith("¥400")  # two cups still out
    assert "revenue" in page.inner_text("#deposits")
    page.once("dialog", lambda d: d.accept())
    page.click("#deposits-closeout")
    page.wait_for_url("**done=deposits_closed")
    assert page.locator(f"#deposits-held tr[data-stall='{stall}']").count() == 0
    assert page.locator("#adds-up").get_attribute("class") == "muted"  # money in == accounted

    page.goto(f"/admin/reports/stall/{stall}")
    money = {k: page.inner_text(f"#settle-{k}") for k in ("net", "owed", "deposits-returned", "deposits-kept",
                                                         "deposits-held")}
    assert money["net"].endswith("1,800") and money["owed"].endswith("2,200")
    assert money["deposits-returned"].endswith("200") and money["deposits-kept"].endswith("400")
    assert money["deposits-held"].endswith("0")
    rows = list(csv.DictReader(io.StringIO(page.request.get("/admin/close/settlement.csv").text().lstrip("\ufeff"))))
    mine = next(r for r in rows if r["stall_id"] == str(stall))
    assert (mine["net"], mine["owed"], mine["deposits_returned"], mine["deposits_kept"], mine["deposits_held"]) == \
        ("1800", "2200", "200", "400", "0")
    with live.db.read() as conn:
        report = reconcile(conn)
    assert report.ok and report.summary["postings_total"] == 0, report.text()
