"""The headless terminal engine: the one object the Qt app, the headless runner and the tests drive.

Threading: every public method of ``Terminal`` may block (SQLite fsync, argon2,
an online ``authorize`` of up to ``authorize_timeout_ms``), so the UI calls it
from a worker thread, never from the UI thread.  Calls are serialized by an
internal lock; the engine's SQLite connection is only used under that lock.
The ``SyncService`` runs in its own thread on its own connection to the same
file; ``on_status`` is called from that thread (the Qt adapter turns it into a
signal).
"""

from __future__ import annotations

import logging
import os
import sqlite3
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Literal

import httpx

from sync.client import DEFAULT_TIMEOUT, SyncClient
from sync.enrollment import EnrollmentCode, EnrollmentCodeError
from sync.errors import Conflict, SyncError, SyncUnavailable
from sync.keys import SigningKey, load_private_key, save_private_key
from sync.loop import Backoff, SyncService, SyncStatus
from sync.schemas import EnrollRequest, ProductRow, StaffRow, StallRow, TerminalRow
from sync.tls import PINNED_CERT_NAME, PinMismatch, TlsError, fetch_pinned_certificate, verify_for
from terminal import cashouts, desk, drawers, gates, sales, soldout
from terminal.authorize import cap_warning
from terminal.clock import Clock, SystemClock
from terminal.context import Context
from terminal.decisions import (
    Cart,
    Decision,
    DeclineReason,
    GateCounts,
    GateDecision,
    LoginResult,
    RefundableItem,
)
from terminal.errors import AlreadyEnrolled, EnrollmentFailed, NotEnrolled
from terminal.reports import ShiftReport, shift_report
from terminal.sessions import Sessions, works_here
from terminal.store import LedgerRow, Store, TopUpDoubt
from terminal.syncing import APP_VERSION, StoreSyncTarget

__all__ = ["DB_NAME", "KEY_NAME", "Terminal"]

log = logging.getLogger(__name__)

DB_NAME = "terminal.db"
KEY_NAME = "terminal_key.pem"


class Terminal:
    """One enrolled (or not yet enrolled) terminal, on one data directory."""

    def __init__(self, data_dir: Path, store: Store, *, clock: Clock,
                 transport: httpx.BaseTransport | None = None, sync_timeout: httpx.Timeout = DEFAULT_TIMEOUT,
                 backoff: Callable[[], Backoff] = Backoff, pause: Callable[[float], None] = time.sleep) -> None:
        self.data_dir = data_dir
        self.pause = pause
        self.store = store
        self.clock = clock
        self.transport = transport
        self.sync_timeout = sync_timeout
        self.backoff_factory = backoff
        self.sessions = Sessions(store, clock)
        self._lock = threading.RLock()
        self._key: SigningKey | None = None
        self._client: SyncClient | None = None
        self._service: SyncService | None = None
        self._service_store: Store | None = None
        self._recovered = False

    @classmethod
    def open(cls, data_dir: Path | str, *, clock: Clock | None = None,
             transport: httpx.BaseTransport | None = None, sync_timeout: httpx.Timeout = DEFAULT_TIMEOUT,
             backoff: Callable[[], Backoff] = Backoff, pause: Callable[[float], None] = time.sleep) -> Terminal:
        """Open (creating and migrating) the terminal in ``data_dir``; raises sqlite3.Error, OSError, KeyFileError.

        ``transport`` is the HTTP seam; ``sync_timeout`` and ``backoff`` tune the background sync;
        ``pause`` waits between the retries of a top-up whose answer was lost.
        """
        path = Path(data_dir)
        path.mkdir(parents=True, exist_ok=True)
        os.chmod(path, 0o700)
        terminal = cls(path, Store(path / DB_NAME), clock=clock or SystemClock(), transport=transport,
                       sync_timeout=sync_timeout, backoff=backoff, pause=pause)
        with terminal._lock:
            terminal._context()  # reverses online authorizations a crash left unanswered, before any sync
        return terminal

    def close(self) -> None:
        """Stop syncing and close the database."""
        self.stop_sync()
        with self._lock:
            if self._client is not None:
                self._client.close()
            self.store.close()

    # ------------------------------------------------------------ enrollment

    @property
    def enrolled(self) -> bool:
        """True once the terminal has credentials."""
        with self._lock:
            return self.store.credentials() is not None

    def identity(self) -> TerminalRow | None:
        """Return what the server last said about this terminal."""
        with self._lock:
            return self.store.terminal_row()

    def enroll(self, code_text: str, *, name: str = "") -> TerminalRow:
        """Enroll with a scanned or pasted code; raises EnrollmentFailed, AlreadyEnrolled."""
        with self._lock:
            if self.store.credentials() is not None:
                raise AlreadyEnrolled("this terminal is already enrolled")
            try:
                code = EnrollmentCode.parse(code_text)
            except EnrollmentCodeError as exc:
                raise EnrollmentFailed(str(exc)) from exc
            verify: ssl.SSLContext | bool = True
            if code.pin:  # a venue server with its own certificate: trust exactly the one the code names
                try:
                    pem = fetch_pinned_certificate(code.url, code.pin, timeout_s=self.sync_timeout.connect or 5.0)
                except PinMismatch as exc:
                    raise EnrollmentFailed(str(exc), reason="pin_mismatch") from exc
                except TlsError as exc:
                    raise EnrollmentFailed(str(exc), reason="tls_unreachable") from exc
                cert = self.data_dir / PINNED_CERT_NAME
                cert.write_text(pem, encoding="ascii")
                verify = verify_for(self.data_dir)
            key = SigningKey.generate()
            save_private_key(key, self.data_dir / KEY_NAME)  # before the code is spent
            request = EnrollRequest(code=code.code, public_key=key.public_b64, name=name[:100],
                                    app_version=APP_VERSION)
            try:
                with SyncClient(code.url, transport=self.transport, verify=verify) as client:
                    resp = client.enroll(request)
            except Conflict as exc:
                raise EnrollmentFailed(f"the enrollment code was already used or has expired ({exc.message})") from exc
            except SyncUnavailable as exc:
                raise EnrollmentFailed(f"cannot reach the server: {exc}") from exc
            except SyncError as exc:
                raise EnrollmentFailed(f"the server refused the enrollment: {exc}") from exc
            self.store.save_enrollment(code.url, resp, now_ms=self.clock.now_ms(), mono_s=self.clock.monotonic())
            self._key = key
            return resp.terminal

    # ------------------------------------------------------------ staff

    def login(self, badge_text: str, pin: str, *, role_here: bool = True) -> LoginResult:
        """Log a staff member in with badge and PIN, offline; a refusal is a LoginResult with a reason.

        With ``role_here`` (the default) someone with no role for this terminal's mode at its stall or
        gate is refused as ``not_here`` (tests of the per-action checks pass False to get past it).
        """
        with self._lock:
            if self.store.credentials() is None:
                return LoginResult(False, "not_enrolled")
            if self.store.revoked():
                return LoginResult(False, "terminal_revoked")
            result = self.sessions.login(badge_text, pin, keys=self.store.keyset())
            if result.ok and role_here:
                live = self.sessions.session
                staff = self.store.staff(live.staff_id) if live is not None else None
                if staff is None or not works_here(staff, self.store.terminal_row(),
                                                   now_s=self.clock.now_ms() // 1000):
                    # Not a payment decline: this person has no role at this stall/gate/mode.
                    self.sessions.logout()
                    return LoginResult(False, "not_here", staff_id=result.staff_id, name=result.name)
            return result

    def logout(self) -> None:
        """End the staff session."""
        with self._lock:
            self.sessions.logout()

    def current_staff(self) -> StaffRow | None:
        """Return the logged-in staff member (None after logout or idle timeout)."""
        with self._lock:
            live = self.sessions.active(idle_logout_s=self.store.event_settings().staff_idle_logout_s)
            return None if live is None else live[1]

    # ------------------------------------------------------------ catalog

    def stall(self) -> StallRow | None:
        """Return this terminal's stall, if it is a stall terminal."""
        with self._lock:
            me = self.store.terminal_row()
            return None if me is None or me.stall_id is None else self.store.stall(me.stall_id)

    def catalog(self) -> list[ProductRow]:
        """Return the active products of this terminal's stall, in display order."""
        with self._lock:
            me = self.store.terminal_row()
            if me is None or me.stall_id is None:
                return []
            return [p for p in self.store.products(me.stall_id) if p.active]

    # ------------------------------------------------------------ actions

    def _context(self) -> Context | DeclineReason:
        creds = self.store.credentials()
        if creds is None:
            return DeclineReason.NOT_ENROLLED
        if self.store.revoked() or creds.terminal.revoked:
            self.sessions.logout()
            return DeclineReason.TERMINAL_REVOKED
        if self._key is None:
            self._key = load_private_key(self.data_dir / KEY_NAME)
        if self._client is None:
            self._client = SyncClient(creds.server_url, creds.api_token, transport=self.transport,
                                      verify=verify_for(self.data_dir))
        ctx = Context(store=self.store, clock=self.clock, key=self._key, terminal=self.store.terminal_row()
                      or creds.terminal, settings=self.store.event_settings(), keys=self.store.keyset(),
                      client=self._client, on_record=self._record_written,
                      known_unreachable=self._known_unreachable, pause=self.pause)
        if not self._recovered:  # online authorizations a crash left without an answer are reversed
            sales.recover(ctx)
            self._recovered = True
        return ctx

    def _staff(self, ctx: Context) -> StaffRow | None:
        live = self.sessions.active(idle_logout_s=ctx.settings.staff_idle_logout_s)
        return None if live is None else live[1]

    def _prepare(self, kind: str) -> tuple[Context, StaffRow] | Decision:
        ctx = self._context()
        if isinstance(ctx, DeclineReason):
            return Decision(False, ctx, kind=kind)
        staff = self._staff(ctx)
        if staff is None:
            return Decision(False, DeclineReason.NOT_LOGGED_IN, kind=kind)
        return ctx, staff

    def _act(self, kind: str, action: Callable[[Context, StaffRow], Decision]) -> Decision:
        """Run a till action under the lock; a failing disk (full, read-only, gone) is a decline, not a crash.

        Nothing approved is lost: an approval is returned only after its commit,
        and a failed commit keeps nothing.  An online authorization the server may
        have booked while the local write failed stays noted as pending and is
        reversed by the next action that can write (``sales.recover``), so sales
        resume by themselves when space returns.
        """
        with self._lock:
            if not self.store.path.exists():  # the data folder vanished (unmounted, deleted): write nothing
                log.error("terminal storage missing: %s", self.store.path)
                return Decision(False, DeclineReason.STORAGE_FAILED, kind=kind,
                                params={"error": f"the data file {self.store.path} is missing"})
            try:
                ready = self._prepare(kind)
                if isinstance(ready, Decision):
                    return ready
                return action(*ready)
            except (sqlite3.OperationalError, OSError) as exc:  # full, read-only, I/O error (not a bug's error)
                log.error("terminal storage failed on %s: %s", kind, exc)
                self._recovered = False  # reverse what the failure may have left pending, once space returns
                return Decision(False, DeclineReason.STORAGE_FAILED, kind=kind, params={"error": str(exc)})

    def sell(self, cart: Cart, wallet_text: str) -> Decision:
        """Sell a cart to the wallet shown (QR text or typed id); a failing disk is a decline (storage_failed)."""
        return self._act("sale", lambda ctx, staff: sales.sell(ctx, staff, cart, wallet_text))

    def refund(self, ref_id: str, amount: int, *, reason: str = "", items: Mapping[int, int] | None = None
               ) -> Decision:
        """Refund part of a sale this terminal made (permission ``refund``); ``items``: by item (product -> qty)."""
        return self._act("refund", lambda ctx, staff: sales.refund(ctx, staff, ref_id, amount, reason=reason,
                                                                   items=items))

    def refundable_items(self, ref_id: str) -> list[RefundableItem]:
        """What of a sale may still be refunded by item, in the basket's order (empty: by amount only)."""
        with self._lock:
            names = {p.id: p.name for p in self.store.products()}
            return [RefundableItem(p, names.get(p, f"#{p}"), u, sold, left)
                    for p, u, sold, left in sales.refundable_items(self.store, ref_id)]

    def void(self, ref_id: str, *, reason: str = "") -> Decision:
        """Void a whole sale this terminal made (permission ``refund``)."""
        return self._act("void", lambda ctx, staff: sales.void(ctx, staff, ref_id, reason=reason))

    def topup(self, wallet_text: str, amount: int, *, cash_received: int | None = None) -> Decision:
        """Load cash onto a wallet, online (permission ``topup``)."""
        return self._act("topup", lambda ctx, staff: sales.topup(ctx, staff, wallet_text, amount,
                                                                  cash_received=cash_received))

    def issue_wallet(self) -> Decision:
        """Issue a new empty wallet from the server for a visitor (top-up desk, permission ``topup``, online only).

        Approved: ``wallet_id`` and ``params`` ``token`` (top it up with ``topup(token, ...)``),
        ``signin_url`` (the one-time My page link to show as a QR) and ``display_id``.
        """
        return self._act("issue", desk.issue_wallet)

    def set_sold_out(self, product_id: int, sold_out: bool) -> Decision:
        """Mark a product of this stall sold out or back on sale (permission ``product.sold_out``, online only)."""
        return self._act("sold_out", lambda ctx, staff: soldout.set_sold_out(ctx, staff, product_id, sold_out))

    def cash_out(self, wallet_text: str, amount: int | None = None) -> Decision:
        """Pay out a wallet's whole balance (``amount`` None) or a part, in cash (permission ``cashout``)."""
        return self._act("cashout", lambda ctx, staff: cashouts.cash_out(ctx, staff, wallet_text, amount))

    def close_drawer(self, *, start_float: int, counted: int) -> Decision:
        """Close this desk's cash drawer with the cash counted (permission ``shift.close``); params hold the figures."""
        return self._act("drawer", lambda ctx, staff: drawers.close_drawer(ctx, staff, start_float=start_float,
                                                                           counted=counted))

    def topup_doubts(self) -> list[TopUpDoubt]:
        """Top-ups in doubt (keep the cash) and settled ones the cashier has not confirmed yet, oldest first."""
        with self._lock:
            return self.store.topup_doubts()

    def confirm_doubt(self, record_id: str) -> bool:
        """The cashier saw how a top-up in doubt was settled; False while it is still in doubt."""
        with self._lock:
            return self.store.confirm_doubt(str(record_id)[:64])

    def check_in(self, ticket_text: str, direction: Literal["in", "out"] = "in") -> GateDecision:
        """Decide a ticket at this gate (permission ``gate``)."""
        with self._lock:
            ready = self._prepare("checkin")
            if isinstance(ready, Decision):
                return GateDecision(False, ready.reason, direction=direction)
            return gates.check_in(*ready, ticket_text, direction)

    def gate_counts(self) -> GateCounts:
        """People inside (all gates, as far as this terminal knows) and this gate's entries and exits."""
        with self._lock:
            me = self.store.terminal_row()
            inside, entries, exits = self.store.gate_counts(me.gate_id if me is not None else None)
            return GateCounts(inside, entries, exits)

    def recent(self, limit: int = 20) -> list[LedgerRow]:
        """Return this terminal's newest records first."""
        with self._lock:
            return self.store.recent(limit)

    def shift_report(self, *, since_ms: int | None = None, whole_terminal: bool = False) -> ShiftReport:
        """Report the current staff member's shift (since login), or the terminal's since ``since_ms``."""
        with self._lock:
            session = self.sessions.session
            staff_id = None if whole_terminal or session is None else session.staff_id
            start = since_ms if since_ms is not None else (session.started_ms if session and not whole_terminal
                                                           else 0)
            return shift_report(self.store, since_ms=start, until_ms=self.clock.now_ms() + 1, staff_id=staff_id)

    # ------------------------------------------------------------ sync

    def _known_unreachable(self) -> bool:
        service = self._service
        return service is not None and service.known_unreachable()

    def _record_written(self) -> None:
        service = self._service
        if service is not None:
            service.poke()

    def status(self) -> SyncStatus:
        """Return the status the UI shows: online/offline since, unsynced, sync age, last error."""
        with self._lock:
            count, amount, offline = self.store.unsynced()
            last = self.store.last_sync_ms()
            online, since, error = self._service.state() if self._service else (False, None, "")
            now = self.clock.now_ms()
            enrolled = self.store.credentials() is not None
            cap = self.store.event_settings().unsynced_cap if enrolled else 0
            return SyncStatus(online=online, offline_since_ms=since, unsynced_count=count, unsynced_amount=amount,
                              last_sync_ms=last, last_sync_age_s=None if last is None else max(0, (now - last) // 1000),
                              last_error=error, revoked=self.store.revoked(), enrolled=enrolled,
                              security_events=self.store.security_count(), unsynced_offline_amount=offline,
                              unsynced_cap=cap, warning=cap_warning(offline, cap) or "",
                              topups_in_doubt=self.store.in_doubt_count(),
                              doubts_to_show=len(self.store.topup_doubts()))

    def sync_service(self, *, on_status: Callable[[SyncStatus], None] | None = None) -> SyncService:
        """Return the sync service (made once, on its own connection), setting ``on_status``; raises NotEnrolled."""
        with self._lock:
            if self._service is not None:
                if on_status is not None:
                    self._service.on_status = on_status
                return self._service
            creds = self.store.credentials()
            if creds is None:
                raise NotEnrolled("enroll the terminal first")
            store = Store(self.store.path, migrate=False)
            target = StoreSyncTarget(store, self.clock, on_revoked=self.sessions.logout)
            client = SyncClient(creds.server_url, creds.api_token, transport=self.transport,
                                timeout=self.sync_timeout, verify=verify_for(self.data_dir))
            service = SyncService(target, client, clock=self.clock, on_status=on_status,
                                  backoff=self.backoff_factory())
            target.last_error = lambda: service.state()[2]
            self._service, self._service_store = service, store
            return service

    def start_sync(self, *, on_status: Callable[[SyncStatus], None] | None = None) -> SyncService:
        """Start background push/pull; raises NotEnrolled."""
        service = self.sync_service(on_status=on_status)
        service.start()
        return service

    @property
    def syncing(self) -> bool:
        """True once this engine syncs with the server (``start_sync`` or ``sync_now`` was called, not stopped)."""
        return self._service is not None

    def sync_now(self) -> SyncStatus:
        """Push and pull once, now, in this thread (serialized with the background loop); raises NotEnrolled."""
        self.sync_service().sync_now()
        return self.status()

    def stop_sync(self) -> None:
        """Stop background sync and close its connection."""
        service, store = self._service, self._service_store
        if service is not None:
            service.stop()
            service.client.close()
        if store is not None:
            store.close()
        self._service = None
        self._service_store = None
