"""Live gate counts: entries, exits and people inside, per gate and in total, over time.

Everything is computed from the booked check-ins (``checkins``), in the order
the gates decided them (``created_at``, the terminal's clock):

* entries / exits: approved check-ins of each direction;
* inside: tickets whose latest known passage is an entry.  Per gate, a ticket
  inside counts at the gate it last entered by, so the gates add up to the
  total.  Two gates that both admitted the same single-entry ticket while
  offline count two entries but one person inside (and a ``duplicate_entry``
  anomaly says so).

``gate_counts`` reads the whole day in one pass (a festival's day is some tens
of thousands of rows); the dashboard and ``GET /api/v1/gates/counts`` call it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, select

from server.db import tables as t

__all__ = ["Bucket", "GateCounts", "GateTotals", "gate_counts"]

DEFAULT_BUCKET_S = 300
MAX_BUCKETS = 2000


@dataclass(slots=True)
class GateTotals:
    """Counts of one gate (or of all gates)."""

    entries: int = 0
    exits: int = 0
    inside: int = 0

    def to_json(self) -> dict[str, int]:
        """Return a JSON-ready dict."""
        return {"entries": self.entries, "exits": self.exits, "inside": self.inside}


@dataclass(slots=True)
class Bucket:
    """One time slice: what happened in it, and who was inside at its end."""

    start_ms: int
    total: GateTotals = field(default_factory=GateTotals)
    gates: dict[int, GateTotals] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return {"start_ms": self.start_ms, **self.total.to_json(),
                "gates": {str(g): c.to_json() for g, c in sorted(self.gates.items())}}


@dataclass(slots=True)
class GateCounts:
    """Counts from ``since_ms`` to ``until_ms``; ``inside`` at ``until_ms``, counted from ``since_ms``."""

    since_ms: int
    until_ms: int
    bucket_s: int
    total: GateTotals
    gates: dict[int, GateTotals]
    buckets: list[Bucket]

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-ready dict (the API's answer)."""
        return {"since_ms": self.since_ms, "until_ms": self.until_ms, "bucket_s": self.bucket_s,
                "total": self.total.to_json(),
                "gates": {str(g): c.to_json() for g, c in sorted(self.gates.items())},
                "buckets": [b.to_json() for b in self.buckets]}


def gate_counts(conn: Connection, *, since_ms: int, until_ms: int, bucket_s: int = DEFAULT_BUCKET_S) -> GateCounts:
    """Count check-ins decided in ``[since_ms, until_ms)``, per gate and bucket; raises ValueError on bad bounds."""
    if until_ms <= since_ms:
        raise ValueError("until_ms must be after since_ms")
    if bucket_s < 1:
        raise ValueError("bucket_s must be at least 1")
    bucket_ms = bucket_s * 1000
    n_buckets = -(-(until_ms - since_ms) // bucket_ms)
    if n_buckets > MAX_BUCKETS:
        raise ValueError(f"at most {MAX_BUCKETS} buckets: widen bucket_s or narrow the range")
    c = t.checkins
    query = (select(c.c.ticket_id, c.c.gate_id, c.c.direction, c.c.created_at)
             .where(c.c.created_at >= since_ms, c.c.created_at < until_ms)
             .order_by(c.c.created_at, c.c.change_seq))
    gates = {int(g): GateTotals() for g in conn.execute(select(t.gates.c.id).order_by(t.gates.c.id)).scalars()}
    total = GateTotals()
    buckets = [Bucket(since_ms + i * bucket_ms, gates={g: GateTotals() for g in gates}) for i in range(n_buckets)]
    inside_at: dict[int, int] = {}  # ticket -> gate it last entered by (only while inside)
    inside_per_gate: dict[int, int] = dict.fromkeys(gates, 0)
    index = 0

    def close(bucket: Bucket) -> None:
        bucket.total.inside = len(inside_at)
        for g, n in inside_per_gate.items():
            bucket.gates.setdefault(g, GateTotals()).inside = n

    for ticket_id, gate_id, direction, created_at in conn.execute(query):
        while created_at >= buckets[index].start_ms + bucket_ms:
            close(buckets[index])
            index += 1
        gate = int(gate_id)
        per_gate = gates.setdefault(gate, GateTotals())
        slot = buckets[index].gates.setdefault(gate, GateTotals())
        inside_per_gate.setdefault(gate, 0)
        ticket = int(ticket_id)
        before = inside_at.pop(ticket, None)
        if before is not None:
            inside_per_gate[before] -= 1
        if direction == "in":
            total.entries += 1
            per_gate.entries += 1
            slot.entries += 1
            buckets[index].total.entries += 1
            inside_at[ticket] = gate
            inside_per_gate[gate] += 1
        else:
            total.exits += 1
            per_gate.exits += 1
            slot.exits += 1
            buckets[index].total.exits += 1
    for bucket in buckets[index:]:
        close(bucket)
    total.inside = len(inside_at)
    for g, n in inside_per_gate.items():
        gates.setdefault(g, GateTotals()).inside = n
    return GateCounts(since_ms, until_ms, bucket_s, total, gates, buckets)
