"""Anomaly resolution (an action and a note, never an edit), report CSVs and the audit log."""

from __future__ import annotations

import csv
import io
import json

import httpx
import pytest
from web_harness import Live, shoot, sign_in

from server.db import tables as t
from server.testing import Seeder
from server.wallets import wallet_view

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def sales(live: Live, seed: Seeder) -> dict[str, int]:
    """Two stalls with sales (one an overdraft), a refund, and a conflicting re-sent record."""
    ramune, dango = seed.stall("Ramune"), seed.stall("Dango")
    soda = seed.product(ramune, "Ramune", 200)
    skewer = seed.product(dango, "=1+1 Mitarashi", 150)  # a formula-looking name for the CSV
    staff = seed.staff("Yui", roles=[("cashier", "event", None), ("supervisor", "event", None)])
    till_a, till_b = seed.terminal("stall", stall_id=ramune), seed.terminal("stall", stall_id=dango)
    rich, poor = seed.wallet(2000), seed.wallet(100)
    sale_a = till_a.sale(wallet_id=rich, amount=600, staff_id=staff,
                         lines=[{"product_id": soda, "qty": 3, "unit_price": 200}])
    sale_b = till_b.sale(wallet_id=rich, amount=300, staff_id=staff,
                         lines=[{"product_id": skewer, "qty": 2, "unit_price": 150}])
    overdraft = till_b.sale(wallet_id=poor, amount=450, staff_id=staff,
                            lines=[{"product_id": skewer, "qty": 3, "unit_price": 150}])
    refund = till_a.refund(wallet_id=rich, amount=200, staff_id=staff, ref_id=sale_a["body"]["id"])
    for till, records in ((till_a, [sale_a, refund]), (till_b, [sale_b, overdraft])):
        result = httpx.post(f"{live.url}/api/v1/push", json={"records": records}, headers=till.headers).json()
        assert {r["status"] for r in result["results"]} == {"applied"}, result
    forged = dict(sale_b["body"], amount=1, lines=[])
    result = httpx.post(f"{live.url}/api/v1/push", json={"records": [till_b.sign(forged)]},
                        headers=till_b.headers).json()
    assert result["results"][0]["status"] == "conflict"
    return {"ramune": ramune, "dango": dango, "poor": poor, "rich": rich}


def test_overdraft_is_resolved_by_blocking_the_wallet_with_a_note(page, live: Live, sales: dict[str, int]) -> None:
    with live.db.read() as conn:
        txns_before = conn.execute(t.transactions.select()).all()
    sign_in(page)
    page.goto("/admin/anomalies")
    shoot(page, "anomalies")
    row = page.locator("tr[data-kind=overdraft]")
    assert row.count() == 1
    anomaly_id = row.get_attribute("data-anomaly")
    row.locator("select[name=action]").select_option("block_wallet")
    row.locator("input[name=note]").fill("customer will pay the 350 in cash at the desk")
    row.locator("button").click()
    page.wait_for_url("**/admin/anomalies?done=resolved")
    assert page.locator("tr[data-kind=overdraft]").count() == 0  # no longer open
    page.goto("/admin/anomalies?show=all")
    resolved = page.locator(f"tr[data-anomaly='{anomaly_id}']")
    assert "customer will pay the 350 in cash" in resolved.inner_text()
    with live.db.read() as conn:
        assert wallet_view(conn, sales["poor"], history=0).blocked
        assert conn.execute(t.transactions.select()).all() == txns_before  # history untouched
        entry = conn.execute(t.audit_log.select().where(t.audit_log.c.action == "anomaly.resolve")).one()
        assert json.loads(entry.detail)["resolution"] == "block_wallet" and entry.actor == "admin:admin"


def test_a_resolution_needs_a_note(page, live: Live, sales: dict[str, int]) -> None:
    sign_in(page)
    page.goto("/admin/anomalies")
    row = page.locator("tr[data-kind=record_conflict]")
    token = page.get_attribute("meta[name=csrf-token]", "content")
    status = page.evaluate("""async ([url, token]) => {
        const r = await fetch(url, {method: 'POST', body: new URLSearchParams({action: 'acknowledge', note: ' ',
                                                                              csrf: token})});
        return r.status; }""", [f"/admin/anomalies/{row.get_attribute('data-anomaly')}/resolve", token])
    assert status == 422
    page.reload()
    assert page.locator("tr[data-kind=record_conflict] form").count() == 1


def _download(page, selector: str) -> list[list[str]]:
    with page.expect_download() as info:
        page.click(selector)
    raw = info.value.path().read_bytes()
    assert raw.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))


def test_report_csvs_hold_the_settlement_and_raw_transactions(page, live: Live, sales: dict[str, int]) -> None:
    sign_in(page)
    page.goto("/admin/reports")
    shoot(page, "reports")
    stalls = _download(page, "#csv-stalls")
    assert stalls[0] == ["stall_id", "stall", "sales", "refunds", "net"]
    by_name = {r[1]: r for r in stalls[1:]}
    assert by_name["Ramune"][2:] == ["600", "200", "400"]
    assert by_name["Dango"][2:] == ["750", "0", "750"]
    products = _download(page, "#csv-products")
    names = {r[3]: r for r in products[1:]}
    assert names["Ramune"][4:] == ["3", "600"]
    assert names["'=1+1 Mitarashi"][4:] == ["5", "750"]  # defused, not a formula
    raw = _download(page, "#csv-transactions")
    header = raw[0]
    kinds = [r[header.index("kind")] for r in raw[1:]]
    assert kinds.count("sale") >= 3 and kinds.count("refund") >= 1
    refund = next(r for r in raw[1:] if r[header.index("kind")] == "refund")
    assert refund[header.index("amount")] == "200" and refund[header.index("wallet_amount")] == "200"


def test_audit_log_lists_admin_actions_and_exports(page, live: Live, sales: dict[str, int]) -> None:
    sign_in(page)
    page.goto("/admin/audit")
    shoot(page, "audit")
    actions = page.locator("#audit-table tbody tr").evaluate_all("rows => rows.map(r => r.dataset.action)")
    assert "web.signin.ok" in actions
    rows = _download(page, "#csv-audit")
    assert rows[0] == ["id", "time", "actor", "action", "detail"]
    assert any(r[3] == "web.signin.ok" and r[2] == "admin:admin" for r in rows[1:])
