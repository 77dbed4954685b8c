from __future__ import annotations

import pytest

from sync.permissions import (
    DEFAULT_ROLES,
    Override,
    Permission,
    RoleAssignment,
    Scope,
    effective_permissions,
    is_allowed,
)

NOW = 1_000_000
STALL_1, STALL_2, GATE_1 = Scope.stall(1), Scope.stall(2), Scope.gate(1)
CASHIER_AT_1 = RoleAssignment("cashier", DEFAULT_ROLES["cashier"], STALL_1)


def allowed(perm, scope, roles=(CASHIER_AT_1,), overrides=()) -> bool:
    return is_allowed(perm, scope, roles=roles, overrides=overrides, now=NOW)


def test_role_applies_only_to_its_scope() -> None:
    assert allowed(Permission.SELL, STALL_1)
    assert not allowed(Permission.SELL, STALL_2)
    assert not allowed(Permission.REFUND, STALL_1)


def test_event_scope_covers_everything() -> None:
    sup = RoleAssignment("supervisor", DEFAULT_ROLES["supervisor"])
    assert allowed(Permission.REFUND, STALL_2, roles=[sup])
    assert allowed(Permission.GATE, GATE_1, roles=[sup])


def test_grant_for_today_then_expired() -> None:
    grant = Override(Permission.TOPUP, True, expires_at=NOW + 3600)
    assert allowed(Permission.TOPUP, STALL_1, overrides=[grant])
    assert not is_allowed(Permission.TOPUP, STALL_1, roles=[CASHIER_AT_1], overrides=[grant], now=NOW + 3600)


def test_denial_beats_role_and_grant() -> None:
    deny = Override(Permission.SELL, False, STALL_1)
    grant = Override(Permission.SELL, True)
    assert not allowed(Permission.SELL, STALL_1, overrides=[deny, grant])
    assert not allowed(Permission.SELL, STALL_1, overrides=[Override(Permission.SELL, False)])
    # a denial at another stall does not reach this one
    assert allowed(Permission.SELL, STALL_1, overrides=[Override(Permission.SELL, False, STALL_2)])


def test_expired_denial_no_longer_applies() -> None:
    deny = Override(Permission.SELL, False, expires_at=NOW)
    assert allowed(Permission.SELL, STALL_1, overrides=[deny])


@pytest.mark.parametrize("role", sorted(DEFAULT_ROLES))
def test_effective_permissions_match_role(role: str) -> None:
    perms = effective_permissions(Scope(), roles=[RoleAssignment(role, DEFAULT_ROLES[role])], now=NOW)
    assert perms == DEFAULT_ROLES[role]
