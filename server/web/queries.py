"""Read queries the web pages need and the server's domain modules do not offer.

Only reads live here; every write goes through the server's own functions.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, and_, case, desc, func, select

from server.db import tables as t
from sync.records import REVERSAL_REASON

__all__ = ["admin_by_id", "admin_by_login", "recent_signins"]


def admin_by_login(conn: Connection, login: str) -> Any:
    """The active staff row with this dashboard login, or None."""
    s = t.staff
    return conn.execute(
        select(s.c.id, s.c.login, s.c.name, s.c.password_hash, s.c.active).where(s.c.login == login)
    ).first()


def admin_by_id(conn: Connection, staff_id: int) -> Any:
    """The staff row ``staff_id`` with its login fields, or None."""
    s = t.staff
    return conn.execute(
        select(s.c.id, s.c.login, s.c.name, s.c.password_hash, s.c.active).where(s.c.id == staff_id)
    ).first()


def recent_signins(conn: Connection, actor: str, *, actions: tuple[str, ...], since_ms: int,
                   limit: int) -> list[tuple[str, int]]:
    """The latest audit entries (action, at) of ``actor`` among ``actions`` since ``since_ms``, newest first."""
    a = t.audit_log
    rows = conn.execute(
        select(a.c.action, a.c.at)
        .where(and_(a.c.actor == actor, a.c.at >= since_ms, a.c.action.in_(actions)))
        .order_by(desc(a.c.id)).limit(limit)
    )
    return [(row.action, int(row.at)) for row in rows]


def count(conn: Connection, table: Any, *where: Any) -> int:
    """``SELECT count(*)`` with optional conditions."""
    return int(conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one())


# ---------------------------------------------------------------- overview


def stall_names(conn: Connection) -> dict[int, str]:
    """Every stall's name by id."""
    return {int(r.id): r.name for r in conn.execute(select(t.stalls.c.id, t.stalls.c.name).order_by(t.stalls.c.id))}


_STALL_KINDS = ("stall_revenue", "stall_deposit", "stall_discount")  # server.records.STALL_KINDS


def stall_lines(conn: Connection, stall_id: int) -> dict[str, int]:
    """A stall's deposits and discounts over the whole event, from its own accounts' postings.

    ``discounts``: what discount lines took off its sales (less what voids put back);
    ``deposits_taken`` / ``deposits_returned``: money into / out of its deposit account
    (a void or refund that gives a deposit back counts as returned, and so does a returns-only
    basket, ``deposit_return``); ``deposits_kept``: what the close of the event moved to the
    stall's revenue (``deposit_closeout``: cups never returned); ``deposits_held``: the
    account's balance, the deposits still owed to customers (not the stall's money).
    Reversed authorizations are left out, as in ``stall_takings``.
    """
    x, p, a = t.transactions, t.postings, t.accounts
    ins = func.coalesce(func.sum(case((p.c.amount > 0, p.c.amount), else_=0)), 0)
    outs = func.coalesce(func.sum(case((p.c.amount < 0, p.c.amount), else_=0)), 0)
    closeout = x.c.kind == "deposit_closeout"
    rows = conn.execute(select(a.c.kind, closeout.label("closeout"), ins, outs)
                        .select_from(x.join(p, p.c.txn_id == x.c.id).join(a, a.c.id == p.c.account_id))
                        .where(a.c.ref == stall_id, a.c.kind.in_(("stall_deposit", "stall_discount")),
                               *_not_reversed(x))
                        .group_by(a.c.kind, closeout))
    out = {"discounts": 0, "deposits_taken": 0, "deposits_returned": 0, "deposits_kept": 0}
    for kind, is_closeout, taken, given in rows:
        if kind == "stall_discount":
            out["discounts"] -= int(taken) + int(given)
        elif is_closeout:
            out["deposits_kept"] -= int(taken) + int(given)
        else:
            out["deposits_taken"] += int(taken)
            out["deposits_returned"] -= int(given)
    out["deposits_held"] = out["deposits_taken"] - out["deposits_returned"] - out["deposits_kept"]
    return out


def _reversals() -> Any:
    """Void transactions that reverse an unanswered online authorization (``sync.records.REVERSAL_REASON``)."""
    v = t.transactions.alias("rev")
    return select(v.c.id, v.c.ref_txn).where(v.c.kind == "void", v.c.note.like(f"{REVERSAL_REASON}%"))


def _not_reversed(x: Any) -> list[Any]:
    """Leave out a reversed sale and its reversal: the customer was declined, nothing was sold or refunded."""
    rev = _reversals().subquery()
    return [x.c.id.not_in(select(rev.c.id)), x.c.id.not_in(select(rev.c.ref_txn).where(rev.c.ref_txn.is_not(None)))]


def stall_takings(conn: Connection, *, since_ms: int, until_ms: int | None = None,
                  bucket_ms: int = 3_600_000, txn_range: tuple[int, int] | None = None,
                  discounts: bool = True) -> list[tuple[str, int, int, int]]:
    """Stall revenue postings since ``since_ms``: rows of (txn kind, stall id, bucket index, amount).

    Sales post positive amounts to a stall's revenue account, refunds and voids
    negative ones; the bucket index counts ``bucket_ms`` from ``since_ms``.  With
    ``discounts`` a sale's discount lines (the stall's discount account) are taken off
    it, so sales are what the stall made; without, sales are gross.  Deposits are
    never the stall's takings (nor the deposits it keeps at the close: ``stall_lines``).
    """
    x, p, a = t.transactions, t.postings, t.accounts
    bucket = ((x.c.created_at - since_ms) // bucket_ms).label("bucket")
    kinds = ("stall_revenue", "stall_discount") if discounts else ("stall_revenue",)
    where = [x.c.created_at >= since_ms, a.c.kind.in_(kinds), x.c.kind != "deposit_closeout", *_not_reversed(x)]
    if until_ms is not None:
        where.append(x.c.created_at < until_ms)
    if txn_range is not None:
        where += [x.c.id > txn_range[0], x.c.id <= txn_range[1]]
    query = (
        select(x.c.kind, a.c.ref, bucket, func.sum(p.c.amount))
        .select_from(x.join(p, p.c.txn_id == x.c.id).join(a, a.c.id == p.c.account_id))
        .where(*where).group_by(x.c.kind, a.c.ref, bucket)
    )
    return [(r[0], int(r[1]), int(r[2]), int(r[3])) for r in conn.execute(query)]


def transaction_totals(conn: Connection, *, since_ms: int, txn_range: tuple[int, int] | None = None
                       ) -> dict[str, tuple[int, int]]:
    """Count and sum of ``transactions.amount`` per kind since ``since_ms`` (ids in ``txn_range``)."""
    x = t.transactions
    where = [x.c.created_at >= since_ms]
    if txn_range is not None:
        where += [x.c.id > txn_range[0], x.c.id <= txn_range[1]]
    rows = conn.execute(select(x.c.kind, func.count(), func.coalesce(func.sum(x.c.amount), 0))
                        .where(*where).group_by(x.c.kind))
    return {r[0]: (int(r[1]), int(r[2])) for r in rows}


def terminal_health(conn: Connection) -> list[Any]:
    """Every terminal with its health columns, by id."""
    tm = t.terminals
    return list(conn.execute(select(
        tm.c.id, tm.c.name, tm.c.mode, tm.c.stall_id, tm.c.gate_id, tm.c.revoked, tm.c.enrolled_at,
        tm.c.last_seen_ms, tm.c.app_version, tm.c.clock_skew_ms, tm.c.unsynced_count, tm.c.unsynced_amount,
        tm.c.last_error).order_by(tm.c.id)))


def gate_flow(conn: Connection, *, since_ms: int, bucket_ms: int, change_range: tuple[int, int] | None = None
              ) -> list[tuple[int, int, str, int]]:
    """Check-ins since ``since_ms``: rows of (gate id, bucket index, direction, count)."""
    c = t.checkins
    bucket = ((c.c.created_at - since_ms) // bucket_ms).label("bucket")
    where = [c.c.created_at >= since_ms]
    if change_range is not None:
        where += [c.c.change_seq > change_range[0], c.c.change_seq <= change_range[1]]
    rows = conn.execute(select(c.c.gate_id, bucket, c.c.direction, func.count())
                        .where(*where).group_by(c.c.gate_id, bucket, c.c.direction))
    return [(int(r[0]), int(r[1]), r[2], int(r[3])) for r in rows]


def watermarks(conn: Connection) -> tuple[int, int]:
    """The highest transaction id and check-in change number committed.

    Both come from the server's changes counter, handed out in commit order,
    so everything at or below them is visible now and nothing below them can
    appear later: aggregates can be extended from one watermark to the next.
    """
    txn = conn.execute(select(func.coalesce(func.max(t.transactions.c.id), 0))).scalar_one()
    chk = conn.execute(select(func.coalesce(func.max(t.checkins.c.change_seq), 0))).scalar_one()
    return int(txn), int(chk)


def checkins_before(conn: Connection, *, until_ms: int) -> int:
    """Entries minus exits before ``until_ms`` (people already inside when the chart starts)."""
    c = t.checkins
    rows: dict[str, int] = dict(conn.execute(select(c.c.direction, func.count()).where(c.c.created_at < until_ms)
                             .group_by(c.c.direction)).all())
    return int(rows.get("in", 0)) - int(rows.get("out", 0))


def open_anomalies(conn: Connection) -> dict[str, int]:
    """Unresolved anomalies counted per kind."""
    an = t.anomalies
    rows = conn.execute(select(an.c.kind, func.count()).where(an.c.resolved_at.is_(None)).group_by(an.c.kind))
    return {r[0]: int(r[1]) for r in rows}


# ---------------------------------------------------------------- catalog


def stalls_with_products(conn: Connection, stall_ids: list[int] | None = None) -> list[dict[str, Any]]:
    """Stalls (all, or ``stall_ids``) with their products in display order."""
    s, p = t.stalls, t.products
    query = select(s).order_by(s.c.id)
    if stall_ids is not None:
        query = query.where(s.c.id.in_(stall_ids))
    stalls = [dict(r._mapping) | {"products": []} for r in conn.execute(query)]
    by_id = {st["id"]: st for st in stalls}
    if by_id:
        for r in conn.execute(select(p).where(p.c.stall_id.in_(list(by_id))).order_by(p.c.stall_id, p.c.sort, p.c.id)):
            by_id[r.stall_id]["products"].append(dict(r._mapping))
    return stalls


def product_stall(conn: Connection, product_id: int) -> int | None:
    """The stall a product belongs to, or None."""
    return conn.execute(select(t.products.c.stall_id).where(t.products.c.id == product_id)).scalar()


def all_stall_ids(conn: Connection) -> list[int]:
    """Every stall id."""
    return [int(i) for i in conn.execute(select(t.stalls.c.id).order_by(t.stalls.c.id)).scalars()]


def gates(conn: Connection) -> list[Any]:
    """Every gate, by id."""
    return list(conn.execute(select(t.gates).order_by(t.gates.c.id)))


def enrollment_codes(conn: Connection, *, now_ms: int, limit: int = 20) -> list[Any]:
    """The latest enrollment codes (never their text: only hashes are stored)."""
    ec = t.enrollment_codes
    return list(conn.execute(select(ec.c.mode, ec.c.stall_id, ec.c.gate_id, ec.c.created_at, ec.c.expires_at,
                                    ec.c.used_at, ec.c.terminal_id).order_by(desc(ec.c.created_at)).limit(limit)))


# ---------------------------------------------------------------- wallets


def find_wallets(conn: Connection, *, wallet_id: int | None, name: str, limit: int = 50) -> list[Any]:
    """Wallets by exact id, or whose account name contains ``name``."""
    a = t.accounts
    query = select(a.c.ref, a.c.name, a.c.balance, a.c.seq, a.c.blocked, a.c.overdrawn).where(a.c.kind == "wallet")
    if wallet_id is not None:
        query = query.where(a.c.ref == wallet_id)
    elif name:
        query = query.where(a.c.name.ilike(f"%{name}%"))
    else:
        query = query.order_by(desc(a.c.change_seq))
    return list(conn.execute(query.limit(limit)))


def wallet_history(conn: Connection, wallet_id: int, *, limit: int = 100) -> list[dict[str, Any]]:
    """A wallet's postings, newest first, with the transaction id, its stall and what was refunded of it.

    ``server.wallets.wallet_view`` gives the same history without the
    transaction ids and stalls that the refund buttons need.
    """
    a, p, x = t.accounts, t.postings, t.transactions
    wallet = conn.execute(select(a.c.id).where(a.c.kind == "wallet", a.c.ref == wallet_id)).scalar()
    if wallet is None:
        return []
    rows = [dict(r._mapping) for r in conn.execute(
        select(x.c.id.label("txn_id"), x.c.kind, x.c.created_at, x.c.terminal_id, x.c.note, x.c.ref_txn,
               x.c.record_id, p.c.amount, p.c.seq)
        .join(x, x.c.id == p.c.txn_id).where(p.c.account_id == wallet).order_by(desc(p.c.seq)).limit(limit))]
    ids = [r["txn_id"] for r in rows]
    if ids:
        other = a.alias("other")
        stalls = dict(conn.execute(select(p.c.txn_id, other.c.ref).join(other, other.c.id == p.c.account_id)
                                   .where(p.c.txn_id.in_(ids), other.c.kind.in_(_STALL_KINDS))).all())
        refunded = dict(conn.execute(select(x.c.ref_txn, func.sum(x.c.amount)).where(
            x.c.ref_txn.in_(ids), x.c.kind.in_(("refund", "void"))).group_by(x.c.ref_txn)).all())
        for r in rows:
            r["stall_id"] = stalls.get(r["txn_id"])
            r["refunded"] = int(refunded.get(r["txn_id"], 0))
    return rows


# ---------------------------------------------------------------- anomalies


def anomalies(conn: Connection, *, open_only: bool, kind: str | None, limit: int = 200) -> list[dict[str, Any]]:
    """Anomalies newest first, each with its resolution (action, note, who) from the audit log."""
    an = t.anomalies
    query = select(an).order_by(desc(an.c.id)).limit(limit)
    if open_only:
        query = query.where(an.c.resolved_at.is_(None))
    if kind:
        query = query.where(an.c.kind == kind)
    rows = [dict(r._mapping) for r in conn.execute(query)]
    resolved = [r["id"] for r in rows if r["resolved_at"] is not None]
    notes: dict[int, dict[str, Any]] = {}
    if resolved:
        a = t.audit_log
        for entry in conn.execute(select(a.c.actor, a.c.detail).where(a.c.action == "anomaly.resolve")
                                  .order_by(a.c.id)):
            detail = json.loads(entry.detail or "{}")
            if detail.get("anomaly_id") in resolved:
                notes[int(detail["anomaly_id"])] = detail | {"actor": entry.actor}
    for r in rows:
        r["resolution"] = notes.get(r["id"])
    return rows


def anomaly(conn: Connection, anomaly_id: int) -> Any:
    """One anomaly row, or None."""
    return conn.execute(select(t.anomalies).where(t.anomalies.c.id == anomaly_id)).first()


def anomaly_kinds(conn: Connection) -> list[str]:
    """Every anomaly kind seen."""
    return [k for k in conn.execute(select(t.anomalies.c.kind).distinct().order_by(t.anomalies.c.kind)).scalars()]


# ---------------------------------------------------------------- reports


def product_kinds(conn: Connection, product_ids: list[int | None]) -> dict[int, str]:
    """Product -> kind (normal | deposit | discount) for the given ids."""
    ids = sorted({i for i in product_ids if i is not None})
    p = t.products
    return {int(i): str(k) for i, k in conn.execute(select(p.c.id, p.c.kind).where(p.c.id.in_(ids)))} if ids else {}


def product_sales(conn: Connection, *, since_ms: int | None) -> list[dict[str, Any]]:
    """Units and gross per product, from the lines of booked sale records."""
    r = t.records
    rev = _reversals().subquery()
    query = select(r.c.body).where(r.c.kind == "sale", r.c.txn_id.is_not(None),
                                   r.c.txn_id.not_in(select(rev.c.ref_txn).where(rev.c.ref_txn.is_not(None))))
    if since_ms is not None:
        query = query.where(r.c.received_at >= since_ms)
    totals: dict[tuple[int, int | None], list[int]] = {}
    for (body,) in conn.execution_options(yield_per=2000).execute(query):
        data = json.loads(body)
        for line in data.get("lines") or []:
            key = (int(data["stall_id"]), line.get("product_id"))
            qty, price = int(line["qty"]), int(line["unit_price"])
            acc = totals.setdefault(key, [0, 0])
            acc[0] += qty
            acc[1] += qty * price
    p = t.products
    names = {int(row.id): row.name for row in conn.execute(select(p.c.id, p.c.name))}
    return sorted(({"stall_id": s, "product_id": pid, "name": names.get(pid, "") if pid else "", "qty": v[0],
                    "gross": v[1]} for (s, pid), v in totals.items()), key=lambda d: (-d["gross"], d["stall_id"]))


def transactions_for_export(conn: Connection, *, since_ms: int | None) -> Any:
    """Every transaction with its wallet and stall legs, oldest first, streamed."""
    x, p, a = t.transactions, t.postings, t.accounts
    w, s = a.alias("w"), a.alias("s")
    pw, ps = p.alias("pw"), p.alias("ps")
    query = (
        select(x.c.id, x.c.created_at, x.c.kind, x.c.amount, x.c.record_id, x.c.ref_txn, x.c.terminal_id,
               x.c.staff_id, x.c.note, w.c.ref.label("wallet_id"), pw.c.amount.label("wallet_amount"),
               s.c.ref.label("stall_id"))
        .select_from(x.outerjoin(pw.join(w, (w.c.id == pw.c.account_id) & (w.c.kind == "wallet")),
                                 pw.c.txn_id == x.c.id)
                     .outerjoin(ps.join(s, (s.c.id == ps.c.account_id) & (s.c.kind == "stall_revenue")),
                                ps.c.txn_id == x.c.id))
        .order_by(x.c.id)
    )
    if since_ms is not None:
        query = query.where(x.c.created_at >= since_ms)
    return conn.execution_options(yield_per=2000).execute(query)


def audit_entries(conn: Connection, *, actor: str = "", action: str = "", limit: int | None = 200,
                  before_id: int | None = None) -> list[Any]:
    """Audit entries newest first, filtered by actor or action prefix."""
    a = t.audit_log
    query = select(a).order_by(desc(a.c.id))
    if actor:
        query = query.where(a.c.actor == actor)
    if action:
        query = query.where(a.c.action.like(f"{action}%"))
    if before_id is not None:
        query = query.where(a.c.id < before_id)
    if limit is not None:
        query = query.limit(limit)
    return list(conn.execute(query))


# ---------------------------------------------------------------- staff and roles


def staff_list(conn: Connection) -> list[Any]:
    """Every staff member (not the customers' linked rows without roles... all rows), by name."""
    s = t.staff
    return list(conn.execute(select(s.c.id, s.c.name, s.c.login, s.c.active, s.c.created_at).order_by(s.c.name)))


def staff_member(conn: Connection, staff_id: int) -> Any:
    """One staff row without its secrets, or None."""
    s = t.staff
    return conn.execute(select(s.c.id, s.c.name, s.c.login, s.c.active, s.c.badge_not_before, s.c.created_at)
                        .where(s.c.id == staff_id)).first()


def role_assignments(conn: Connection, staff_ids: list[int] | None = None) -> list[Any]:
    """Role assignment rows (with their ids, for removal)."""
    sr = t.staff_roles
    query = select(sr).order_by(sr.c.staff_id, sr.c.id)
    if staff_ids is not None:
        query = query.where(sr.c.staff_id.in_(staff_ids))
    return list(conn.execute(query))


def overrides_of(conn: Connection, staff_id: int) -> list[Any]:
    """Override rows of one person (with their ids, for removal)."""
    so = t.staff_overrides
    return list(conn.execute(select(so).where(so.c.staff_id == staff_id).order_by(so.c.id)))


def roles(conn: Connection) -> list[tuple[str, list[str]]]:
    """Every role with its permission values."""
    return [(r.name, json.loads(r.permissions)) for r in conn.execute(select(t.roles).order_by(t.roles.c.name))]


def gate_counts(conn: Connection, *, since_ms: int) -> dict[int, dict[str, int]]:
    """Entries and exits per gate since ``since_ms``."""
    c = t.checkins
    out: dict[int, dict[str, int]] = {}
    for gate_id, direction, n in conn.execute(select(c.c.gate_id, c.c.direction, func.count())
                                              .where(c.c.created_at >= since_ms).group_by(c.c.gate_id, c.c.direction)):
        out.setdefault(int(gate_id), {"in": 0, "out": 0})[direction] = int(n)
    return out


def balances_held_total(conn: Connection) -> tuple[int, int]:
    """(wallets with money left, the money left in them): what the close of the event must pay out."""
    a = t.accounts
    row = conn.execute(select(func.count(), func.coalesce(func.sum(a.c.balance), 0))
                       .where(a.c.kind == "wallet", a.c.balance > 0)).one()
    return int(row[0]), int(row[1])


def wallet_seq_of_record(conn: Connection, wallet_id: int, record_id: str) -> int | None:
    """The wallet's own posting number of the transaction a terminal record booked (None: not here, or not its)."""
    a, p, r = t.accounts, t.postings, t.records
    seq = conn.execute(select(p.c.seq).join(r, r.c.txn_id == p.c.txn_id).join(a, a.c.id == p.c.account_id)
                       .where(r.c.id == record_id, a.c.kind == "wallet", a.c.ref == wallet_id)).scalar()
    return None if seq is None else int(seq)


def wallet_receipt(conn: Connection, wallet_id: int, seq: int) -> dict[str, Any] | None:
    """One line of a wallet's history as a receipt: when, what kind, which stall, the items, the balance after.

    ``seq`` is the wallet's own posting number (its history's order), so a receipt
    can only ever show this wallet's own transactions.
    """
    a, p, x, r = t.accounts, t.postings, t.transactions, t.records
    wallet = conn.execute(select(a.c.id).where(a.c.kind == "wallet", a.c.ref == wallet_id)).scalar()
    if wallet is None:
        return None
    row = conn.execute(select(p.c.txn_id, p.c.amount, x.c.kind, x.c.created_at, x.c.record_id, x.c.terminal_id,
                              x.c.note).join(x, x.c.id == p.c.txn_id)
                       .where(p.c.account_id == wallet, p.c.seq == seq)).first()
    if row is None:
        return None
    after = int(conn.execute(select(func.coalesce(func.sum(p.c.amount), 0))
                             .where(p.c.account_id == wallet, p.c.seq <= seq)).scalar_one())
    other = a.alias("other")
    stall_id = conn.execute(select(other.c.ref).join(p, p.c.account_id == other.c.id)
                            .where(p.c.txn_id == row.txn_id, other.c.kind.in_(_STALL_KINDS))).scalar()
    items: list[dict[str, Any]] = []
    if row.record_id is not None:
        body = conn.execute(select(r.c.body).where(r.c.id == row.record_id)).scalar()
        lines = (json.loads(body).get("lines") or []) if body else []
        ids = [int(li["product_id"]) for li in lines if li.get("product_id") is not None]
        names = dict(conn.execute(select(t.products.c.id, t.products.c.name)
                                  .where(t.products.c.id.in_(ids))).all()) if ids else {}
        items = [{"name": names.get(li.get("product_id"), ""), "qty": int(li["qty"]),
                  "unit_price": int(li["unit_price"]), "total": int(li["qty"]) * int(li["unit_price"])}
                 for li in lines]
    stall = None
    if stall_id is not None:
        stall = conn.execute(select(t.stalls.c.name).where(t.stalls.c.id == stall_id)).scalar()
    return {"seq": seq, "txn_id": int(row.txn_id), "kind": row.kind, "amount": int(row.amount),
            "created_at": int(row.created_at), "record_id": row.record_id, "stall": stall, "lines": items,
            "balance_after": after}
