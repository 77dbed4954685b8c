"""Who is asking and what they may do: the dashboard's side of ``sync.permissions``.

The rule itself is ``sync.permissions.is_allowed``, the same function the
terminals run; this module only loads a person's roles and overrides and asks
it.  A page is shown when the person holds its permission somewhere (the whole
event, or one stall or gate); an action on one stall or gate asks for that
scope exactly.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from server.staff import Access
from sync.permissions import EVENT, Permission, Scope

__all__ = ["Admin", "Grants"]


@dataclass(frozen=True, slots=True)
class Grants:
    """A person's access (``server.staff.Access``) evaluated at ``now`` (Unix seconds)."""

    access: Access
    now: int

    def allows(self, permission: Permission, scope: Scope = EVENT) -> bool:
        """True when ``permission`` is allowed in exactly ``scope``."""
        return self.access.allows(permission, scope, now_s=self.now)

    def scopes(self) -> set[Scope]:
        """Every scope this person's roles and overrides mention, plus the event."""
        found = {EVENT}
        found.update(r.scope for r in self.access.roles)
        found.update(o.scope for o in self.access.overrides)
        return found

    def anywhere(self, permission: Permission) -> bool:
        """True when ``permission`` is allowed for the event or for at least one stall or gate."""
        return any(self.allows(permission, scope) for scope in self.scopes())

    def stall_ids(self, permission: Permission, candidates: Iterable[int]) -> list[int]:
        """The stalls among ``candidates`` where ``permission`` is allowed."""
        return [sid for sid in candidates if self.allows(permission, Scope.stall(sid))]


@dataclass(frozen=True, slots=True)
class Admin:
    """A signed-in dashboard user (a staff row with a login and a password)."""

    staff_id: int
    login: str
    name: str
    grants: Grants = field(compare=False)

    @property
    def actor(self) -> str:
        """How the audit log names this person."""
        return f"admin:{self.login}"

    def can(self, permission: Permission | str, scope: Scope | None = None) -> bool:
        """The template helper: allowed in ``scope``, or anywhere when no scope is given."""
        permission = Permission(permission)
        return self.grants.anywhere(permission) if scope is None else self.grants.allows(permission, scope)
