"""Every admin page in ja and en: no untranslated message key and no raw JSON on screen (audit and anomaly
details as sentences); overview, anomalies, wallets and terminals usable at phone width (390 px) in real
Chromium: the menu folds behind a button and nothing scrolls sideways."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select
from web_harness import Live, shoot, sign_in

from server.anomalies import raise_anomaly
from server.audit import audit
from server.db import tables as t
from server.testing import Seeder
from server.web.i18n import MESSAGES

pytestmark = pytest.mark.browser

# First segments of catalog keys and of audit actions: a visible "word.word" starting with one is a key shown raw.
PREFIXES = {k.split(".")[0] for k in MESSAGES["en"]} | {
    "wallet", "stall", "product", "staff", "ticket", "terminal", "role", "gate", "payout", "admin", "my", "web",
    "people", "event", "close", "anomaly", "guest_quota", "api_token", "issuer_key", "enroll_code", "tickets"}
KEY = re.compile(r"(?<![\w./@-])([a-z_]+)\.([a-z0-9_]+(?:\.[a-z0-9_]+)*)(?![\w/@-])")
RAW_JSON = re.compile(r"""[{\[]\s*"[^"]*"\s*:|\\u[0-9a-fA-F]{4}|"\w+":\s""")


@pytest.fixture(scope="module")
def event(live: Live):
    seed = Seeder(live.settings, clock=live.clock)
    stall = seed.stall("Yakisoba")
    seed.product(stall, "Yakisoba", 500)
    seed.terminal("stall", stall_id=stall, name="Yakisoba laptop")
    wallet = seed.wallet(balance=1500)
    now = live.clock()
    with live.db.write() as conn:
        term = conn.execute(select(t.terminals.c.id).limit(1)).scalar_one()
        raise_anomaly(conn, "overdraft", now_ms=now, terminal_id=term, wallet_id=wallet, detail={"balance": -200})
        raise_anomaly(conn, "overdraft_blocked", now_ms=now, wallet_id=wallet,
                      detail={"balance": -1600, "tolerance": 1000})
        raise_anomaly(conn, "record_refused", now_ms=now, severity="security", terminal_id=term,
                      detail={"reason": "bad_signature", "body": {"kind": "sale", "amount": 500, "wallet_id": wallet,
                                                                  "lines": [{"qty": 1, "unit_price": 500}]}})
        raise_anomaly(conn, "passback", now_ms=now, detail={"ticket_id": 123456789, "entered_at": now, "gate_id": 1})
        raise_anomaly(conn, "price_mismatch", now_ms=now, terminal_id=term,
                      detail={"product_id": 1, "price": 500, "unit_price": 400, "terminal": "Yakisoba laptop"})
        audit(conn, actor="admin:admin", action="event.update", now_ms=now,
              changes={"floor_limit": [1000, 1200], "event_name": ["Old fair", "縁日 2026"]})
        audit(conn, actor="admin:admin", action="wallet.topup", now_ms=now, wallet_id=wallet, amount=1500,
              balance=1500, seq=1)
        audit(conn, actor="admin:admin", action="people.import", now_ms=now, batch="abc123", count=30,
              file="2年3組.csv")
        audit(conn, actor="admin:admin", action="stall.update", now_ms=now, stall_id=stall, name="Yakisoba",
              active=True, allow_free_amount=False)
    yield {"stall": stall, "wallet": wallet}
    seed.close()


PAGES = ["/admin", "/admin/stalls", "/admin/staff", "/admin/roles", "/admin/terminals", "/admin/wallets",
         "/admin/wallets/{wallet}", "/admin/tickets", "/admin/anomalies?show=all", "/admin/reports",
         "/admin/close", "/admin/event", "/admin/audit"]


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_no_page_shows_a_message_key_or_raw_json(page, live: Live, event: dict, lang: str) -> None:
    sign_in(page)
    page.context.add_cookies([{"name": "lang", "value": lang, "url": live.url}])
    found: dict[str, list[str]] = {}
    for path in PAGES:
        page.goto(path.format(**event))
        text = page.inner_text("body")
        keys = [m.group(0) for m in KEY.finditer(text) if m.group(1) in PREFIXES]
        raw = [text[max(0, m.start() - 20): m.end() + 20] for m in RAW_JSON.finditer(text)]
        if keys or raw:
            found[path] = keys + raw
    assert not found, found
    page.goto("/admin/anomalies?show=all")
    details = " ".join(page.locator("#anomaly-table td.detail").all_inner_texts())
    page.goto("/admin/audit")
    audit_text = page.inner_text("#audit-table")
    if lang == "ja":
        assert "マイナス（−¥200）" in details or "マイナス（-¥200）" in details
        assert "許容額¥1,000を超えたため" in details and "署名が不正" in details
        assert "フロアリミット（1回の支払い）を¥1,000から¥1,200に変更" in audit_text
        assert "イベント設定の変更" in audit_text and "名簿から利用者を登録" in audit_text
        assert "残高不足" not in page.content()  # overdraft is a balance below zero, not "insufficient"
    else:
        assert "below zero, to -¥200" in details and "bad signature" in details
        assert "Floor limit (per payment) ¥1,000 → ¥1,200" in audit_text


@pytest.mark.parametrize("path", ["/admin", "/admin/anomalies?show=all", "/admin/wallets", "/admin/terminals",
                                  "/admin/stalls"])
def test_phone_width_menu_folds_and_nothing_scrolls_sideways(browser, live: Live, event: dict, path: str) -> None:
    context = browser.new_context(base_url=live.url, viewport={"width": 390, "height": 844}, locale="ja-JP",
                                  device_scale_factor=2, is_mobile=True, has_touch=True)
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        sign_in(page)
        page.goto(path)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, path
        assert not page.locator("#main-nav").is_visible()  # the menu is folded
        name = path.strip("/").split("?")[0].replace("/", "-") or "admin"
        shoot(page, f"phone-{name}", full_page=False)
        page.click("#menu-toggle")
        assert page.locator("#main-nav").is_visible()
        assert page.get_attribute("#menu-toggle", "aria-expanded") == "true"
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        if path == "/admin":
            shoot(page, "phone-menu-open", full_page=False)
        page.click("#main-nav a[data-nav=wallets]")
        page.wait_for_url("**/admin/wallets")
        assert not page.locator("#main-nav").is_visible()
    finally:
        context.close()
