"""Today's running totals for the overview, extended incrementally between polls.

Ledger rows are only ever inserted, and transaction ids and check-in change
numbers come from one counter handed out in commit order.  So the overview
keeps, per process, the aggregates up to a watermark and on each poll adds
only what was committed since: exact, and the cost of a poll follows the new
rows, not the size of the day.  A new day (or a restart) starts from zero.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import Connection

from server.web import queries

__all__ = ["DayTotals", "LiveTotals"]


@dataclass(slots=True)
class DayTotals:
    """Aggregates of one day up to the watermarks."""

    since_ms: int
    gate_bucket_ms: int
    txn_mark: int = 0
    checkin_mark: int = 0
    inside_before: int = 0
    takings: Counter[tuple[str, int, int]] = field(default_factory=Counter)  # (kind, stall, hour) -> amount
    counts: Counter[str] = field(default_factory=Counter)  # kind -> transactions
    sums: Counter[str] = field(default_factory=Counter)  # kind -> amount
    flow: Counter[tuple[int, int, str]] = field(default_factory=Counter)  # (gate, bucket, direction) -> n

    def copy(self) -> DayTotals:
        """A snapshot the caller may read without the lock."""
        return DayTotals(self.since_ms, self.gate_bucket_ms, self.txn_mark, self.checkin_mark, self.inside_before,
                         Counter(self.takings), Counter(self.counts), Counter(self.sums), Counter(self.flow))


class LiveTotals:
    """One per app: today's totals, brought up to date on each read."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._day: DayTotals | None = None

    def read(self, conn: Connection, *, since_ms: int, gate_bucket_ms: int) -> DayTotals:
        """Bring the totals up to what ``conn`` sees, and return a copy."""
        with self._lock:
            day = self._day
            if day is None or day.since_ms != since_ms or day.gate_bucket_ms != gate_bucket_ms:
                day = DayTotals(since_ms, gate_bucket_ms,
                                inside_before=queries.checkins_before(conn, until_ms=since_ms))
            txn_mark, checkin_mark = queries.watermarks(conn)
            if txn_mark < day.txn_mark or checkin_mark < day.checkin_mark:  # another database (tests) or a restore
                day = DayTotals(since_ms, gate_bucket_ms,
                                inside_before=queries.checkins_before(conn, until_ms=since_ms))
            if txn_mark > day.txn_mark:
                span = (day.txn_mark, txn_mark)
                for kind, stall, bucket, amount in queries.stall_takings(conn, since_ms=since_ms, txn_range=span):
                    day.takings[(kind, stall, bucket)] += amount
                for kind, (n, total) in queries.transaction_totals(conn, since_ms=since_ms, txn_range=span).items():
                    day.counts[kind] += n
                    day.sums[kind] += total
                day.txn_mark = txn_mark
            if checkin_mark > day.checkin_mark:
                for gate, bucket, direction, n in queries.gate_flow(
                        conn, since_ms=since_ms, bucket_ms=gate_bucket_ms,
                        change_range=(day.checkin_mark, checkin_mark)):
                    day.flow[(gate, bucket, direction)] += n
                day.checkin_mark = checkin_mark
            self._day = day
            return day.copy()
