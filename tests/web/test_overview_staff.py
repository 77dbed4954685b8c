"""The overview updates live without a reload; staff creation, badges that terminals accept, PIN reset, grants."""

from __future__ import annotations

from pathlib import Path

import cv2
import httpx
import numpy as np
import pytest
from web_harness import Live, shoot, sign_in

from scanner.decoders import make_decoder
from server.staff import load_access
from server.testing import FollowClock, Seeder
from sync.ids import format_short_id
from sync.permissions import Permission, Scope

pytestmark = pytest.mark.browser


def test_overview_updates_live_without_reload(page, live: Live, seed: Seeder) -> None:
    stall = seed.stall("Yakitori")
    staff = seed.staff("Kai", roles=[("cashier", "stall", stall)])
    till = seed.terminal("stall", stall_id=stall, name="Yakitori till")
    wallet = seed.wallet(5000)
    sign_in(page)
    assert page.inner_text("#sales-total") == "¥0"
    page.evaluate("window.__marker = 'same document'")
    sale = till.sale(wallet_id=wallet, amount=1200, staff_id=staff)
    assert httpx.post(f"{live.url}/api/v1/push", json={"records": [sale]}, headers=till.headers).status_code == 200
    from playwright.sync_api import expect

    expect(page.locator("#sales-total")).to_have_text("¥1,200", timeout=10_000)  # CSP: no wait_for_function
    assert page.evaluate("window.__marker") == "same document"  # no reload happened
    assert "Yakitori" in page.inner_text("#per-stall")
    assert page.locator("#live svg.chart").count() == 2


def test_staff_created_with_a_scoped_role_gets_a_badge_and_a_new_pin(page, live: Live, seed: Seeder,
                                                                     tmp_path: Path) -> None:
    stall = seed.stall("Taiyaki")
    sign_in(page)
    page.goto("/admin/staff")
    page.click("details summary")
    page.fill("#staff-create input[name=name]", "Hina Sato")
    page.fill("#staff-create input[name=pin]", "1357")
    page.select_option("#staff-create select[name=role]", "cashier")
    page.select_option("#staff-create select[name=scope]", f"stall:{stall}")
    page.click("#staff-create button")
    page.wait_for_url("**/admin/staff?done=saved")
    row = page.locator("tr[data-person='Hina Sato']")
    assert "Cashier · Taiyaki" in row.inner_text()
    shoot(page, "staff")
    staff_id = int(row.locator("a").first.get_attribute("href").rsplit("/", 1)[1])

    row.locator("a", has_text="Badge").click()
    shoot(page, "badges")
    shot = page.locator(f".badge-card[data-staff='{staff_id}']").screenshot()
    image = cv2.imdecode(np.frombuffer(shot, np.uint8), cv2.IMREAD_GRAYSCALE)
    badge = [d.text for d in make_decoder().decode(image)]
    assert len(badge) == 1 and badge[0].startswith("ES1:")
    assert format_short_id(staff_id) in page.inner_text(f".badge-card[data-staff='{staff_id}']")

    # A terminal at that stall accepts the printed badge with the PIN, then with the reset PIN.
    from terminal.engine import Terminal

    terminal = Terminal.open(tmp_path / "till", clock=FollowClock(live.clock))
    try:
        terminal.enroll(seed.enrollment_code("stall", stall_id=stall, base_url=live.url))
        terminal.sync_now()
        assert terminal.login(badge[0], "1357").ok
        terminal.logout()
        page.goto(f"/admin/staff/{staff_id}")
        page.fill("#pin-form input[name=pin]", "8642")
        page.click("#pin-form button")
        page.wait_for_url("**?done=saved")
        terminal.sync_now()
        assert not terminal.login(badge[0], "1357").ok
        assert terminal.login(badge[0], "8642").ok
    finally:
        terminal.close()

    # A grant of top-up at the event, until tomorrow noon, shows and applies.
    page.select_option("#override-form select[name=allow]", "1")
    page.select_option("#override-form select[name=permission]", "topup")
    page.select_option("#override-form select[name=scope]", "event")  # no scope is preselected (issue 16)
    page.fill("#override-form input[name=expires]", "2026-07-29T12:00")
    page.click("#override-form button")
    page.wait_for_url("**?done=saved")
    assert "Top up" in page.inner_text("#overrides")
    shoot(page, "person")
    with live.db.read() as conn:
        access = load_access(conn, [staff_id])[staff_id]
    now_s = live.clock() // 1000
    assert access.allows(Permission.TOPUP, Scope(), now_s=now_s)
    assert not access.allows(Permission.TOPUP, Scope(), now_s=now_s + 2 * 86400)  # expired by then


def test_role_permissions_are_edited_from_the_grid(page, live: Live) -> None:
    sign_in(page)
    page.goto("/admin/roles")
    shoot(page, "roles")
    box = page.locator("tr[data-role=gatekeeper] input[value='shift.close']")
    assert not box.is_checked()
    box.check()
    page.locator("tr[data-role=gatekeeper] button").click()
    page.wait_for_url("**/admin/roles?done=saved")
    assert page.locator("tr[data-role=gatekeeper] input[value='shift.close']").is_checked()
    assert page.locator("tr[data-role=gatekeeper] input[value='gate']").is_checked()
