"""Object scopes: every dashboard route decides on the scope of the object it reads or changes.

A route declares its rule once, in its signature::

    admin: Admin = require(Permission.WALLETS_MANAGE, on=sale_in_form)

``require`` resolves the object's scope (the sale's stall, the terminal's stall
or gate, the event for wallets, people, tickets and the audit log) and asks
``authorize_object(grants, permission, scope)``, the one check every route
goes through.  ``on=LISTED`` is for pages that show many objects: the person
must hold the permission somewhere, and the page shows only what ``Visible``
lets through.  ``tests/security/test_object_rules.py`` fails when a route
under ``/admin`` declares no rule (or is not in ``PUBLIC_ROUTES``).

People: nobody acts on a person who holds a permission (in some scope) the
actor does not hold there (``ensure_within``); a change that would give a
person more than the actor holds is refused before it commits.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import Depends
from sqlalchemy import Connection, select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from server.db import tables as t
from server.staff import Access, load_access
from server.web.access import Admin, Grants
from server.web.deps import AdminDep, Refused, database
from sync.permissions import EVENT, Permission, Scope, ScopeKind
from sync.schemas import TerminalMode

__all__ = [
    "EVENT_OBJECT", "LISTED", "PUBLIC_ROUTES", "Rule", "Target", "Visible", "anomaly_in_path", "anomaly_scope",
    "authorize_object", "code_in_form", "code_scope", "ensure_within", "person_in_path", "product_in_path",
    "require", "rule_of", "sale_in_form", "sale_scope", "stall_in_path", "terminal_in_path", "terminal_scope",
    "within",
]

# Routes under /admin that anyone may call (signing in needs no grant); everything else declares a Rule.
PUBLIC_ROUTES = frozenset({("GET", "/admin/signin"), ("POST", "/admin/signin"), ("POST", "/admin/signout"),
                           ("GET", "/admin/lang")})


def authorize_object(grants: Grants, permission: Permission, scope: Scope) -> None:
    """THE check: ``permission`` must be allowed in the object's ``scope``; raises Refused."""
    if not grants.allows(permission, scope):
        raise Refused(permission.value)


# ---------------------------------------------------------------- what a resolver sees


@dataclass(frozen=True, slots=True)
class Target:
    """The request a resolver finds the object in: path parameters, form fields, a read connection."""

    request: Request
    admin: Admin
    conn: Connection
    form: Mapping[str, Any]

    def path_int(self, name: str) -> int | None:
        return _int(self.request.path_params.get(name))

    def form_int(self, name: str) -> int | None:
        value = self.form.get(name)
        return _int(value) if isinstance(value, str) else None


def _int(value: object) -> int | None:
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit() and len(value.strip()) <= 18:
        return int(value.strip())
    return None


Resolver = Callable[[Target], Scope]


@dataclass(frozen=True, slots=True)
class Rule:
    """A route's declared object rule: the permission, and how the object's scope is found."""

    permission: Permission
    on: str  # the resolver's name (docs, the rule test)
    resolve: Resolver | None  # None: a list page (held somewhere; the page filters what it shows)


def LISTED(target: Target) -> Scope:
    """Marker resolver: a page of many objects, filtered with ``Visible``."""
    raise AssertionError("LISTED is a marker")


def EVENT_OBJECT(target: Target) -> Scope:
    """Wallets, people, tickets, quotas, the audit log: objects of the whole event."""
    return EVENT


def stall_in_path(target: Target) -> Scope:
    """``{stall_id}`` in the path."""
    stall_id = target.path_int("stall_id")
    return EVENT if stall_id is None else Scope.stall(stall_id)


def product_in_path(target: Target) -> Scope:
    """``{product_id}``: the product's stall (an unknown product: the event)."""
    product_id = target.path_int("product_id")
    stall_id = None if product_id is None else target.conn.execute(
        select(t.products.c.stall_id).where(t.products.c.id == product_id)).scalar()
    return EVENT if stall_id is None else Scope.stall(int(stall_id))


def terminal_scope(conn: Connection, terminal_id: int | None) -> Scope:
    """A terminal's scope: its stall, its gate; a top-up desk (or an unknown terminal) is the event's."""
    if terminal_id is None:
        return EVENT
    tm = t.terminals
    row = conn.execute(select(tm.c.mode, tm.c.stall_id, tm.c.gate_id).where(tm.c.id == terminal_id)).first()
    if row is None:
        return EVENT
    return code_scope(str(row.mode), row.stall_id, row.gate_id)


def code_scope(mode: str, stall_id: int | None, gate_id: int | None) -> Scope:
    """The scope a terminal of ``mode`` for this stall or gate works in (top-up desks: the event)."""
    if mode == TerminalMode.STALL.value and stall_id is not None:
        return Scope.stall(int(stall_id))
    if mode == TerminalMode.GATE.value and gate_id is not None:
        return Scope.gate(int(gate_id))
    return EVENT


def terminal_in_path(target: Target) -> Scope:
    """``{terminal_id}``: the terminal's stall or gate."""
    return terminal_scope(target.conn, target.path_int("terminal_id"))


def code_in_form(target: Target) -> Scope:
    """An enrollment code's mode, stall and gate from the form (a top-up desk code needs the event)."""
    mode = target.form.get("mode")
    return code_scope(mode if isinstance(mode, str) else "", target.form_int("stall_id"), target.form_int("gate_id"))


def sale_scope(conn: Connection, txn_id: int | None) -> Scope:
    """The stall a transaction's revenue went to (no stall: the event)."""
    if txn_id is None:
        return EVENT
    p, a = t.postings, t.accounts
    stall_id = conn.execute(select(a.c.ref).join(p, p.c.account_id == a.c.id).where(
        p.c.txn_id == txn_id, a.c.kind.in_(("stall_revenue", "stall_deposit", "stall_discount")))).scalar()
    return EVENT if stall_id is None else Scope.stall(int(stall_id))


def sale_in_form(target: Target) -> Scope:
    """The sale named by the form's ``txn_id`` (a refund): its stall."""
    return sale_scope(target.conn, target.form_int("txn_id"))


def anomaly_scope(conn: Connection, terminal_id: int | None) -> Scope:
    """What an anomaly concerns: its terminal's stall or gate; a wallet's alone or nothing's: the event."""
    return terminal_scope(conn, None if terminal_id is None else int(terminal_id))


def anomaly_in_path(target: Target) -> Scope:
    """``{anomaly_id}``: the scope of what it concerns."""
    anomaly_id = target.path_int("anomaly_id")
    row = None if anomaly_id is None else target.conn.execute(
        select(t.anomalies.c.terminal_id).where(t.anomalies.c.id == anomaly_id)).first()
    return anomaly_scope(target.conn, None if row is None else row.terminal_id)


def person_in_path(target: Target) -> Scope:
    """``{staff_id}``: people are the event's, and the person must not hold more than the actor."""
    staff_id = target.path_int("staff_id")
    if staff_id is not None:
        ensure_within(target.conn, target.admin, staff_id)
    return EVENT


# ---------------------------------------------------------------- people: never above one's own authority


def within(actor: Grants, target: Access) -> bool:
    """True when every permission ``target`` holds (in any scope) ``actor`` holds there too."""
    target = dataclasses.replace(target, active=True)  # a deactivated admin is still an admin to reactivate
    scopes = {EVENT} | {r.scope for r in target.roles} | {o.scope for o in target.overrides}
    return all(actor.allows(p, s) for s in scopes for p in Permission if target.allows(p, s, now_s=actor.now))


def ensure_within(conn: Connection, admin: Admin, staff_id: int) -> None:
    """Raise Refused when person ``staff_id`` holds a permission the admin does not (unknown: nothing held)."""
    access = load_access(conn, [staff_id]).get(staff_id)
    if access is not None and not within(admin.grants, access):
        raise Refused("person above the actor's authority")


def permissions_within(admin: Admin, permissions: list[str] | frozenset[Permission], scope: Scope) -> bool:
    """True when the admin holds each of ``permissions`` in ``scope`` (giving a role or a grant)."""
    return all(admin.grants.allows(Permission(p), scope) for p in permissions)


# ---------------------------------------------------------------- the dependency


def require(permission: Permission, *, on: Resolver = LISTED) -> Any:
    """A route's rule: ``permission`` in the scope ``on`` finds for its object (LISTED: held somewhere)."""
    rule = Rule(permission, on.__name__, None if on is LISTED else on)

    async def check(request: Request, admin: AdminDep) -> Admin:
        if rule.resolve is None:
            if not admin.can(permission):
                raise Refused(permission.value)
            return admin
        form: Mapping[str, Any] = {}
        if request.method == "POST" and request.headers.get("content-type", "").startswith(
                ("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()  # parsed once; starlette keeps it for the route's own fields
        resolve = rule.resolve

        def decide() -> None:
            with database(request).read() as conn:
                scope = resolve(Target(request, admin, conn, form))
            authorize_object(admin.grants, permission, scope)

        await run_in_threadpool(decide)
        return admin

    check.rule = rule  # type: ignore[attr-defined]  # read by rule_of (the declaration test)
    return Depends(check)


def rule_of(route: Any) -> Rule | None:
    """The Rule a route declared through ``require`` (searching its dependencies), or None."""
    stack = list(getattr(getattr(route, "dependant", None), "dependencies", []))
    while stack:
        dep = stack.pop()
        found = getattr(dep.call, "rule", None)
        if isinstance(found, Rule):
            return found
        stack.extend(dep.dependencies)
    return None


# ---------------------------------------------------------------- list pages


@dataclass(frozen=True, slots=True)
class Visible:
    """What a list page may show a person for ``permission``: the event's, or only their stalls and gates."""

    grants: Grants
    permission: Permission

    @property
    def event(self) -> bool:
        """Allowed for the whole event (sees everything)."""
        return self.grants.allows(self.permission, EVENT)

    def scope(self, scope: Scope) -> bool:
        return self.grants.allows(self.permission, scope)

    def stall(self, stall_id: int | None) -> bool:
        return self.scope(EVENT if stall_id is None else Scope.stall(int(stall_id)))

    def gate(self, gate_id: int | None) -> bool:
        return self.scope(EVENT if gate_id is None else Scope.gate(int(gate_id)))

    def terminal(self, row: Any) -> bool:
        """A terminal row (mode, stall_id, gate_id)."""
        return self.scope(code_scope(str(row.mode), row.stall_id, row.gate_id))

    def stalls(self, ids: Any) -> set[int]:
        return {int(i) for i in ids if self.stall(int(i))}

    def gates(self, ids: Any) -> set[int]:
        return {int(i) for i in ids if self.gate(int(i))}

    def any_gate(self) -> bool:
        """Some gate scope (or the event) allows it."""
        return self.event or any(s.kind is ScopeKind.GATE and self.scope(s) for s in self.grants.scopes())
