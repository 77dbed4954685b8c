"""Background sync: push the outbox soon after each record, pull every few seconds, back off when offline.

``SyncService`` runs one thread.  It knows nothing of SQLite: it talks to a
``SyncTarget`` (the terminal's adapter over its own store connection) and a
``SyncClient``.  A cycle pushes the whole outbox in batches, then pulls every
page while the server says ``more``.  A failure moves the service to "offline"
and schedules the next attempt with jittered backoff (short for the first
minute of an outage, exponential after: ``Backoff``); a
``Retry-After`` from a busy server is honoured.  ``Unauthorized`` means the
terminal was revoked: the target wipes its personal data and the loop stops.

Threads: ``start``/``stop``/``poke``/``status`` may be called from any thread;
``sync_now`` runs a cycle in the caller's thread, serialized with the loop.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from sync.client import SyncClient
from sync.errors import ApiError, SyncError, SyncUnavailable, Unauthorized
from sync.schemas import MAX_PUSH_BATCH, PullRequest, PullResponse, PushItemResult, SecurityEvent, SignedRecord

__all__ = ["Backoff", "SyncService", "SyncStatus", "SyncTarget", "WallClock"]

log = logging.getLogger(__name__)
MAX_PULL_PAGES = 1000  # per cycle; a huge first pull continues in the next cycle
MAX_SECURITY_EVENTS = 100  # sightings per report (the server's limit)
MAX_SECURITY_BATCHES = 10  # per cycle; a flood of sightings continues in the next cycle


class WallClock(Protocol):
    """The part of the terminal's clock the sync loop needs."""

    def now_ms(self) -> int:
        """Return the wall time in Unix milliseconds."""
        ...


class SyncTarget(Protocol):
    """What the sync loop reads from and writes to (the terminal's store, in the terminal package)."""

    def outbox_batch(self, limit: int) -> list[SignedRecord]:
        """Return the oldest unacknowledged records."""
        ...

    def apply_push(self, results: Sequence[PushItemResult]) -> None:
        """Store per-item results and clear their outbox rows."""
        ...

    def pull_request(self) -> PullRequest:
        """Return the next pull request (cursor and health)."""
        ...

    def apply_pull(self, page: PullResponse) -> None:
        """Apply one page and its cursor in one transaction."""
        ...

    def unsynced(self) -> tuple[int, int]:
        """Return (count, money total) of unacknowledged records."""
        ...

    def last_sync_ms(self) -> int | None:
        """Return when the last sync succeeded."""
        ...

    def revoked(self) -> bool:
        """True once the terminal was revoked."""
        ...

    def on_revoked(self, message: str) -> None:
        """Wipe cached personal data and stop taking payments."""
        ...

    def timing(self) -> tuple[float, float]:
        """Return (push debounce, pull interval) in seconds, from the event settings."""
        ...

    def security_batch(self, limit: int) -> list[SecurityEvent]:
        """Return the oldest forged-token sightings not yet reported to the server."""
        ...

    def security_reported(self, numbers: Sequence[int]) -> None:
        """Mark these sightings (by log number) as reported."""
        ...

    def server_epoch(self, epoch: str) -> bool:
        """Take the server's restore epoch; True when it changed (acknowledged records queued again, cursor reset)."""
        ...


@dataclass(frozen=True, slots=True)
class SyncStatus:
    """What the UI shows: online, or offline since when, with the unsynced count and sync age."""

    online: bool
    offline_since_ms: int | None
    unsynced_count: int
    unsynced_amount: int
    last_sync_ms: int | None
    last_sync_age_s: int | None
    last_error: str
    revoked: bool = False
    enrolled: bool = True
    security_events: int = 0
    unsynced_offline_amount: int = 0  # offline sales not yet acknowledged: what the unsynced cap counts
    unsynced_cap: int = 0  # the event's cap (0: not known here)
    warning: str = ""  # "unsynced_near_cap" from CAP_WARNING_PERCENT of the cap on (terminal.engine)
    topups_in_doubt: int = 0  # top-ups whose answer was lost, waiting for a push to settle them
    doubts_to_show: int = 0  # those plus settled ones the cashier has not confirmed on screen yet

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return asdict(self)


class Backoff:
    """Backoff with full jitter, short while an outage is young, exponential after.

    For the first ``fast_window_s`` of an outage (the sum of the delays handed out
    since the first failure: no clock needed) the n-th delay is uniform in
    [base, min(fast_cap, base·2ⁿ)], so a till whose network comes back reconnects
    within a second or two.  After the window the ceiling doubles from
    ``fast_cap`` up to ``cap``, so a long outage does not hammer the server.
    """

    def __init__(self, *, base: float = 0.5, cap: float = 30.0, fast_cap: float = 1.5,
                 fast_window_s: float = 60.0, rng: random.Random | None = None) -> None:
        self.base = base
        self.cap = cap
        self.fast_cap = min(fast_cap, cap)
        self.fast_window_s = fast_window_s
        self.failures = 0
        self._waited = 0.0  # seconds of delay handed out in this outage
        self._slow = 0  # failures after the fast window
        self._rng = rng or random.Random()

    def next(self) -> float:
        """Return the delay before the next attempt and count a failure."""
        if self._waited < self.fast_window_s:
            ceiling = min(self.fast_cap, self.base * (2 ** min(self.failures, 30)))
        else:
            start = self.fast_cap if self.fast_window_s > 0 else self.base  # no window: plain exponential
            ceiling = min(self.cap, start * (2 ** min(self._slow, 30)))
            self._slow += 1
        self.failures += 1
        delay = self._rng.uniform(min(self.base, ceiling), ceiling)
        self._waited += delay
        return delay

    def reset(self) -> None:
        """Forget the failures after a success."""
        self.failures = 0
        self._waited = 0.0
        self._slow = 0


class SyncService:
    """The push/pull loop of one terminal, in a daemon thread."""

    def __init__(
        self,
        target: SyncTarget,
        client: SyncClient,
        *,
        clock: WallClock,
        on_status: Callable[[SyncStatus], None] | None = None,
        backoff: Backoff | None = None,
    ) -> None:
        self.target = target
        self.client = client
        self.clock = clock
        self.on_status = on_status
        self.backoff = backoff or Backoff()
        self._lock = threading.Lock()  # one cycle at a time; guards the target's connection
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._online = False
        self._offline_since_ms: int | None = None
        self._last_error = ""
        self._stopped_by_revocation = False

    # ------------------------------------------------------------ control

    def start(self) -> None:
        """Start the background thread (idempotent)."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="ennichi-sync", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the thread and wait for the cycle in progress to end."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self._thread = None

    def poke(self) -> None:
        """Tell the loop a record was written: push after the debounce."""
        self._wake.set()

    def known_unreachable(self) -> bool:
        """True while the background loop runs and its last attempt failed: it is probing the server."""
        thread = self._thread
        return thread is not None and thread.is_alive() and not self._online and self._offline_since_ms is not None

    def status(self) -> SyncStatus:
        """Return the current status (reads the target; call from the sync thread or after stop)."""
        return self._status()

    def state(self) -> tuple[bool, int | None, str]:
        """Return (online, offline since ms, last error): the in-memory part of the status, any thread."""
        return self._online, self._offline_since_ms, self._last_error

    def sync_now(self) -> SyncStatus:
        """Run one push+pull cycle in this thread; returns the status (errors are in ``last_error``)."""
        self._cycle(pull=True)
        return self._status()

    # ------------------------------------------------------------ the loop

    def _run(self) -> None:
        next_pull = 0.0  # monotonic time of the next pull
        next_try = 0.0  # while backing off: the next attempt of any kind
        while not self._stop.is_set():
            now = time.monotonic()
            due = next_try if next_try > now else next_pull
            poked = self._wake.wait(max(0.0, due - now))
            if self._stop.is_set():
                break
            if poked:
                self._wake.clear()
                debounce, _ = self._timing()
                if debounce > 0 and self._stop.wait(debounce):
                    break
                self._wake.clear()
            now = time.monotonic()
            if now < next_try:  # backing off: a new record waits for the next attempt
                continue
            want_pull = now >= next_pull
            ok, retry_after = self._cycle(pull=want_pull)
            if self._stopped_by_revocation:
                break
            now = time.monotonic()
            if ok:
                if want_pull:
                    next_pull = now + self._timing()[1]
                next_try = 0.0
            else:
                delay = self.backoff.next()
                next_try = now + max(delay, retry_after or 0.0)
                next_pull = next_try

    def _timing(self) -> tuple[float, float]:
        with self._lock:  # the target's connection is only used under the lock
            return self.target.timing()

    def _cycle(self, *, pull: bool) -> tuple[bool, float | None]:
        with self._lock:
            if self.target.revoked():
                self._stopped_by_revocation = True
                return False, None
            try:
                self._push_all()
                self._report_security()
                if pull:
                    self._pull_all()
            except Unauthorized as exc:
                self._fail(f"the server refused this terminal: {exc.message}")
                self.target.on_revoked(exc.message)
                self._stopped_by_revocation = True
                self._notify()
                return False, None
            except SyncUnavailable as exc:
                self._fail(str(exc))
                self._notify()
                return False, exc.retry_after
            except ApiError as exc:
                self._fail(str(exc))
                self._notify()
                return False, None
            except SyncError as exc:
                self._fail(str(exc))
                self._notify()
                return False, None
            except Exception as exc:  # a bug: log it with its traceback, keep the loop alive
                log.exception("sync cycle failed")
                self._fail(f"internal error: {type(exc).__name__}: {exc}")
                self._notify()
                return False, None
            self.backoff.reset()
            self._online = True
            self._offline_since_ms = None
            self._last_error = ""
            self._notify()
            return True, None

    def _fail(self, message: str) -> None:
        if self._online or self._offline_since_ms is None:
            self._offline_since_ms = self.clock.now_ms()
        self._online = False
        self._last_error = message

    def _push_all(self) -> None:
        while True:
            batch = self.target.outbox_batch(MAX_PUSH_BATCH)
            if not batch:
                return
            response = self.client.push(batch)
            self._epoch_changed(response.epoch)  # before the results: they are booked under this epoch
            sent = {str(r.body.get("id")) for r in batch}
            answered = {r.id for r in response.results} & sent
            self.target.apply_push(response.results)
            if len(answered) < len(sent):  # the server skipped some: try again next cycle
                raise ApiError(200, f"push answered {len(answered)} of {len(sent)} records")

    def _report_security(self) -> None:
        for _ in range(MAX_SECURITY_BATCHES):
            batch = self.target.security_batch(MAX_SECURITY_EVENTS)
            if not batch:
                return
            self.client.report_security(batch)
            self.target.security_reported([e.n for e in batch])

    def _pull_all(self) -> None:
        for _ in range(MAX_PULL_PAGES):
            page = self.client.pull(self.target.pull_request())
            if self._epoch_changed(page.epoch):  # cut at a cursor the restored server never gave out
                self._push_all()
                continue
            self.target.apply_pull(page)
            if page.terminal.revoked:
                raise Unauthorized(401, "terminal revoked")
            if not page.more:
                return

    # ------------------------------------------------------------ the server's restore epoch

    def _epoch_changed(self, epoch: str | None) -> bool:
        """True when the server was restored since the last answer (the target re-queued and reset).

        None is an answer from a server before epochs: unknown, nothing to do.
        """
        if epoch is None:
            return False
        changed = self.target.server_epoch(epoch)
        if changed:
            log.warning("the server was restored from a backup (epoch %s): sending acknowledged records again",
                        epoch)
        return changed

    def _status(self) -> SyncStatus:
        with self._lock:
            count, amount = self.target.unsynced()
            last = self.target.last_sync_ms()
            revoked = self.target.revoked()
        now = self.clock.now_ms()
        return SyncStatus(
            online=self._online, offline_since_ms=self._offline_since_ms, unsynced_count=count,
            unsynced_amount=amount, last_sync_ms=last,
            last_sync_age_s=None if last is None else max(0, (now - last) // 1000),
            last_error=self._last_error, revoked=revoked)

    def _notify(self) -> None:
        if self.on_status is None:
            return
        try:
            count, amount = self.target.unsynced()
            last = self.target.last_sync_ms()
            now = self.clock.now_ms()
            self.on_status(SyncStatus(
                online=self._online, offline_since_ms=self._offline_since_ms, unsynced_count=count,
                unsynced_amount=amount, last_sync_ms=last,
                last_sync_age_s=None if last is None else max(0, (now - last) // 1000),
                last_error=self._last_error, revoked=self.target.revoked()))
        except Exception:
            log.exception("on_status callback failed")
