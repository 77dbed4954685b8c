"""Create an event: database schema, default roles, settings, issuer key, first admin."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import select

from server.db import tables as t
from server.db.engine import Database
from server.db.migrate import upgrade
from server.event import create_event
from server.issuer import create_issuer_key
from server.ledger import SYSTEM_ADJUSTMENTS, SYSTEM_ADMIN_CASH, ensure_account
from server.settings import ServerSettings
from server.staff import create_staff, grant_role, seed_roles
from sync.schemas import EventSettings

__all__ = ["EventExists", "InitResult", "init_event"]


class EventExists(Exception):
    """The database already holds an event."""


@dataclass(frozen=True, slots=True)
class InitResult:
    """What ``init_event`` made; the password and PIN are shown once and never stored in clear."""

    admin_staff_id: int
    admin_login: str
    admin_password: str
    admin_pin: str
    issuer_key_id: int


def init_event(settings: ServerSettings, *, now_ms: int, event: EventSettings | None = None,
               admin_login: str = "admin", admin_password: str | None = None,
               admin_pin: str | None = None, db: Database | None = None) -> InitResult:
    """Create the event in a fresh database; raises EventExists if one is there."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    own = db is None
    database = db or Database(settings.url, synchronous=settings.sqlite_synchronous)
    try:
        upgrade(database.engine)
        password = admin_password or secrets.token_urlsafe(12)
        pin = admin_pin or f"{secrets.randbelow(10**6):06d}"
        with database.write() as conn:
            if conn.execute(select(t.event.c.id)).first() is not None:
                raise EventExists("this database already holds an event")
            seed_roles(conn)
            create_event(conn, event or EventSettings(), now_ms=now_ms)
            key_id = 1
            create_issuer_key(conn, key_id=key_id, path=settings.issuer_key_path(key_id), now_ms=now_ms)
            for number, name in ((SYSTEM_ADJUSTMENTS, "adjustments"), (SYSTEM_ADMIN_CASH, "admin cash")):
                ensure_account(conn, "system", number, now_ms=now_ms, name=name)
            staff_id = create_staff(conn, name="Administrator", pin=pin, now_ms=now_ms, login=admin_login,
                                    password=password)
            grant_role(conn, staff_id, "admin")
        return InitResult(staff_id, admin_login, password, pin, key_id)
    finally:
        if own:
            database.dispose()
