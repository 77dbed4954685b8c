"""Offline sale while the server is stopped, then synced; language switch; USB scanner; kiosk close."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from ui_helpers import Event, close_app, enroll, free_port, login, make_app, pay, serve_on, shot

from server.testing import Seeder, init_test_event
from ui.i18n import CATALOG, placeholders


@pytest.fixture
def own_event(tmp_path: Path) -> Any:
    """A second event whose server this test may stop and start again on the same port."""
    settings, _ = init_test_event(tmp_path / "event2")
    seeder = Seeder(settings)
    port = free_port()
    ev = Event(tmp_path, settings, seeder, f"http://127.0.0.1:{port}", serve_on(settings, port))
    ev.stall_id = seeder.stall("Ramune")
    ev.product_ids = [seeder.product(ev.stall_id, "ラムネ Ramune", 200)]
    ev.staff = {"cashier": seeder.staff("Hana", pin="1234", roles=[("cashier", "stall", ev.stall_id)])}
    yield ev, port
    ev.stop_server()
    seeder.close()


def test_offline_sale_goes_on_and_syncs_later(qtbot: Any, tmp_path: Path, own_event: Any) -> None:
    event, port = own_event
    app = make_app(qtbot, tmp_path)
    try:
        enroll(qtbot, app, event)
        login(qtbot, app, event, "cashier")
        qtbot.wait_until(lambda: app.window.current.name == "sale", timeout=10_000)
        qtbot.wait_until(lambda: app.backend.sync.online, timeout=15_000)
        network = app.window.status_bar.network
        assert "Online" in network.text()
        wallet = event.wallet(1000)
        event.stop_server()
        sale = app.window.sale
        qtbot.wait_until(lambda: len(sale.product_buttons) == 1, timeout=5000)
        sale.product_buttons[event.product_ids[0]].click()
        decision = pay(qtbot, app, wallet)
        assert decision.approved and decision.mode == "offline"
        assert app.window.overlay.approved is True
        # What the terminal knows offline is an estimate, and says so (not the token's balance as a fact).
        left = f"¥{1000 - decision.amount:,}"
        assert app.window.overlay.detail.text() == f"Balance after: about {left}, not yet synced"
        app.window.overlay.dismiss()
        qtbot.wait_until(lambda: not app.backend.sync.online and app.backend.sync.unsynced_count == 1, timeout=20_000)
        text = network.text()
        assert "Offline since" in text and "1 unsynced" in text and "sales go on" in text
        shot(app.window, "offline_status_en")
        event.stop = serve_on(event.settings, port)
        event.running = True
        qtbot.wait_until(lambda: app.backend.sync.online and app.backend.sync.unsynced_count == 0, timeout=60_000)
        assert "Online" in network.text()
    finally:
        close_app(app)


def test_language_switch_retranslates_what_is_on_screen(qtbot: Any, tmp_path: Path, event: Event) -> None:
    app = make_app(qtbot, tmp_path)
    try:
        enroll(qtbot, app, event)
        shot(app.window, "login_en")
        login(qtbot, app, event, "cashier")
        qtbot.wait_until(lambda: app.window.current.name == "sale", timeout=10_000)
        sale = app.window.sale
        qtbot.wait_until(lambda: len(sale.product_buttons) == 4, timeout=5000)
        sale.product_buttons[event.product_ids[0]].click()
        assert "Show the wallet QR" in sale.hint.text()
        assert app.window.nav_buttons["nav.recent"].text() == "Recent / refund"
        app.window.status_bar.lang_button.click()
        assert app.i18n.language == "ja"
        assert "QRをかざしてください" in sale.hint.text()
        assert app.window.nav_buttons["nav.recent"].text() == "履歴・返金"
        assert "担当" in app.window.status_bar.staff.text()
        assert "売り切れ" in sale.product_buttons[event.product_ids[3]].text()
        shot(app.window, "sale_ja")
        texts = [w.text() for w in app.window.findChildren(type(sale.hint)) if w.isVisible()]
        assert not [t for t in texts if t in CATALOG], "a catalog key leaked onto the screen"
        app.window.status_bar.lang_button.click()
        assert "Show the wallet QR" in sale.hint.text()
        decision = pay(qtbot, app, event.wallet(2000))
        assert decision.approved
        app.i18n.set_language("ja")
        app.window.overlay.dismiss()
        sale.product_buttons[event.product_ids[1]].click()
        pay(qtbot, app, event.wallet(2000))
        assert app.window.overlay.headline.text() == "お支払い完了"
        shot(app.window, "approved_ja")
    finally:
        close_app(app)


def test_usb_scanner_burst_is_a_scan_and_typing_is_not(qtbot: Any, tmp_path: Path, event: Event) -> None:
    app = make_app(qtbot, tmp_path)
    try:
        scans: list[str] = []
        app.wedge.scanned.connect(lambda text, _t: scans.append(text))
        code = event.enrollment_code()
        for i, ch in enumerate(code + "\r"):  # a scanner types ~3 ms per key
            app.wedge.feed(ch, 100.0 + i * 0.003)
        assert scans == [code]
        qtbot.wait_until(lambda: app.window.current.name == "login", timeout=15_000)
        app.wedge.feed("1", 200.0)
        app.wedge.feed("2", 200.5)
        assert scans == [code], "slow human keys are not a scan"
    finally:
        close_app(app)


def test_kiosk_refuses_to_close_by_accident(qtbot: Any, tmp_path: Path, event: Event) -> None:
    app = make_app(qtbot, tmp_path)
    try:
        shot(app.window, "enroll_en")
        app.i18n.set_language("ja")
        shot(app.window, "enroll_ja")
        app.window.close()
        assert app.window.isVisible(), "closing without the settings permission is ignored"
    finally:
        close_app(app)
    assert not app.window.isVisible()


def test_catalog_has_both_languages_with_the_same_parameters() -> None:
    import ui.messages  # noqa: F401  (adds the reason texts)

    for key, (en, ja) in CATALOG.items():
        assert en.strip() and ja.strip(), key
        assert placeholders(en) == placeholders(ja), key
