"""A busy festival morning: the overview's figures match what was booked; screenshots for the docs."""

from __future__ import annotations

import httpx
import pytest
from web_harness import Live, shoot, sign_in

from server.testing import Seeder

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def festival(live: Live) -> dict[str, int]:
    seed = Seeder(live.settings, clock=live.clock)
    try:
        stalls = {name: seed.stall(name) for name in ("Yakisoba", "Takoyaki", "Kakigori", "Ramune", "Karaage")}
        prices = {"Yakisoba": 400, "Takoyaki": 500, "Kakigori": 300, "Ramune": 200, "Karaage": 350}
        staff = seed.staff("Aoi", roles=[("supervisor", "event", None)])
        tills = {name: seed.terminal("stall", stall_id=sid, name=f"{name} till") for name, sid in stalls.items()}
        gate = seed.gate("Main gate")
        ttype = seed.ticket_type("Day pass", "reentry")
        gate_till = seed.terminal("gate", gate_id=gate, name="Main gate 1")
        seed.terminal("topup", name="Top-up desk")  # never syncs: shown offline
        wallets = seed.wallets(30, balance=3000)
        live.clock.advance(-3 * 3600)  # from 07:00 to 10:00
        total, n = 0, 0
        for hour in range(3):
            for i, wallet in enumerate(wallets):
                name = list(stalls)[(i + hour) % len(stalls)]
                qty = 1 + (i * 7 + hour) % 3
                if (i + hour) % 4 == 0:
                    continue
                sale = tills[name].sale(wallet_id=wallet, amount=qty * prices[name], staff_id=staff)
                r = httpx.post(f"{live.url}/api/v1/push", json={"records": [sale]}, headers=tills[name].headers)
                assert r.json()["results"][0]["status"] == "applied"
                total += qty * prices[name]
                n += 1
                live.clock.advance(3600 / len(wallets) / 2)
            checkins = [gate_till.checkin(ticket_id=1000 + hour * 100 + k, ticket_type=ttype, staff_id=staff)
                        for k in range(10 + hour * 8)]
            httpx.post(f"{live.url}/api/v1/push", json={"records": checkins}, headers=gate_till.headers)
            live.clock.advance(1800)
        for till in (*tills.values(), gate_till):
            httpx.post(f"{live.url}/api/v1/pull", json={"status": {"app_version": "0.1.0", "clock_ms": live.clock(),
                                                                   "unsynced_count": 0}}, headers=till.headers)
        return {"total": total, "count": n, "inside": 10 + 18 + 26}
    finally:
        seed.close()


def test_overview_shows_the_booked_morning(page, live: Live, festival: dict[str, int]) -> None:
    sign_in(page)
    assert page.inner_text("#sales-total") == f"¥{festival['total']:,}"
    assert page.inner_text("#inside") == str(festival["inside"])
    assert page.inner_text("#terminals-offline") == "1"  # the top-up desk never synced
    shoot(page, "overview")
    page.click("a[lang=ja]")
    page.wait_for_load_state()
    assert page.inner_text("#sales-total") == f"¥{festival['total']:,}"
    shoot(page, "overview-ja")
    page.click("a[lang=en]")
    for path, name in (("/admin/tickets", "tickets"), ("/admin/reports", "reports"), ("/admin/terminals", "terminals"),
                       ("/admin/stalls", "stalls")):
        page.goto(path)
        shoot(page, name)
    page.goto("/admin/tickets")
    assert "54" in page.inner_text("#gate-counts")
