"""Tickets on the dashboard: issue, CSV import (all or nothing), printed QR codes, revoke, guest quota by role."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import httpx
import numpy as np
import pytest
from sqlalchemy import func, select
from web_harness import Live, shoot, sign_in

from scanner.decoders import make_decoder
from server.db import tables as t
from server.issuer import issuer_key_rows
from server.testing import Seeder, TestTerminal
from server.web.customers import customer, effective_quota
from sync.ids import format_short_id, parse_short_id
from sync.keys import KeySet, public_key_from_b64
from sync.tokens import TicketFlags, TicketToken, decode_token

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def day_pass(seed: Seeder) -> int:
    return seed.ticket_type("Day pass", "reentry")


def _keys(live: Live) -> KeySet:
    with live.db.read() as conn:
        rows = issuer_key_rows(conn)
    return KeySet({r.key_id: public_key_from_b64(r.public_key) for r in rows})


def _ticket_count(live: Live) -> int:
    with live.db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(t.tickets)).scalar_one())


def _pull_revocations(live: Live, term: TestTerminal) -> dict[int, bool]:
    found: dict[int, bool] = {}
    cursor = ""
    with httpx.Client(base_url=live.url, headers=term.headers, timeout=30) as client:
        for _ in range(50):
            body = client.post("/api/v1/pull", json={"cursor": cursor, "limit": 1000}).json()
            found.update({r["id"]: r["revoked"] for r in body["revocations"] if r["kind"] == "ticket"})
            cursor = body["cursor"]
            if not body["more"]:
                break
    return found


def test_issue_print_scan_and_revoke(browser, live: Live, seed: Seeder, day_pass: int) -> None:
    gate = seed.gate("East gate")
    keeper = seed.staff("Kenta", roles=[("gatekeeper", "gate", gate)])
    gate_terminal = seed.terminal("gate", gate_id=gate, name="East gate laptop")
    context = browser.new_context(base_url=live.url, viewport={"width": 1280, "height": 900}, locale="en-US",
                                  device_scale_factor=2)
    context.set_default_timeout(10_000)
    page = context.new_page()
    before = _ticket_count(live)
    try:
        sign_in(page)
        page.goto("/admin/tickets")
        page.select_option("#issue-form select[name=ticket_type]", str(day_pass))
        page.fill("#issue-form input[name=count]", "3")
        page.click("#issue-form button")
        page.wait_for_url("**/admin/tickets/print?batch=*")
        cards = page.locator("#ticket-sheet .ticket-card")
        assert cards.count() == 3
        assert _ticket_count(live) == before + 3
        shoot(page, "tickets-print")

        # Every printed code is a ticket the project's scanner reads and the event's keys verify.
        decoder = make_decoder("auto")
        keys = _keys(live)
        printed: list[int] = []
        for i in range(3):
            png = cards.nth(i).locator("div.qr").screenshot()
            image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_GRAYSCALE)
            texts = [d.text for d in decoder.decode(image)]
            assert len(texts) == 1 and texts[0].startswith("ET1:"), texts
            token = decode_token(texts[0], keys, now=live.clock() // 1000, expect=TicketToken)
            assert token.ticket_type == day_pass and not token.flags & TicketFlags.GUEST
            assert format_short_id(token.ticket_id) == cards.nth(i).get_attribute("data-ticket")
            printed.append(token.ticket_id)

        # One named ticket.
        page.goto("/admin/tickets")
        page.select_option("#issue-form select[name=ticket_type]", str(day_pass))
        page.fill("#issue-form input[name=holder]", "Aoi Sato")
        page.click("#issue-form button")
        page.wait_for_url("**/admin/tickets/print?batch=*")
        assert page.locator("#ticket-sheet .ticket-card").count() == 1
        assert "Aoi Sato" in page.inner_text("#ticket-sheet")

        # A gate lets the first printed ticket in: the gates table counts it inside.
        entry = gate_terminal.checkin(ticket_id=printed[0], ticket_type=day_pass, staff_id=keeper)
        pushed = httpx.post(f"{live.url}/api/v1/push", json={"records": [entry]}, headers=gate_terminal.headers)
        assert pushed.json()["results"][0]["status"] == "applied", pushed.text

        # Revoke the second one with a reason: audited, shown, and the gate's next pull carries it.
        victim = format_short_id(printed[1])
        assert _pull_revocations(live, gate_terminal).get(printed[1]) is None
        page.goto("/admin/tickets")
        row = page.locator("#gate-counts tr[data-gate='East gate'] td")
        assert [row.nth(i).inner_text() for i in (1, 2, 3)] == ["1", "0", "1"]
        page.fill("#revoke-form input[name=ticket_id]", victim.lower().replace("-", ""))
        page.fill("#revoke-form input[name=reason]", "reported lost")
        page.click("#revoke-form button")
        page.wait_for_url("**?done=ticket_revoked")
        assert "revoked" in page.inner_text(f"#recent-tickets tr[data-ticket='{victim}']")
        assert _pull_revocations(live, gate_terminal).get(printed[1]) is True
        with live.db.read() as conn:
            audit = conn.execute(select(t.audit_log).where(t.audit_log.c.action == "ticket.revoke")).all()
        assert len(audit) == 1 and "reported lost" in json.dumps(audit[0]._asdict(), default=str)

        # A revoke without a reason is refused.
        page.fill("#revoke-form input[name=ticket_id]", format_short_id(printed[2]))
        page.evaluate("document.querySelector('#revoke-form input[name=reason]').removeAttribute('required')")
        page.click("#revoke-form button")
        assert page.locator(".error-page").count() == 1
        assert _pull_revocations(live, gate_terminal).get(printed[2]) is None

        # Tick two recent tickets and print just those.
        page.goto("/admin/tickets")
        for tid in printed[:2]:
            page.check(f"#recent-tickets tr[data-ticket='{format_short_id(tid)}'] input.pick")
        page.click("#print-picked")
        page.wait_for_url("**/admin/tickets/print?*")
        assert sorted(parse_short_id(c) for c in page.locator("#ticket-sheet .ticket-card").evaluate_all(
            "els => els.map(e => e.dataset.ticket)")) == sorted(printed[:2])
        page.goto("/admin/tickets")
        shoot(page, "tickets")
    finally:
        context.close()


def test_csv_import_all_or_nothing(page, live: Live, seed: Seeder, day_pass: int, tmp_path) -> None:
    before = _ticket_count(live)
    bad = tmp_path / "bad.csv"
    bad.write_text(f"type,holder,valid_until\n{day_pass},Hina,\n999,Nobody,\n{day_pass},Yui,tomorrow\n")
    sign_in(page)
    page.goto("/admin/tickets")
    page.set_input_files("#import-form input[name=file]", str(bad))
    page.click("#import-form button")
    assert page.locator(".error-page").count() == 1
    lines = page.locator("#error-lines li").all_inner_texts()
    assert len(lines) == 2, lines
    assert lines[0].startswith("Line 3:") and "999" in lines[0]
    assert lines[1].startswith("Line 4:") and "tomorrow" in lines[1]
    assert _ticket_count(live) == before  # nothing issued

    good = tmp_path / "good.csv"
    good.write_text(f"type,holder,valid_until\n{day_pass},Hina,\n{day_pass},Yui,2026-07-30T18:00+09:00\n")
    page.goto("/admin/tickets")
    page.set_input_files("#import-form input[name=file]", str(good))
    page.click("#import-form button")
    page.wait_for_url("**/admin/tickets/print?batch=*")
    assert page.locator("#ticket-sheet .ticket-card").count() == 2
    assert _ticket_count(live) == before + 2
    with live.db.read() as conn:
        rows = conn.execute(select(t.tickets.c.holder, t.tickets.c.valid_until)
                            .where(t.tickets.c.source == "csv").order_by(t.tickets.c.holder)).all()
    assert [r.holder for r in rows] == ["Hina", "Yui"]
    assert rows[1].valid_until == 1_785_402_000  # 2026-07-30T18:00+09:00


def test_csv_import_by_type_name_local_times_and_the_template(page, live: Live, seed: Seeder, day_pass: int,
                                                              tmp_path) -> None:
    seed.ticket_type("一般 Guest", "single")
    before = _ticket_count(live)
    sign_in(page)
    page.context.add_cookies([{"name": "lang", "value": "ja", "url": live.url}])
    page.goto("/admin/tickets")
    with page.expect_download() as download:
        page.click("#tickets-template")
    template = Path(download.value.path()).read_text(encoding="utf-8-sig").splitlines()
    assert template[0] == "種類,名前,開始,終了" and template[1].startswith("Day pass,")

    bad = tmp_path / "bad-ja.csv"
    bad.write_text("種類,名前,開始,終了\n一般 Guest,Aoi,2026/07/29 9:00,2026/07/29 8:00\n大人,Ren,,\n"
                   "Day pass,Mio,あした,\n", encoding="utf-8")
    page.set_input_files("#import-form input[name=file]", str(bad))
    page.click("#import-form button")
    lines = page.locator("#error-lines li").all_inner_texts()
    assert lines[0] == "2行目：終了が開始より後になっていません"
    assert lines[1].startswith("3行目：「大人」はチケットの種類ではありません（種類：") and "一般 Guest" in lines[1]
    assert lines[2] == "4行目：「あした」は日時として読めません。2026/11/03 9:00 のように書いてください"
    assert _ticket_count(live) == before

    good = tmp_path / "good-ja.csv"  # Shift_JIS, as a Japanese spreadsheet saves it
    good.write_bytes("種類,名前,開始,終了\n一般 guest,葵,2026/07/29 9:00,2026/07/29 17:30\nday pass,蓮,,2026/07/30\n"
                     .encode("cp932"))
    page.goto("/admin/tickets")
    page.set_input_files("#import-form input[name=file]", str(good))
    page.click("#import-form button")
    page.wait_for_url("**/admin/tickets/print?batch=*")
    with live.db.read() as conn:
        rows = {r.holder: r for r in conn.execute(select(t.tickets).where(t.tickets.c.holder.in_(["葵", "蓮"])))}
    assert rows["葵"].valid_from == 1_785_283_200 and rows["葵"].valid_until == 1_785_313_800  # 09:00-17:30 JST
    assert rows["蓮"].ticket_type == day_pass and rows["蓮"].valid_until == 1_785_423_599  # the end of 07-30 JST


def test_guest_quota_default_from_role_with_a_personal_exception(page, live: Live, seed: Seeder,
                                                                  day_pass: int) -> None:
    first, second = seed.wallet(0), seed.wallet(0)
    sign_in(page)
    for name, wallet in (("Riko", first), ("Sena", second)):
        page.goto(f"/admin/wallets/{wallet}")
        page.fill("#customer-form input[name=holder_name]", name)
        page.fill("#customer-form input[name=pin]", "2580")
        page.check("#customer-form input[name=student]")
        page.fill("#customer-form input[name=guest_quota]", "")  # blank: the role's default
        page.select_option("#customer-form select[name=guest_ticket_type]", str(day_pass))
        page.click("#customer-form button")
        page.wait_for_url("**?done=customer_saved")

    page.goto("/admin/tickets")
    page.fill("#quota-form input[name=quota]", "3")
    page.click("#quota-form button")
    page.wait_for_url("**?done=saved")
    assert page.input_value("#quota-form input[name=quota]") == "3"

    # The second student gets an exception of 1.
    page.goto(f"/admin/wallets/{second}")
    assert page.get_attribute("#customer-form input[name=guest_quota]", "placeholder") == "3"
    page.fill("#customer-form input[name=guest_quota]", "1")
    page.click("#customer-form button")
    page.wait_for_url("**?done=customer_saved")

    with live.db.read() as conn:
        one, two = customer(conn, first), customer(conn, second)
        assert one is not None and two is not None
        assert one.guest_quota is None and effective_quota(conn, one) == 3
        assert two.guest_quota == 1 and effective_quota(conn, two) == 1

    # A changed role default reaches everyone without an exception, and only them.
    page.goto("/admin/tickets")
    page.fill("#quota-form input[name=quota]", "5")
    page.click("#quota-form button")
    page.wait_for_url("**?done=saved")
    with live.db.read() as conn:
        one, two = customer(conn, first), customer(conn, second)
        assert one is not None and two is not None
        assert effective_quota(conn, one) == 5 and effective_quota(conn, two) == 1

    # My page shows the quota in force and enforces it.
    my = page.context.new_page()
    my.goto("/my/signin")
    my.fill("input[name=code]", format_short_id(second))
    my.fill("input[name=pin]", "2580")
    my.click("button.primary")
    my.wait_for_url("**/my")
    assert "0 of 1" in my.inner_text("#guest-quota")
    my.fill("#invite-form input[name=guest_name]", "Grandma")
    my.click("#invite-form button")
    my.wait_for_url("**/my/guests/*")
    my.goto("/my")
    assert "1 of 1" in my.inner_text("#guest-quota")
    assert my.locator("#invite-form").count() == 0
