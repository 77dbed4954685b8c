"""My page: sign in with short code and PIN, a wallet QR the project's scanner reads, guests within quota."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from web_harness import Live, shoot, sign_in, start_server, stop_server

from scanner.decoders import make_decoder
from server.db import tables as t
from server.issuer import issuer_key_rows
from server.testing import Seeder
from server.web.config import WebSettings
from sync.ids import format_short_id
from sync.keys import KeySet, public_key_from_b64
from sync.tokens import WalletToken, decode_token

pytestmark = pytest.mark.browser
PIN = "482916"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory):
    server = start_server(tmp_path_factory.mktemp("event"), web=WebSettings(wallet_qr_refresh_margin_s=595))
    yield server
    stop_server(server)


@pytest.fixture(scope="module")
def wallet(live: Live, seed: Seeder) -> int:
    return seed.wallet(3000)


@pytest.fixture(scope="module")
def member(live: Live, seed: Seeder) -> int:
    """A customer set up straight in the database (PIN, student, 2 guests), so no test needs another's."""
    from server.web.customers import set_customer

    wallet = seed.wallet(3000)
    guest_type = seed.ticket_type("Member guest pass", "single")
    with live.db.write() as conn:
        set_customer(conn, wallet, holder_name="Ren Sato", pin=PIN, student=True, guest_quota=2,
                     guest_ticket_type=guest_type, now_ms=live.clock())
    return wallet


@pytest.fixture
def customer(browser, live: Live):
    context = browser.new_context(base_url=live.url, viewport={"width": 430, "height": 932}, locale="ja-JP",
                                  device_scale_factor=2)
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def _keys(live: Live) -> KeySet:
    with live.db.read() as conn:
        rows = issuer_key_rows(conn)
    return KeySet({r.key_id: public_key_from_b64(r.public_key) for r in rows})


def _decode_png(png: bytes) -> list[str]:
    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_GRAYSCALE)
    return [d.text for d in make_decoder().decode(image)]


def test_admin_gives_access_and_the_customer_sees_a_scannable_qr(page, customer, live: Live, seed: Seeder,
                                                                 wallet: int) -> None:
    guest_type = seed.ticket_type("Guest day pass", "single")
    sign_in(page)
    page.goto(f"/admin/wallets/{wallet}")
    page.fill("#customer-form input[name=holder_name]", "Mei Tanaka")
    page.fill("#customer-form input[name=pin]", PIN)
    page.check("#customer-form input[name=student]")
    page.fill("#customer-form input[name=guest_quota]", "2")
    page.select_option("#customer-form select[name=guest_ticket_type]", str(guest_type))
    page.click("#customer-form button")
    page.wait_for_url("**?done=customer_saved")

    customer.goto("/my")
    assert "/my/signin" in customer.url
    shoot(customer, "my-signin")
    customer.fill("input[name=code]", format_short_id(wallet).lower())
    customer.fill("input[name=pin]", "000000")
    customer.click("button.primary")
    assert customer.locator("#my-error").is_visible()
    customer.fill("input[name=pin]", PIN)
    customer.click("button.primary")
    customer.wait_for_url("**/my")
    assert customer.inner_text("#balance") == "¥3,000"
    shoot(customer, "my-page")

    texts = _decode_png(customer.screenshot())
    assert len(texts) == 1 and texts[0].startswith("EW1:")
    token = decode_token(texts[0], _keys(live), now=live.clock() // 1000, expect=WalletToken)
    assert token.wallet_id == wallet and token.balance == 3000
    assert token.expires_at > live.clock() // 1000


def test_qr_is_refreshed_before_it_expires(customer, live: Live, member: int) -> None:
    customer.goto("/my/signin")
    customer.fill("input[name=code]", format_short_id(member))
    customer.fill("input[name=pin]", PIN)
    customer.click("button.primary")
    customer.wait_for_url("**/my")
    first = int(customer.get_attribute("#wallet-qr", "data-expires-ms"))
    old_svg = customer.inner_html("#wallet-qr .qr-img")
    live.clock.advance(30)
    # The margin (595 s of a 600 s token) makes the page fetch a new token after its 5 s floor.
    from playwright.sync_api import expect

    # (a locator wait, not wait_for_function: the page's CSP allows no eval)
    expect(customer.locator("#wallet-qr")).not_to_have_attribute("data-expires-ms", str(first), timeout=15_000)
    assert customer.inner_html("#wallet-qr .qr-img") != old_svg
    texts = _decode_png(customer.screenshot())
    token = decode_token(texts[0], _keys(live), now=live.clock() // 1000, expect=WalletToken)
    assert token.expires_at * 1000 > first


def test_guest_invitations_within_and_beyond_quota(customer, live: Live, member: int) -> None:
    customer.goto("/my/signin")
    customer.fill("input[name=code]", format_short_id(member))
    customer.fill("input[name=pin]", PIN)
    customer.click("button.primary")
    customer.wait_for_url("**/my")
    for name in ("Grandma", "Kenji"):
        customer.fill("#invite-form input[name=guest_name]", name)
        customer.click("#invite-form button")
        customer.wait_for_url("**/my/guests/*")
        assert customer.locator("#guest-qr svg").count() == 1
        texts = _decode_png(customer.screenshot())
        assert texts and texts[0].startswith("ET1:")
        customer.goto("/my")
    assert "2" in customer.inner_text("#guest-quota")
    assert customer.locator("#invite-form").count() == 0  # quota used: no form
    shoot(customer, "my-guests")
    # Beyond the quota, even a hand-made request is refused and makes nothing.
    token = customer.get_attribute("meta[name=csrf-token]", "content")
    customer.evaluate("""async (token) => { await fetch('/my/guests', {method: 'POST',
        body: new URLSearchParams({guest_name: 'Third', csrf: token})}); }""", token)
    customer.goto("/my")
    assert customer.locator("#invites tr").count() == 2
    customer.goto("/my?guest_error=my.guest_quota_full")
    assert customer.locator("#guest-error").is_visible()

    customer.on("dialog", lambda d: d.accept())
    customer.locator("#invites tr").first.locator("button.danger").click()
    customer.wait_for_url("**/my?done=cancelled")
    assert customer.locator("#invite-form").count() == 1  # a place is free again
    with live.db.read() as conn:
        revoked = conn.execute(t.revocations.select().where(t.revocations.c.kind == "ticket")).all()
    assert len(revoked) == 1 and revoked[0].revoked


def test_a_customer_without_student_role_cannot_invite(customer, live: Live, seed: Seeder) -> None:
    from server.web.customers import set_customer

    other = seed.wallet(0)
    with live.db.write() as conn:
        set_customer(conn, other, holder_name="Visitor", pin="1111", student=False, guest_quota=5,
                     guest_ticket_type=None, now_ms=live.clock())
    customer.goto("/my/signin")
    customer.fill("input[name=code]", format_short_id(other))
    customer.fill("input[name=pin]", "1111")
    customer.click("button.primary")
    customer.wait_for_url("**/my")
    assert customer.locator("#invite-form").count() == 0
    token = customer.get_attribute("meta[name=csrf-token]", "content")
    url = customer.evaluate("""async (token) => (await fetch('/my/guests', {method: 'POST',
        body: new URLSearchParams({guest_name: 'X', csrf: token})})).url""", token)
    assert "guest_error=my.guest_not_allowed" in url


def test_my_page_pin_lockout(customer, live: Live, seed: Seeder) -> None:
    from server.web.customers import set_customer

    target = seed.wallet(0)
    with live.db.write() as conn:
        set_customer(conn, target, holder_name="", pin="2580", student=False, guest_quota=0, guest_ticket_type=None,
                     now_ms=live.clock())
    for _ in range(5):
        customer.goto("/my/signin")
        customer.fill("input[name=code]", format_short_id(target))
        customer.fill("input[name=pin]", "9999")
        customer.click("button.primary")
    customer.fill("input[name=pin]", "2580")
    customer.click("button.primary")
    assert "/my/signin" in customer.url and customer.locator("#my-error").is_visible()
