"""The dashboard on PostgreSQL: sign-in, the overview's queries, a top-up and a sale refund, reports."""

from __future__ import annotations

import httpx
import pytest
from pg_helpers import postgres_base_url
from web_harness import Live, sign_in, start_server, stop_server

from server.reconcile import reconcile
from server.testing import Seeder, fresh_postgres_database

pytestmark = [pytest.mark.browser, pytest.mark.postgres]


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory):
    url, drop = fresh_postgres_database(postgres_base_url())
    server = start_server(tmp_path_factory.mktemp("pg"), database_url=url)
    yield server
    stop_server(server)
    drop()


def test_dashboard_on_postgres(page, live: Live) -> None:
    seed = Seeder(live.settings, clock=live.clock)
    try:
        stall = seed.stall("Wataame")
        staff = seed.staff("Riku", roles=[("cashier", "stall", stall)])
        till = seed.terminal("stall", stall_id=stall)
        wallet = seed.wallet(1000)
        sale = till.sale(wallet_id=wallet, amount=700, staff_id=staff)
        assert httpx.post(f"{live.url}/api/v1/push", json={"records": [sale]}, headers=till.headers).status_code == 200
    finally:
        seed.close()
    sign_in(page)
    assert page.inner_text("#sales-total") == "¥700"
    page.goto(f"/admin/wallets/{wallet}")
    page.fill("#topup-form input[name=amount]", "500")
    page.click("#topup-form button")
    page.wait_for_url("**?done=topped_up")
    refund = page.locator("tr[data-kind=sale] form.refund-form")
    refund.locator("input[name=amount]").fill("700")
    refund.locator("input[name=reason]").fill("wrong flavour")
    refund.locator("button").click()
    page.wait_for_url("**?done=refunded")
    assert page.inner_text("#wallet-balance") == "¥1,500"
    page.goto("/admin/reports")
    assert "¥0" in page.inner_text("#settlement tfoot")  # 700 sold, 700 refunded
    with live.db.read() as conn:
        assert reconcile(conn).ok
