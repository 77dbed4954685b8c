"""A simulated opening hour: 3 gates, 5,000 tickets, a peak of arrivals, one gate offline for 10 minutes.

Time is simulated (one ``FakeClock`` for every gate); the gates are real
headless terminals on real SQLite files, the server is real, on loopback.
Online gates sync every ``SYNC_S`` simulated seconds (batched: the real
terminals push and pull every few seconds, which would only shorten the
windows in which two gates can both admit a ticket).  The West gate loses its
network from minute 10 to minute 20.  Afterwards the server's counts must
equal what the gates decided, and every ticket that more than one gate
admitted must be one anomaly per extra entry.
"""

from __future__ import annotations

import json
import random
import time
from collections import Counter
from dataclasses import dataclass

import pytest
from gates_helpers import Festival

from terminal.decisions import DeclineReason

HOUR_S = 3600
SYNC_S = 10
OUTAGE = (600, 1200)  # the West gate is offline in this window (simulated seconds)
GATE_WEIGHTS = (0.4, 0.35, 0.25)


@dataclass(frozen=True, slots=True)
class Scan:
    at_s: float
    gate: int
    ticket: int  # index into the tickets
    direction: str


def _plan(rng: random.Random, kinds: list[str]) -> list[Scan]:
    """Arrivals peaking at minute 15, exits and re-entries, and pass-back attempts by friends."""
    scans: list[Scan] = []
    for i, kind in enumerate(kinds):
        at = rng.triangular(0, HOUR_S, 900)
        gate = rng.choices(range(3), GATE_WEIGHTS)[0]
        scans.append(Scan(at, gate, i, "in"))
        if kind in ("reentry", "unlimited") and rng.random() < 0.3:
            out = at + rng.uniform(300, 1500)
            back = out + rng.uniform(60, 600)
            scans.append(Scan(out, rng.randrange(3), i, "out"))
            scans.append(Scan(back, rng.randrange(3), i, "in"))
        if kind == "single" and rng.random() < 0.04:  # the ticket's photo, shown again by a friend
            scans.append(Scan(at + rng.uniform(30, 600), rng.choice([g for g in range(3) if g != gate]), i, "in"))
    return sorted((s for s in scans if s.at_s < HOUR_S), key=lambda s: s.at_s)


@pytest.mark.slow
def test_opening_hour(festival: Festival) -> None:
    fest = festival
    rng = random.Random(7)
    gates = [fest.gate(i, name=name) for i, name in enumerate(("north", "south", "west"))]
    west = gates[2]
    tickets = (fest.issue(fest.single, 4500) + fest.issue(fest.reentry, 400) + fest.issue(fest.unlimited, 100))
    kinds = ["single"] * 4500 + ["reentry"] * 400 + ["unlimited"] * 100
    for gate in gates:  # gates start the day with a fresh pull
        assert gate.sync()
    start_ms = fest.clock.now_ms()
    plan = _plan(rng, kinds)
    decided: list[tuple[int, int, str, int, DeclineReason | None, bool]] = []  # ticket, gate, dir, at, reason, ok
    next_sync = SYNC_S
    wall = time.monotonic()

    def sync_round(now_s: float) -> None:
        west.network.up = not OUTAGE[0] <= now_s < OUTAGE[1]
        for gate in gates:
            if gate is west and OUTAGE[0] <= now_s < OUTAGE[1]:
                continue
            assert gate.sync(), f"{gate.name} could not sync"

    for scan in plan:
        while scan.at_s >= next_sync:
            fest.clock.advance(next_sync - (fest.clock.now_ms() - start_ms) / 1000)
            sync_round(next_sync)
            next_sync += SYNC_S
        west.network.up = not OUTAGE[0] <= scan.at_s < OUTAGE[1]
        fest.clock.advance(max(0.0, scan.at_s - (fest.clock.now_ms() - start_ms) / 1000))
        result = gates[scan.gate].scan(tickets[scan.ticket].token, scan.direction)
        decided.append((scan.ticket, scan.gate, scan.direction, fest.clock.now_ms(), result.reason,
                        result.approved))
    west.network.up = True
    for _ in range(2):
        for gate in gates:
            assert gate.sync()
    elapsed = time.monotonic() - wall
    assert all(g.terminal.status().unsynced_count == 0 for g in gates)

    approved = [d for d in decided if d[5]]
    refusals = Counter(d[4] for d in decided if not d[5])
    assert len(plan) >= 5000 and refusals[DeclineReason.ALREADY_USED] > 0
    assert set(refusals) <= {DeclineReason.ALREADY_USED, DeclineReason.ALREADY_INSIDE}, refusals
    # the server holds exactly what the gates decided, and counts it the same way
    assert fest.stored_checkins() == len(approved)
    counts = fest.counts(since_ms=start_ms, until_ms=fest.clock.now_ms() + 1, bucket_s=300)
    entries = Counter(fest.gate_ids[d[1]] for d in approved if d[2] == "in")
    exits = Counter(fest.gate_ids[d[1]] for d in approved if d[2] == "out")
    assert counts.total.entries == sum(entries.values()) and counts.total.exits == sum(exits.values())
    for gate_id in fest.gate_ids:
        assert (counts.gates[gate_id].entries, counts.gates[gate_id].exits) == (entries[gate_id], exits[gate_id])
    last: dict[int, str] = {}
    for ticket, _gate, direction, _at, _reason, _ok in sorted(approved, key=lambda d: d[3]):
        last[ticket] = direction
    inside = sum(1 for d in last.values() if d == "in")
    assert counts.total.inside == inside == sum(counts.gates[g].inside for g in fest.gate_ids)
    assert sum(b.total.entries for b in counts.buckets) == counts.total.entries
    assert max(b.total.entries for b in counts.buckets[:6]) > max(b.total.entries for b in counts.buckets[-3:])
    # every duplicate is an anomaly: one per extra entry of a single-entry ticket
    admitted = Counter(d[0] for d in approved if d[2] == "in" and kinds[d[0]] == "single")
    duplicated = {i: n for i, n in admitted.items() if n > 1}
    anomalies = fest.anomalies()
    assert duplicated, "the outage should have let some photos of tickets in twice"
    assert len(anomalies) == sum(n - 1 for n in duplicated.values())
    assert {tickets[i].ticket_id for i in duplicated} == {json.loads(a["detail"])["ticket_id"] for a in anomalies}
    outage_ms = (start_ms + OUTAGE[0] * 1000, start_ms + OUTAGE[1] * 1000)
    west_in_outage = {d[0] for d in approved if d[1] == 2 and outage_ms[0] <= d[3] < outage_ms[1]}
    assert set(duplicated) <= west_in_outage  # online gates never both admitted a ticket
    print(f"\nopening hour: {len(plan)} scans, {len(approved)} check-ins, {dict(refusals)}, "
          f"{len(anomalies)} anomalies, decided+synced in {elapsed:.1f} s")
