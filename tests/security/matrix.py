"""THE authorization matrix: every endpoint x every role x {object in scope, object out of scope}.

One row per route (method + path template as FastAPI declares it), plus variants (a third key
element) where one route answers differently with a header or target.  A new route without a row
fails ``test_every_route_has_a_row``; every cell is exercised against a real server by
``test_security_matrix.py``, on SQLite and on PostgreSQL.

A row whose route acts on an object with a scope (a stall, a product, a terminal, a sale, an
anomaly, a person) has two halves, ``"<in> | <out>"``: the answers when the object is in the
scoped roles' scope (the event's stall ``Yatai``, where cashier and lead work; a person who holds
nothing hr lacks) and when it is outside it (another stall, its terminal, its sale; a person with
more authority).  A row without ``|`` is about an object of the whole event, or none: one answer.

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
    lead        a stall lead: 11 dashboard permissions (security_harness.LEAD_PERMISSIONS) for one stall
    hr          the staff office: staff.manage + roles.manage (+ sell, shift.close, dashboard.view) for the event

Outcomes:
    ok   2xx, or a redirect that is not to a sign-in page (the action was done)
    401  unauthenticated (API)          403  refused (API JSON, or the web 403 page)
    in   a redirect to /admin/signin or /my/signin (web: nobody usable is signed in)
    nf   My page's "not found" (a redirect to /my?guest_error=my.guest_not_found): not yours

Terminals send no cookies, so a web POST from them fails the CSRF check (403) before
anything else; a web GET sends them to the sign-in page.
"""

from __future__ import annotations

# columns: anon t_stall t_gate t_topup t_revoked admin supervisor cashier gatekeeper topup customer lead hr
PUBLIC = "ok ok ok ok ok ok ok ok ok ok ok ok ok"
TERMINAL_ONLY = "401 ok ok ok 401 403 403 403 403 403 401 403 403"
# web pages: GET; POST differs only for terminals (no session -> CSRF 403)
ADMIN_ONLY_GET = "in in in in in ok 403 403 403 403 in 403 403"
ADMIN_ONLY_POST = "in 403 403 403 403 ok 403 403 403 403 in 403 403"
ADMIN_FORM_422 = "in 403 403 403 403 422 403 403 403 403 in 403 403"  # as ADMIN_ONLY_POST, sent without its form
OVERVIEW_GET = "in in in in in ok ok 403 403 403 in ok ok"  # dashboard.view: a scoped lead sees their stall
SUPERVISOR_GET = "in in in in in ok ok 403 403 403 in ok 403"  # wallets.view, reports.view (lead: filtered)
LEAD_GET = "in in in in in ok 403 403 403 403 in ok 403"  # a list page: the lead sees their stall's objects
HR_FORM_422 = "in 403 403 403 403 422 403 403 403 403 in 403 422"  # as HR_PERSON_POST's in, sent without its form
HR_GET = "in in in in in ok 403 403 403 403 in 403 ok"  # people and roles: the event's
# an action on one stall's object: the lead may act in their stall, not in another
LEAD_OBJECT_POST = ("in 403 403 403 403 ok 403 403 403 403 in ok 403"
                    " | in 403 403 403 403 ok 403 403 403 403 in 403 403")
# an action on a person: hr may act on someone holding nothing hr lacks, not on someone with more
HR_PERSON_POST = ("in 403 403 403 403 ok 403 403 403 403 in 403 ok"
                  " | in 403 403 403 403 ok 403 403 403 403 in 403 403")
MY_GET = "in in in in in in in in in in ok in in"
MY_POST = "in 403 403 403 403 in in in in in ok in in"
SIGNIN_POST = "ok 403 403 403 403 ok ok ok ok ok ok ok ok"  # correct credentials of a probe account
SIGNOUT_POST = "in 403 403 403 403 in in in in in in in in"  # sign-out ends on the sign-in page

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
    ("GET", "/api/v1/wallets/{wallet_id}", ""): "401 403 403 403 401 ok ok 403 403 ok 401 403 403",
    # a terminal showing the signed badge of a person who holds topup (verified: key, expiry, person active)
    ("GET", "/api/v1/wallets/{wallet_id}", "staff=topup"): "401 ok ok ok 401 ok ok 403 403 ok 401 403 403",
    # ... or naming a cashier, who holds neither
    ("GET", "/api/v1/wallets/{wallet_id}", "staff=cashier"): "401 403 403 403 401 ok ok 403 403 ok 401 403 403",
    # staff need wallets.manage; only a top-up terminal, and only for a person holding topup
    ("POST", "/api/v1/wallets", ""): "401 403 403 403 401 ok 403 403 403 403 401 403 403",
    ("POST", "/api/v1/wallets", "staff=topup"): "401 403 403 ok 401 ok 403 403 403 403 401 403 403",
    ("POST", "/api/v1/wallets/{wallet_id}/topup", ""): "401 403 403 403 401 ok 403 403 403 403 401 403 403",
    # a new wallet at a desk: a top-up terminal only, naming a person who holds topup (server.authority.ACTIONS)
    ("POST", "/api/v1/desk/wallets", ""): "401 403 403 ok 401 403 403 403 403 403 401 403 403",
    # sold out from a till: a stall terminal of the product's own stall only, naming a person who holds
    # product.sold_out there (the event's supervisor here; server.authority.ACTIONS["product_sold_out"])
    ("POST", "/api/v1/products/{product_id}/sold-out", ""):
        "401 ok 403 403 401 403 403 403 403 403 401 403 403 | 401 403 403 403 401 403 403 403 403 403 401 403 403",
    # ... naming the stall's cashier, who sells but may not mark sold out
    ("POST", "/api/v1/products/{product_id}/sold-out", "by=cashier"):
        "401 403 403 403 401 403 403 403 403 403 401 403 403 | 401 403 403 403 401 403 403 403 403 403 401 403 403",
    # dashboard.view or tickets.manage (a terminal must name such a person)
    ("GET", "/api/v1/gates/counts", ""): "401 403 403 403 401 ok ok 403 403 403 401 403 ok",
    # tickets.manage, staff API tokens only
    ("POST", "/api/v1/tickets", ""): "401 403 403 403 401 ok 403 403 403 403 401 403 403",
    ("POST", "/api/v1/tickets/{ticket_id}/revoke", ""): "401 403 403 403 401 ok 403 403 403 403 401 403 403",
    # ------------------------------------------------------------ dashboard
    ("GET", "/admin/signin", ""): PUBLIC,
    ("POST", "/admin/signin", ""): SIGNIN_POST,
    ("POST", "/admin/signout", ""): SIGNOUT_POST,
    ("GET", "/admin/lang", ""): PUBLIC,
    ("GET", "/my/lang", ""): PUBLIC,
    ("GET", "/admin", ""): OVERVIEW_GET,
    ("GET", "/admin/overview/live", ""): OVERVIEW_GET,
    ("GET", "/admin/stalls", ""): LEAD_GET,
    ("POST", "/admin/stalls", ""): ADMIN_ONLY_POST,
    ("POST", "/admin/stalls/{stall_id}", ""): LEAD_OBJECT_POST,
    ("POST", "/admin/stalls/{stall_id}/products", ""): LEAD_OBJECT_POST,
    ("POST", "/admin/products/{product_id}", ""): LEAD_OBJECT_POST,
    ("GET", "/admin/terminals", ""): LEAD_GET,
    ("POST", "/admin/terminals/codes", ""): LEAD_OBJECT_POST,
    # a top-up desk works for the whole event: its code needs terminals.manage for the event
    ("POST", "/admin/terminals/codes", "topup"): ADMIN_ONLY_POST,
    ("POST", "/admin/terminals/{terminal_id}/revoke", ""): LEAD_OBJECT_POST,
    ("GET", "/admin/wallets", ""): SUPERVISOR_GET,
    ("POST", "/admin/wallets", ""): ADMIN_ONLY_POST,
    ("GET", "/admin/wallets/{wallet_id}", ""): SUPERVISOR_GET,
    ("POST", "/admin/wallets/{wallet_id}/customer", ""): ADMIN_ONLY_POST,
    ("POST", "/admin/wallets/{wallet_id}/topup", ""): ADMIN_ONLY_POST,
    ("POST", "/admin/wallets/{wallet_id}/refund", ""): LEAD_OBJECT_POST,  # on the sale's stall,
    ("POST", "/admin/wallets/{wallet_id}/adjust", ""): ADMIN_ONLY_POST,
    ("POST", "/admin/wallets/{wallet_id}/block", ""): ADMIN_ONLY_POST,
    ("GET", "/admin/wallets/{wallet_id}/card", ""): ADMIN_ONLY_GET,
    # wallets at scale: wallets.manage for the event; sent without their forms, the admin stops at validation (422)
    ("POST", "/admin/wallets/cards", ""): ADMIN_FORM_422,
    ("GET", "/admin/wallets/cards", ""): ADMIN_ONLY_GET,  # no batch: back to /admin/wallets
    ("POST", "/admin/wallets/import", ""): ADMIN_FORM_422,
    ("POST", "/admin/wallets/letters", ""): ADMIN_FORM_422,
    ("GET", "/admin/wallets/people-template.csv", ""): ADMIN_ONLY_GET,
    ("GET", "/admin/anomalies", ""): LEAD_GET,
    ("POST", "/admin/anomalies/{anomaly_id}/resolve", ""): LEAD_OBJECT_POST,  # its terminal's stall,
    ("GET", "/admin/reports", ""): SUPERVISOR_GET,
    ("GET", "/admin/reports/stall/{stall_id}", ""): ("in in in in in ok ok 403 403 403 in ok 403"
                                                    " | in in in in in ok ok 403 403 403 in 403 403"),
    ("GET", "/admin/event", ""): ADMIN_ONLY_GET,
    ("POST", "/admin/event", ""): ADMIN_FORM_422,  # event.manage for the event; sent without its form: 422
    ("GET", "/admin/close", ""): ADMIN_ONLY_GET,
    ("POST", "/admin/close/settings", ""): ADMIN_ONLY_POST,
    ("POST", "/admin/close/run", ""): ADMIN_FORM_422,  # nothing waiting: 422
    ("POST", "/admin/close/unclaimed", ""): ADMIN_FORM_422,  # the rule keeps balances: 422
    ("POST", "/admin/close/deposits", ""): ADMIN_FORM_422,  # no stall holds deposits: 422
    ("GET", "/admin/close/runs/{run_id}.csv", ""): ADMIN_ONLY_GET,
    ("GET", "/admin/close/settlement.csv", ""): SUPERVISOR_GET,
    ("GET", "/admin/reports/{name}.csv", ""): SUPERVISOR_GET,
    # every stall's raw rows and wallets: reports.view for the event (the supervisor has it; the lead only for a stall)
    ("GET", "/admin/reports/{name}.csv", "transactions"): "in in in in in ok ok 403 403 403 in 403 403",
    ("GET", "/admin/audit", ""): ADMIN_ONLY_GET,
    ("GET", "/admin/audit.csv", ""): ADMIN_ONLY_GET,
    ("GET", "/admin/staff", ""): HR_GET,
    ("POST", "/admin/staff", ""): HR_PERSON_POST,  # out: with the admin role,
    ("POST", "/admin/staff/import", ""): HR_FORM_422,  # staff.manage + roles.manage; no file: 422
    ("GET", "/admin/staff/badges", ""): HR_GET,  # all: only badges of people within hr's authority
    ("GET", "/admin/staff/badges", "admin"): ADMIN_ONLY_GET,  # the admin's badge by id,
    ("GET", "/admin/staff/{staff_id}", ""): HR_GET,
    ("POST", "/admin/staff/{staff_id}/pin", ""): HR_PERSON_POST,
    ("POST", "/admin/staff/{staff_id}/active", ""): HR_PERSON_POST,
    ("POST", "/admin/staff/{staff_id}/roles", ""): HR_PERSON_POST,
    ("POST", "/admin/staff/{staff_id}/roles/{assignment_id}/remove", ""): HR_PERSON_POST,
    ("POST", "/admin/staff/{staff_id}/overrides", ""): HR_PERSON_POST,
    ("POST", "/admin/staff/{staff_id}/overrides/{override_id}/remove", ""): HR_PERSON_POST,
    ("GET", "/admin/roles", ""): HR_GET,
    ("POST", "/admin/roles", ""): HR_PERSON_POST,  # out: a role with audit.view,
    ("GET", "/admin/tickets", ""): ADMIN_ONLY_GET,
    ("POST", "/admin/gates", ""): ADMIN_ONLY_POST,
    ("POST", "/admin/ticket-types", ""): ADMIN_ONLY_POST,
    ("GET", "/admin/tickets/print", ""): ADMIN_ONLY_GET,
    ("GET", "/admin/tickets/template.csv", ""): ADMIN_ONLY_GET,  # no batch or ids: back to /admin/tickets
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
    ("GET", "/my/receipt/{seq}", ""): MY_GET,
    ("GET", "/my/r/{record_id}", ""): MY_GET,  # the receipt QR of a terminal's result screen
    # a letter's one-time link: an unknown token is not found for anyone (terminals' POSTs stop at CSRF)
    ("GET", "/my/link/{token}", ""): "404 404 404 404 404 404 404 404 404 404 404 404 404",
    ("POST", "/my/link/{token}", ""): "404 403 403 403 403 404 404 404 404 404 404 404 404",
    ("POST", "/my/payout", ""): MY_POST,  # payouts not open: back to My page with the reason
    ("POST", "/my/payout/cancel", ""): MY_POST,
    ("POST", "/my/guests", ""): MY_POST,
    ("GET", "/my/guests/{invitation_id}", ""): MY_GET,
    ("POST", "/my/guests/{invitation_id}/cancel", ""): MY_POST,
    # another wallet's invitation: not found for its non-owner
    ("GET", "/my/guests/{invitation_id}", "other"): "in in in in in in in in in in nf in in",
    ("POST", "/my/guests/{invitation_id}/cancel", "other"): "in 403 403 403 403 in in in in in nf in in",
}


WHERE = ("in", "out")


def wheres(key: tuple[str, str, str]) -> tuple[str, ...]:
    """("in", "out") for a row about a scoped object, ("",) for one about the event's object or none."""
    return WHERE if "|" in MATRIX[key] else ("",)


def expected(key: tuple[str, str, str], roles: tuple[str, ...], where: str = "") -> dict[str, str]:
    """The row of ``key`` (its ``where`` half) as {role: outcome}; raises ValueError on a malformed row."""
    halves = MATRIX[key].split("|")
    if len(halves) > 2 or (where and len(halves) != 2) or (not where and len(halves) != 1):
        raise ValueError(f"{key}: {len(halves)} halves for {where or 'no object scope'}")
    cells = halves[WHERE.index(where) if where else 0].split()
    if len(cells) != len(roles):
        raise ValueError(f"{key}: {len(cells)} cells for {len(roles)} roles")
    return dict(zip(roles, cells, strict=True))


def size(roles: tuple[str, ...]) -> tuple[int, int]:
    """(requests a run sends, of which about an object in / out of scope): for the docs and the report."""
    cells = sum(len(roles) * len(wheres(k)) for k in MATRIX)
    scoped = sum(len(roles) * 2 for k in MATRIX if wheres(k) == WHERE)
    return cells, scoped
