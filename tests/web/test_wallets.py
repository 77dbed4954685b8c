"""Wallet top-up, sale refund, adjustment and blocking from the dashboard: new transactions, never edits."""

from __future__ import annotations

import httpx
import pytest
from web_harness import Live, shoot, sign_in

from server.reconcile import reconcile
from server.testing import Seeder
from server.wallets import wallet_view
from sync.ids import format_short_id

pytestmark = pytest.mark.browser


def test_top_up_refund_adjust_and_block(page, live: Live, seed: Seeder) -> None:
    stall = seed.stall("Kakigori")
    cashier = seed.staff("Ren", roles=[("cashier", "stall", stall)])
    till = seed.terminal("stall", stall_id=stall, name="Kakigori till")
    wallet = seed.wallet(1000)
    sale = till.sale(wallet_id=wallet, amount=600, staff_id=cashier)
    pushed = httpx.post(f"{live.url}/api/v1/push", json={"records": [sale]}, headers=till.headers).json()
    assert pushed["results"][0]["status"] == "applied"

    sign_in(page)
    page.goto("/admin/wallets")
    page.fill("#wallet-search input[name=q]", format_short_id(wallet).lower().replace("-", " "))
    page.click("#wallet-search button")
    assert page.locator("#wallet-list a.shortid").count() == 1
    shoot(page, "wallets")
    page.click("#wallet-list a.shortid")
    assert page.inner_text("#wallet-balance") == "¥400"

    page.fill("#topup-form input[name=amount]", "1,500")
    page.click("#topup-form button")
    page.wait_for_url("**?done=topped_up")
    assert page.inner_text("#wallet-balance") == "¥1,900"

    refund = page.locator("tr[data-kind=sale] form.refund-form")
    refund.locator("input[name=amount]").fill("250")
    refund.locator("input[name=reason]").fill("melted before served")
    refund.locator("button").click()
    page.wait_for_url("**?done=refunded")
    assert page.inner_text("#wallet-balance") == "¥2,150"
    # The sale is still there, unchanged; the refund is a new line.
    assert page.locator("tr[data-kind=sale]").count() == 1
    assert "melted before served" in page.inner_text("tr[data-kind=refund]")

    # More than is left of the sale is refused and changes nothing.
    refund = page.locator("tr[data-kind=sale] form.refund-form")
    refund.locator("input[name=amount]").fill("400")
    refund.locator("input[name=reason]").fill("too much")
    refund.locator("button").click()
    assert page.locator(".error-page").count() == 1
    page.goto(f"/admin/wallets/{wallet}")
    assert page.inner_text("#wallet-balance") == "¥2,150"

    page.fill("#adjust-form input[name=amount]", "-150")
    page.fill("#adjust-form input[name=reason]", "double top-up at the desk")
    page.click("#adjust-form button")
    page.wait_for_url("**?done=adjusted")
    assert page.inner_text("#wallet-balance") == "¥2,000"
    shoot(page, "wallet")

    page.fill("#block-form input[name=reason]", "lost card")
    page.click("#block-form button")
    page.wait_for_url("**?done=blocked")
    assert page.locator("#wallet-blocked").is_visible()

    with live.db.read() as conn:
        view = wallet_view(conn, wallet, history=20)
        assert view.balance == 2000 and view.blocked
        assert [h["kind"] for h in view.history] == ["adjustment", "refund", "topup", "sale", "topup"]
        report = reconcile(conn)
        assert report.ok, report.text()

    # a blocked wallet gets no printed card (a 7-day token would still pay at every offline stall)
    page.goto(f"/admin/wallets/{wallet}/card")
    assert page.locator(".error-page").count() == 1 and page.locator("#wallet-card").count() == 0
    other = seed.wallet(500)
    page.goto(f"/admin/wallets/{other}/card")
    assert page.locator("#wallet-card svg").count() == 1
    shoot(page, "wallet-card")


def test_an_admin_without_wallet_rights_cannot_top_up(page, live: Live, seed: Seeder) -> None:
    from server.staff import create_staff, grant_role

    wallet = seed.wallet(100)
    with live.db.write() as conn:
        sid = create_staff(conn, name="Sora Supervisor", pin="9753", now_ms=live.clock(), login="sora",
                           password="supervise-pw")
        grant_role(conn, sid, "supervisor")  # wallets.view but not wallets.manage
    sign_in(page, "sora", "supervise-pw")
    page.goto(f"/admin/wallets/{wallet}")
    assert page.locator("#topup-form").count() == 0
    token = page.get_attribute("meta[name=csrf-token]", "content")
    status = page.evaluate("""async ([url, token]) => {
        const r = await fetch(url, {method: 'POST', body: new URLSearchParams({amount: '5000', csrf: token})});
        return r.status; }""", [f"/admin/wallets/{wallet}/topup", token])
    assert status == 403
    with live.db.read() as conn:
        assert wallet_view(conn, wallet, history=0).balance == 100
