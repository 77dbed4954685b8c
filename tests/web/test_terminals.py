"""Enrollment codes from the dashboard enroll a headless terminal; product edits reach its pull; revocation."""

from __future__ import annotations

from pathlib import Path

import pytest
from web_harness import Live, shoot, sign_in

from server.testing import FollowClock, Seeder
from terminal.engine import Terminal

pytestmark = pytest.mark.browser


def test_enrollment_code_enrolls_a_headless_terminal_and_edits_reach_its_pull(page, live: Live, seed: Seeder,
                                                                              tmp_path: Path) -> None:
    stall = seed.stall("Takoyaki")
    product = seed.product(stall, "Takoyaki 6", 500)
    sign_in(page)
    page.goto("/admin/terminals")
    page.select_option("#code-form select[name=mode]", "stall")
    page.select_option("#code-form select[name=stall_id]", str(stall))
    page.click("#code-form button")
    code_text = page.inner_text("#enroll-text")
    assert code_text.startswith("EE1:") and code_text.endswith(live.url)
    assert page.locator("#enroll-qr svg").count() == 1
    shoot(page, "enroll-code")

    terminal = Terminal.open(tmp_path / "terminal", clock=FollowClock(live.clock))
    try:
        row = terminal.enroll(code_text, name="Takoyaki till")
        assert row.stall_id == stall
        terminal.sync_now()
        assert {p.id: p.price for p in terminal.catalog()}[product] == 500

        page.goto("/admin/stalls")
        form = page.locator(f"form[action='/admin/products/{product}']")
        form.locator("input[name=price]").fill("550")
        form.locator("input[name=sold_out]").check()
        form.locator("button").click()
        page.wait_for_url("**/admin/stalls?done=saved")
        assert page.locator(f"form[action='/admin/products/{product}'] input[name=price]").input_value() == "550"
        shoot(page, "stalls")

        terminal.sync_now()
        pulled = {p.id: p for p in terminal.catalog()}
        assert pulled[product].price == 550 and pulled[product].sold_out

        page.goto("/admin/terminals")
        row_el = page.locator("tr[data-terminal='Takoyaki till']")
        assert "online" in row_el.inner_text()
        shoot(page, "terminals")
        page.on("dialog", lambda d: d.accept())
        row_el.locator("button.danger").click()
        page.wait_for_url("**/admin/terminals?done=revoked")
        assert "revoked" in page.locator("tr[data-terminal='Takoyaki till']").inner_text()
        terminal.sync_now()
        assert terminal.store.revoked()
    finally:
        terminal.close()


def test_used_enrollment_code_cannot_enroll_a_second_terminal(page, live: Live, seed: Seeder, tmp_path: Path) -> None:
    sign_in(page)
    page.goto("/admin/terminals")
    page.select_option("#code-form select[name=mode]", "topup")
    page.click("#code-form button")
    code_text = page.inner_text("#enroll-text")
    first, second = Terminal.open(tmp_path / "a"), Terminal.open(tmp_path / "b")
    try:
        first.enroll(code_text)
        with pytest.raises(Exception, match="already used"):
            second.enroll(code_text)
    finally:
        first.close()
        second.close()
