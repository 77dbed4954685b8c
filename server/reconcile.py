"""Reconciliation: prove the ledger is whole.

Checks that every transaction's postings sum to zero, that each account's
cached balance equals the sum of its postings, that each account's sequence
numbers run 1..seq with no gap, and that every terminal record was applied
exactly once (one transaction per booked money record, none without a record).
The close of the event is checked too: money in (cash at desks and admins)
equals where it is (wallets + stall revenue + stall discounts + deposits held +
payouts + donations + adjustments), sales with deposit or discount lines moved
their amount in the wallet, every payout or donation belongs to exactly one closed payout
request of its wallet and emptied it, and no paid-out wallet is open again.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Connection, func, select

from server.db import tables as t

__all__ = ["ReconcileReport", "reconcile"]

_MONEY_KINDS = ("sale", "refund", "void", "topup", "cashout", "deposit_return")


@dataclass(slots=True)
class ReconcileReport:
    """Counts, and one line per break found."""

    summary: dict[str, int] = field(default_factory=dict)
    breaks: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing is broken."""
        return not self.breaks

    def text(self) -> str:
        """A human summary, breaks last."""
        lines = [f"{name}: {value}" for name, value in self.summary.items()]
        lines.append("result: OK" if self.ok else f"result: {len(self.breaks)} break(s)")
        lines.extend(f"BREAK {b}" for b in self.breaks)
        return "\n".join(lines)


def reconcile(conn: Connection, *, limit: int = 50) -> ReconcileReport:
    """Run every check in one snapshot; returns the report (never raises for a break)."""
    report = ReconcileReport()
    p, a, x, r = t.postings, t.accounts, t.transactions, t.records
    report.summary["accounts"] = conn.execute(select(func.count()).select_from(a)).scalar_one()
    report.summary["transactions"] = conn.execute(select(func.count()).select_from(x)).scalar_one()
    report.summary["postings"] = conn.execute(select(func.count()).select_from(p)).scalar_one()
    report.summary["records"] = conn.execute(select(func.count()).select_from(r)).scalar_one()
    report.summary["wallets_total"] = int(conn.execute(
        select(func.coalesce(func.sum(a.c.balance), 0)).where(a.c.kind == "wallet")).scalar_one())
    report.summary["postings_total"] = int(conn.execute(select(func.coalesce(func.sum(p.c.amount), 0))).scalar_one())
    if report.summary["postings_total"] != 0:
        report.breaks.append(f"all postings sum to {report.summary['postings_total']}, not 0")

    per_txn = select(p.c.txn_id, func.sum(p.c.amount).label("total"), func.count().label("n")).group_by(p.c.txn_id)
    for row in conn.execute(per_txn.having((func.sum(p.c.amount) != 0) | (func.count() < 2)).limit(limit)):
        report.breaks.append(f"transaction {row.txn_id}: {row.n} postings sum to {row.total}")
    orphan = conn.execute(select(func.count()).select_from(x.outerjoin(p, p.c.txn_id == x.c.id))
                          .where(p.c.txn_id.is_(None))).scalar_one()
    if orphan:
        report.breaks.append(f"{orphan} transaction(s) without postings")

    sums = (select(p.c.account_id, func.sum(p.c.amount).label("total"), func.count().label("n"),
                   func.min(p.c.seq).label("lo"), func.max(p.c.seq).label("hi"))
            .group_by(p.c.account_id).subquery())
    query = (select(a.c.id, a.c.kind, a.c.ref, a.c.balance, a.c.seq, sums.c.total, sums.c.n, sums.c.lo, sums.c.hi)
             .select_from(a.outerjoin(sums, sums.c.account_id == a.c.id)))
    bad_balance = bad_seq = 0
    for row in conn.execute(query):
        total, n = int(row.total or 0), int(row.n or 0)
        if total != row.balance:
            bad_balance += 1
            if bad_balance <= limit:
                report.breaks.append(f"account {row.id} ({row.kind} {row.ref}): cached balance {row.balance}, "
                                     f"postings sum to {total}")
        if n != row.seq or (n and (row.lo != 1 or row.hi != n)):
            bad_seq += 1
            if bad_seq <= limit:
                report.breaks.append(f"account {row.id} ({row.kind} {row.ref}): seq {row.seq}, {n} postings "
                                     f"numbered {row.lo}..{row.hi}")

    twice = conn.execute(select(x.c.record_id, func.count().label("n")).where(x.c.record_id.is_not(None))
                         .group_by(x.c.record_id).having(func.count() > 1).limit(limit))
    for row in twice:
        report.breaks.append(f"record {row.record_id} applied {row.n} times")
    unbooked = conn.execute(
        select(r.c.id, r.c.kind).select_from(r.outerjoin(x, x.c.record_id == r.c.id))
        .where(r.c.kind.in_(_MONEY_KINDS), x.c.id.is_(None)).limit(limit))
    for row in unbooked:
        report.breaks.append(f"record {row.id} ({row.kind}) has no transaction")
    stray = conn.execute(
        select(x.c.id, x.c.record_id).select_from(x.outerjoin(r, r.c.id == x.c.record_id))
        .where(x.c.record_id.is_not(None), r.c.id.is_(None)).limit(limit))
    for row in stray:
        report.breaks.append(f"transaction {row.id} names record {row.record_id}, which is not stored")
    mismatched = conn.execute(
        select(r.c.id).select_from(r.join(x, x.c.record_id == r.c.id)).where(r.c.txn_id != x.c.id).limit(limit))
    for row in mismatched:
        report.breaks.append(f"record {row.id} points at another transaction than the one naming it")
    over = (select(r.c.ref_id, func.sum(r.c.amount).label("back"))
            .where(r.c.kind.in_(("refund", "void")), r.c.ref_id.is_not(None)).group_by(r.c.ref_id).subquery())
    for row in conn.execute(select(over.c.ref_id, over.c.back, r.c.amount)
                            .join(r, r.c.id == over.c.ref_id).where(over.c.back > r.c.amount).limit(limit)):
        report.breaks.append(f"sale {row.ref_id}: refunded {row.back} of {row.amount}")
    # the same over all refund and void transactions, the dashboard's included
    sale_txn = x.alias("sale_txn")
    back = (select(x.c.ref_txn, func.sum(x.c.amount).label("back"))
            .where(x.c.kind.in_(("refund", "void")), x.c.ref_txn.is_not(None)).group_by(x.c.ref_txn).subquery())
    for row in conn.execute(select(sale_txn.c.id, back.c.back, sale_txn.c.amount)
                            .join(back, back.c.ref_txn == sale_txn.c.id)
                            .where(sale_txn.c.kind == "sale", back.c.back > sale_txn.c.amount).limit(limit)):
        report.breaks.append(f"sale transaction {row.id}: refunded {row.back} of {row.amount}")
    _line_checks(conn, report, limit=limit)
    _close_checks(conn, report, limit=limit)
    return report


def _line_checks(conn: Connection, report: ReconcileReport, *, limit: int) -> None:
    """Sales with deposit or discount legs: the wallet paid the transaction's amount, the stall legs made it up.

    A sale, refund or void moves exactly its amount in or out of one wallet; a discount
    account only ever has sales' negative legs (and voids putting them back), so it is
    never above zero; deposit accounts are summed (held) — one below zero is a stall that
    paid back more cups than it took, already raised as ``deposit_not_held`` when pushed.
    """
    p, a, x = t.postings, t.accounts, t.transactions
    wallet_leg = (select(p.c.txn_id, p.c.amount).join(a, a.c.id == p.c.account_id)
                  .where(a.c.kind == "wallet").subquery())
    for row in conn.execute(select(x.c.id, x.c.kind, x.c.amount, wallet_leg.c.amount.label("leg"))
                            .join(wallet_leg, wallet_leg.c.txn_id == x.c.id)
                            .where(x.c.kind.in_(("sale", "refund", "void", "deposit_return")),
                                   func.abs(wallet_leg.c.amount) != x.c.amount).limit(limit)):
        report.breaks.append(f"{row.kind} transaction {row.id} of {row.amount} moved {row.leg} in its wallet")
    held = {str(k): int(v) for k, v in conn.execute(
        select(a.c.kind, func.coalesce(func.sum(a.c.balance), 0))
        .where(a.c.kind.in_(("stall_deposit", "stall_discount"))).group_by(a.c.kind))}
    report.summary["deposits_held"] = held.get("stall_deposit", 0)
    report.summary["discounts"] = -held.get("stall_discount", 0)
    for acc in conn.execute(select(a.c.ref, a.c.balance).where(a.c.kind == "stall_discount", a.c.balance > 0)
                            .limit(limit)):
        report.breaks.append(f"stall {acc.ref}: its discount account is above zero ({acc.balance})")


def _close_checks(conn: Connection, report: ReconcileReport, *, limit: int) -> None:
    from server.closing import DONATION_KINDS, money_summary, payout_requests

    money = money_summary(conn)
    for name in ("money_in", "wallets", "stall_revenue", "stall_discounts", "deposits_held", "payouts", "donations",
                 "cash_outs", "imbalance", "adjustments"):
        report.summary[name] = money[name]
    if money["money_in"] != money["accounted"]:
        report.breaks.append(f"money in {money['money_in']} but {money['accounted']} accounted for")
    x, rq = t.transactions, payout_requests
    booked = select(x.c.id, x.c.amount).where(x.c.kind.in_(DONATION_KINDS)).subquery()
    claimed = (select(rq.c.txn_id, func.count().label("n"), func.sum(rq.c.amount).label("amount"))
               .where(rq.c.txn_id.is_not(None)).group_by(rq.c.txn_id).subquery())
    for row in conn.execute(select(booked.c.id, booked.c.amount, claimed.c.n, claimed.c.amount.label("claimed"))
                            .outerjoin(claimed, claimed.c.txn_id == booked.c.id)
                            .where((claimed.c.n.is_(None)) | (claimed.c.n != 1) | (claimed.c.amount != booked.c.amount))
                            .limit(limit)):
        report.breaks.append(f"payout transaction {row.id} ({row.amount}) is claimed by {row.n or 0} request(s)")
    _drawer_checks(conn, report, limit=limit)
    a = t.accounts
    reopened = conn.execute(
        select(rq.c.wallet_id).join(a, (a.c.kind == "wallet") & (a.c.ref == rq.c.wallet_id))
        .where(rq.c.status.in_(("paid", "donated")), a.c.blocked == False).limit(limit))  # noqa: E712
    for row in reopened:
        report.breaks.append(f"wallet {row.wallet_id} was paid out but is open again")


def _drawer_checks(conn: Connection, report: ReconcileReport, *, limit: int) -> None:
    """Every drawer record has its close-out; the imbalance account holds exactly their differences."""
    from server.drawers import SYSTEM_IMBALANCE, drawer_closeouts

    d, r, a, x = drawer_closeouts, t.records, t.accounts, t.transactions
    report.summary["drawer_closeouts"] = int(conn.execute(select(func.count()).select_from(d)).scalar_one())
    total = int(conn.execute(select(func.coalesce(func.sum(d.c.difference), 0))).scalar_one())
    held = int(conn.execute(select(func.coalesce(func.sum(a.c.balance), 0))
                            .where(a.c.kind == "system", a.c.ref == SYSTEM_IMBALANCE)).scalar_one())
    if total != held:
        report.breaks.append(f"drawer close-outs differ by {total} in all, the imbalance account holds {held}")
    for row in conn.execute(select(r.c.id).select_from(r.outerjoin(d, d.c.record_id == r.c.id))
                            .where(r.c.kind == "drawer", d.c.id.is_(None)).limit(limit)):
        report.breaks.append(f"drawer record {row.id} has no close-out")
    for row in conn.execute(select(d.c.record_id, d.c.difference).select_from(
            d.outerjoin(x, x.c.record_id == d.c.record_id)).where(d.c.difference != 0, x.c.id.is_(None)).limit(limit)):
        report.breaks.append(f"drawer close-out {row.record_id} ({row.difference}) has no transaction")
