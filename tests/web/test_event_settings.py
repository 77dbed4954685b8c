"""The event settings page in real Chromium: saved, audited, pulled by terminals; bad input changes nothing."""

from __future__ import annotations

import json

import httpx
import pytest
from sqlalchemy import select
from web_harness import Live, csrf_of, shoot, sign_in

from server.db import tables as t
from server.event import get_event_settings
from server.testing import Seeder

pytestmark = pytest.mark.browser


def _settings(live: Live):
    with live.db.read() as conn:
        return get_event_settings(conn)


def _last_audit(live: Live) -> tuple[str, dict]:
    with live.db.read() as conn:
        row = conn.execute(select(t.audit_log.c.action, t.audit_log.c.detail)
                           .order_by(t.audit_log.c.id.desc()).limit(1)).one()
    return row.action, json.loads(row.detail)


def test_settings_saved_audited_and_pulled(page, live: Live, seed: Seeder) -> None:
    terminal = seed.terminal("stall", stall_id=seed.stall("Settings stall"))
    sign_in(page)
    page.context.add_cookies([{"name": "lang", "value": "en", "url": live.url}])
    page.goto("/admin")
    page.click("nav.main a[data-nav=event]")
    page.wait_for_url("**/admin/event")
    assert page.input_value("#f-floor_limit") == "1000" and page.input_value("#f-max_offline_s") == "60"
    assert "decided by the terminal alone" in page.inner_text("form#event-settings")  # the consequence, beside it
    shoot(page, "event-settings")

    page.select_option("#f-currency", "GBP")  # before the first sale: any ISO 4217 currency
    page.fill("#f-number_locale", "en_GB")
    page.fill("#f-floor_limit", "£12.50")
    page.fill("#f-offline_limit", "30")
    page.fill("#f-unsynced_cap", "2,000.00")
    page.fill("#f-overdraft_tolerance", "5")
    page.fill("#f-max_offline_s", "30")
    page.fill("#f-staff_idle_logout_s", "5")
    page.click("#event-save")
    page.wait_for_url("**/admin/event?done=saved")
    s = _settings(live)
    assert (s.currency, s.number_locale, s.floor_limit, s.offline_limit, s.unsynced_cap, s.overdraft_tolerance,
            s.max_offline_s, s.staff_idle_logout_s) == ("GBP", "en_GB", 1250, 3000, 200_000, 500, 1800, 300)
    action, detail = _last_audit(live)
    assert action == "event.update"
    assert detail["changes"]["currency"] == ["JPY", "GBP"] and detail["changes"]["floor_limit"] == [1000, 1250]
    assert page.input_value("#f-floor_limit") == "12.50"  # shown as the parser reads it back

    pulled = httpx.post(f"{live.url}/api/v1/pull", headers=terminal.headers, json={"cursor": "", "limit": 1}).json()
    assert pulled["settings"]["currency"] == "GBP" and pulled["settings"]["floor_limit"] == 1250
    assert pulled["settings"]["staff_idle_logout_s"] == 300


def test_bad_input_refused_in_japanese_and_nothing_changes(page, live: Live) -> None:
    before = _settings(live)
    sign_in(page)
    page.context.add_cookies([{"name": "lang", "value": "ja", "url": live.url}])
    page.goto("/admin/event")
    page.fill("#f-floor_limit", "12.345")  # GBP has two decimals
    page.fill("#f-staff_idle_logout_s", "0")
    page.fill("#f-pull_interval_s", "99999999999")
    page.fill("#f-timezone", "Mars/Olympus")
    page.fill("#f-offline_limit", "¥100")  # another currency
    page.click("#event-save")
    page.wait_for_load_state()
    lines = page.inner_text("#error-lines")
    assert "保存していません" in page.inner_text("#event-errors")
    assert "小数は 2 桁まで" in lines and "別の通貨" in lines
    assert "無操作でのログアウト：1〜1,440分の整数" in lines
    assert "受信の間隔：1〜600秒の整数" in lines and "「Mars/Olympus」はタイムゾーンではありません" in lines
    assert page.input_value("#f-floor_limit") == "12.345"  # the typed form comes back to be corrected
    assert _settings(live) == before
    page.set_viewport_size({"width": 390, "height": 844})
    shoot(page, "event-settings-errors-phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_currency_locked_after_money_moves(page, live: Live, seed: Seeder) -> None:
    from server.event import set_event_settings

    with live.db.write() as conn:  # the currency chosen before money moved (alone, not after the test before)
        set_event_settings(conn, get_event_settings(conn).model_copy(update={"currency": "GBP"}))
    seed.wallet(balance=500)  # a top-up: money has moved
    sign_in(page)
    page.context.add_cookies([{"name": "lang", "value": "en", "url": live.url}])
    page.goto("/admin/event")
    assert page.locator("#currency-locked").count() == 1
    assert page.get_attribute("#f-currency", "readonly") is not None
    form = {n: page.input_value(f"[name={n}]") for n in (
        "event_name", "timezone", "number_locale", "offline_fallback", "floor_limit", "offline_limit",
        "unsynced_cap", "overdraft_tolerance", "max_offline_s", "staff_idle_logout_s", "wallet_token_ttl_s",
        "authorize_timeout_ms", "pull_interval_s", "push_debounce_ms")}
    resp = page.request.post(f"{live.url}/admin/event", form=form | {"currency": "JPY", "csrf": csrf_of(page.content()),
                                                                    "form_key": "locked-currency-try"})
    assert resp.status == 422 and "the currency stays GBP" in resp.text()
    assert _settings(live).currency == "GBP"

    page.fill("#f-event_name", "Autumn fair")  # everything else still changes
    page.click("#event-save")
    page.wait_for_url("**/admin/event?done=saved")
    assert _settings(live).event_name == "Autumn fair"


def test_opening_hours_typed_as_local_days_refused_in_japanese_and_pulled(page, live: Live, seed: Seeder) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    terminal = seed.terminal("stall", stall_id=seed.stall("Hours stall"))
    zone = ZoneInfo(_settings(live).timezone)
    sign_in(page)
    page.context.add_cookies([{"name": "lang", "value": "ja", "url": live.url}])
    page.goto("/admin/event")
    assert "営業時間" in page.inner_text("form#event-settings") and page.input_value("#f-opening_hours") == ""
    before = _settings(live)
    page.fill("#f-opening_hours", "2026-11-03 10:00-16:00\n文化祭の日 10時から\n2026-11-03 15:00-18:00")
    page.click("#event-save")
    page.wait_for_load_state()
    lines = page.inner_text("#error-lines")
    assert "営業時間の2行目（文化祭の日 10時から）" in lines and "重なっている行があります" in lines
    assert _settings(live) == before  # refused: nothing changed

    page.fill("#f-opening_hours", "2026-11-03 10:00-16:00\n２０２６-１１-０４ 9:30〜15:00\n2026-11-04 18:00-01:00")
    page.click("#event-save")
    page.wait_for_url("**/admin/event?done=saved")

    def ms(*args: int) -> int:
        return int(datetime(*args, tzinfo=zone).timestamp() * 1000)

    hours = [(p.opens_ms, p.closes_ms) for p in _settings(live).opening_hours]
    assert hours == [(ms(2026, 11, 3, 10), ms(2026, 11, 3, 16)), (ms(2026, 11, 4, 9, 30), ms(2026, 11, 4, 15)),
                     (ms(2026, 11, 4, 18), ms(2026, 11, 5, 1))]  # a close before the opening: the next day
    assert page.input_value("#f-opening_hours").splitlines() == [
        "2026-11-03 10:00-16:00", "2026-11-04 09:30-15:00", "2026-11-04 18:00-01:00"]
    action, detail = _last_audit(live)
    assert action == "event.update" and "opening_hours" in detail["changes"]
    pulled = httpx.post(f"{live.url}/api/v1/pull", headers=terminal.headers, json={"cursor": "", "limit": 1}).json()
    assert [(p["opens_ms"], p["closes_ms"]) for p in pulled["settings"]["opening_hours"]] == hours

    page.fill("#f-opening_hours", "")  # empty again: sales at any time
    page.click("#event-save")
    page.wait_for_url("**/admin/event?done=saved")
    assert _settings(live).opening_hours == []
