"""Bounds at the edge (issue 15): wire integers, odd text, weak keys, huge balances, path ids, blocked cards."""

from __future__ import annotations

import json
import re

import pytest
from fastapi.testclient import TestClient
from server_harness import Event
from sqlalchemy import update

from server.db import tables as t
from server.enroll import weak_public_key
from server.wallets import set_blocked
from sync.enrollment import EnrollmentCode
from sync.keys import SigningKey, b64e
from sync.money import CURRENCIES

P = 2**255 - 19
# The eight small-order points as libsodium's blocklist and "Taming the many EdDSAs" list them
# (little-endian y, top bit = the sign of x), plus non-canonical encodings of small-order points.
SMALL_ORDER = [
    bytes(32),  # y = 0, order 4
    bytes([0] * 31 + [0x80]),  # y = 0, the other sign, order 4
    (1).to_bytes(32, "little"),  # the identity
    (P - 1).to_bytes(32, "little"),  # order 2
    bytes.fromhex("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05"),  # order 8
    bytes.fromhex("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85"),  # order 8
    bytes.fromhex("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"),  # order 8
    bytes.fromhex("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa"),  # order 8
]
NON_CANONICAL = [P.to_bytes(32, "little"), (P + 1).to_bytes(32, "little"), bytes([0xFF] * 31 + [0x7F])]


@pytest.mark.parametrize("raw", SMALL_ORDER + NON_CANONICAL, ids=lambda r: r.hex()[:8] + r.hex()[-2:])
def test_weak_public_keys_are_refused_at_enrollment(event: Event, client: TestClient, raw: bytes) -> None:
    assert weak_public_key(raw) is not None
    code = EnrollmentCode.parse(event.seed.enrollment_code("stall", stall_id=event.seed.stall()))
    r = client.post("/api/v1/enroll", json={"code": code.code, "public_key": b64e(raw), "name": "weak"})
    assert r.status_code == 422 and "public_key: refused" in r.json()["detail"]
    good = client.post("/api/v1/enroll", json={"code": code.code, "public_key": SigningKey.generate().public_b64})
    assert good.status_code == 200  # the refusal used nothing up


def test_ordinary_keys_are_not_weak() -> None:
    assert weak_public_key(b"") == "must be 32 bytes"
    for _ in range(50):
        key = SigningKey.generate()
        assert weak_public_key(key.private.public_key().public_bytes_raw()) is None


def test_pull_status_values_out_of_range_are_422_and_change_nothing(event: Event, client: TestClient) -> None:
    _stall, _cashier, _wallet, term = event.stall_setup()
    for status in ({"unsynced_amount": 2**53 + 1}, {"unsynced_count": 2**63}, {"clock_ms": 2**63},
                   {"unsynced_amount": -1}, {"clock_ms": 10**30}):
        r = client.post("/api/v1/pull", json={"status": status}, headers=term.headers)
        assert r.status_code == 422, (status, r.text)
    assert client.post("/api/v1/pull", json={"status": {"unsynced_amount": 10**12}},
                       headers=term.headers).status_code == 200


def test_a_lone_surrogate_id_is_refused_for_its_item_only(event: Event, client: TestClient) -> None:
    _stall, cashier, wallet, term = event.stall_setup(1000)
    good = term.sale(wallet_id=wallet, amount=100, staff_id=cashier)
    bad = good["body"] | {"id": "\ud800-not-a-uuid"}
    huge = term.sale(wallet_id=wallet, amount=100, staff_id=cashier, token_seq=2**63)  # past int64
    body = json.dumps({"records": [{"body": bad, "sig": "x"}, huge, good]})  # "\ud800" on the wire
    r = client.post("/api/v1/push", content=body.encode(), headers={**term.headers,
                                                                    "content-type": "application/json"})
    assert r.status_code == 200, r.text
    first, second, third = r.json()["results"]
    assert first["status"] == "rejected" and first["reason"].startswith("invalid")
    assert second["status"] == "rejected" and "token_seq" in second["reason"]
    assert third["status"] == "applied" and third["balance"] == 900


def test_money_formatting_is_total_over_integers() -> None:
    for currency in CURRENCIES.values():
        for amount in (2**53 + 1, -(2**63), 9_008 * 10**12, 10**30):
            text = currency.format(amount)
            assert text.replace(",", "").replace(".", "").lstrip("-").replace(currency.symbol, "").strip()


def _signed_in(client: TestClient) -> None:
    form = client.get("/admin/signin")
    match = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert match
    r = client.post("/admin/signin", data={"login": "admin", "password": "admin-pass", "csrf": match.group(1)},
                    follow_redirects=False)
    assert r.status_code == 303, r.text[:300]


def test_dashboard_survives_huge_balances_ids_past_int64_and_refuses_blocked_cards(event: Event,
                                                                                  client: TestClient) -> None:
    _stall, cashier, wallet, term = event.stall_setup(0)
    client.post("/api/v1/push", json={"records": [term.sale(wallet_id=wallet, amount=10**12, staff_id=cashier)
                                                  for _ in range(20)]}, headers=term.headers)
    with event.seed.db.write() as conn:  # where 9,008 such offline sales (facts, all booked) leave a wallet
        conn.execute(update(t.accounts).where(t.accounts.c.kind == "wallet", t.accounts.c.ref == wallet)
                     .values(balance=-9_008 * 10**12))
    client.post("/api/v1/pull", json={"status": {"unsynced_amount": 10**12, "unsynced_count": 2**62}},
                headers=term.headers)
    _signed_in(client)
    for path in ("/admin", "/admin/overview/live", "/admin/terminals", f"/admin/wallets/{wallet}", "/admin/anomalies",
                 "/admin/reports"):
        assert client.get(path).status_code == 200, path
    for path in ("/admin/staff/9223372036854775808", "/admin/wallets/99999999999999999999999",
                 "/admin/wallets/9223372036854775808/card"):
        assert client.get(path).status_code in (404, 422), path
    with event.seed.db.write() as conn:
        set_blocked(conn, wallet, blocked=True, reason="lost", now_ms=event.seed.clock())
    card = client.get(f"/admin/wallets/{wallet}/card")
    assert card.status_code == 409 and "EW1:" not in card.text
