"""The close of the event in real Chromium: a customer asks for the balance back on a phone, the admin pays out,
sets the stall fee and prints a stall's settlement sheet; the CSV holds the transfer."""

from __future__ import annotations

import uuid

import httpx
import pytest
from web_harness import Live, shoot, sign_in

from server.testing import Seeder
from server.web.customers import set_customer
from sync.ids import format_short_id

pytestmark = pytest.mark.browser
PIN = "730215"


@pytest.fixture
def phone(browser, live: Live):
    context = browser.new_context(base_url=live.url, viewport={"width": 390, "height": 844}, locale="ja-JP",
                                  device_scale_factor=2)
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def _sell(live: Live, seed: Seeder, stall: int, cashier: int, wallet: int, amount: int) -> str:
    """Push one sale from a new stall terminal; returns its record id (what the receipt QR names)."""
    term = seed.terminal("stall", stall_id=stall)
    body = term.sale(wallet_id=wallet, amount=amount, staff_id=cashier, stall_id=stall)
    answer = httpx.post(f"{live.url}/api/v1/push", json={"records": [body]}, headers=term.headers, timeout=10)
    assert answer.json()["results"][0]["status"] == "applied", answer.text
    return str(body["body"]["id"])


def test_a_customer_is_paid_back_and_a_stall_is_settled(page, phone, live: Live, seed: Seeder) -> None:
    stall = seed.stall("焼きそば Yakisoba")
    cashier = seed.staff("Hana", roles=[("cashier", "stall", stall)])
    wallet = seed.wallet(5000)
    with live.db.write() as conn:
        set_customer(conn, wallet, holder_name="山田 花子", pin=PIN, student=False, guest_quota=0,
                     guest_ticket_type=None, now_ms=live.clock())
    sale_id = _sell(live, seed, stall, cashier, wallet, 800)
    kiosk = seed.stall("Ramune")  # someone else's sale at another stall
    other_sale = _sell(live, seed, kiosk, seed.staff("Ken", roles=[("cashier", "stall", kiosk)]), seed.wallet(900), 300)

    # the admin opens payouts and sets a 5 % fee, through the form
    sign_in(page)
    page.goto("/admin/close")
    assert page.inner_text("#held-total") != ""
    page.fill("#close-settings input[name=fee_percent]", "5")
    page.check("#close-settings input[name=payouts_open]")
    page.click("#close-settings button.primary")
    page.wait_for_url("**/admin/close?done=saved")
    assert page.input_value("#close-settings input[name=fee_percent]") == "5"
    assert "agree" in page.inner_text("#adds-up")

    # the customer asks on a phone, in Japanese, typing the holder in half-width kana
    phone.goto("/my/signin")
    phone.fill("input[name=code]", format_short_id(wallet))
    phone.fill("input[name=pin]", PIN)
    phone.click("button.primary")
    phone.wait_for_url("**/my")
    assert "4,200" in phone.inner_text("#payout")
    phone.click("#my-history a >> nth=0")  # newest first: the sale, as a receipt
    phone.wait_for_url("**/my/receipt/*")
    assert "Yakisoba" in phone.inner_text("#receipt-stall") and phone.inner_text("#receipt-amount") == "-¥800"
    assert phone.inner_text("#receipt-balance") == "¥4,200"
    shoot(phone, "my-receipt-phone")
    phone.goto("/my/receipt/999999")  # not a line of this wallet: back to My page, nothing shown
    assert phone.url.endswith("/my")
    # the receipt QR on the terminal's result screen names the sale's record id
    phone.goto(f"/my/r/{sale_id}")
    phone.wait_for_url("**/my/receipt/*")
    assert phone.inner_text("#receipt-amount") == "-¥800" and sale_id in phone.inner_text("#receipt")
    for not_yet in (str(uuid.uuid4()), other_sale):  # not sent yet, or another wallet's: nothing of it shown
        phone.goto(f"/my/r/{not_yet}")
        assert "まだ届いていません" in phone.inner_text("#receipt-pending-text")
        assert "300" not in phone.inner_text("main")
    phone.goto("/my/r/not-a-record")
    assert phone.url.endswith("/my")
    phone.goto("/my")
    phone.fill("#payout-form input[name=holder]", "ﾔﾏﾀﾞ ﾊﾅｺ")
    phone.fill("#payout-form input[name=bank]", "0009")
    phone.fill("#payout-form input[name=branch]", "012")
    phone.fill("#payout-form input[name=number]", "7654321")
    phone.click("#payout-submit")
    phone.wait_for_url("**/my?done=payout_requested*")
    assert "受け付けました" in phone.inner_text("#payout-status")
    shoot(phone, "my-payout-phone")

    # a bad account number is refused in the customer's language and changes nothing
    # (the request is waiting, so the form is gone: ask again with a second wallet)
    other = seed.wallet(300)
    with live.db.write() as conn:
        set_customer(conn, other, holder_name="Ken", pin=PIN, student=False, guest_quota=0, guest_ticket_type=None,
                     now_ms=live.clock())
    phone.goto("/my/signin")
    phone.fill("input[name=code]", format_short_id(other))
    phone.fill("input[name=pin]", PIN)
    phone.click("button.primary")
    phone.wait_for_url("**/my")
    phone.fill("#payout-form input[name=holder]", "ケン")
    phone.fill("#payout-form input[name=bank]", "9")
    phone.click("#payout-submit")
    phone.wait_for_url("**payout_error=bank*")
    assert "4桁" in phone.inner_text("#payout-error")

    # the admin makes the run (confirming the dialog) and downloads the transfer file
    page.goto("/admin/close")
    assert page.locator("#pending tbody tr").count() == 1
    page.once("dialog", lambda d: d.accept())
    page.click("#payout-run")
    page.wait_for_url("**/admin/close?done=payout_run")
    shoot(page, "close")
    link = page.locator("#runs a").first.get_attribute("href")
    assert link is not None
    csv_text = page.request.get(link).text()
    assert "0009,012,ordinary,7654321,ヤマダ ハナコ,4200" in csv_text
    assert page.inner_text("#paid-out").endswith("4,200") and "agree" in page.inner_text("#adds-up")

    # the stall's printable settlement sheet: net 800, 5 % fee 40, owed 760
    page.goto("/admin/reports?period=all")
    page.click(f"#settlement a[href='/admin/reports/stall/{stall}']")
    page.wait_for_url(f"**/admin/reports/stall/{stall}")
    assert page.inner_text("#settle-net").endswith("800") and page.inner_text("#settle-fee").endswith("40")
    assert page.inner_text("#settle-owed").endswith("760")
    # the sale was an amount without product lines: the per-product table says so, not "no sales"
    assert "without products" in page.inner_text("#settle-no-items")
    page.emulate_media(media="print")
    assert not page.locator("header.top").is_visible()  # the sheet prints without the dashboard's chrome
    shoot(page, "stall-settlement")

    # back on the phone: paid, and the wallet is closed
    phone.goto("/my/signin")
    phone.fill("input[name=code]", format_short_id(wallet))
    phone.fill("input[name=pin]", PIN)
    phone.click("button.primary")
    phone.wait_for_url("**/my")
    assert "払い戻しました" in phone.inner_text("#payout-status") and "4,200" in phone.inner_text("#payout-status")


def test_the_admin_sees_each_drawer_counted_against_expected_and_the_imbalance(page, live: Live,
                                                                                 seed: Seeder) -> None:
    """A desk's top-up and its close-out ¥100 short, pushed through the real API; the close page shows them."""
    desk = seed.terminal("topup")
    who = seed.staff("Mio", roles=[("cashdesk", "event", None)])
    wallet = seed.wallet()
    topup = desk.topup(wallet_id=wallet, amount=2000, staff_id=who)
    closeout = desk.drawer(staff_id=who, start_float=5000, counted=6900, expected=7000)
    answer = httpx.post(f"{live.url}/api/v1/push", json={"records": [topup, closeout]}, headers=desk.headers,
                        timeout=10)
    assert [r["status"] for r in answer.json()["results"]] == ["applied", "applied"], answer.text
    sign_in(page)
    page.goto("/admin/close")
    row = page.locator("#drawers tbody tr").first
    assert "¥7,000" in row.inner_text() and "¥6,900" in row.inner_text()
    assert row.locator(".drawer-difference").inner_text().startswith("-¥100")
    assert page.inner_text("#imbalance").startswith("-¥100")
    assert page.inner_text("#money-in") == page.inner_text("#accounted")  # still adds up to the yen
    shoot(page, "close-drawers")
