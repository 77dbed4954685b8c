"""What offline gates could not know, found at the server: duplicate entries, pass-backs, revoked entries."""

from __future__ import annotations

import json

import httpx
from gates_helpers import Festival
from sqlalchemy import select

from server.db import tables as t
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


def test_reentry_ticket_admitted_at_two_offline_gates_is_a_passback(festival_any: Festival) -> None:
    fest = festival_any
    north, south = fest.gate(0), fest.gate(1)
    [re, honest] = fest.issue(fest.reentry, 2)
    north.network.up = south.network.up = False
    first = north.scan(re.token)
    assert first.approved
    fest.clock.advance(20)
    second = south.scan(re.token)
    assert second.approved  # south cannot know the ticket is inside: both offline
    assert north.scan(honest.token).approved and north.scan(honest.token, "out").approved
    fest.clock.advance(60)
    assert south.scan(honest.token).approved  # out and back in: no anomaly
    north.network.up = south.network.up = True
    assert south.sync()  # the later entry reaches the server first: nothing to compare it with yet
    assert fest.anomalies("passback") == []
    assert north.sync() and south.sync() and north.sync()  # the earlier entry arrives: now the later one is flagged
    [flagged] = fest.anomalies("passback")
    assert flagged["record_id"] == second.record_id and flagged["resolved_at"] is None
    south_identity = south.terminal.identity()
    assert south_identity is not None and flagged["terminal_id"] == south_identity.terminal_id
    detail = json.loads(flagged["detail"])
    assert (detail["ticket_id"], detail["gate_id"], detail["earlier_gate_id"], detail["earlier_record_id"]) == (
        re.ticket_id, south.gate_id, north.gate_id, first.record_id)
    assert detail["entered_at"] - detail["already_in_since"] == 20_000
    assert fest.anomalies("duplicate_entry") == []  # a re-entry ticket is not single-entry
    assert fest.stored_checkins() == 5


def test_an_exit_synced_late_explains_the_passback(festival: Festival) -> None:
    fest = festival
    north, south, west = fest.gate(0), fest.gate(1), fest.gate(2)
    [re] = fest.issue(fest.reentry)
    west.network.up = False
    assert north.scan(re.token).approved and north.sync()
    fest.clock.advance(60)
    assert west.scan(re.token, "out").approved  # leaves by the west gate, which is offline
    fest.clock.advance(60)
    assert south.scan(re.token).approved and south.sync()  # south has not pulled north's entry: it admits
    # the server sees north in, south in, and no exit between: a passback, until the west gate syncs
    [flagged] = fest.anomalies("passback")
    assert flagged["resolved_at"] is None
    west.network.up = True
    assert west.sync()
    [resolved] = fest.anomalies("passback")
    assert resolved["id"] == flagged["id"] and resolved["resolved_at"] is not None
    with fest.seed.db.read() as conn:
        entries = conn.execute(select(t.audit_log.c.actor, t.audit_log.c.detail)
                               .where(t.audit_log.c.action == "anomaly.resolve")).all()
    assert [(actor, json.loads(detail)["anomaly_id"], json.loads(detail)["resolution"])
            for actor, detail in entries] == [("server", flagged["id"], "explained")]
    west.terminal.sync_now()
    assert fest.anomalies("passback") == [resolved]  # syncing again changes nothing


def test_entry_after_revocation_at_an_offline_gate(festival: Festival) -> None:
    fest = festival
    north = fest.gate(0)
    before, after = fest.issue(fest.single, 2)
    north.network.up = False
    assert north.scan(before.token).approved  # admitted, then revoked: no anomaly
    fest.clock.advance(10)
    fest.revoke(before.ticket_id)
    fest.revoke(after.ticket_id)
    fest.clock.advance(10)
    late = north.scan(after.token)
    assert late.approved  # the gate has not heard of the revocation
    north.network.up = True
    assert north.sync() and north.sync()
    [flagged] = fest.anomalies("revoked_entry")
    assert flagged["record_id"] == late.record_id
    detail = json.loads(flagged["detail"])
    assert detail["ticket_id"] == after.ticket_id and detail["admitted_at"] > detail["revoked_at"]
    assert north.scan(after.token).reason is DeclineReason.TICKET_REVOKED  # pulled now
