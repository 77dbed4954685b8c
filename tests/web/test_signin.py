"""Sign-in, lockout, sign-out and CSRF, through a real browser against a real server."""

from __future__ import annotations

import pytest
from web_harness import ADMIN_PASSWORD, Live, shoot, sign_in

from server.staff import create_staff

pytestmark = pytest.mark.browser


def test_sign_in_shows_the_overview_and_sign_out_ends_it(page, live: Live) -> None:
    page.goto("/admin")
    assert "/admin/signin" in page.url  # not signed in: sent to the form
    shoot(page, "signin")
    sign_in(page)
    assert page.url.endswith("/admin")
    assert page.locator("#sales-total").is_visible()
    cookie = next(c for c in page.context.cookies() if c["name"] == "ennichi_admin")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    page.click("#signout")
    page.wait_for_url("**/admin/signin")
    page.goto("/admin")
    assert "/admin/signin" in page.url


def test_wrong_password_locks_after_repeated_failures(page, live: Live) -> None:
    with live.db.write() as conn:
        create_staff(conn, name="Lock Tester", pin="1357", now_ms=live.clock(), login="locky", password="right-one")
    for _ in range(5):
        sign_in(page, "locky", "wrong")
        assert "Wrong login or password" in page.inner_text("#signin-error")
    sign_in(page, "locky", "right-one")  # the right password while locked is still refused
    assert "Too many failed attempts" in page.inner_text("#signin-error")
    shoot(page, "signin-locked")
    assert "/admin/signin" in page.url
    live.clock.advance(16 * 60)
    sign_in(page, "locky", "right-one")
    assert page.locator("#signin-error").count() == 0


def test_post_without_csrf_token_is_refused(page, live: Live) -> None:
    sign_in(page)
    status = page.evaluate("""async () => {
        const r = await fetch('/admin/stalls', {method: 'POST', body: new URLSearchParams({name: 'Forged'})});
        return r.status; }""")
    assert status == 403
    page.goto("/admin/stalls")
    assert "Forged" not in page.content()


def test_language_switch_translates_the_page(page, live: Live) -> None:
    sign_in(page, "admin", ADMIN_PASSWORD)
    page.click("a[lang=ja]")
    page.wait_for_load_state()
    assert "本日の売上" in page.inner_text("main")
    page.click("a[lang=en]")
    page.wait_for_load_state()
    assert "Sales today" in page.inner_text("main")
