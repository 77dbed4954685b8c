"""Token fuzzing with zero acceptances: forged, truncated, altered, replayed, expired, revoked, wrong kind.

QR tokens go through the real terminal engine (``terminal.engine.Terminal``, in process, its own
SQLite file) enrolled on the real server; the server's own credentials (API bearer tokens and
session cookies) go to the server.  Nothing here may be accepted.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import base45
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from security_harness import PIN, Event
from sqlalchemy import update

from server.db import tables as t
from server.event import get_event_settings
from server.issuer import IssuerKeys
from server.staff import touch_staff
from server.testing import FollowClock
from server.wallets import set_blocked, signed_wallet_token
from server.web.session import ADMIN_COOKIE, CUSTOMER_COOKIE, Session, SessionCodec
from sync.keys import IssuerKey
from sync.tokens import EntryPolicy, StaffBadge, TicketToken, WalletToken, decode_token, encode_token
from terminal.decisions import Cart, DeclineReason
from terminal.engine import Terminal

R = DeclineReason


@pytest.fixture(scope="module")
def issuer(event: Event) -> IssuerKey:
    with event.db.read() as conn:
        return IssuerKeys(event.settings.issuer_key_path).active(conn)


def _terminal(event: Event, path: Path, mode: str = "stall") -> Terminal:
    term = Terminal.open(path, clock=FollowClock(event.clock))
    scope = {"stall_id": event.stall} if mode == "stall" else {"gate_id": event.gate}
    term.enroll(event.seed.enrollment_code(mode, base_url=event.url, **scope), name=path.name)
    assert term.sync_now().online
    return term


@pytest.fixture(scope="module")
def till(event: Event, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Terminal]:
    term = _terminal(event, tmp_path_factory.mktemp("till"))
    assert term.login(event.seed.badge(event.staff["cashier"]), PIN).ok
    yield term
    term.close()


def _wallet_token(event: Event, wallet_id: int) -> str:
    """The wallet's fresh token as the server signs it (what My page or a top-up answer shows the customer)."""
    with event.db.read() as conn:
        signed = signed_wallet_token(conn, wallet_id, issuer=IssuerKeys(event.settings.issuer_key_path).active(conn),
                                     settings=get_event_settings(conn), now_ms=event.clock())
    return signed.token


def _records(event: Event) -> int:
    return event.counts()["records"]


def test_forged_truncated_and_altered_wallet_tokens_are_never_accepted(event: Event, till: Terminal,
                                                                         issuer: IssuerKey) -> None:
    wallet = event.seed.wallet(2000)
    good = _wallet_token(event, wallet)
    prefix, payload = good[:4], good[4:]
    raw = base45.b45decode(payload)
    decoded = decode_token(good, till.store.keyset(), now=event.clock() // 1000)
    assert isinstance(decoded, WalletToken)
    bad: dict[str, str] = {}
    # forged: another key that claims the same key id, and a richer balance
    impostor = IssuerKey.generate(issuer.key_id)
    bad["forged"] = encode_token(WalletToken(wallet, 99_999, decoded.seq + 5, decoded.issued_at,
                                             decoded.expires_at, 99_999), impostor)
    bad["unknown key id"] = encode_token(decoded, IssuerKey.generate((issuer.key_id + 1) % 256))
    for cut in (1, 5, 30, len(payload) - 3, len(payload) - 1):  # truncated text
        bad[f"truncated text {cut}"] = prefix + payload[:cut]
    for cut in (3, 20, len(raw) - 64, len(raw) - 1):  # truncated bytes, re-encoded cleanly
        bad[f"truncated bytes {cut}"] = prefix + base45.b45encode(raw[:cut]).decode()
    for i in range(len(raw)):  # every byte, one bit flipped (the balance, the seq, the signature...)
        flipped = bytearray(raw)
        flipped[i] ^= 1 << (i % 8)
        bad[f"bit flip at byte {i}"] = prefix + base45.b45encode(bytes(flipped)).decode()
    bad["other prefix"] = "ET1:" + payload
    bad["trailing byte"] = prefix + base45.b45encode(raw + b"\x00").decode()
    before = _records(event)
    decisions = {name: till.sell(Cart.amount(100), text) for name, text in bad.items()}
    accepted = [name for name, d in decisions.items() if d.approved]
    assert accepted == []
    assert {d.reason for d in decisions.values()} <= {R.FORGED, R.DAMAGED, R.NOT_A_CODE, R.WRONG_KIND}
    assert decisions["forged"].reason is R.FORGED and decisions["unknown key id"].reason is R.FORGED
    assert till.sell(Cart.amount(100), good).approved  # the untouched token still works
    till.sync_now()
    assert _records(event) == before + 1
    assert till.store.security_count() >= 2  # forgeries are written to the terminal's security log


@settings(max_examples=60, derandomize=True, database=None, deadline=None,
          suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_random_mutations_of_a_wallet_token_are_never_accepted(event: Event, till: Terminal,
                                                              data: st.DataObject) -> None:
    wallet = event.customer_wallet
    good = _cached_token(event, wallet)
    raw = bytearray(base45.b45decode(good[4:]))
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(raw) - 1))
        raw[i] = data.draw(st.integers(0, 255).filter(lambda b, old=raw[i]: b != old))
    decision = till.sell(Cart.amount(1), good[:4] + base45.b45encode(bytes(raw)).decode())
    assert not decision.approved, decision


_TOKENS: dict[int, str] = {}


def _cached_token(event: Event, wallet: int) -> str:
    if wallet not in _TOKENS:
        _TOKENS[wallet] = _wallet_token(event, wallet)
    return _TOKENS[wallet]


def test_expired_not_yet_valid_and_wrong_kind_tokens_are_declined(event: Event, till: Terminal,
                                                                  issuer: IssuerKey) -> None:
    wallet = event.seed.wallet(2000)
    now = event.clock() // 1000
    expired = encode_token(WalletToken(wallet, 2000, 1, now - 7200, now - 1, 3000), issuer)
    future = encode_token(WalletToken(wallet, 2000, 1, now + 3600, now + 7200, 3000), issuer)
    ticket = encode_token(TicketToken(77, event.ticket_type, now - 60, now + 3600, EntryPolicy.SINGLE), issuer)
    badge = event.seed.badge(event.staff["cashier"])
    assert till.sell(Cart.amount(100), expired).reason is R.EXPIRED
    assert till.sell(Cart.amount(100), future).reason is R.NOT_YET_VALID
    assert till.sell(Cart.amount(100), ticket).reason is R.WRONG_KIND
    assert till.sell(Cart.amount(100), badge).reason is R.WRONG_KIND
    assert till.topup(ticket, 100).reason in (R.WRONG_KIND, R.WRONG_MODE)
    assert not till.login(_wallet_token(event, wallet), PIN).ok  # a wallet token is not a badge
    assert till.login(_wallet_token(event, wallet), PIN).reason == "not_a_badge"


def test_replayed_token_and_replayed_record_are_spent_once(event: Event, till: Terminal) -> None:
    wallet = event.seed.wallet(1000)
    token = _wallet_token(event, wallet)  # says 1000
    first = till.sell(Cart.amount(600), token)
    again = till.sell(Cart.amount(600), token)  # the same token again: the terminal's own ledger says 400 left
    assert first.approved and not again.approved and again.reason is R.INSUFFICIENT_BALANCE
    till.sync_now()
    assert event.balance(wallet)[0] == 400
    # the same signed record pushed twice (and in parallel batches) is booked once
    term = event.terminals["t_stall"]
    record = term.sale(wallet_id=wallet, amount=100, staff_id=event.staff["cashier"])
    with httpx.Client(base_url=event.url, headers=term.headers) as client:
        results = [client.post("/api/v1/push", json={"records": [record, record]}).json()["results"]
                   for _ in range(2)]
        replay = client.post("/api/v1/authorize", json={"record": record}).json()
    assert [r["status"] for r in results[0]] == ["applied", "duplicate"]
    assert [r["status"] for r in results[1]] == ["duplicate", "duplicate"]
    assert replay["approved"] is True  # authorize of a booked id returns the stored result, no second charge
    assert event.balance(wallet)[0] == 300


def test_revoked_wallet_ticket_and_badges_are_refused(event: Event, till: Terminal, issuer: IssuerKey,
                                                      tmp_path: Path) -> None:
    wallet = event.seed.wallet(1000)
    token = _wallet_token(event, wallet)
    with event.db.write() as conn:
        set_blocked(conn, wallet, blocked=True, reason="stolen", now_ms=event.clock())
    till.sync_now()
    assert till.sell(Cart.amount(100), token).reason is R.WALLET_REVOKED
    assert till.sell(Cart.amount(5000), token).approved is False  # above the floor limit: the server says no too
    # staff: a deactivated person's badge, and a badge older than badge_not_before
    gone = event.person("Gone", role="cashier", kind="stall", scope_id=event.stall)
    replaced = event.person("Replaced", role="cashier", kind="stall", scope_id=event.stall)
    gone_badge, old_badge = event.seed.badge(gone), event.seed.badge(replaced)
    with event.db.write() as conn:
        conn.execute(update(t.staff).where(t.staff.c.id == gone).values(active=False))
        conn.execute(update(t.staff).where(t.staff.c.id == replaced).values(
            badge_not_before=event.clock() // 1000 + 1))
        touch_staff(conn, [gone, replaced])
    till.sync_now()
    # a switched-off person is pulled as a bare row: "may not log in here" (the terminal is not told why)
    assert till.login(gone_badge, PIN).reason in ("not_here", "revoked")
    assert till.login(old_badge, PIN).reason == "badge_replaced"
    forged_badge = encode_token(StaffBadge(event.staff["admin"], event.clock() // 1000, event.clock() // 1000 + 60),
                                IssuerKey.generate(issuer.key_id))
    assert till.login(forged_badge, "1234").reason == "forged"
    assert till.login(event.seed.badge(event.staff["cashier"]), PIN).ok  # the till is still usable
    # a revoked ticket at a gate
    admin = {"Authorization": f"Bearer {event.creds['admin'].bearer}"}
    issued = httpx.post(f"{event.url}/api/v1/tickets", json={"ticket_type": event.ticket_type}, headers=admin)
    if issued.status_code == 404:
        pytest.skip("this server has no tickets API")
    ticket = issued.json()[0]
    assert httpx.post(f"{event.url}/api/v1/tickets/{ticket['ticket_id']}/revoke", json={"reason": "lost"},
                      headers=admin).status_code == 200
    gate = _terminal(event, tmp_path / "gate", mode="gate")
    try:
        assert gate.login(event.seed.badge(event.staff["gatekeeper"]), PIN).ok
        decision = gate.check_in(ticket["token"])
        assert not decision.approved and decision.reason is R.TICKET_REVOKED
    finally:
        gate.close()


def test_forged_altered_and_stale_server_credentials_are_refused(event: Event) -> None:
    """API bearer tokens and session cookies: the server-side tokens."""
    bearer = event.terminals["t_stall"].api_token
    bad_bearers = [bearer[:-1], bearer[:8], bearer + "x", bearer.upper() if bearer != bearer.upper() else bearer[::-1],
                   event.terminals["t_revoked"].api_token, "null", "a" * 5000]
    with httpx.Client(base_url=event.url) as client:
        for value in bad_bearers:
            for scheme in ("Bearer", "bearer", "Basic", "Token"):
                resp = client.post("/api/v1/pull", json={}, headers={"Authorization": f"{scheme} {value}"})
                assert resp.status_code in (401, 431), (scheme, value[:20], resp.status_code)
    codec = SessionCodec(b"security-suite-secret-0123456789")
    other = SessionCodec(b"some-other-secret-0123456789abc")
    real = event.creds["admin"].cookies[ADMIN_COOKIE]
    session = codec.loads(real, now=event.clock() // 1000)
    assert session is not None
    now = event.clock() // 1000
    body, _, mac = real.partition(".")
    cookies = {
        "forged (other secret)": other.dumps(session),
        "truncated": real[:-4],
        "no mac": body,
        "altered mac": body + "." + ("A" if mac[0] != "A" else "B") + mac[1:],
        "expired": codec.dumps(Session("admin", session.sub, now - 10_000, now - 1, session.nonce, session.fp)),
        "stale password": codec.dumps(Session("admin", session.sub, now, now + 600, session.nonce, "0" * 16)),
        "customer as admin": event.creds["customer"].cookies[CUSTOMER_COOKIE],
        "anonymous": codec.dumps(Session.anonymous(now, 600)),
    }
    with httpx.Client(base_url=event.url) as client:
        for name, value in cookies.items():
            resp = client.get("/admin", headers={"Cookie": f"{ADMIN_COOKIE}={value}"})
            client.cookies.clear()
            assert resp.status_code == 303 and resp.headers["location"].startswith("/admin/signin"), name
        admin_as_customer = client.get("/my", headers={"Cookie": f"{CUSTOMER_COOKIE}={real}"})
        assert admin_as_customer.status_code == 303 and admin_as_customer.headers["location"].startswith("/my/signin")
