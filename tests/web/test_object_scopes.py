"""In real Chromium: a stall lead acts only on their stall's objects, and every page passes its CSP.

The lead holds 11 dashboard permissions for one stall (issue 16).  Through the page they see only
their stall's sales of a wallet (with refund buttons), and forms posted by hand (the page's own
CSRF token, another stall's sale or a wallet's money) are refused with nothing changed.  The admin
then walks the pages with a listener on CSP violations: none.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from web_harness import Live, sign_in

from server.db import tables as t
from server.staff import create_staff, grant_role
from server.testing import Seeder
from server.web import actions
from sync.permissions import Scope

pytestmark = pytest.mark.browser

LEAD = ["dashboard.view", "stalls.manage", "staff.manage", "terminals.manage", "wallets.view", "wallets.manage",
        "tickets.manage", "anomalies.resolve", "reports.view", "audit.view", "refund"]


@pytest.fixture(scope="module")
def fair(live: Live) -> dict[str, Any]:
    """Two stalls, a wallet with a sale at each, and a lead for the first stall."""
    seed = Seeder(live.settings, clock=live.clock)
    try:
        mine, theirs = seed.stall("Takoyaki"), seed.stall("Kakigori")
        cashier_a = seed.staff("Aoi", roles=[("cashier", "stall", mine)])
        cashier_b = seed.staff("Ren", roles=[("cashier", "stall", theirs)])
        till_a, till_b = seed.terminal("stall", stall_id=mine), seed.terminal("stall", stall_id=theirs)
        wallet = seed.wallet(3000)
        for till, staff, amount in ((till_a, cashier_a, 600), (till_b, cashier_b, 400)):
            sale = till.sale(wallet_id=wallet, amount=amount, staff_id=staff)
            resp = httpx.post(f"{live.url}/api/v1/push", json={"records": [sale]}, headers=till.headers)
            assert resp.json()["results"][0]["status"] == "applied", resp.text
        with live.db.write() as conn:
            actions.set_role_permissions(conn, "lead11", LEAD)
            lead = create_staff(conn, name="Stall lead", pin="4321", now_ms=live.clock(), login="lead11",
                                password="lead-password-11")
            grant_role(conn, lead, "lead11", scope=Scope.stall(mine))
    finally:
        seed.close()
    return {"mine": mine, "theirs": theirs, "wallet": wallet}


def _sale_txn(live: Live, wallet: int, stall: int) -> int:
    p, a, x = t.postings, t.accounts, t.transactions
    with live.db.read() as conn:
        return int(conn.execute(select(x.c.id).join(p, p.c.txn_id == x.c.id).join(a, a.c.id == p.c.account_id)
                                .where(x.c.kind == "sale", a.c.kind == "stall_revenue", a.c.ref == stall)
                                .order_by(x.c.id.desc())).scalars().first())


def _state(live: Live, wallet: int) -> tuple[int, int, int]:
    a = t.accounts
    with live.db.read() as conn:
        balance, seq = conn.execute(select(a.c.balance, a.c.seq).where(a.c.kind == "wallet", a.c.ref == wallet)).one()
        txns = conn.execute(select(func.count()).select_from(t.transactions)).scalar_one()
    return int(balance), int(seq), int(txns)


POST = """async ([url, fields]) => {
    const body = new URLSearchParams(fields);
    body.set('csrf', document.querySelector('meta[name=csrf-token]').content);
    const r = await fetch(url, {method: 'POST', body, redirect: 'manual'});
    return r.status; }"""


def test_stall_lead_cannot_move_money_outside_their_stall(page, live: Live, fair: dict[str, Any]) -> None:
    wallet, mine, theirs = fair["wallet"], fair["mine"], fair["theirs"]
    sign_in(page, "lead11", "lead-password-11")
    page.goto(f"/admin/wallets/{wallet}")
    assert page.locator("#wallet-scoped").is_visible()
    assert page.locator("#wallet-balance").count() == 0  # the balance and the holder are the event's
    assert page.locator("#topup-form, #adjust-form, #block-form, #customer-form").count() == 0
    rows = page.locator("#history tr[data-kind=sale]")
    assert rows.count() == 1 and "Takoyaki" in rows.inner_text()  # only their stall's sale
    before = _state(live, wallet)
    their_sale = _sale_txn(live, wallet, theirs)
    refused = {
        "refund of another stall's sale": (f"/admin/wallets/{wallet}/refund",
                                           {"txn_id": str(their_sale), "amount": "400", "reason": "x"}),
        "top-up": (f"/admin/wallets/{wallet}/topup", {"amount": "100000"}),
        "adjust": (f"/admin/wallets/{wallet}/adjust", {"amount": "100000", "reason": "admin cash"}),
        "block": (f"/admin/wallets/{wallet}/block", {"blocked": "1", "reason": "x"}),
        "PIN": (f"/admin/wallets/{wallet}/customer", {"holder_name": "X", "pin": "1111"}),
    }
    for name, (url, fields) in refused.items():
        assert page.evaluate(POST, [url, fields]) == 403, name
    assert _state(live, wallet) == before  # nothing changed
    # their own stall's sale: the refund form on the page works
    form = page.locator("#history tr[data-kind=sale] form.refund-form")
    form.locator("input[name=amount]").fill("100")
    form.locator("input[name=reason]").fill("cold")
    form.locator("button").click()
    page.wait_for_url("**?done=refunded")
    balance, _, txns = _state(live, wallet)
    assert (balance, txns) == (before[0] + 100, before[2] + 1)
    assert _sale_txn(live, wallet, mine) > 0
    # the overview and the reports show their stall only
    page.goto("/admin")
    assert "Takoyaki" in page.inner_text("#per-stall") and "Kakigori" not in page.inner_text("#per-stall")
    assert page.locator("#topups-total").count() == 0
    page.goto("/admin/reports?period=all")
    assert page.locator("#settlement tr[data-stall=Takoyaki]").count() == 1
    assert page.locator("#settlement tr[data-stall=Kakigori]").count() == 0
    # event pages are not in the nav and refused by URL
    assert page.locator("nav.main a[data-nav=audit]").count() == 0
    assert page.goto("/admin/audit").status == 403


def test_pages_carry_security_headers_and_pass_their_csp(page, live: Live, fair: dict[str, Any]) -> None:
    violations: list[str] = []
    page.on("console", lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None)
    page.add_init_script("""document.addEventListener('securitypolicyviolation',
        e => console.error('Content Security Policy violation: ' + e.violatedDirective + ' ' + e.blockedURI));""")
    sign_in(page)
    paths = ["/admin", "/admin/stalls", "/admin/staff", "/admin/roles", "/admin/terminals", "/admin/wallets",
             f"/admin/wallets/{fair['wallet']}", f"/admin/wallets/{fair['wallet']}/card", "/admin/tickets",
             "/admin/anomalies", "/admin/reports", "/admin/audit", "/admin/staff/badges", "/my/signin"]
    for path in paths:
        response = page.goto(path)
        assert response.status == 200, path
        headers = response.all_headers()
        assert "frame-ancestors 'none'" in headers["content-security-policy"], path
        assert "script-src 'self'" in headers["content-security-policy"]
        assert headers["x-frame-options"] == "DENY" and headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "same-origin"
    page.goto("/admin")
    page.locator("[data-poll][data-updated]").wait_for(state="attached")  # the poller's fetch is allowed
    assert page.locator("svg.chart").count() >= 1
    page.evaluate("() => { const s = document.createElement('script'); s.textContent = 'window.bad = 1';"
                  " document.body.appendChild(s); }")  # an injected inline script is blocked and reported
    page.wait_for_timeout(200)
    assert page.evaluate("() => window.bad") is None
    assert [v for v in violations if "script-src" in v], "the listener hears a violation when there is one"
    real = [v for v in violations if "script-src" not in v]
    assert real == []


def test_role_forms_preselect_nothing(page, live: Live) -> None:
    with live.db.write() as conn:
        person = create_staff(conn, name="New helper", pin="5678", now_ms=live.clock())
    sign_in(page)
    page.goto(f"/admin/staff/{person}")
    assert page.eval_on_selector("#grant-form select[name=role]", "s => s.value") == ""
    assert page.eval_on_selector("#grant-form select[name=scope]", "s => s.value") == ""
    assert page.eval_on_selector("#override-form select[name=scope]", "s => s.value") == ""
    page.click("#grant-form button")  # the browser asks for a choice: nothing is sent
    assert page.url.endswith(f"/admin/staff/{person}")
    page.goto("/admin/staff")
    assert page.eval_on_selector("#staff-create select[name=scope]", "s => s.value") == ""
    page.goto("/admin/roles")
    assert page.locator("#role-create input[type=checkbox]:checked").count() == 0
    # a role sent without a scope (by hand) is refused in the page's language, and nothing is granted
    for lang, text in (("en", "Choose a scope"), ("ja", "範囲")):
        page.goto(f"/admin/lang?to={lang}&next=/admin/staff/{person}")
        status = page.evaluate(POST, [f"/admin/staff/{person}/roles", {"role": "admin"}])
        assert status == 422
        html = page.evaluate("""async ([url, token]) => (await fetch(url, {method: 'POST', body:
            new URLSearchParams({role: 'admin', csrf: token})})).text()""",
                             [f"/admin/staff/{person}/roles", page.get_attribute("meta[name=csrf-token]", "content")])
        assert text in html
    with live.db.read() as conn:
        assert conn.execute(select(func.count()).select_from(t.staff_roles)
                            .where(t.staff_roles.c.staff_id == person)).scalar_one() == 0
