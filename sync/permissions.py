"""Permissions, roles and scopes: one rule set for the dashboard and the terminals.

A person holds roles, each assigned for a scope: the whole event, one stall or
one gate.  On top, per-person overrides grant or deny one permission for a
scope, optionally until a time (the school festival's "this student may also
run the top-up desk today").  A live denial beats everything; then a live
grant; then the roles.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "ALL_PERMISSIONS",
    "DEFAULT_ROLES",
    "Override",
    "Permission",
    "RoleAssignment",
    "Scope",
    "ScopeKind",
    "effective_permissions",
    "is_allowed",
]


class Permission(StrEnum):
    """Everything a person may be allowed to do."""

    # on a terminal
    SELL = "sell"
    REFUND = "refund"  # refund or void a sale of this stall
    TOPUP = "topup"
    CASHOUT = "cashout"  # pay a wallet's balance back in cash at a top-up desk
    GATE = "gate"  # scan tickets at a gate
    SHIFT_CLOSE = "shift.close"
    TERMINAL_SETTINGS = "terminal.settings"
    PRODUCT_SOLD_OUT = "product.sold_out"  # mark a product of the stall sold out (or back on sale) from its till
    # on the dashboard
    DASHBOARD = "dashboard.view"
    STALLS_MANAGE = "stalls.manage"
    STAFF_MANAGE = "staff.manage"
    ROLES_MANAGE = "roles.manage"
    TERMINALS_MANAGE = "terminals.manage"
    WALLETS_VIEW = "wallets.view"
    WALLETS_MANAGE = "wallets.manage"  # top-up, refund, adjust, block from the dashboard
    TICKETS_MANAGE = "tickets.manage"
    ANOMALIES_RESOLVE = "anomalies.resolve"
    REPORTS_VIEW = "reports.view"
    AUDIT_VIEW = "audit.view"
    EVENT_MANAGE = "event.manage"
    # for customers (students)
    GUESTS_INVITE = "guests.invite"


ALL_PERMISSIONS = frozenset(Permission)


class ScopeKind(StrEnum):
    """What a role or override applies to."""

    EVENT = "event"
    STALL = "stall"
    GATE = "gate"


@dataclass(frozen=True, slots=True)
class Scope:
    """The event, or one stall, or one gate."""

    kind: ScopeKind = ScopeKind.EVENT
    id: int | None = None

    def covers(self, other: Scope) -> bool:
        """True when a permission held for ``self`` applies to ``other``."""
        return self.kind is ScopeKind.EVENT or (self.kind == other.kind and self.id == other.id)

    @classmethod
    def stall(cls, stall_id: int) -> Scope:
        """The scope of one stall."""
        return cls(ScopeKind.STALL, stall_id)

    @classmethod
    def gate(cls, gate_id: int) -> Scope:
        """The scope of one gate."""
        return cls(ScopeKind.GATE, gate_id)


EVENT = Scope()


@dataclass(frozen=True, slots=True)
class RoleAssignment:
    """A role's permissions held for a scope."""

    role: str
    permissions: frozenset[Permission]
    scope: Scope = EVENT


@dataclass(frozen=True, slots=True)
class Override:
    """A per-person grant (``allow=True``) or denial of one permission, maybe until a time."""

    permission: Permission
    allow: bool
    scope: Scope = EVENT
    expires_at: int | None = None  # Unix seconds; None = until withdrawn

    def live(self, now: int) -> bool:
        """True while the override has not expired."""
        return self.expires_at is None or now < self.expires_at


def is_allowed(
    permission: Permission,
    scope: Scope,
    *,
    roles: Iterable[RoleAssignment],
    overrides: Iterable[Override] = (),
    now: int,
) -> bool:
    """Decide whether a person may use ``permission`` in ``scope`` at ``now``."""
    overrides = [o for o in overrides if o.permission == permission and o.live(now) and o.scope.covers(scope)]
    if any(not o.allow for o in overrides):
        return False
    if overrides:
        return True
    return any(permission in r.permissions and r.scope.covers(scope) for r in roles)


def effective_permissions(
    scope: Scope, *, roles: Iterable[RoleAssignment], overrides: Iterable[Override] = (), now: int
) -> frozenset[Permission]:
    """Return every permission the person holds in ``scope`` at ``now``."""
    roles = list(roles)
    overrides = list(overrides)
    return frozenset(p for p in Permission if is_allowed(p, scope, roles=roles, overrides=overrides, now=now))


P = Permission
DEFAULT_ROLES: dict[str, frozenset[Permission]] = {
    "admin": ALL_PERMISSIONS - {P.GUESTS_INVITE},
    "supervisor": frozenset({P.SELL, P.REFUND, P.TOPUP, P.CASHOUT, P.GATE, P.SHIFT_CLOSE, P.TERMINAL_SETTINGS,
                             P.PRODUCT_SOLD_OUT,
                             P.DASHBOARD, P.WALLETS_VIEW, P.REPORTS_VIEW}),
    "cashier": frozenset({P.SELL, P.SHIFT_CLOSE}),
    "topup": frozenset({P.TOPUP, P.SHIFT_CLOSE}),
    "cashdesk": frozenset({P.TOPUP, P.CASHOUT, P.SHIFT_CLOSE}),  # the closing hour's cash desk
    "gatekeeper": frozenset({P.GATE}),
    "student": frozenset({P.GUESTS_INVITE}),
}
