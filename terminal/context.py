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
    DepositReturnRecord,
    DrawerRecord,
    EventSettings,
    RefundRecord,
    SaleRecord,
    TerminalRow,
    TopUpRecord,
    VoidRecord,
)
from sync.tokens import token_fingerprint
from terminal.authorize import offline_decline
from terminal.clock import Clock
from terminal.decisions import DeclineReason
from terminal.store import LedgerRow, Store

__all__ = ["Context", "RecordModel"]

RecordModel = (SaleRecord | RefundRecord | VoidRecord | TopUpRecord | CashOutRecord | DrawerRecord | CheckInRecord
               | DepositReturnRecord)


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
        if body.get("kind") == "refund" and not body.get("lines"):
            body.pop("lines", None)  # a refund by amount: the body it always had
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

    def offline_decline(self, *, amount: int, available: int, offline_spent: int,
                        wallet_offline_limit: int) -> tuple[DeclineReason | None, int]:
        """Why this terminal may not approve ``amount`` offline now (None: it may), and its unsynced offline total.

        The one offline rule (``terminal.authorize.offline_decline``) fed with this terminal's own state:
        its unsynced offline total, the event's settings, its clock and its last sync. Sales and
        cash-outs both decide through here.
        """
        _, _, unsynced_offline = self.store.unsynced()
        reason = offline_decline(
            amount=amount, available=available, offline_spent=offline_spent,
            wallet_offline_limit=wallet_offline_limit, unsynced_offline_total=unsynced_offline,
            settings=self.settings, now_ms=self.clock.now_ms(), last_sync_ms=self.last_sync_or_enrollment_ms())
        return reason, unsynced_offline
