"""Staff users, roles scoped to stalls or gates, per-person grants and denials, API tokens.

The same rules (``sync.permissions.is_allowed``) govern the dashboard and the
terminals; terminals receive staff rows (with argon2id PIN hashes) on pull so
they can check a badge and PIN, and permissions, offline.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field

from argon2 import PasswordHasher
from sqlalchemy import Connection, insert, select, update

from server.db import tables as t
from server.db.engine import reserve_changes
from server.said import Said
from sync.ids import new_short_id
from sync.permissions import (
    DEFAULT_ROLES,
    Override,
    Permission,
    RoleAssignment,
    Scope,
    ScopeKind,
    is_allowed,
)
from sync.schemas import OverrideRow, RoleRow, StaffRow

__all__ = [
    "Access",
    "StaffError",
    "add_override",
    "create_api_token",
    "create_staff",
    "grant_role",
    "hash_secret",
    "hash_token",
    "load_access",
    "seed_roles",
    "staff_rows",
    "touch_staff",
]

_hasher = PasswordHasher()


class StaffError(Said):
    """A staff operation with bad input (unknown role, unknown staff)."""


@dataclass(frozen=True, slots=True)
class Access:
    """What one person holds: role assignments and overrides."""

    staff_id: int
    active: bool = True
    roles: tuple[RoleAssignment, ...] = ()
    overrides: tuple[Override, ...] = field(default=())

    def allows(self, permission: Permission, scope: Scope, *, now_s: int) -> bool:
        """True when this person may use ``permission`` in ``scope`` at ``now_s``."""
        return self.active and is_allowed(permission, scope, roles=self.roles, overrides=self.overrides,
                                          now=now_s)


def hash_secret(secret: str) -> str:
    """Return an argon2id hash of a PIN or password."""
    return _hasher.hash(secret)


def hash_token(token: str) -> str:
    """Return the SHA-256 hex of an API token (tokens are 32 random bytes; no salt needed)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def seed_roles(conn: Connection) -> None:
    """Create the default roles (admin, supervisor, cashier, topup, gatekeeper, student)."""
    have = set(conn.execute(select(t.roles.c.name)).scalars())
    rows = [{"name": name, "permissions": json.dumps(sorted(p.value for p in perms))}
            for name, perms in DEFAULT_ROLES.items() if name not in have]
    if rows:
        conn.execute(insert(t.roles), rows)


def touch_staff(conn: Connection, staff_ids: Iterable[int]) -> None:
    """Give staff rows new change numbers so terminals pull them again."""
    for staff_id in sorted(set(staff_ids)):
        conn.execute(update(t.staff).where(t.staff.c.id == staff_id)
                     .values(change_seq=reserve_changes(conn, 1)))


def create_staff(conn: Connection, *, name: str, pin: str, now_ms: int, staff_id: int | None = None,
                 login: str | None = None, password: str | None = None,
                 pin_hash: str | None = None) -> int:
    """Create a staff member and return their short id; raises StaffError on a bad PIN."""
    if not (pin_hash or (pin.isascii() and pin.isdigit() and 4 <= len(pin) <= 12)):
        raise StaffError("a PIN is 4 to 12 digits", ja="PINは4〜12桁の数字です")
    staff_id = new_short_id() if staff_id is None else staff_id
    conn.execute(insert(t.staff).values(
        id=staff_id, name=name, pin_hash=pin_hash or hash_secret(pin), login=login,
        password_hash=hash_secret(password) if password else None, active=True,
        badge_not_before=0, created_at=now_ms, change_seq=reserve_changes(conn, 1),
    ))
    return staff_id


def grant_role(conn: Connection, staff_id: int, role: str, *, scope: Scope = Scope()) -> None:
    """Give ``role`` for ``scope``; raises StaffError for an unknown role or person."""
    if conn.execute(select(t.roles.c.name).where(t.roles.c.name == role)).scalar() is None:
        raise StaffError(f"unknown role {role!r}", ja=f"役割「{role}」はありません")
    if conn.execute(select(t.staff.c.id).where(t.staff.c.id == staff_id)).scalar() is None:
        raise StaffError(f"unknown staff {staff_id}", ja=f"スタッフ {staff_id} は見つかりません")
    conn.execute(insert(t.staff_roles).values(staff_id=staff_id, role=role, scope_kind=scope.kind.value,
                                              scope_id=scope.id))
    touch_staff(conn, [staff_id])


def add_override(conn: Connection, staff_id: int, permission: Permission, *, allow: bool,
                 scope: Scope = Scope(), expires_at: int | None = None) -> None:
    """Grant or deny one permission to one person, maybe until ``expires_at`` (Unix s)."""
    conn.execute(insert(t.staff_overrides).values(
        staff_id=staff_id, permission=Permission(permission).value, allow=allow,
        scope_kind=scope.kind.value, scope_id=scope.id, expires_at=expires_at))
    touch_staff(conn, [staff_id])


def create_api_token(conn: Connection, staff_id: int, *, now_ms: int) -> str:
    """Return a new API token acting as ``staff_id``; only its hash is stored."""
    token = secrets.token_urlsafe(32)
    conn.execute(insert(t.api_tokens).values(token_hash=hash_token(token), staff_id=staff_id,
                                             created_at=now_ms, revoked=False))
    return token


def _role_permissions(conn: Connection) -> dict[str, frozenset[Permission]]:
    out: dict[str, frozenset[Permission]] = {}
    for name, raw in conn.execute(select(t.roles.c.name, t.roles.c.permissions)):
        out[name] = frozenset(Permission(p) for p in json.loads(raw) if p in Permission._value2member_map_)
    return out


def load_access(conn: Connection, staff_ids: Iterable[int]) -> dict[int, Access]:
    """Return the access of each known person among ``staff_ids`` (unknown ids are absent)."""
    ids = sorted(set(staff_ids))
    if not ids:
        return {}
    perms = _role_permissions(conn)
    active = {int(r.id): bool(r.active) for r in conn.execute(
        select(t.staff.c.id, t.staff.c.active).where(t.staff.c.id.in_(ids)))}
    roles: dict[int, list[RoleAssignment]] = {i: [] for i in active}
    sr = t.staff_roles
    for r in conn.execute(select(sr).where(sr.c.staff_id.in_(ids))):
        roles[int(r.staff_id)].append(RoleAssignment(
            r.role, perms.get(r.role, frozenset()), Scope(ScopeKind(r.scope_kind), r.scope_id)))
    overrides: dict[int, list[Override]] = {i: [] for i in active}
    so = t.staff_overrides
    for r in conn.execute(select(so).where(so.c.staff_id.in_(ids))):
        overrides[int(r.staff_id)].append(Override(
            Permission(r.permission), bool(r.allow), Scope(ScopeKind(r.scope_kind), r.scope_id), r.expires_at))
    return {i: Access(i, active[i], tuple(roles[i]), tuple(overrides[i])) for i in active}


def staff_rows(conn: Connection, rows: list[dict[str, object]]) -> list[StaffRow]:
    """Turn staff table rows into the pull form with their roles and overrides."""
    ids = [int(r["id"]) for r in rows]  # type: ignore[call-overload]
    access = load_access(conn, ids)
    out = []
    for r in rows:
        acc = access[int(r["id"])]  # type: ignore[call-overload]
        out.append(StaffRow(
            staff_id=acc.staff_id, name=str(r["name"]), pin_hash=str(r["pin_hash"]), active=acc.active,
            badge_not_before=int(r["badge_not_before"]),  # type: ignore[call-overload]
            roles=[RoleRow(role=x.role, permissions=sorted(x.permissions), scope_kind=x.scope.kind,
                           scope_id=x.scope.id) for x in acc.roles],
            overrides=[OverrideRow(permission=o.permission, allow=o.allow, scope_kind=o.scope.kind,
                                   scope_id=o.scope.id, expires_at=o.expires_at) for o in acc.overrides],
        ))
    return out
