"""What one engine action works with: the store, the clock, the terminal's key and identity."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from sync.client import SyncClient
from sync.keys import KeySet, SigningKey
from sync.records import sign_record
from sync.schemas import (
    CashOutRecord,
    CheckInRecord,
    DrawerRecord,
    EventSettings,
    RefundRecord,
    SaleRecord,
    TerminalRow,
    TopUpRecord,
    VoidRecord,
)
from sync.tokens import token_fingerprint
from terminal.clock import Clock
from terminal.store import LedgerRow, Store

__all__ = ["Context", "RecordModel"]

RecordModel = SaleRecord | RefundRecord | VoidRecord | TopUpRecord | CashOutRecord | DrawerRecord | CheckInRecord


@dataclass(frozen=True, slots=True)
class Context:
    """The engine's state for one action; built fresh for each call, used in the calling thread."""

    store: Store
    clock: Clock
    key: SigningKey
    terminal: TerminalRow
    settings: EventSettings
    keys: KeySet
    client: SyncClient | None
    on_record: Callable[[], None]
    known_unreachable: Callable[[], bool] = lambda: False  # the sync loop already knows the server is down
    pause: Callable[[float], None] = time.sleep  # between retries of a top-up whose answer was lost (worker thread)

    def sign(self, record: RecordModel, *, mode: str) -> LedgerRow:
        """Serialize and sign a record; the stored body is exactly the bytes signed."""
        body = record.model_dump(mode="json")
        return LedgerRow.from_signed(body, sign_record(body, self.key), mode=mode)

    def log_forgery(self, text: str, reason: str, what: str) -> None:
        """Write a forged or altered token to the security log (its hash, never the token)."""
        self.store.log_security(now_ms=self.clock.now_ms(), event="forged_token", reason=reason,
                                fingerprint=token_fingerprint(text), detail=what)

    def last_sync_or_enrollment_ms(self) -> int:
        """Return the last successful sync, or the enrollment time for a terminal never synced."""
        last = self.store.last_sync_ms()
        if last is not None:
            return last
        creds = self.store.credentials()
        return creds.enrolled_at_ms if creds else 0
