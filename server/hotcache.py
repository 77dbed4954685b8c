"""Per-process caches for the authorize/push hot path, checked against the database on every use.

A terminal's identity (by API token), people's access (roles, overrides) and the
event settings change rarely, but every authorize needs them; loading them costs
seven statements.  Every change to them already has to move a change number that
terminals pull, so one small statement (``fingerprint``) tells whether anything
changed, from this process or any other (the admin CLI, a second server):

* staff, roles, role assignments, overrides, PIN/active flag: ``touch_staff`` gives
  the people concerned a new ``staff.change_seq`` (terminals must pull them), so
  ``max(staff.change_seq)`` moves (an unassigned role matters to nobody);
* a revoked terminal: ``revoke_terminal`` publishes a revocation (``max(revocations.change_seq)``);
* event settings: ``event.change_seq``.

``view(conn)`` reads the fingerprint inside the caller's transaction and drops
everything when it moved; the answers are then those of that transaction's view,
exactly as if they had been loaded with it.  Staff API tokens are never cached.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterable

from sqlalchemy import Connection, func, select

from server.auth import StaffCaller, TerminalCaller, lookup_caller
from server.db import tables as t
from server.db.engine import Database
from server.event import get_event_settings
from server.staff import Access, hash_token, load_access
from sync.schemas import EventSettings

__all__ = ["CacheView", "HotCache", "hot_cache"]

_FINGERPRINT = select(
    select(func.max(t.staff.c.change_seq)).scalar_subquery(),
    select(func.max(t.revocations.c.change_seq)).scalar_subquery(),
    select(t.event.c.change_seq).where(t.event.c.id == 1).scalar_subquery(),
)
_MAX_ENTRIES = 10_000  # terminals or people; beyond that the cache starts over


class HotCache:
    """Terminals by token digest, access by staff id, the event settings; valid for one fingerprint."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._fingerprint: tuple[object, ...] | None = None
        self._gen = 0  # moves whenever the fingerprint does; a view stores only into its own generation
        self._terminals: dict[str, TerminalCaller] = {}
        self._access: dict[int, Access | None] = {}
        self._settings: EventSettings | None = None

    def view(self, conn: Connection) -> CacheView:
        """Read the fingerprint in ``conn``'s transaction (one statement); the answers then match that view."""
        fingerprint = tuple(conn.execute(_FINGERPRINT).one())
        with self._lock:
            if fingerprint != self._fingerprint:
                self._fingerprint = fingerprint
                self._gen += 1
                self._terminals, self._access, self._settings = {}, {}, None
            return CacheView(self, conn, self._gen)

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._fingerprint = None
            self._gen += 1
            self._terminals, self._access, self._settings = {}, {}, None


class CacheView:
    """The cache as seen from one transaction (``HotCache.view``)."""

    __slots__ = ("_cache", "_conn", "_gen")

    def __init__(self, cache: HotCache, conn: Connection, gen: int) -> None:
        self._cache, self._conn, self._gen = cache, conn, gen

    def caller(self, token: str) -> TerminalCaller | StaffCaller | None:
        """Like ``lookup_caller``; terminals (revoked ones too, flagged) come from the cache."""
        cache = self._cache
        digest = hash_token(token)
        with cache._lock:
            found = cache._terminals.get(digest) if cache._gen == self._gen else None
        if found is not None:
            return found
        caller = lookup_caller(self._conn, token)
        if isinstance(caller, TerminalCaller):
            with cache._lock:
                if cache._gen == self._gen:
                    if len(cache._terminals) >= _MAX_ENTRIES:
                        cache._terminals = {}
                    cache._terminals[digest] = caller
        return caller

    def access(self, staff_ids: Iterable[int]) -> dict[int, Access]:
        """Like ``load_access``, from the cache where it can."""
        cache = self._cache
        ids = set(staff_ids)
        with cache._lock:
            known = {i: cache._access[i] for i in ids if i in cache._access} if cache._gen == self._gen else {}
        missing = [i for i in ids if i not in known]
        if missing:
            loaded = load_access(self._conn, missing)
            with cache._lock:
                if cache._gen == self._gen:
                    if len(cache._access) + len(missing) > _MAX_ENTRIES:
                        cache._access = {}
                    for i in missing:
                        cache._access[i] = loaded.get(i)
            known.update({i: loaded.get(i) for i in missing})
        return {i: acc for i, acc in known.items() if acc is not None}

    def event_settings(self) -> EventSettings:
        """Like ``get_event_settings`` (raises EventMissing)."""
        cache = self._cache
        with cache._lock:
            settings = cache._settings if cache._gen == self._gen else None
        if settings is None:
            settings = get_event_settings(self._conn)
            with cache._lock:
                if cache._gen == self._gen:
                    cache._settings = settings
        return settings


_caches: weakref.WeakKeyDictionary[Database, HotCache] = weakref.WeakKeyDictionary()
_caches_lock = threading.Lock()


def hot_cache(db: Database) -> HotCache:
    """The cache of one database handle (one per process and database)."""
    with _caches_lock:
        cache = _caches.get(db)
        if cache is None:
            cache = _caches[db] = HotCache()
        return cache
