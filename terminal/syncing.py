"""The terminal side of sync: a ``SyncTarget`` over the sync thread's own store connection.

The sync thread never shares the engine's connection: it opens a second
``Store`` on the same file (WAL lets a reader and a writer run together, and
every write is ``BEGIN IMMEDIATE`` with a busy timeout).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sync.schemas import (
    MAX_PUSH_BATCH,
    PullRequest,
    PullResponse,
    PushItemResult,
    SecurityEvent,
    SignedRecord,
    TerminalStatus,
)
from terminal.clock import Clock
from terminal.store import Store

__all__ = ["APP_VERSION", "StoreSyncTarget"]

APP_VERSION = "0.1.0"


class StoreSyncTarget:
    """Reads the outbox and applies pushes and pulls, on a connection owned by the sync thread."""

    def __init__(self, store: Store, clock: Clock, *, on_revoked: Callable[[], None] | None = None,
                 last_error: Callable[[], str] | None = None) -> None:
        self.store = store
        self.clock = clock
        self._on_revoked = on_revoked
        self.last_error = last_error  # where the pull's health report reads the last sync error

    def outbox_batch(self, limit: int) -> list[SignedRecord]:
        """Return the oldest unacknowledged records as signed on the wire."""
        return [row.signed() for row in self.store.outbox_batch(min(limit, MAX_PUSH_BATCH))]

    def security_batch(self, limit: int) -> list[SecurityEvent]:
        """Return the oldest forged-token sightings not yet reported."""
        return self.store.security_unreported(limit)

    def security_reported(self, numbers: Sequence[int]) -> None:
        """Mark sightings as reported."""
        self.store.mark_security_reported(numbers)

    def apply_push(self, results: Sequence[PushItemResult]) -> None:
        """Store per-item results and clear their outbox rows, in one transaction."""
        self.store.apply_push_results(results, now_ms=self.clock.now_ms())

    def server_epoch(self, epoch: str) -> bool:
        """Take the server's restore epoch; True when it changed (records queued again, cursors reset)."""
        return self.store.note_server_epoch(epoch, now_ms=self.clock.now_ms()) is not None

    def pull_request(self) -> PullRequest:
        """Return the cursor to continue from, with this terminal's health."""
        count, amount, _ = self.store.unsynced()
        status = TerminalStatus(app_version=APP_VERSION, clock_ms=self.clock.now_ms(), unsynced_count=count,
                                unsynced_amount=amount,
                                last_error=(self.last_error() if self.last_error else "")[:500])
        return PullRequest(cursor=self.store.pull_cursor(), status=status)

    def apply_pull(self, page: PullResponse) -> None:
        """Apply a page and its cursor in one transaction."""
        self.store.apply_pull(page, now_ms=self.clock.now_ms(), mono_s=self.clock.monotonic())

    def unsynced(self) -> tuple[int, int]:
        """Return (count, money total) of unacknowledged records."""
        count, amount, _ = self.store.unsynced()
        return count, amount

    def last_sync_ms(self) -> int | None:
        """Return when the last sync succeeded."""
        return self.store.last_sync_ms()

    def revoked(self) -> bool:
        """True once the terminal was revoked."""
        return self.store.revoked()

    def on_revoked(self, message: str) -> None:
        """Wipe cached personal data; the engine refuses payments from now on."""
        if not self.store.revoked():
            self.store.wipe_personal_data(now_ms=self.clock.now_ms(), why=message[:200])
        if self._on_revoked is not None:
            self._on_revoked()

    def timing(self) -> tuple[float, float]:
        """Return (push debounce, pull interval) in seconds from the event settings."""
        settings = self.store.event_settings()
        return settings.push_debounce_ms / 1000, float(settings.pull_interval_s)
