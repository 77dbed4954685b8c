"""The event row: the settings every terminal follows (``sync.schemas.EventSettings``)."""

from __future__ import annotations

from sqlalchemy import Connection, insert, select, update

from server.db import tables as t
from server.db.engine import reserve_changes
from sync.schemas import EventSettings

__all__ = ["EventMissing", "create_event", "get_event_settings", "set_event_settings"]


class EventMissing(Exception):
    """The database has no event yet: run ``ennichi server init``."""


def create_event(conn: Connection, settings: EventSettings, *, now_ms: int) -> None:
    """Insert the event row; raises IntegrityError if there is one."""
    conn.execute(insert(t.event).values(id=1, settings=settings.model_dump_json(), created_at=now_ms,
                                        change_seq=reserve_changes(conn, 1)))


def get_event_settings(conn: Connection) -> EventSettings:
    """Return the event's settings; raises EventMissing."""
    raw = conn.execute(select(t.event.c.settings).where(t.event.c.id == 1)).scalar()
    if raw is None:
        raise EventMissing("no event: run `ennichi server init`")
    return EventSettings.model_validate_json(raw)


def set_event_settings(conn: Connection, settings: EventSettings) -> None:
    """Replace the event's settings; terminals learn them on their next pull."""
    conn.execute(update(t.event).where(t.event.c.id == 1).values(
        settings=settings.model_dump_json(), change_seq=reserve_changes(conn, 1)))
