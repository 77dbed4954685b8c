"""The invariant every fault test ends with: the server's ledger is the union of what the terminals approved.

Each terminal's local ledger holds every record it decided (approved, signed, durable
before the decision was shown); the server must hold exactly those records, with the
same signed bodies, each booked once, and ``server.reconcile`` must pass.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from sqlalchemy import select

from server.db import tables as t
from server.db.engine import Database
from server.reconcile import reconcile
from terminal.engine import Terminal

BOOKED = (None, "applied", "duplicate")  # acknowledged statuses of a record in the ledger (None: not yet)


def local_records(data_dirs: Iterable[Path]) -> dict[str, str]:
    """Every record the terminals in ``data_dirs`` hold (refused ones excluded): id -> signed body."""
    out: dict[str, str] = {}
    for data_dir in data_dirs:
        term = Terminal.open(data_dir)
        try:
            for row in term.recent(10_000_000):
                if row.ack_status in BOOKED:
                    assert row.id not in out, f"record {row.id} on two terminals"
                    out[row.id] = row.body
        finally:
            term.close()
    return out


def ledger_breaks(db: Database, local: dict[str, str], reported: Iterable[str]) -> list[str]:
    """Return what breaks the invariant (empty when it holds)."""
    breaks: list[str] = []
    lost = set(reported) - set(local)
    if lost:
        breaks.append(f"{len(lost)} record(s) reported approved but not in a terminal's ledger: {sorted(lost)[:3]}")
    r, x = t.records, t.transactions
    with db.read() as conn:
        server = {row.id: row.body for row in conn.execute(select(r.c.id, r.c.body))}
        booked = Counter(row.record_id for row in conn.execute(select(x.c.record_id)
                                                               .where(x.c.record_id.is_not(None))))
        report = reconcile(conn)
    if set(local) - set(server):
        breaks.append(f"{len(set(local) - set(server))} record(s) missing on the server")
    if set(server) - set(local):
        breaks.append(f"{len(set(server) - set(local))} record(s) on the server that no terminal holds")
    differ = [i for i in set(local) & set(server) if local[i] != server[i]]
    if differ:
        breaks.append(f"{len(differ)} record(s) with another body on the server: {differ[:3]}")
    twice = [i for i, n in booked.items() if n > 1]
    if twice:
        breaks.append(f"{len(twice)} record(s) booked more than once: {twice[:3]}")
    if not report.ok:
        breaks.append(report.text())
    return breaks
