"""Enrollment, authentication, permissions, wallets, tokens and error answers."""

from __future__ import annotations

import asyncio

import httpx
from fastapi.testclient import TestClient
from server_harness import Event

from server.api.middleware import AdmissionControl, BodyLimit
from server.terminals import revoke_terminal
from sync.enrollment import EnrollmentCode
from sync.keys import KeySet, SigningKey
from sync.tokens import WalletToken, decode_token


def test_enroll_gives_credentials_once(event: Event, client: TestClient) -> None:
    stall = event.seed.stall()
    code = EnrollmentCode.parse(event.seed.enrollment_code("stall", stall_id=stall))
    key = SigningKey.generate()
    request = {"code": code.code, "public_key": key.public_b64, "name": "Yakisoba 1", "app_version": "0.1"}
    r = client.post("/api/v1/enroll", json=request)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["terminal"]["mode"] == "stall" and body["terminal"]["stall_id"] == stall
    assert body["issuer_keys"][0]["key_id"] == 1 and len(body["api_token"]) >= 40
    pulled = client.post("/api/v1/pull", json={}, headers={"Authorization": f"Bearer {body['api_token']}"})
    assert pulled.status_code == 200
    assert client.post("/api/v1/enroll", json=request).status_code == 409
    unknown = {**request, "code": EnrollmentCode.new_code()}
    assert client.post("/api/v1/enroll", json=unknown).status_code == 401
    code2 = EnrollmentCode.parse(event.seed.enrollment_code("topup"))
    r = client.post("/api/v1/enroll", json={**request, "code": code2.code, "public_key": "A" * 43 + "x"})
    assert r.status_code == 422


def test_tokens_and_revocation(event: Event, client: TestClient) -> None:
    _stall, _cashier, _wallet, term = event.stall_setup()
    assert client.post("/api/v1/pull", json={}).status_code == 401
    r = client.post("/api/v1/pull", json={}, headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401 and r.json()["detail"] == "unknown API token"
    with event.seed.db.write() as conn:
        revoke_terminal(conn, term.terminal_id, now_ms=event.seed.clock())
    r = client.post("/api/v1/pull", json={}, headers=term.headers)
    assert r.status_code == 401 and r.json()["revoked"] is True


def test_wallet_view_needs_permission(event: Event, client: TestClient) -> None:
    _stall, cashier, wallet, term = event.stall_setup(1000)
    supervisor = event.seed.staff("Boss", roles=[("supervisor", "event", None)])
    url = f"/api/v1/wallets/{wallet}"
    def badge(staff_id: int) -> dict[str, str]:
        return {**term.headers, "X-Ennichi-Staff-Badge": event.seed.badge(staff_id)}

    assert client.get(url, headers=term.headers).status_code == 403
    assert client.get(url, headers=badge(cashier)).status_code == 403
    r = client.get(url, headers=badge(supervisor))
    assert r.status_code == 200 and r.json()["balance"] == 1000 and r.json()["history"][0]["kind"] == "topup"
    printed = r.json()["display_id"]
    assert client.get(f"/api/v1/wallets/{printed}", headers=badge(supervisor)).status_code == 200
    # A terminal cannot just name a person: only a genuine, current badge of an active person counts.
    from sync.keys import IssuerKey
    from sync.tokens import StaffBadge, encode_token

    now_s = event.seed.clock() // 1000
    stranger = IssuerKey.generate(1)
    refused = {
        "forged": encode_token(StaffBadge(supervisor, now_s, now_s + 600), stranger),
        "expired": event.seed.badge(supervisor, ttl_s=-10),
        "a number": str(supervisor),
        "garbage": "ES1:NOT-A-BADGE",
    }
    old_badge = event.seed.badge(supervisor)
    from sqlalchemy import update

    from server.db import tables as t

    with event.seed.db.write() as conn:  # the badge was replaced (lost badge): older ones stop counting
        conn.execute(update(t.staff).where(t.staff.c.id == supervisor).values(badge_not_before=now_s + 1))
    refused["replaced"] = old_badge
    left = event.seed.staff("Gone", roles=[("supervisor", "event", None)])
    left_badge = event.seed.badge(left)
    with event.seed.db.write() as conn:
        conn.execute(update(t.staff).where(t.staff.c.id == left).values(active=False))
    refused["deactivated"] = left_badge
    for what, text in refused.items():
        r = client.get(url, headers={**term.headers, "X-Ennichi-Staff-Badge": text})
        assert r.status_code == 403 and "staff badge refused" in r.json()["detail"], (what, r.text)
    assert client.get("/api/v1/wallets/K7M2-QX4P-0", headers=term.headers).status_code == 422
    admin_token = event.seed.api_token(event.admin.admin_staff_id)
    assert client.get(url, headers={"Authorization": f"Bearer {admin_token}"}).status_code == 200
    cashier_token = event.seed.api_token(cashier)
    assert client.get(url, headers={"Authorization": f"Bearer {cashier_token}"}).status_code == 403


def test_wallet_tokens_come_only_with_a_wallet_issued_or_topped_up(event: Event, client: TestClient) -> None:
    _stall, _cashier, wallet, term = event.stall_setup(1234)
    desk = event.seed.terminal("topup")
    for who in (term, desk):  # no terminal mints a payment token for a wallet it names
        assert client.get(f"/api/v1/wallets/{wallet}/token", headers=who.headers).status_code == 404
    admin = {"Authorization": f"Bearer {event.seed.api_token(event.admin.admin_staff_id)}"}
    r = client.post(f"/api/v1/wallets/{wallet}/topup", json={"amount": 1}, headers=admin)
    assert r.status_code == 200, r.text
    keys = KeySet.from_json(client.post("/api/v1/pull", json={}, headers=term.headers).json()["issuer_keys"])
    token = decode_token(r.json()["token"], keys, now=event.seed.clock() // 1000, expect=WalletToken)
    assert isinstance(token, WalletToken)
    assert (token.wallet_id, token.balance, token.seq, token.offline_limit) == (wallet, 1235, 2, 3000)


def test_staff_tokens_create_and_top_up_wallets(event: Event, client: TestClient) -> None:
    admin = {"Authorization": f"Bearer {event.seed.api_token(event.admin.admin_staff_id)}"}
    r = client.post("/api/v1/wallets", json={}, headers=admin)
    assert r.status_code == 201, r.text
    wallet = r.json()["wallet_id"]
    r = client.post(f"/api/v1/wallets/{wallet}/topup", json={"amount": 500}, headers=admin)
    assert r.status_code == 200 and (r.json()["balance"], r.json()["seq"]) == (500, 1)
    assert client.post(f"/api/v1/wallets/{wallet}/topup", json={"amount": 1.5}, headers=admin).status_code == 422


def test_malformed_and_oversized_bodies(event: Event, client: TestClient) -> None:
    _stall, _cashier, _wallet, term = event.stall_setup()
    r = client.post("/api/v1/push", content=b"{not json", headers={**term.headers, "content-type": "application/json"})
    assert r.status_code == 422 and r.json()["detail"].startswith("invalid request")
    r = client.post("/api/v1/pull", json={"limit": 0}, headers=term.headers)
    assert r.status_code == 422 and "limit" in r.json()["detail"]
    big = b"x" * (event.settings.max_body_bytes + 1)
    r = client.post("/api/v1/push", content=big, headers={**term.headers, "content-type": "application/json"})
    assert r.status_code == 413 and "too large" in r.json()["detail"]
    assert client.get("/api/v1/health").json()["status"] == "ok"
    schema = client.get("/openapi.json").json()
    assert {"/api/v1/push", "/api/v1/pull", "/api/v1/authorize", "/api/v1/enroll"} <= set(schema["paths"])


def _slow_app(gate: asyncio.Event):  # type: ignore[no-untyped-def]
    async def app(scope, receive, send):  # type: ignore[no-untyped-def]
        await gate.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})
    return app


def test_admission_control_sheds_with_503_and_retry_after() -> None:
    async def scenario() -> list[httpx.Response]:
        gate = asyncio.Event()
        app = AdmissionControl(_slow_app(gate), max_inflight=2, wait_s=0.05)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            busy = [asyncio.create_task(c.get("/x")) for _ in range(2)]
            await asyncio.sleep(0.01)
            shed = await c.get("/x")
            gate.set()
            return [shed, *await asyncio.gather(*busy)]

    shed, *served = asyncio.run(scenario())
    assert shed.status_code == 503 and shed.headers["retry-after"] == "1"
    assert [r.status_code for r in served] == [200, 200]


def test_body_limit_counts_streamed_bytes() -> None:
    async def echo(scope, receive, send):  # type: ignore[no-untyped-def]
        while (await receive()).get("more_body"):
            pass
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    async def scenario() -> int:
        async def chunks():  # type: ignore[no-untyped-def]
            for _ in range(10):
                yield b"x" * 100

        transport = httpx.ASGITransport(app=BodyLimit(echo, max_bytes=500))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            return (await c.post("/x", content=chunks())).status_code

    assert asyncio.run(scenario()) == 413
