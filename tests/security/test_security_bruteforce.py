"""Brute force and abuse: PIN and password guessing hit the lockouts, one address spraying many
accounts hits the sign-in rate limit, oversized bodies get 413 and malformed JSON 422, and none of
it changes a row of the ledger.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from security_harness import CUSTOMER_PIN, PASSWORD, PIN, Event

from server.testing import FollowClock
from server.web.config import WebSettings
from server.web.session import ADMIN_COOKIE, CUSTOMER_COOKIE
from sync.ids import format_short_id
from terminal.engine import Terminal
from terminal.sessions import LOCKOUT_S, MAX_FAILURES

IP_LIMIT = 12
LEDGER = ("accounts", "transactions", "postings", "records", "checkins", "terminals", "staff", "stalls", "products")


@pytest.fixture(scope="module")
def event(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Event]:
    ev = Event(Path(tmp_path_factory.mktemp("brute")),
               WebSettings(lockout_failures=5, lockout_minutes=15, signin_ip_failures=IP_LIMIT, signin_ip_window_s=600))
    try:
        yield ev
    finally:
        ev.close()


def _fresh_window(event: Event) -> None:
    event.clock.advance(16 * 60)  # past the account lockout and the address window


def _form(event: Event, area: str) -> tuple[httpx.Client, str]:
    client = httpx.Client(base_url=event.url)
    client.get(f"/{area}/signin")
    cookie = client.cookies[ADMIN_COOKIE if area == "admin" else CUSTOMER_COOKIE]
    session = event.codec.loads(cookie, now=event.clock() // 1000)
    assert session is not None
    return client, event.codec.csrf_token(session)


def _ledger(event: Event) -> dict[str, int]:
    counts = event.counts()
    return {name: counts[name] for name in LEDGER}


def test_terminal_pin_guessing_locks_the_badge(event: Event, tmp_path: Path) -> None:
    term = Terminal.open(tmp_path / "till", clock=FollowClock(event.clock))
    try:
        term.enroll(event.seed.enrollment_code("stall", stall_id=event.stall, base_url=event.url))
        assert term.sync_now().online
        badge = event.seed.badge(event.staff["cashier"])
        guesses = [f"{n:04d}" for n in range(10_000) if f"{n:04d}" != PIN]
        results = [term.login(badge, pin) for pin in guesses[:MAX_FAILURES]]
        assert [r.reason for r in results] == ["wrong_pin"] * (MAX_FAILURES - 1) + ["locked"]
        assert results[0].attempts_left == MAX_FAILURES - 1
        # while locked nothing works, not even the right PIN, and the guessing goes nowhere
        assert all(term.login(badge, pin).reason == "locked" for pin in [*guesses[MAX_FAILURES:40], PIN])
        event.clock.advance(LOCKOUT_S + 1)
        assert term.login(badge, PIN).ok
    finally:
        term.close()


def test_admin_password_guessing_locks_the_login(event: Event) -> None:
    _fresh_window(event)
    client, csrf = _form(event, "admin")
    try:
        login = event.logins["supervisor"]
        codes = [client.post("/admin/signin", data={"login": login, "password": f"guess-{i}", "csrf": csrf}
                             ).status_code for i in range(5)]
        assert codes == [401] * 5
        right = client.post("/admin/signin", data={"login": login, "password": PASSWORD, "csrf": csrf})
        assert right.status_code == 429  # locked: the right password is refused too
        event.clock.advance(15 * 60 + 1)
        assert client.post("/admin/signin", data={"login": login, "password": PASSWORD, "csrf": csrf}
                           ).status_code == 303
    finally:
        client.close()


def test_my_page_pin_guessing_locks_the_wallet(event: Event) -> None:
    _fresh_window(event)
    client, csrf = _form(event, "my")
    code = format_short_id(event.customer_wallet)
    try:
        wrong = [p for p in ("0000", "1111", "1234", "9999", "2580") if p != CUSTOMER_PIN]
        assert [client.post("/my/signin", data={"code": code, "pin": p, "csrf": csrf}).status_code
                for p in wrong] == [401] * 5
        assert client.post("/my/signin", data={"code": code, "pin": CUSTOMER_PIN, "csrf": csrf}).status_code == 429
        event.clock.advance(15 * 60 + 1)
        assert client.post("/my/signin", data={"code": code, "pin": CUSTOMER_PIN, "csrf": csrf}).status_code == 303
    finally:
        client.close()


def test_one_address_spraying_many_accounts_is_rate_limited(event: Event) -> None:
    _fresh_window(event)
    wallets = event.seed.wallets(IP_LIMIT + 2)
    for wallet in wallets:
        event.set_customer(wallet, "8642")
    admin, admin_csrf = _form(event, "admin")
    my, my_csrf = _form(event, "my")
    try:
        # one common guess per account: no account reaches its own lockout ...
        codes = [admin.post("/admin/signin", data={"login": f"nobody-{i}", "password": "123456", "csrf": admin_csrf}
                            ).status_code for i in range(IP_LIMIT // 2)]
        codes += [my.post("/my/signin", data={"code": format_short_id(w), "pin": "1234", "csrf": my_csrf}
                          ).status_code for w in wallets[:IP_LIMIT - IP_LIMIT // 2]]
        assert codes == [401] * IP_LIMIT
        # ... but the address is now refused on both forms, even with right credentials
        assert my.post("/my/signin", data={"code": format_short_id(wallets[-1]), "pin": "8642", "csrf": my_csrf}
                       ).status_code == 429
        assert admin.post("/admin/signin", data={"login": event.logins["admin"], "password": PASSWORD,
                                                 "csrf": admin_csrf}).status_code == 429
        event.clock.advance(601)
        assert my.post("/my/signin", data={"code": format_short_id(wallets[-1]), "pin": "8642", "csrf": my_csrf}
                       ).status_code == 303
    finally:
        admin.close()
        my.close()


def test_oversized_bodies_get_413_and_change_nothing(event: Event) -> None:
    limit = event.settings.max_body_bytes
    term = event.terminals["t_stall"]
    record = term.sale(wallet_id=event.customer_wallet, amount=1, staff_id=event.staff["cashier"])
    record["body"]["pad"] = "x" * (limit + 10)  # the signature is irrelevant: the body is never read
    before = _ledger(event)
    anon = event.creds["anon"]
    with httpx.Client(base_url=event.url, timeout=60) as client:
        sized = client.post("/api/v1/push", json={"records": [record]}, headers=term.headers)

        def chunks() -> Iterator[bytes]:  # no Content-Length: counted while streaming
            yield b'{"records": [{"body": {"x": "'
            for _ in range(limit // 65536 + 2):
                yield b"y" * 65536
            yield b'"}, "sig": ""}]}'

        streamed = client.post("/api/v1/push", content=chunks(),
                               headers=term.headers | {"Content-Type": "application/json"})
        form = client.post("/admin/signin", data={"login": "x" * (limit + 10), "password": "p"},
                           headers=anon.headers("/admin/signin", post=True))
        my_form = client.post("/my/signin", data={"code": "x", "pin": "1" * (limit + 10)},
                              headers=anon.headers("/my/signin", post=True))
    assert [sized.status_code, streamed.status_code, form.status_code, my_form.status_code] == [413] * 4
    assert "too large" in sized.json()["detail"]
    assert _ledger(event) == before


@pytest.mark.parametrize(("path", "body"), [
    ("/api/v1/push", b'{"records": [{"body": {"id": 1}, "sig": "x"}'),  # truncated
    ("/api/v1/push", b"{'records': []}"),  # not JSON
    ("/api/v1/push", b'{"records": {"body": {}}}'),  # wrong type
    ("/api/v1/push", b'{"records": []}'),  # empty batch
    ("/api/v1/push", b"\xff\xfe\x00garbage"),
    ("/api/v1/authorize", b'{"record": null}'),
    ("/api/v1/authorize", b"[]"),
    ("/api/v1/pull", b'{"cursor": 12, "limit": "all"}'),
    ("/api/v1/pull", b'{"limit": 1e309}'),
    ("/api/v1/enroll", b'{"code": "", "public_key": "%%%"}'),
])
def test_malformed_json_gets_a_clear_422_and_changes_nothing(event: Event, path: str, body: bytes) -> None:
    before = _ledger(event)
    resp = httpx.post(f"{event.url}{path}", content=body, headers=event.terminals["t_stall"].headers
                      | {"Content-Type": "application/json"})
    assert resp.status_code == 422, resp.text
    detail: Any = resp.json()["detail"]
    assert isinstance(detail, str) and detail.startswith("invalid request: "), detail
    assert _ledger(event) == before
