"""Shift reports for closing a till: totals by kind, offline and unsynced counts, per product."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from terminal.store import Store

__all__ = ["ProductTotal", "ShiftReport", "shift_report", "stock_left", "unsynced_sold"]


@dataclass(frozen=True, slots=True)
class ProductTotal:
    """Quantity and money of one product (``product_id`` None: free amounts)."""

    product_id: int | None
    name: str
    qty: int
    amount: int


@dataclass(frozen=True, slots=True)
class ShiftReport:
    """What a till took since ``since_ms`` (net of refunds and voids)."""

    since_ms: int
    until_ms: int
    staff_id: int | None
    sales_count: int = 0
    sales_amount: int = 0
    refunds_count: int = 0
    refunds_amount: int = 0
    voids_count: int = 0
    voids_amount: int = 0
    deposit_returns_count: int = 0  # returns-only baskets: cups back, deposits paid onto wallets
    deposit_returns_amount: int = 0
    topups_count: int = 0  # booked (or sent and waiting), without the ones held in doubt or refused
    topups_amount: int = 0
    cash_received: int = 0  # tendered for those top-ups (the change given is the difference)
    cashouts_count: int = 0  # cash paid out of wallets at this desk
    cashouts_amount: int = 0
    doubts_open_count: int = 0  # top-ups in doubt now: keep the cash, do not hand it back yet
    doubts_open_amount: int = 0
    doubts_booked_count: int = 0  # were in doubt, then booked by a push (in the top-up totals above)
    doubts_booked_amount: int = 0
    doubts_refused_count: int = 0  # were in doubt, then refused: the cash goes back to the customer
    doubts_refused_amount: int = 0
    checkins_count: int = 0
    offline_count: int = 0
    unsynced_count: int = 0
    unsynced_amount: int = 0
    refused_count: int = 0  # records the server refused (conflict/rejected): to investigate
    reversals_count: int = 0  # online sales reversed because their answer never came (not in the totals)
    approved_count: int = 0  # refunds and voids in the totals that another staff member (a supervisor) approved
    products: list[ProductTotal] = field(default_factory=list)

    @property
    def net_sales(self) -> int:
        """Sales minus refunds, voids and deposits given back for cups alone (what the till took, net)."""
        return self.sales_amount - self.refunds_amount - self.voids_amount - self.deposit_returns_amount

    @property
    def change_given(self) -> int:
        """Cash handed back as change on the top-ups (tendered minus the amounts loaded)."""
        return self.cash_received - self.topups_amount

    @property
    def cash_expected(self) -> int:
        """Cash this shift put in the drawer: tendered − change − cash-outs (the start float not included)."""
        return self.cash_received - self.change_given - self.cashouts_amount

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        data = asdict(self)
        data["net_sales"] = self.net_sales
        data["change_given"] = self.change_given
        data["cash_expected"] = self.cash_expected
        return data


# Every query reads the window [since, until) for one staff member (or all when :staff is NULL).  A staff
# member's window is their session: refunds and voids booked in it count whoever approved them (a supervisor
# approving at the cashier's till books under the supervisor's id, but the till is the cashier's).
# The clause, written out in each query below:
#   (:staff IS NULL OR l.staff_id = :staff OR (l.kind IN ('refund', 'void') AND l.created_at > :since))
# (strictly after the session began: a refund in the very millisecond of the login was the previous session's.)
_TOTALS = ("SELECT l.kind, COUNT(*), COALESCE(SUM(l.amount), 0) FROM ledger l "
           "WHERE l.created_at >= :since AND l.created_at < :until AND "
           "(:staff IS NULL OR l.staff_id = :staff OR (l.kind IN ('refund', 'void') AND l.created_at > :since)) "
           "AND (l.ack_status IS NULL OR l.ack_status IN ('applied', 'duplicate')) "
           "AND l.auto = 0 AND NOT EXISTS (SELECT 1 FROM ledger v WHERE v.ref_id = l.id AND v.auto = 1) "
           "AND NOT EXISTS (SELECT 1 FROM topup_doubts d WHERE d.id = l.id AND d.state != 'booked') "
           "GROUP BY l.kind")
_TOPUP_BODIES = ("SELECT l.body FROM ledger l WHERE l.kind = 'topup' "
                 "AND l.created_at >= :since AND l.created_at < :until AND "
           "(:staff IS NULL OR l.staff_id = :staff OR (l.kind IN ('refund', 'void') AND l.created_at > :since)) "
                 "AND (l.ack_status IS NULL OR l.ack_status IN ('applied', 'duplicate')) "
                 "AND NOT EXISTS (SELECT 1 FROM topup_doubts d WHERE d.id = l.id AND d.state != 'booked')")
_DOUBTS = ("SELECT d.state, COUNT(*), COALESCE(SUM(d.amount), 0) FROM topup_doubts d JOIN ledger l ON l.id = d.id "
           "WHERE d.kind = 'topup' AND l.created_at >= :since AND l.created_at < :until "
           "AND (:staff IS NULL OR l.staff_id = :staff) "
           "GROUP BY d.state")
_FLAGS = ("SELECT COALESCE(SUM(l.mode = 'offline' AND l.kind != 'checkin'), 0), "
          "COALESCE(SUM(l.ack_status IN ('conflict', 'rejected')), 0) FROM ledger l "
          "WHERE l.created_at >= :since AND l.created_at < :until AND "
           "(:staff IS NULL OR l.staff_id = :staff OR (l.kind IN ('refund', 'void') AND l.created_at > :since))")
_UNSYNCED = ("SELECT COUNT(*), COALESCE(SUM(l.amount), 0) FROM outbox o JOIN ledger l ON l.id = o.record_id "
             "WHERE l.created_at >= :since AND l.created_at < :until AND "
           "(:staff IS NULL OR l.staff_id = :staff OR (l.kind IN ('refund', 'void') AND l.created_at > :since))")
_PRODUCTS = ("SELECT s.product_id, p.name, SUM(s.qty), SUM(s.qty * s.unit_price) FROM sale_lines s "
             "JOIN ledger l ON l.id = s.record_id LEFT JOIN products p ON p.id = s.product_id "
             "WHERE l.kind = 'sale' "
             "AND l.created_at >= :since AND l.created_at < :until AND "
           "(:staff IS NULL OR l.staff_id = :staff OR (l.kind IN ('refund', 'void') AND l.created_at > :since)) "
             "AND (l.ack_status IS NULL OR l.ack_status IN ('applied', 'duplicate')) "
             "AND l.auto = 0 AND NOT EXISTS (SELECT 1 FROM ledger v WHERE v.ref_id = l.id AND v.auto = 1) "
             "GROUP BY s.product_id ORDER BY s.product_id")
_REVERSALS = ("SELECT COUNT(*) FROM ledger l WHERE l.auto = 1 "
              "AND l.created_at >= :since AND l.created_at < :until AND (:staff IS NULL OR l.staff_id = :staff)")
_APPROVED = ("SELECT COUNT(*) FROM ledger l WHERE l.kind IN ('refund', 'void') AND l.auto = 0 AND :staff IS NOT NULL "
             "AND l.staff_id != :staff AND l.created_at > :since AND l.created_at < :until "
             "AND (l.ack_status IS NULL OR l.ack_status IN ('applied', 'duplicate'))")


def shift_report(store: Store, *, since_ms: int, until_ms: int, staff_id: int | None = None) -> ShiftReport:
    """Sum the local ledger between two times, for one staff member or the whole terminal."""
    params = {"since": since_ms, "until": until_ms, "staff": staff_id}
    conn = store.conn
    totals = {str(kind): (int(count), int(amount)) for kind, count, amount in conn.execute(_TOTALS, params)}
    cash = sum(int(json.loads(body).get("cash_received", 0)) for (body,) in conn.execute(_TOPUP_BODIES, params))
    doubts = {str(state): (int(n), int(amount)) for state, n, amount in conn.execute(_DOUBTS, params)}
    offline, refused = conn.execute(_FLAGS, params).fetchone()
    (reversals,) = conn.execute(_REVERSALS, params).fetchone()
    (approved,) = conn.execute(_APPROVED, params).fetchone()
    unsynced_count, unsynced_amount = conn.execute(_UNSYNCED, params).fetchone()
    products = [ProductTotal(pid, name or ("free amount" if pid is None else f"#{pid}"), int(qty), int(amount))
                for pid, name, qty, amount in conn.execute(_PRODUCTS, params)]

    def total(kind: str) -> tuple[int, int]:
        return totals.get(kind, (0, 0))

    return ShiftReport(
        since_ms=since_ms, until_ms=until_ms, staff_id=staff_id,
        sales_count=total("sale")[0], sales_amount=total("sale")[1],
        refunds_count=total("refund")[0], refunds_amount=total("refund")[1],
        voids_count=total("void")[0], voids_amount=total("void")[1],
        deposit_returns_count=total("deposit_return")[0], deposit_returns_amount=total("deposit_return")[1],
        topups_count=total("topup")[0], topups_amount=total("topup")[1],
        cashouts_count=total("cashout")[0], cashouts_amount=total("cashout")[1],
        cash_received=cash, checkins_count=total("checkin")[0],
        doubts_open_count=doubts.get("in_doubt", (0, 0))[0], doubts_open_amount=doubts.get("in_doubt", (0, 0))[1],
        doubts_booked_count=doubts.get("booked", (0, 0))[0], doubts_booked_amount=doubts.get("booked", (0, 0))[1],
        doubts_refused_count=doubts.get("refused", (0, 0))[0],
        doubts_refused_amount=doubts.get("refused", (0, 0))[1],
        offline_count=int(offline), refused_count=int(refused), reversals_count=int(reversals),
        approved_count=int(approved),
        unsynced_count=int(unsynced_count), unsynced_amount=int(unsynced_amount), products=products)


_UNSYNCED_SOLD = ("SELECT s.product_id, SUM(CASE WHEN l.kind = 'refund' THEN -s.qty ELSE s.qty END) FROM sale_lines s "
                  "JOIN outbox o ON o.record_id = s.record_id JOIN ledger l ON l.id = s.record_id "
                  "WHERE l.kind IN ('sale', 'refund') AND s.product_id IS NOT NULL "
                  "AND NOT EXISTS (SELECT 1 FROM ledger v WHERE v.ref_id = l.id AND v.kind = 'void') "
                  "GROUP BY s.product_id")


def unsynced_sold(store: Store) -> dict[int, int]:
    """Quantity per product this terminal sold that the server has not been sent yet (voided sales left out,
    items refunded by item given back)."""
    return {int(pid): int(qty) for pid, qty in store.conn.execute(_UNSYNCED_SOLD)}


def stock_left(store: Store, products: list[Any]) -> list[Any]:
    """``products`` (ProductRow) with each counted stock lowered by what this terminal sold and has not sent.

    The pulled stock already counts the sales the server has booked; the ones still in the outbox are
    this terminal's own, known only here.
    """
    sold = unsynced_sold(store)
    out = []
    for product in products:
        if product.stock is not None and sold.get(product.id):
            product = product.model_copy(update={"stock": product.stock - sold[product.id]})
        out.append(product)
    return out
