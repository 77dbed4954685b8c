"""Guest tickets a student makes on My page, at the gate: exactly like a bought or imported ticket.

The invitation is made and cancelled through the real My page (sign-in, CSRF, the forms) of the
festival's server; the ticket code the page shows is what the gatekeeper types, and the page's QR is
the token the webcam reads.  Decided offline after a pull, on both engines.
"""

from __future__ import annotations

import re
from html import unescape

import httpx
from gates_helpers import Festival
from sqlalchemy import select

from server.db import tables as t
from server.issuer import IssuerKeys, issuer_key_rows
from server.web.customers import guest_ticket_text, invitations, set_customer
from server.web.qr import qr_svg
from server.web.routes.my import QR_SCALE
from sync.ids import format_short_id, parse_short_id
from sync.keys import KeySet, public_key_from_b64
from sync.tokens import TicketFlags, TicketToken, decode_token
from terminal.decisions import DeclineReason

GUEST_PIN = "482916"


class MyPage:
    """A student on My page, over HTTP, through the app's own forms."""

    def __init__(self, fest: Festival, wallet_id: int) -> None:
        self.fest = fest
        self.client = httpx.Client(base_url=fest.url, follow_redirects=True, timeout=30)
        page = self.client.get("/my/signin")
        resp = self.client.post("/my/signin", data={"code": format_short_id(wallet_id), "pin": GUEST_PIN,
                                                    "csrf": _csrf(page.text)})
        assert resp.status_code == 200 and resp.url.path == "/my", resp.text[:300]
        self.wallet_id = wallet_id

    def invite_refused(self, name: str) -> str:
        """Invite a guest where it cannot be done; returns the error the page shows."""
        resp = self.client.post("/my/guests", data={"guest_name": name, "csrf": _csrf(self.client.get("/my").text)})
        error = re.search(r'id="guest-error">([^<]+)<', resp.text)
        assert resp.url.path == "/my" and error, resp.url
        return unescape(error.group(1))

    def invite(self, name: str) -> tuple[int, str, str]:
        """Invite a guest; returns (invitation id, the ticket code the page shows, the page's QR SVG)."""
        resp = self.client.post("/my/guests", data={"guest_name": name, "csrf": _csrf(self.client.get("/my").text)})
        assert resp.status_code == 200 and resp.url.path.startswith("/my/guests/"), resp.url
        code = re.search(r'id="ticket-code">([^<]+)<', resp.text)
        qr = re.search(r'<div class="qr-img" id="guest-qr">(.*?)</div>', resp.text, re.S)
        assert code and qr
        return int(resp.url.path.rsplit("/", 1)[1]), unescape(code.group(1)), qr.group(1)

    def cancel(self, invitation_id: int) -> None:
        """Cancel an invitation with the page's button (its form)."""
        resp = self.client.post(f"/my/guests/{invitation_id}/cancel", data={"csrf": _csrf(self.client.get("/my").text)})
        assert resp.status_code == 200 and "done=cancelled" in str(resp.url), resp.url

    def close(self) -> None:
        self.client.close()


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "no CSRF field on the page"
    return match.group(1)


def _student(fest: Festival, ticket_type: int, quota: int = 3) -> MyPage:
    wallet = fest.seed.wallet(0)
    with fest.seed.db.write() as conn:
        set_customer(conn, wallet, holder_name="Ren Sato", pin=GUEST_PIN, student=True, guest_quota=quota,
                     guest_ticket_type=ticket_type, now_ms=fest.clock.now_ms())
    return MyPage(fest, wallet)


def _token_of(fest: Festival, my: MyPage, invitation_id: int) -> str:
    """The ``ET1:`` text behind the page's QR (the page draws exactly this)."""
    with fest.seed.db.read() as conn:
        [inv] = [i for i in invitations(conn, my.wallet_id) if i["id"] == invitation_id]
        return guest_ticket_text(conn, inv, IssuerKeys(fest.settings.issuer_key_path).active(conn))


def test_a_guest_ticket_works_at_the_gate_like_any_ticket(festival_any: Festival) -> None:
    fest = festival_any
    north, south = fest.gate(0), fest.gate(1)
    my = _student(fest, fest.north_only)
    try:
        _inv, typed_code, _qr = my.invite("Grandma")
        scanned_inv, scanned_code, scanned_qr = my.invite("Kenji")
    finally:
        my.close()
    typed_id = parse_short_id(typed_code)
    token = _token_of(fest, my, scanned_inv)
    assert str(qr_svg(token, scale=QR_SCALE)) == scanned_qr  # the page's QR is this token
    # The guest ticket is a ticket of the registry, with the GUEST flag: what the gates pull.
    with fest.seed.db.read() as conn:
        row = conn.execute(select(t.tickets).where(t.tickets.c.ticket_id == typed_id)).one()
    assert row.source == "guest" and TicketFlags(int(row.flags)) & TicketFlags.GUEST and row.holder == "Grandma"

    assert north.sync() and south.sync()
    north.network.up = False
    south.network.up = False  # decided offline, from the pull
    typed = north.scan(typed_code)
    assert typed.approved and typed.ticket_id == typed_id and typed.ticket_type == fest.north_only
    assert north.scan(typed_code).reason is DeclineReason.ALREADY_USED  # a duplicate at the same gate
    assert north.scan(format_short_id(typed_id, grouped=False).lower()).reason is DeclineReason.ALREADY_USED
    scanned = north.scan(token)
    assert scanned.approved and scanned.ticket_id == parse_short_id(scanned_code)
    assert north.scan(scanned_code).reason is DeclineReason.ALREADY_USED  # the QR's ticket, typed
    # The wrong gate: its type opens the north gate only, typed or scanned.
    assert south.scan(typed_code).reason is DeclineReason.WRONG_GATE
    assert south.scan(token).reason is DeclineReason.WRONG_GATE
    # A typo in the check character is not a ticket id at all.
    bad = typed_code[:-1] + ("0" if typed_code[-1] != "0" else "1")
    assert north.scan(bad).reason is DeclineReason.NOT_A_CODE
    here = north.terminal.gate_counts()
    assert here.inside == 2 and here.entries_here == 2  # the gate's own inside count

    north.network.up = True
    assert north.sync()
    assert fest.stored_checkins() == 2  # booked at the server, counted inside the north gate
    counts = fest.counts(since_ms=fest.clock.now_ms() - 3_600_000, until_ms=fest.clock.now_ms() + 1000)
    assert counts.gates[fest.gate_ids[0]].inside == 2 and counts.total.entries == 2
    assert not fest.anomalies("duplicate_entry")


def test_a_cancelled_guest_is_refused_offline_after_the_next_pull(festival_any: Festival) -> None:
    fest = festival_any
    north = fest.gate(0)
    my = _student(fest, fest.reentry)
    try:
        inv, code, _qr = my.invite("Aunt")
        kept, kept_code, _ = my.invite("Uncle")
        assert north.sync()
        my.cancel(inv)
        with fest.seed.db.write() as conn:  # the organisers switch the guest type off: no more guests
            conn.execute(t.ticket_types.update().where(t.ticket_types.c.id == fest.reentry).values(active=False))
        assert "ゲスト用チケットを発行できません" in my.invite_refused("Cousin")  # My page speaks Japanese first
        with fest.seed.db.write() as conn:
            conn.execute(t.ticket_types.update().where(t.ticket_types.c.id == fest.reentry).values(active=True))
    finally:
        my.close()
    token = _token_of(fest, my, inv)
    assert north.sync()  # the cancellation reaches the gate with the next pull
    north.network.up = False
    assert north.scan(code).reason is DeclineReason.TICKET_REVOKED
    assert north.scan(token).reason is DeclineReason.TICKET_REVOKED
    with fest.seed.db.read() as conn:
        row = conn.execute(select(t.tickets).where(t.tickets.c.ticket_id == parse_short_id(code))).one()
    assert row.revoked_at is not None  # the registry says so too (the dashboard's tickets page)
    # The other guest (re-entry) still comes and goes, with pass-back detected.
    assert north.scan(kept_code).approved
    assert north.scan(kept_code).reason is DeclineReason.ALREADY_INSIDE
    assert north.scan(kept_code, "out").approved and north.scan(kept_code).approved
    with fest.seed.db.read() as conn:
        keys = KeySet({r.key_id: public_key_from_b64(r.public_key) for r in issuer_key_rows(conn)})
    decoded = decode_token(_token_of(fest, my, kept), keys, now=fest.now_s, expect=TicketToken)
    assert isinstance(decoded, TicketToken) and decoded.flags & TicketFlags.GUEST
