"""Request dependencies as short ``Annotated`` aliases: services, database, caller, terminal."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Request
from sqlalchemy import select

from server.auth import StaffCaller, TerminalCaller, lookup_caller
from server.clock import Clock
from server.db import tables as t
from server.db.engine import Database
from server.issuer import IssuerKeys, issuer_key_rows
from server.observability import note_terminal
from server.settings import ServerSettings
from server.staff import Access, load_access
from sync.errors import TokenError
from sync.keys import KeySet
from sync.permissions import Permission, Scope
from sync.tokens import StaffBadge, decode_token

__all__ = ["ApiProblem", "CallerDep", "DbDep", "Services", "ServicesDep", "StaffHeader", "TerminalDep",
           "acting_staff", "require_permission"]


@dataclass(frozen=True, slots=True)
class Services:
    """Everything a request needs, built once by the app factory."""

    settings: ServerSettings
    db: Database
    clock: Clock
    issuer: IssuerKeys


class ApiProblem(Exception):
    """An HTTP error with a JSON body (``detail`` plus extra fields)."""

    def __init__(self, status: int, detail: str, *, headers: dict[str, str] | None = None, **extra: object) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.headers = headers or {}
        self.extra = extra


async def _services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(_services)]


async def _db(services: ServicesDep) -> Database:
    return services.db


DbDep = Annotated[Database, Depends(_db)]


def _caller(services: ServicesDep,
            authorization: Annotated[str | None, Header()] = None) -> TerminalCaller | StaffCaller:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiProblem(401, "missing API token (Authorization: Bearer ...)", headers={"WWW-Authenticate": "Bearer"})
    with services.db.engine.connect() as conn:
        caller = lookup_caller(conn, token.strip())
    if caller is None:
        raise ApiProblem(401, "unknown API token", headers={"WWW-Authenticate": "Bearer"})
    if isinstance(caller, TerminalCaller) and caller.revoked:
        raise ApiProblem(401, "this terminal was revoked", headers={"WWW-Authenticate": "Bearer"}, revoked=True)
    return caller


CallerDep = Annotated[TerminalCaller | StaffCaller, Depends(_caller)]


async def _terminal(caller: CallerDep) -> TerminalCaller:
    if not isinstance(caller, TerminalCaller):
        raise ApiProblem(403, "this call is for enrolled terminals")
    note_terminal(caller.id)
    return caller


TerminalDep = Annotated[TerminalCaller, Depends(_terminal)]
StaffHeader = Annotated[str | None, Header(
    alias="X-Ennichi-Staff-Badge", max_length=200,
    description="a terminal acting for its logged-in staff member sends that person's staff badge (ES1:...)")]


def acting_staff(services: Services, caller: TerminalCaller | StaffCaller, badge_text: str | None) -> int | None:
    """The person a request acts for: a staff API token's owner, or the holder of the badge a terminal sends.

    A terminal cannot just name a person: the badge is signed by an issuer key the event still
    trusts, unexpired, of an active person, and not older than their last badge replacement.
    Raises ApiProblem 403 for a badge that fails any of these.
    """
    if isinstance(caller, StaffCaller):
        return caller.staff_id
    if badge_text is None:
        return None
    now_s = services.clock() // 1000
    with services.db.read() as conn:
        keys = KeySet.from_json([r.model_dump() for r in issuer_key_rows(conn) if r.active])
        try:
            badge = decode_token(badge_text.strip(), keys, now=now_s, expect=StaffBadge)
        except TokenError as exc:
            raise ApiProblem(403, f"staff badge refused: {exc.reason.value}") from exc
        if not isinstance(badge, StaffBadge):  # decode_token checked the kind; this tells the type checker
            raise ApiProblem(403, "staff badge refused: not a staff badge")
        person = conn.execute(select(t.staff.c.active, t.staff.c.badge_not_before)
                              .where(t.staff.c.id == badge.staff_id)).first()
    if person is None or not person.active:
        raise ApiProblem(403, "staff badge refused: not an active staff member")
    if badge.issued_at < int(person.badge_not_before):
        raise ApiProblem(403, "staff badge refused: replaced by a newer badge")
    return badge.staff_id


def require_permission(services: Services, staff_id: int | None, permissions: tuple[Permission, ...], *,
                       scope: Scope = Scope()) -> Access:
    """Return the person's access if they hold one of ``permissions``; raises ApiProblem 403."""
    if staff_id is None:
        raise ApiProblem(403, "a staff member with permission is required (X-Ennichi-Staff-Badge)")
    with services.db.engine.connect() as conn:
        access = load_access(conn, [staff_id]).get(staff_id)
    now_s = services.clock() // 1000
    if access is None or not any(access.allows(p, scope, now_s=now_s) for p in permissions):
        raise ApiProblem(403, f"permission required: {' or '.join(p.value for p in permissions)}")
    return access
