"""Issuer keys: public halves in the database, private halves as 0600 files in the data dir."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Connection, func, insert, select, update

from server.db import tables as t
from server.db.engine import reserve_changes
from sync.keys import IssuerKey, SigningKey, load_private_key, public_key_to_b64, save_private_key
from sync.schemas import IssuerKeyRow

__all__ = ["MAX_KEY_ID", "IssuerKeyMissing", "IssuerKeys", "create_issuer_key", "issuer_key_rows", "retire_issuer_key",
           "rotate_issuer_key"]

MAX_KEY_ID = 255  # one byte in every token


class IssuerKeyMissing(Exception):
    """No usable active issuer key (the key file is missing or the event has none)."""


def create_issuer_key(conn: Connection, *, key_id: int, path: Path, now_ms: int) -> IssuerKey:
    """Generate a key, write its private half to ``path`` and publish its public half."""
    key = IssuerKey(key_id, SigningKey.generate())
    save_private_key(key.key, path)
    conn.execute(insert(t.issuer_keys).values(key_id=key_id, public_key=public_key_to_b64(key.public),
                                              active=True, created_at=now_ms,
                                              change_seq=reserve_changes(conn, 1)))
    return key


def rotate_issuer_key(conn: Connection, *, path_for: Callable[[int], Path], now_ms: int) -> IssuerKey:
    """Make a new active key (the next key id): it signs from now on; the older keys stay trusted.

    Tokens already out (printed cards, badges) keep working until their key is retired.
    Terminals learn the new public key with their next pull.  Raises ValueError past key id 255.
    """
    newest = conn.execute(select(func.max(t.issuer_keys.c.key_id))).scalar() or 0
    key_id = int(newest) + 1
    if key_id > MAX_KEY_ID:
        raise ValueError(f"no key id left (tokens carry one byte: at most {MAX_KEY_ID})")
    return create_issuer_key(conn, key_id=key_id, path=path_for(key_id), now_ms=now_ms)


def retire_issuer_key(conn: Connection, key_id: int) -> None:
    """Stop trusting key ``key_id`` everywhere (a leaked key): its tokens read as forged after the next pull.

    Raises LookupError for an unknown or already retired key, ValueError for the last active key
    (rotate first: something must sign).
    """
    k = t.issuer_keys
    active = [int(r) for r in conn.execute(select(k.c.key_id).where(k.c.active.is_(True))).scalars()]
    if key_id not in active:
        raise LookupError(f"issuer key {key_id} is not an active key")
    if len(active) == 1:
        raise ValueError(f"issuer key {key_id} is the only active key: run rotate-key first")
    conn.execute(update(k).where(k.c.key_id == key_id).values(active=False, change_seq=reserve_changes(conn, 1)))


def issuer_key_rows(conn: Connection) -> list[IssuerKeyRow]:
    """Every issuer public key terminals should trust."""
    k = t.issuer_keys
    rows = conn.execute(select(k.c.key_id, k.c.public_key, k.c.active).order_by(k.c.key_id))
    return [IssuerKeyRow(key_id=r.key_id, public_key=r.public_key, active=bool(r.active)) for r in rows]


class IssuerKeys:
    """Loads the active issuer key's private half once and caches it."""

    def __init__(self, path_for: Callable[[int], Path]) -> None:
        self._path_for = path_for
        self._cache: dict[int, IssuerKey] = {}
        self._lock = threading.Lock()

    def active(self, conn: Connection) -> IssuerKey:
        """Return the newest active issuer key; raises IssuerKeyMissing."""
        k = t.issuer_keys
        key_id = conn.execute(select(k.c.key_id).where(k.c.active.is_(True))
                              .order_by(k.c.key_id.desc()).limit(1)).scalar()
        if key_id is None:
            raise IssuerKeyMissing("the event has no active issuer key")
        with self._lock:
            if key_id not in self._cache:
                path = self._path_for(key_id)
                try:
                    self._cache[key_id] = IssuerKey(key_id, load_private_key(path))
                except Exception as exc:
                    raise IssuerKeyMissing(f"issuer key {key_id}: {exc}") from exc
            return self._cache[key_id]
