"""The double-entry ledger: accounts, transactions, postings that sum to zero.

Signs: a posting adds its amount to the account's balance.  A wallet's balance
is the customer's money; a stall's revenue account grows with its sales; a
top-up desk's cash drawer goes negative by the cash it took in (the drawer
should hold ``-balance`` in notes and coins); system accounts balance manual
adjustments.  Every transaction's postings sum to zero, and every posting
advances its account's sequence number by one, so a wallet's ``seq`` names a
balance exactly.

``LedgerBatch`` is the unit of work of one database transaction: load and lock
the accounts, post in memory, then ``flush`` writes everything with a handful
of ``executemany`` statements and stamps the changed rows with change numbers.
Rows are only inserted, never edited; corrections are new transactions.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, and_, bindparam, insert, or_, select, update

from server.db import tables as t
from server.db.engine import reserve_changes

__all__ = [
    "ACCOUNT_KINDS",
    "SYSTEM_ADJUSTMENTS",
    "SYSTEM_ADMIN_CASH",
    "AccountState",
    "LedgerBatch",
    "LedgerError",
    "ensure_account",
]

ACCOUNT_KINDS = ("wallet", "stall_revenue", "stall_deposit", "stall_discount", "cash_drawer", "system")
SYSTEM_ADJUSTMENTS = 1  # the other side of manual adjustments
SYSTEM_ADMIN_CASH = 2  # cash taken by admins outside any terminal


class LedgerError(Exception):
    """A posting that would break the ledger's rules (a bug or an unknown account)."""


@dataclass(slots=True)
class AccountState:
    """An account as loaded (and locked) for one transaction."""

    id: int
    kind: str
    ref: int
    balance: int
    seq: int
    flags: int
    blocked: bool
    overdrawn: bool
    dirty: bool = False


@dataclass(slots=True)
class _Txn:
    kind: str
    amount: int
    record_id: str | None
    ref_txn: int | None
    terminal_id: int | None
    staff_id: int | None
    note: str
    ref_index: int | None = None  # the referenced transaction when it is in this batch
    postings: list[tuple[int, int, int]] = field(default_factory=list)  # account id, amount, seq
    id: int = 0


class LedgerBatch:
    """Accounts, postings and other pullable rows written together at ``flush``."""

    def __init__(self, conn: Connection, *, lock: bool, now_ms: int) -> None:
        self.conn = conn
        self.lock = lock  # SELECT ... FOR UPDATE (PostgreSQL)
        self.now_ms = now_ms
        self.accounts: dict[tuple[str, int], AccountState] = {}
        self.txns: list[_Txn] = []
        self.records: list[dict[str, Any]] = []  # "txn_index" resolved at flush
        self.checkins: list[dict[str, Any]] = []
        self.revocations: dict[tuple[str, int], dict[str, Any]] = {}
        self.anomalies: list[dict[str, Any]] = []
        self.stock: dict[int, int] = {}  # product id -> units sold

    # ------------------------------------------------------------ loading

    def load(self, keys: Iterable[tuple[str, int]]) -> None:
        """Load (and on PostgreSQL lock, in id order) the accounts ``(kind, ref)``."""
        wanted = sorted({k for k in keys if k not in self.accounts})
        if not wanted:
            return
        a = t.accounts
        for start in range(0, len(wanted), 500):
            chunk = wanted[start:start + 500]
            query = select(a.c.id, a.c.kind, a.c.ref, a.c.balance, a.c.seq, a.c.flags, a.c.blocked,
                           a.c.overdrawn).where(_kind_ref_in(chunk)).order_by(a.c.id)
            if self.lock:
                query = query.with_for_update()
            for row in self.conn.execute(query):
                self.accounts[(row.kind, int(row.ref))] = AccountState(
                    int(row.id), row.kind, int(row.ref), int(row.balance), int(row.seq), int(row.flags),
                    bool(row.blocked), bool(row.overdrawn),
                )

    def account(self, kind: str, ref: int) -> AccountState | None:
        """Return a loaded account, or None when it does not exist."""
        return self.accounts.get((kind, ref))

    # ------------------------------------------------------------ posting

    def post(
        self,
        kind: str,
        legs: list[tuple[AccountState, int]],
        *,
        record_id: str | None = None,
        ref_txn: int | None = None,
        ref_index: int | None = None,
        terminal_id: int | None = None,
        staff_id: int | None = None,
        note: str = "",
        amount: int | None = None,
    ) -> int:
        """Add a transaction; returns its index in this batch; raises LedgerError unless it sums to zero.

        ``amount`` is the transaction's amount (what the wallet paid or got back); by default
        the largest leg, which is the same for a transaction of two legs.
        """
        if len(legs) < 2 or sum(leg for _, leg in legs) != 0:
            raise LedgerError(f"{kind}: postings must sum to zero")
        if any(leg == 0 for _, leg in legs):
            raise LedgerError(f"{kind}: zero posting")
        txn = _Txn(kind, max(leg for _, leg in legs) if amount is None else amount, record_id, ref_txn,
                   terminal_id, staff_id, note, ref_index=ref_index)
        for acc, leg in legs:
            acc.balance += leg
            acc.seq += 1
            acc.dirty = True
            txn.postings.append((acc.id, leg, acc.seq))
        self.txns.append(txn)
        return len(self.txns) - 1

    def block_wallet(self, acc: AccountState, *, reason: str) -> None:
        """Block a wallet and publish a revocation so every terminal refuses it."""
        acc.blocked = True
        acc.dirty = True
        self.revocations[("wallet", acc.ref)] = {"kind": "wallet", "ref": acc.ref, "revoked": True,
                                                 "reason": reason}

    def anomaly(self, kind: str, *, severity: str = "warning", terminal_id: int | None = None,
                record_id: str | None = None, wallet_id: int | None = None, detail: Any = "") -> None:
        """Queue an anomaly for the dashboard."""
        text = detail if isinstance(detail, str) else json.dumps(detail, sort_keys=True, default=str)
        self.anomalies.append({
            "kind": kind, "severity": severity, "terminal_id": terminal_id, "record_id": record_id,
            "wallet_id": wallet_id, "detail": text, "created_at": self.now_ms,
        })

    # ------------------------------------------------------------ writing

    def flush(self) -> None:
        """Write everything queued, in one go, inside the caller's transaction."""
        conn = self.conn
        dirty = [acc for acc in self.accounts.values() if acc.dirty]
        stamped = len(self.txns) + len(dirty) + len(self.checkins) + len(self.revocations) + len(self.stock)
        if stamped:
            number = reserve_changes(conn, stamped)
            for txn in self.txns:
                txn.id = number
                number += 1
            for txn in self.txns:
                if txn.ref_index is not None:
                    txn.ref_txn = self.txns[txn.ref_index].id
            if self.txns:
                conn.execute(insert(t.transactions), [
                    {"id": x.id, "kind": x.kind, "record_id": x.record_id, "ref_txn": x.ref_txn,
                     "amount": x.amount, "created_at": self.now_ms, "terminal_id": x.terminal_id,
                     "staff_id": x.staff_id, "note": x.note} for x in self.txns
                ])
                conn.execute(insert(t.postings), [
                    {"txn_id": x.id, "line": i, "account_id": acc_id, "amount": amount, "seq": seq}
                    for x in self.txns for i, (acc_id, amount, seq) in enumerate(x.postings)
                ])
            if dirty:
                rows = []
                for acc in dirty:
                    rows.append({"_id": acc.id, "balance": acc.balance, "seq": acc.seq, "blocked": acc.blocked,
                                 "overdrawn": acc.overdrawn, "change_seq": number})
                    number += 1
                a = t.accounts
                conn.execute(
                    update(a).where(a.c.id == bindparam("_id")).values(
                        balance=bindparam("balance"), seq=bindparam("seq"), blocked=bindparam("blocked"),
                        overdrawn=bindparam("overdrawn"), change_seq=bindparam("change_seq")),
                    rows,
                )
            for row in self.checkins:
                row["change_seq"] = number
                number += 1
            if self.checkins:
                conn.execute(insert(t.checkins), self.checkins)
            for rev in self.revocations.values():
                _upsert_revocation(conn, rev, change_seq=number, now_ms=self.now_ms)
                number += 1
            if self.stock:
                p = t.products
                rows = []
                for product_id, sold in sorted(self.stock.items()):
                    rows.append({"_id": product_id, "sold": sold, "change_seq": number})
                    number += 1
                conn.execute(
                    update(p).where(and_(p.c.id == bindparam("_id"), p.c.stock.is_not(None))).values(
                        stock=p.c.stock - bindparam("sold"), change_seq=bindparam("change_seq")),
                    rows,
                )
                conn.execute(update(p).where(p.c.id.in_(list(self.stock)), p.c.stock <= 0).values(sold_out=True))
        if self.records:
            for row in self.records:
                index = row.pop("txn_index", None)
                row["txn_id"] = self.txns[index].id if index is not None else None
            conn.execute(insert(t.records), self.records)
        if self.anomalies:
            conn.execute(insert(t.anomalies), self.anomalies)
        self.txns, self.records, self.checkins, self.anomalies = [], [], [], []
        self.revocations, self.stock = {}, {}
        for acc in dirty:
            acc.dirty = False


def _kind_ref_in(keys: list[tuple[str, int]]) -> Any:
    a = t.accounts
    by_kind: dict[str, list[int]] = {}
    for kind, ref in keys:
        by_kind.setdefault(kind, []).append(ref)
    clauses = [and_(a.c.kind == kind, a.c.ref.in_(refs)) for kind, refs in by_kind.items()]
    return or_(*clauses) if len(clauses) > 1 else clauses[0]


def _upsert_revocation(conn: Connection, rev: dict[str, Any], *, change_seq: int, now_ms: int) -> None:
    r = t.revocations
    done = conn.execute(
        update(r).where(and_(r.c.kind == rev["kind"], r.c.ref == rev["ref"]))
        .values(revoked=rev["revoked"], reason=rev["reason"], created_at=now_ms, change_seq=change_seq)
    ).rowcount
    if not done:
        conn.execute(insert(r).values(kind=rev["kind"], ref=rev["ref"], revoked=rev["revoked"],
                                      reason=rev["reason"], created_at=now_ms, change_seq=change_seq))


def ensure_account(conn: Connection, kind: str, ref: int, *, now_ms: int, name: str = "",
                   flags: int = 0, stamp: bool = False) -> int:
    """Return the id of account ``(kind, ref)``, creating it empty; raises LedgerError on a bad kind."""
    if kind not in ACCOUNT_KINDS:
        raise LedgerError(f"unknown account kind {kind!r}")
    a = t.accounts
    found = conn.execute(select(a.c.id).where(a.c.kind == kind, a.c.ref == ref)).scalar()
    if found is not None:
        return int(found)
    change_seq = reserve_changes(conn, 1) if stamp else 0
    result = conn.execute(insert(a).values(kind=kind, ref=ref, name=name, flags=flags, created_at=now_ms,
                                           change_seq=change_seq).returning(a.c.id))
    return int(result.scalar_one())

