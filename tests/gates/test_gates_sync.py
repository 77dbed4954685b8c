"""Two offline gates admit the same ticket; the server books both, raises one anomaly and counts right."""

from __future__ import annotations

import json

import httpx
from gates_helpers import Festival

from terminal.decisions import DeclineReason


def test_two_offline_gates_admit_the_same_ticket(festival_any: Festival) -> None:
    fest = festival_any
    north, south = fest.gate(0), fest.gate(1)
    start = fest.clock.now_ms()
    shared, a, b = fest.issue(fest.single, 3)
    [re] = fest.issue(fest.reentry)
    north.network.up = south.network.up = False
    assert north.scan(shared.token).approved
    fest.clock.advance(30)
    assert south.scan(shared.token).approved  # south cannot know: both offline
    assert north.scan(a.token).approved and south.scan(b.token).approved
    assert north.scan(re.token).approved and north.scan(re.token, "out").approved
    assert not north.sync() and not south.sync()
    north.network.up = south.network.up = True
    assert north.sync() and south.sync() and north.sync()
    assert north.sync() and south.sync()  # pushing twice changes nothing (idempotent)
    assert north.terminal.status().unsynced_count == south.terminal.status().unsynced_count == 0
    dups = fest.anomalies()
    assert len(dups) == 1
    detail = json.loads(dups[0]["detail"])
    assert detail["ticket_id"] == shared.ticket_id
    assert fest.stored_checkins() == 6
    counts = fest.counts(since_ms=start, until_ms=fest.clock.now_ms() + 1)
    assert (counts.total.entries, counts.total.exits, counts.total.inside) == (5, 1, 3)
    n, s = counts.gates[north.gate_id], counts.gates[south.gate_id]
    assert (n.entries, n.exits, s.entries, s.exits) == (3, 1, 2, 0)
    assert n.inside + s.inside == 3  # the shared ticket counts once, at the gate it last entered by
    # and now both gates know: a third try is refused everywhere
    assert north.scan(shared.token).reason is DeclineReason.ALREADY_USED
    assert south.scan(shared.token).reason is DeclineReason.ALREADY_USED


def test_counts_over_time_and_the_api(festival: Festival) -> None:
    fest = festival
    gate = fest.gate(2)
    start = fest.clock.now_ms()
    tickets = fest.issue(fest.reentry, 4)
    for ticket in tickets:  # 4 in during the first 5 minutes
        assert gate.scan(ticket.token).approved
        fest.clock.advance(60)
    fest.clock.advance(400)  # 640 s after the start
    assert gate.scan(tickets[0].token, "out").approved  # 1 out in the third bucket
    assert gate.sync()
    end = start + 15 * 60_000
    counts = fest.counts(since_ms=start, until_ms=end, bucket_s=300)
    assert [(b.total.entries, b.total.exits, b.total.inside) for b in counts.buckets] == [
        (4, 0, 4), (0, 0, 4), (0, 1, 3)]
    assert counts.buckets[2].gates[gate.gate_id].inside == 3
    admin_token = fest.seed.api_token(fest.seed.staff("Boss", roles=[("admin", "event", None)]))
    answer = httpx.get(f"{fest.url}/api/v1/gates/counts", params={"since_ms": start, "until_ms": end,
                                                                    "bucket_s": 300},
                       headers={"Authorization": f"Bearer {admin_token}"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["total"] == {"entries": 4, "exits": 1, "inside": 3}
    assert body["gates"][str(gate.gate_id)] == {"entries": 4, "exits": 1, "inside": 3}
    assert [b["inside"] for b in body["buckets"]] == [4, 4, 3]
    nobody = fest.seed.api_token(fest.seed.staff("Nobody"))
    refused = httpx.get(f"{fest.url}/api/v1/gates/counts", headers={"Authorization": f"Bearer {nobody}"})
    assert refused.status_code == 403
    bad = httpx.get(f"{fest.url}/api/v1/gates/counts", params={"since_ms": end, "until_ms": start},
                    headers={"Authorization": f"Bearer {admin_token}"})
    assert bad.status_code == 422
