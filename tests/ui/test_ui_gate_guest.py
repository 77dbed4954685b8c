"""A guest's ticket code typed on the real gate screen: the code My page shows is the one the gate lets in.

A student invites a guest on My page (the live server's own pages, over HTTP); the gatekeeper types
the code printed under the guest's QR into the gate screen's code field with real key events
(a key at a person's pace, then Enter; the wedge's clock is moved by hand so the keys
are not taken for a scanner's burst).  The gate decides it from the tickets it pulled: green, and
counted inside; typed again, already used; cancelled on My page, refused; a typo in the check
character is caught before anything is decided.  Every refusal in both languages.
"""

from __future__ import annotations

import re
import time
from html import unescape
from pathlib import Path
from typing import Any

import httpx
from hid_keys import FakeClock, type_like_person
from ui_helpers import Event, close_app, enroll, login, make_app, type_at_gate

from server.web.customers import set_customer
from sync.ids import ShortIdError, format_short_id, parse_short_id
from terminal.decisions import DeclineReason

STUDENT_PIN = "583920"


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "no CSRF field on the page"
    return match.group(1)


def _invite_on_my_page(event: Event, guest: str, cancelled: str) -> tuple[str, str]:
    """A student signs in to My page, invites two guests and cancels the second with the page's form;
    returns the ticket codes the two guest pages show."""
    wallet = event.seeder.wallet()
    with event.seeder.db.write() as conn:
        set_customer(conn, wallet, holder_name="Aoi", pin=STUDENT_PIN, student=True, guest_quota=2,
                     guest_ticket_type=event.ticket_types["single"], now_ms=int(time.time() * 1000))
    codes: list[str] = []
    with httpx.Client(base_url=event.base_url, follow_redirects=True, timeout=30) as my:
        signin = my.get("/my/signin")
        assert my.post("/my/signin", data={"code": format_short_id(wallet), "pin": STUDENT_PIN,
                                           "csrf": _csrf(signin.text)}).url.path == "/my"
        for name in (guest, cancelled):
            page = my.post("/my/guests", data={"guest_name": name, "csrf": _csrf(my.get("/my").text)})
            assert page.url.path.startswith("/my/guests/"), page.url
            found = re.search(r'id="ticket-code">([^<]+)<', page.text)
            assert found and 'id="guest-qr"' in page.text
            codes.append(unescape(found.group(1)))
        done = my.post(f"{page.url.path}/cancel", data={"csrf": _csrf(my.get("/my").text)})
        assert "done=cancelled" in str(done.url)
    return codes[0], codes[1]


def _check_typo(code: str) -> str:
    """``code`` with its check character (the last) changed to another that does not check."""
    for char in "0123456789ABCDEFGHJKMNPQRSTVWXYZ":
        if char != code[-1]:
            try:
                parse_short_id(code[:-1] + char)
            except ShortIdError:
                return code[:-1] + char
    raise AssertionError("no typo found")


def test_a_guest_code_from_my_page_typed_at_the_gate(qtbot: Any, tmp_path: Path, event: Event) -> None:
    code, cancelled = _invite_on_my_page(event, "Grandma", "Uncle")
    ticket_id = parse_short_id(code)
    app = make_app(qtbot, tmp_path)
    clock = FakeClock()
    app.wedge.set_clock(clock)
    try:
        enroll(qtbot, app, event, "gate")
        login(qtbot, app, event, "gate")
        qtbot.wait_until(lambda: app.window.current.name == "gate", timeout=10_000)
        app.camera.stop()
        gate = app.window.gate
        overlay = app.window.overlay
        overlay.auto_hide_ms = 0
        field = gate.typed.edit
        before = app.engine.gate_counts().inside  # type: ignore[attr-defined]
        from_field: list[str] = []
        gate.typed.entered.connect(from_field.append)

        def type_code(text: str) -> Any:
            return type_at_gate(qtbot, app, text, clock)

        entered = type_code(code)
        assert entered.approved and entered.ticket_id == ticket_id and entered.direction == "in", entered
        assert from_field == [code]  # through the code field (checked there), not a scanner's burst
        assert overlay.isVisible() and overlay.approved  # the big green screen
        assert "Inside now" in overlay.detail.text()
        assert app.engine.gate_counts().inside == before + 1  # type: ignore[attr-defined]
        again = type_code(code.replace("-", "").lower())  # as people type it
        assert not again.approved and again.reason == DeclineReason.ALREADY_USED
        assert "already used" in overlay.detail.text()
        # Cancelled on My page before the gate's pull: refused, in words, in both languages.
        refused = type_code(cancelled)
        assert not refused.approved and refused.reason == DeclineReason.TICKET_REVOKED
        assert not overlay.approved and "This ticket was cancelled" in overlay.detail.text()
        app.i18n.set_language("ja")
        assert type_code(cancelled).reason == DeclineReason.TICKET_REVOKED
        assert "このチケットは無効です" in overlay.detail.text()
        overlay.dismiss()

        # A typo in the check character: refused by the field in words, nothing decided, in both languages.
        decided: list[Any] = []
        gate.checked.connect(decided.append)
        for language, words in (("en", "The check character does not match"), ("ja", "確認文字が一致しません")):
            app.i18n.set_language(language)
            field.clear()
            field.setFocus()
            type_like_person(field, _check_typo(code), clock)
            qtbot.wait_until(lambda w=words: w in gate.typed.error.text(), timeout=3000)
        qtbot.wait(200)
        assert decided == []
        app.i18n.set_language("en")
    finally:
        close_app(app)
