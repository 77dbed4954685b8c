"""Every page loads for a role that holds its permission and is refused (403, not in the nav) for one that does not."""

from __future__ import annotations

import httpx
import pytest
from web_harness import Live, shoot, sign_in

from server.staff import create_staff, grant_role
from server.testing import Seeder
from server.web import actions
from sync.permissions import Permission, Scope

pytestmark = pytest.mark.browser

PAGES = [
    ("/admin", "overview", Permission.DASHBOARD),
    ("/admin/stalls", "stalls", Permission.STALLS_MANAGE),
    ("/admin/staff", "staff", Permission.STAFF_MANAGE),
    ("/admin/roles", "roles", Permission.ROLES_MANAGE),
    ("/admin/terminals", "terminals", Permission.TERMINALS_MANAGE),
    ("/admin/wallets", "wallets", Permission.WALLETS_VIEW),
    ("/admin/tickets", "tickets", Permission.TICKETS_MANAGE),
    ("/admin/anomalies", "anomalies", Permission.ANOMALIES_RESOLVE),
    ("/admin/reports", "reports", Permission.REPORTS_VIEW),
    ("/admin/audit", "audit", Permission.AUDIT_VIEW),
]


@pytest.fixture(scope="module")
def people(live: Live) -> dict[str, str]:
    """One dashboard user per permission, holding a role with only that permission."""
    logins = {}
    with live.db.write() as conn:
        for _, key, permission in PAGES:
            role = f"only_{key}"
            actions.set_role_permissions(conn, role, [permission.value])
            login = f"user_{key}"
            sid = create_staff(conn, name=f"Only {key}", pin="1234", now_ms=live.clock(), login=login,
                               password=f"pw-{key}-long")
            grant_role(conn, sid, role)
            logins[key] = login
    return logins


@pytest.mark.parametrize(("path", "key", "permission"), PAGES, ids=[p[1] for p in PAGES])
def test_page_is_shown_to_its_role_and_refused_to_another(page, live: Live, people: dict[str, str], path: str,
                                                          key: str, permission: Permission) -> None:
    sign_in(page, people[key], f"pw-{key}-long")
    response = page.goto(path)
    assert response.status == 200
    assert page.locator(f"nav.main a[data-nav={key}]").count() == 1
    shown = page.locator("nav.main a").evaluate_all("links => links.map(a => a.dataset.nav)")
    assert shown == [key]  # nothing else is in the nav
    other = "reports" if key != "reports" else "audit"
    sign_in(page, people[other], f"pw-{other}-long")
    response = page.goto(path)
    assert response.status == 403
    assert page.locator(".error-page").is_visible()
    assert page.locator(f"nav.main a[data-nav={key}]").count() == 0
    if key == "stalls":
        shoot(page, "forbidden")


def test_stall_scoped_manager_edits_only_their_stall(page, live: Live) -> None:
    seed = Seeder(live.settings, clock=live.clock)
    try:
        mine, theirs = seed.stall("Okonomiyaki"), seed.stall("Crepes")
        their_product = seed.product(theirs, "Banana crepe", 450)
        with live.db.write() as conn:
            actions.set_role_permissions(conn, "stall_lead", [Permission.STALLS_MANAGE.value])
            sid = create_staff(conn, name="Stall lead", pin="4321", now_ms=live.clock(), login="lead",
                               password="lead-password")
            grant_role(conn, sid, "stall_lead", scope=Scope.stall(mine))
        sign_in(page, "lead", "lead-password")
        page.goto("/admin/stalls")
        assert page.locator("[data-stall=Okonomiyaki]").count() == 1
        assert page.locator("[data-stall=Crepes]").count() == 0
        token = page.get_attribute("meta[name=csrf-token]", "content")
        status = page.evaluate("""async ([url, token]) => (await fetch(url, {method: 'POST', body:
            new URLSearchParams({name: 'Free crepe', price: '0', csrf: token})})).status""",
                               [f"/admin/products/{their_product}", token])
        assert status == 403
        with live.db.read() as conn:
            from server.db import tables as t

            assert conn.execute(t.products.select().where(t.products.c.id == their_product)).one().price == 450
    finally:
        seed.close()


def test_pages_need_a_session(live: Live) -> None:
    for path, _, _ in PAGES:
        response = httpx.get(live.url + path, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/admin/signin")
