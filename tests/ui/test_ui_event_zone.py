"""Times on the terminal's screens are the event's (EventSettings.timezone), never the laptop's own zone."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from ui_helpers import PIN, Event, close_app, enroll, login, make_app, pay

from server.testing import Seeder, init_test_event, run_server_in_thread
from sync.schemas import EventSettings
from sync.timezone import local_time


def _far_zone() -> str:
    """A zone whose clock differs from this machine's now (+14 h, or -11 h when the machine is at +14)."""
    here = datetime.now().astimezone().utcoffset()
    return "Pacific/Pago_Pago" if here is not None and here.total_seconds() == 14 * 3600 else "Pacific/Kiritimati"


@pytest.fixture(scope="module")
def far(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Event]:
    tmp = tmp_path_factory.mktemp("zone")
    settings, _ = init_test_event(tmp, event=EventSettings(timezone=_far_zone()))
    seeder = Seeder(settings)
    base_url, stop = run_server_in_thread(settings)
    ev = Event(tmp, settings, seeder, base_url, stop)
    ev.stall_id = seeder.stall("Kiosk")
    ev.product_ids = [seeder.product(ev.stall_id, "Tea お茶", 150)]
    ev.staff = {"cashier": seeder.staff("Hana", pin=PIN, roles=[("cashier", "stall", ev.stall_id)])}
    yield ev
    ev.stop_server()
    seeder.close()


def test_recent_list_and_shift_report_show_the_events_local_time(qtbot: Any, tmp_path: Path,
                                                                       far: Event) -> None:
    zone = _far_zone()
    app = make_app(qtbot, tmp_path)
    try:
        enroll(qtbot, app, far)
        login(qtbot, app, far, "cashier")
        qtbot.wait_until(lambda: app.window.current.name == "sale", timeout=10_000)
        qtbot.wait_until(lambda: app.backend.terminal.timezone == zone, timeout=10_000)
        sale = app.window.sale
        qtbot.wait_until(lambda: len(sale.product_buttons) == 1, timeout=5000)
        sale.product_buttons[far.product_ids[0]].click()
        sold = pay(qtbot, app, far.wallet(1000))
        assert sold.approved
        app.window.nav_buttons["nav.recent"].click()
        recent = app.window.recent
        qtbot.wait_until(lambda: any(r.id == sold.record_id for r in recent.rows), timeout=5000)
        row = next(r for r in recent.rows if r.id == sold.record_id)
        theirs = local_time(row.created_at, zone).strftime("%H:%M")
        mine = time.strftime("%H:%M", time.localtime(row.created_at / 1000))
        assert theirs != mine  # the zones differ by hours: the check below can tell them apart
        shown = [recent.list.item(i).text() for i in range(recent.list.count())]
        assert any(text.startswith(theirs) for text in shown), shown
        assert not any(text.startswith(mine) for text in shown), shown
        app.window.nav_buttons["nav.shift"].click()
        shift = app.window.screens["shift"]
        qtbot.wait_until(lambda: shift.report is not None, timeout=10_000)
        text = shift.text.toPlainText()
        until = local_time(shift.report.until_ms, zone).strftime("%Y-%m-%d %H:%M")
        assert until in text and time.strftime("%Y-%m-%d %H:%M", time.localtime(shift.report.until_ms / 1000)) \
            not in text
    finally:
        close_app(app)
