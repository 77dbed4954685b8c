"""THE authorization matrix: every endpoint of the server x every role -> what must happen.

One row per route (method + path template as FastAPI declares it), plus variants (a third key
element) where one route answers differently with a header or target.  A new route without a row
fails ``test_every_route_has_a_row``; every cell is exercised against a real server by
``test_security_matrix.py``.

Roles (columns), see ``security_harness.ROLES``:
    anon        nothing but pre-sign-in session cookies (with their CSRF tokens)
    t_stall     API token of a stall terminal; t_gate a gate terminal; t_topup a top-up desk
    t_revoked   API token of a revoked (stall) terminal
    admin       the event's first admin: a staff API token and a signed-in dashboard session
    supervisor  role "supervisor" for the event      (API token + dashboard session)
    cashier     role "cashier" for one stall         (API token + dashboard session)
    gatekeeper  role "gatekeeper" for one gate       (API token + dashboard session)
    topup       role "topup" for the event           (API token + dashboard session)
    customer    a signed-in My page session of a student's wallet

Outcomes:
    ok   2xx, or a redirect that is not to a sign-in page (the action was done)
    401  unauthenticated (API)          403  refused (API JSON, or the web 403 page)
    in   a redirect to /admin/signin or /my/signin (web: nobody usable is signed in)
    nf   My page's "not found" (a redirect to /my?guest_error=my.guest_not_found): not yours

Terminals send no cookies, so a web POST from them fails the CSRF check (403) before
anything else; a web GET sends them to the sign-in page.
"""

from __future__ import annotations

# columns: anon t_stall t_gate t_topup t_revoked admin supervisor cashier gatekeeper topup customer
PUBLIC = "ok ok ok ok ok ok ok ok ok ok ok"
TERMINAL_ONLY = "401 ok ok ok 401 403 403 403 403 403 401"
# web pages: GET; POST differs only for terminals (no session -> CSRF 403)
ADMIN_ONLY_GET = "in in in in in ok 403 403 403 403 in"
ADMIN_ONLY_POST = "in 403 403 403 403 ok 403 403 403 403 in"
ADMIN_FORM_422 = "in 403 403 403 403 422 403 403 403 403 in"  # as ADMIN_ONLY_POST, sent without its form
SUPERVISOR_GET = "in in in in in ok ok 403 403 403 in"  # dashboard.view, wallets.view, reports.view
MY_GET = "in in in in in in in in in in ok"
MY_POST = "in 403 403 403 403 in in in in in ok"
SIGNIN_POST = "ok 403 403 403 403 ok ok ok ok ok ok"  # correct credentials of a probe account
SIGNOUT_POST = "in 403 403 403 403 in in in in in in"  # sign-out ends on the sign-in page

MATRIX: dict[tuple[str, str, str], str] = {
    # ------------------------------------------------------------ public documents
    ("GET", "/openapi.json", ""): PUBLIC,
    ("GET", "/docs", ""): PUBLIC,
    ("GET", "/docs/oauth2-redirect", ""): PUBLIC,
    ("GET", "/redoc", ""): PUBLIC,
    ("GET", "/metrics", ""): PUBLIC,  # finding: public; restrict at the reverse proxy (docs/security.md)
    ("GET", "/web/static", ""): PUBLIC,
    # ------------------------------------------------------------ terminal API
    ("GET", "/api/v1/health", ""): PUBLIC,
    ("POST", "/api/v1/enroll", ""): PUBLIC,  # a fresh one-time code per call: anyone holding one may enroll
    ("POST", "/api/v1/push", ""): TERMINAL_ONLY,
    ("POST", "/api/v1/pull", ""): TERMINAL_ONLY,
    ("POST", "/api/v1/security-events", ""): TERMINAL_ONLY,
    ("POST", "/api/v1/authorize", ""): TERMINAL_ONLY,
    # wallets.view or topup; a terminal without X-Ennichi-Staff-Badge holds neither
    ("GET", "/api/v1/wallets/{wallet_id}", ""): "401 403 403 403 401 ok ok 403 403 ok 401",
    # a terminal showing the signed badge of a person who holds topup (verified: key, expiry, person active)
    ("GET", "/api/v1/wallets/{wallet_id}", "staff=topup"): "401 ok ok ok 401 ok ok 403 403 ok 401",
    # ... or naming a cashier, who holds neither
    ("GET", "/api/v1/wallets/{wallet_id}", "staff=cashier"): "401 403 403 403 401 ok ok 403 403 ok 401",
    # staff need wallets.manage; only a top-up terminal, and only for a person holding topup
    ("POST", "/api/v1/wallets", ""): "401 403 403 403 401 ok 403 403 403 403 401",
    ("POST", "/api/v1/wallets", "staff=topup"): "401 403 403 ok 401 ok 403 403 403 403 401",
    ("POST", "/api/v1/wallets/{wallet_id}/topup", ""): "401 403 403 403 401 ok 403 403 403 403 401",
    # dashboard.view or tickets.manage (a terminal must name such a person)
    ("GET", "/api/v1/gates/counts", ""): "401 403 403 403 401 ok ok 403 403 403 401",
    # tickets.manage, staff API tokens only
    ("POST", "/api/v1/tickets", ""): "401 403 403 403 401 ok 403 403 403 403 401",
    ("POST", "/api/v1/tickets/{ticket_id}/revoke", ""): "401 403 403 403 401 ok 403 403 403 403 401",
    # ------------------------------------------------------------ dashboard
    ("GET", "/admin/signin", ""): PUBLIC,
    ("POST", "/admin/signin", ""): SIGNIN_POST,
    ("POST", "/admin/signout", ""): SIGNOUT_POST,
    ("GET", "/admin/lang", ""): PUBLIC,
    ("GET", "/my/lang", ""): PUBLIC,
    ("GET", "/admin", ""): SUPERVISOR_GET,
    ("GET", "/admin/overview/live", ""): SUPERVISOR_GET,
    ("GET", "/admin/stalls", ""): ADMIN_ONLY_GET,
    ("POST", "/admin/stalls", ""): ADMIN_ONLY_POST,
    ("POST", "/admin/stalls/{stall_id}", ""): ADMIN_ONLY_POST,
    ("POST", "/admin/stalls/{stall_id}/products", ""): ADMIN_ONLY_POST,
    ("POST", "/admin/products/{product_id}", ""): ADMIN_ONLY_POST,
    ("GET", "/admin/terminals", ""): ADMIN_ONLY_GET,
    ("POST", "/admin/terminals/codes", ""): ADMIN_ONLY_POST,
    ("POST", "/admin/terminals/{terminal_id}/revoke", ""): ADMIN_ONLY_POST,
    ("GET", "/admin/wallets", ""): SUPERVISOR_GET,
    ("POST", "/admin/wallets", ""): ADMIN_ONLY_POST,
    ("GET", "/admin/wallets/{wallet_id}", ""): SUPERVISOR_GET,
    ("POST", "/admin/wallets/{wallet_id}/customer", ""): ADMIN_ONLY_POST,
    ("POST", "/admin/wallets/{wallet_id}/topup", ""): ADMIN_ONLY_POST,
    ("POST", "/admin/wallets/{wallet_id}/refund", ""): ADMIN_ONLY_POST,
    ("POST", "/admin/wallets/{wallet_id}/adjust", ""): ADMIN_ONLY_POST,
    ("POST", "/admin/wallets/{wallet_id}/block", ""): ADMIN_ONLY_POST,
    ("GET", "/admin/wallets/{wallet_id}/card", ""): ADMIN_ONLY_GET,
    ("GET", "/admin/anomalies", ""): ADMIN_ONLY_GET,
    ("POST", "/admin/anomalies/{anomaly_id}/resolve", ""): ADMIN_ONLY_POST,
    ("GET", "/admin/reports", ""): SUPERVISOR_GET,
    ("GET", "/admin/reports/{name}.csv", ""): SUPERVISOR_GET,
    ("GET", "/admin/reports/{name}.csv", "transactions"): SUPERVISOR_GET,  # supervisor holds it event-wide
    ("GET", "/admin/audit", ""): ADMIN_ONLY_GET,
    ("GET", "/admin/audit.csv", ""): ADMIN_ONLY_GET,
    ("GET", "/admin/staff", ""): ADMIN_ONLY_GET,
    ("POST", "/admin/staff", ""): ADMIN_ONLY_POST,
    ("GET", "/admin/staff/badges", ""): ADMIN_ONLY_GET,
    ("GET", "/admin/staff/{staff_id}", ""): ADMIN_ONLY_GET,
    ("POST", "/admin/staff/{staff_id}/pin", ""): ADMIN_ONLY_POST,
    ("POST", "/admin/staff/{staff_id}/active", ""): ADMIN_ONLY_POST,
    ("POST", "/admin/staff/{staff_id}/roles", ""): ADMIN_ONLY_POST,
    ("POST", "/admin/staff/{staff_id}/roles/{assignment_id}/remove", ""): ADMIN_ONLY_POST,
    ("POST", "/admin/staff/{staff_id}/overrides", ""): ADMIN_ONLY_POST,
    ("POST", "/admin/staff/{staff_id}/overrides/{override_id}/remove", ""): ADMIN_ONLY_POST,
    ("GET", "/admin/roles", ""): ADMIN_ONLY_GET,
    ("POST", "/admin/roles", ""): ADMIN_ONLY_POST,
    ("GET", "/admin/tickets", ""): ADMIN_ONLY_GET,
    ("POST", "/admin/gates", ""): ADMIN_ONLY_POST,
    ("POST", "/admin/ticket-types", ""): ADMIN_ONLY_POST,
    ("GET", "/admin/tickets/print", ""): ADMIN_ONLY_GET,  # no batch or ids: back to /admin/tickets
    # tickets.manage; test_security_matrix.py sends these without a form, so the admin (authorized,
    # CSRF accepted) stops at input validation: 422 proves the refusals above are authorization
    ("POST", "/admin/tickets/issue", ""): ADMIN_FORM_422,
    ("POST", "/admin/tickets/import", ""): ADMIN_FORM_422,
    ("POST", "/admin/tickets/revoke", ""): ADMIN_FORM_422,
    ("POST", "/admin/tickets/guest-quota", ""): ADMIN_FORM_422,
    # ------------------------------------------------------------ My page
    ("GET", "/my/signin", ""): PUBLIC,
    ("POST", "/my/signin", ""): SIGNIN_POST,
    ("POST", "/my/signout", ""): SIGNOUT_POST,
    ("GET", "/my", ""): MY_GET,
    ("GET", "/my/qr", ""): MY_GET,
    ("POST", "/my/guests", ""): MY_POST,
    ("GET", "/my/guests/{invitation_id}", ""): MY_GET,
    ("POST", "/my/guests/{invitation_id}/cancel", ""): MY_POST,
    # another wallet's invitation: not found for its non-owner
    ("GET", "/my/guests/{invitation_id}", "other"): "in in in in in in in in in in nf",
    ("POST", "/my/guests/{invitation_id}/cancel", "other"): "in 403 403 403 403 in in in in in nf",
}


def expected(key: tuple[str, str, str], roles: tuple[str, ...]) -> dict[str, str]:
    """The row of ``key`` as {role: outcome}; raises ValueError on a malformed row."""
    cells = MATRIX[key].split()
    if len(cells) != len(roles):
        raise ValueError(f"{key}: {len(cells)} cells for {len(roles)} roles")
    return dict(zip(roles, cells, strict=True))
