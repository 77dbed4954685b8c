"""Terminal records on the server: check the signature, then book each record at most once.

``check_record`` verifies a ``SignedRecord`` against the terminal's enrolled
key *before* it looks at the body, then validates the body as ``RecordBody``.
``RecordApplier`` books checked records inside one database transaction:

* a known id with the same body hash returns the stored result (duplicate);
* a known id with another body is a conflict (422) and a security anomaly;
* an offline sale is a fact: booked even if it overdraws the wallet, which is
  flagged and, past the event's overdraft tolerance, blocked;
* ``online=True`` (authorize) declines instead: insufficient balance, blocked
  wallet, missing permission; a decline books nothing and stores nothing.

Check-ins are facts too (the gate let the person in); what gates could not know
offline becomes an anomaly: a single-entry ticket admitted at two terminals
(``duplicate_entry``), a re-entry ticket admitted again with no exit between in
the order of the gates' clocks (``passback``; records arrive out of order, so
each check-in is placed in the ticket's whole timeline, and an exit that arrives
later between the two entries resolves the anomaly it explains), and an entry
after the ticket's revocation (``revoked_entry``).
"""

from __future__ import annotations

import bisect
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import Connection, func, select, text

from server import authority, drawers
from server.anomalies import mark_resolved, security_log
from server.audit import audit
from server.auth import TerminalCaller
from server.db import tables as t
from server.ledger import AccountState, LedgerBatch, ensure_account
from server.staff import Access, load_access
from sync.errors import RecordSignatureError
from sync.records import REVERSAL_REASON, body_hash, canonical_json, verify_record
from sync.schemas import (
    CashOutRecord,
    CheckInRecord,
    DepositReturnRecord,
    DrawerRecord,
    EventSettings,
    ItemStatus,
    PushItemResult,
    RecordBody,
    RefundRecord,
    SaleRecord,
    SignedRecord,
    TopUpRecord,
    VoidRecord,
)

if TYPE_CHECKING:
    from collections.abc import Iterable

    from server.hotcache import CacheView

__all__ = ["SYSTEM_CASHOUTS", "Checked", "Outcome", "RecordApplier", "check_record", "refunded_of"]

_BODY = TypeAdapter(RecordBody)
_TICKET_LOCKS = 1 << 48  # advisory lock keys of tickets (ids are below 2**40)
# Volatile functions in the select list run after ORDER BY: the locks are taken in key order.
_LOCK_TICKETS = text("SELECT pg_advisory_xact_lock(k) FROM unnest(CAST(:keys AS bigint[])) "
                     "WITH ORDINALITY AS u(k, n) ORDER BY n")
Body = (SaleRecord | RefundRecord | VoidRecord | TopUpRecord | CashOutRecord | DrawerRecord | CheckInRecord
        | DepositReturnRecord)
SYSTEM_CASHOUTS = 5  # the other side of cash paid out of wallets at the desks (terminal cash-out records)
STALL_KINDS = ("stall_revenue", "stall_deposit", "stall_discount")  # the accounts a sale pays into, per stall


@dataclass(slots=True)
class Checked:
    """A pushed record after the signature and schema checks."""

    id: str
    signed: SignedRecord
    body: Body | None = None
    hash: str = ""
    error: str | None = None
    security: bool = False
    breaches: list[authority.Breach] = field(default_factory=list)  # booked anyway: raised as anomalies


@dataclass(slots=True)
class Outcome:
    """What became of one record; ``status`` None is an online decline (nothing stored)."""

    id: str
    status: ItemStatus | None
    code: int = 200
    reason: str | None = None
    wallet_id: int | None = None
    balance: int | None = None
    seq: int | None = None

    @property
    def booked(self) -> bool:
        """True when the record is (now or earlier) in the ledger."""
        return self.status in (ItemStatus.APPLIED, ItemStatus.DUPLICATE)

    def result(self) -> PushItemResult:
        """The wire form for push."""
        return PushItemResult(id=self.id, status=self.status or ItemStatus.REJECTED, code=self.code,
                              reason=self.reason, wallet_id=self.wallet_id, balance=self.balance, seq=self.seq)


def _first_error(exc: ValidationError) -> str:
    err = exc.errors(include_url=False)[0]
    where = ".".join(str(p) for p in err.get("loc", ()))
    return f"{where}: {err.get('msg', 'invalid')}" if where else str(err.get("msg", "invalid"))


def refunded_of(conn: Connection, sale_txn_ids: Iterable[int]) -> dict[int, int]:
    """What was given back of each sale transaction: every refund or void naming it (terminal or dashboard).

    The one read a refund decides on.  Call it only with the sale's wallet
    account already locked (``LedgerBatch.load`` with ``lock``; on SQLite the
    write transaction is the lock): every refund of a sale posts to that wallet,
    so two refunds of one sale read this one after the other.
    """
    ids = sorted(set(sale_txn_ids))
    if not ids:
        return {}
    x = t.transactions
    return {int(ref): int(total or 0) for ref, total in conn.execute(
        select(x.c.ref_txn, func.sum(x.c.amount))
        .where(x.c.ref_txn.in_(ids), x.c.kind.in_(("refund", "void"))).group_by(x.c.ref_txn))}


def check_record(signed: SignedRecord, terminal: TerminalCaller) -> Checked:
    """Verify the signature, then the body; never raises for bad input."""
    raw_id = signed.body.get("id")
    rid = str(raw_id)[:64] if raw_id is not None else ""
    try:
        canonical_json(signed.body)
    except ValueError as exc:  # a lone surrogate (not UTF-8), a float: refused for this item only
        safe = rid.encode("utf-8", "backslashreplace").decode("utf-8")
        return Checked(safe, signed, error=f"invalid: the body is not canonical JSON ({type(exc).__name__})")
    try:
        verify_record(signed.body, signed.sig, terminal.public_key)
    except RecordSignatureError:
        return Checked(rid, signed, error="bad_signature: the record was altered or signed by another key",
                       security=True)
    try:
        body: Body = _BODY.validate_python(signed.body)
    except ValidationError as exc:
        return Checked(rid, signed, error=f"invalid: {_first_error(exc)}")
    if body.terminal_id != terminal.id:
        return Checked(str(body.id), signed, error="wrong_terminal: terminal_id is not the caller",
                       security=True)
    return Checked(str(body.id), signed, body, body_hash(signed.body))


def _sales_first(items: list[Checked]) -> list[int]:
    """The order to book a batch in: a void that arrived before the sale it names (same batch) moves after it."""
    sale_at = {c.id: i for i, c in enumerate(items) if isinstance(c.body, SaleRecord)}
    order: list[int] = []
    waiting: dict[int, list[int]] = {}
    for i, c in enumerate(items):
        b = c.body
        if isinstance(b, VoidRecord) and sale_at.get(str(b.ref_id), -1) > i:
            waiting.setdefault(sale_at[str(b.ref_id)], []).append(i)
            continue
        order.append(i)
        order.extend(waiting.pop(i, []))
    return order


def _is_reversal(b: VoidRecord, sale: _Sale, terminal_id: int) -> bool:
    """The terminal's own void of its own sale by the same cashier, named as an automatic reversal."""
    return (b.reason.startswith(REVERSAL_REASON) and sale.terminal_id == terminal_id
            and sale.staff_id == b.staff_id and b.amount == sale.amount)


@dataclass(slots=True)
class _Sale:
    wallet_id: int
    stall_id: int
    amount: int
    txn_id: int | None = None
    txn_index: int | None = None
    terminal_id: int | None = None
    staff_id: int | None = None
    split: authority.Split | None = None  # None: all the stall's revenue (a sale without deposits or discounts)
    items: dict[tuple[int, int], int] = field(default_factory=dict)  # (product, unit price) -> qty sold (positive)

    def legs(self) -> authority.Split:
        return self.split if self.split is not None else authority.Split(self.amount, 0, 0)


def sale_legs(conn: Connection, txn_ids: list[int]) -> dict[int, dict[str, int]]:
    """The stall-side legs of sale transactions: txn -> {account kind: amount} (revenue, deposit, discount)."""
    if not txn_ids:
        return {}
    p, a = t.postings, t.accounts
    out: dict[int, dict[str, int]] = {}
    for txn_id, kind, amount in conn.execute(
            select(p.c.txn_id, a.c.kind, p.c.amount).join(a, a.c.id == p.c.account_id)
            .where(p.c.txn_id.in_(sorted(set(txn_ids))), a.c.kind.in_(STALL_KINDS))):
        out.setdefault(int(txn_id), {})[str(kind)] = int(amount)
    return out


def sold_items(lines: Iterable[Any]) -> dict[tuple[int, int], int]:
    """What a sale's body sold that a refund by item may give back: (product, unit price) -> qty.

    Only product lines of positive quantity (goods, deposits taken); a discount, a cup
    brought back and a free amount are refunded by amount.
    """
    out: dict[tuple[int, int], int] = {}
    for line in lines:
        product_id, qty, unit_price = _line(line)
        if product_id is not None and qty > 0:
            out[(product_id, unit_price)] = out.get((product_id, unit_price), 0) + qty
    return out


def _line(line: Any) -> tuple[int | None, int, int]:
    if isinstance(line, dict):
        product = line.get("product_id")
        return (None if product is None else int(product)), int(line["qty"]), int(line["unit_price"])
    return line.product_id, line.qty, line.unit_price


def refunded_items(conn: Connection, sale_ids: Iterable[str]) -> dict[str, dict[tuple[int, int], int]]:
    """What refunds by item already gave back of each sale: sale record id -> (product, unit price) -> qty.

    Read from the refund records' signed bodies, under the same lock as ``refunded_of``.
    """
    ids = sorted(set(sale_ids))
    out: dict[str, dict[tuple[int, int], int]] = {}
    if not ids:
        return out
    r = t.records
    for ref_id, body in conn.execute(select(r.c.ref_id, r.c.body).where(r.c.ref_id.in_(ids), r.c.kind == "refund")):
        lines = json.loads(body).get("lines") or []
        mine = out.setdefault(str(ref_id), {})
        for key, qty in sold_items(lines).items():
            mine[key] = mine.get(key, 0) + qty
    return out


def give_back(split: authority.Split, done: int, amount: int) -> dict[str, int]:
    """Where a refund of ``amount`` (after ``done`` given back already) comes from: account kind -> amount.

    The stall's revenue first, up to what the sale brought it less what was given back; then
    the deposit the sale took (a drink brought back with its cup).  The discount stays where
    it was booked: a refund is of what the wallet paid.
    """
    from_revenue = min(amount, max(0, split.goods - done))
    out = {"stall_revenue": from_revenue}
    if amount > from_revenue:
        out["stall_deposit"] = amount - from_revenue
    return out


class _Passage(NamedTuple):
    """One check-in in a ticket's timeline, in the order of the gates' clocks."""

    created_at: int
    record_id: str
    direction: str
    terminal_id: int
    gate_id: int


@dataclass(slots=True)
class RecordApplier:
    """Books checked records inside one write transaction."""

    conn: Connection
    terminal: TerminalCaller
    settings: EventSettings
    now_ms: int
    lock: bool
    cache: CacheView | None = None  # people's access from the per-process cache (``server.hotcache``)
    batch: LedgerBatch = field(init=False)
    _sales: dict[str, _Sale] = field(default_factory=dict)
    _refunded: dict[str, int] = field(default_factory=dict)
    _refunded_items: dict[str, dict[tuple[int, int], int]] = field(default_factory=dict)  # sale -> items given back
    _product_stall: dict[int, int] = field(default_factory=dict)  # the refund lines' products -> their stall
    _access: dict[int, Access] = field(default_factory=dict)
    _policies: dict[int, str] = field(default_factory=dict)
    _timelines: dict[int, list[_Passage]] = field(default_factory=dict)  # ticket -> its check-ins, sorted
    _revoked_at: dict[int, int] = field(default_factory=dict)  # ticket -> when it was revoked (server clock)
    _passbacks: set[str] = field(default_factory=set)  # check-ins already flagged passback (open or resolved)
    _moved: dict[int, tuple[AccountState, Checked]] = field(default_factory=dict)  # wallet -> its last record
    _stock: dict[int, tuple[int | None, bool]] = field(default_factory=dict)  # product -> (stock, sold out), locked
    _clock: authority.TerminalClock | None = None  # the terminal's clock window (pushes)
    _offline: authority.OfflineSaleCheck | None = None  # what an honest terminal could approve (pushes)
    _catalog: authority.Catalog = field(default_factory=lambda: authority.Catalog({}, {}))  # the sales' products

    def __post_init__(self) -> None:
        self.batch = LedgerBatch(self.conn, lock=self.lock, now_ms=self.now_ms)

    # ------------------------------------------------------------ the batch

    def run(self, items: list[Checked], *, online: bool = False, carried: int = 0) -> list[Outcome]:
        """Book ``items`` in order and flush; returns one outcome per item.

        With ``online`` the first ``carried`` items are the terminal's unsynced
        records of the wallet sent along with an authorization: they are booked
        as facts, exactly as a push would (a known id is a duplicate, never
        counted twice), before the last items are decided online on the balance
        that now includes them.  Overdraft is judged once per wallet after the
        whole batch, so a sale and the void that reverses it are one unit.
        """
        good = [c for c in items if c.body is not None]
        self._prepare(good)
        if not online:
            self._prepare_authority(good)
        existing = self._existing([c.id for c in good])
        seen: dict[str, tuple[str, Outcome]] = {}
        outcomes: list[Outcome | None] = [None] * len(items)
        for i in _sales_first(items):
            c = items[i]
            item_online = online and i >= carried
            if c.error is not None:
                out = Outcome(c.id, ItemStatus.REJECTED, 422, c.error)
                if c.security:
                    security_log.warning("refused record %s from terminal %s: %s", c.id, self.terminal.id, c.error)
                    self.batch.anomaly("record_refused", severity="security", terminal_id=self.terminal.id,
                                       record_id=c.id or None, detail={"reason": c.error, "body": c.signed.body})
            elif c.id in seen or c.id in existing:
                stored_hash, stored = seen[c.id] if c.id in seen else existing[c.id]
                out = self._again(c, stored_hash, stored)
            else:
                out = self._apply(c, online=item_online)
                if out.booked:
                    seen[c.id] = (c.hash, out)
            outcomes[i] = out
        self._judge()
        self.batch.anomalies = authority.fold_flood(self.conn, self.terminal.id, self.batch.anomalies,
                                                    now_ms=self.now_ms)
        self.batch.flush()
        return [o for o in outcomes if o is not None]

    def _again(self, c: Checked, stored_hash: str, stored: Outcome) -> Outcome:
        if stored_hash == c.hash:
            return Outcome(c.id, ItemStatus.DUPLICATE, 200, None, stored.wallet_id, stored.balance, stored.seq)
        security_log.warning("record %s re-sent with a different body by terminal %s", c.id, self.terminal.id)
        self.batch.anomaly("record_conflict", severity="security", terminal_id=self.terminal.id, record_id=c.id,
                           detail={"stored_hash": stored_hash, "sent_hash": c.hash, "body": c.signed.body})
        return Outcome(c.id, ItemStatus.CONFLICT, 422, "conflict: this id was booked with a different body")

    def _prepare(self, good: list[Checked]) -> None:
        keys: set[tuple[str, int]] = set()
        staff: set[int] = set()
        refs: set[str] = set()
        tickets: set[int] = set()
        for c in good:
            b = c.body
            assert b is not None
            staff.add(b.staff_id)
            if isinstance(b, SaleRecord | RefundRecord | VoidRecord):
                keys |= {("wallet", b.wallet_id), ("stall_revenue", b.stall_id), ("stall_deposit", b.stall_id),
                         ("stall_discount", b.stall_id)}
                if not isinstance(b, SaleRecord):
                    refs.add(str(b.ref_id))
                    if b.supervisor_id is not None:
                        staff.add(b.supervisor_id)
            elif isinstance(b, DepositReturnRecord):
                keys |= {("wallet", b.wallet_id), ("stall_deposit", b.stall_id)}
            elif isinstance(b, TopUpRecord):
                keys |= {("wallet", b.wallet_id), ("cash_drawer", self.terminal.id)}
            elif isinstance(b, CashOutRecord):
                if ("system", SYSTEM_CASHOUTS) not in keys:
                    ensure_account(self.conn, "system", SYSTEM_CASHOUTS, now_ms=self.now_ms, name="cash-outs")
                keys |= {("wallet", b.wallet_id), ("system", SYSTEM_CASHOUTS)}
            elif isinstance(b, DrawerRecord):
                if ("system", drawers.SYSTEM_IMBALANCE) not in keys:
                    ensure_account(self.conn, "system", drawers.SYSTEM_IMBALANCE, now_ms=self.now_ms, name="imbalance")
                keys |= {("cash_drawer", self.terminal.id), ("system", drawers.SYSTEM_IMBALANCE)}
            else:
                tickets.add(b.ticket_id)
        sales = [c.body for c in good if isinstance(c.body, SaleRecord | DepositReturnRecord)]
        self._catalog = authority.load_catalog(self.conn, sales)
        for stall_id in sorted(self._catalog.free_amount):  # the sales' known stalls: made with the stall
            ensure_account(self.conn, "stall_deposit", stall_id, now_ms=self.now_ms, name="deposits")
            ensure_account(self.conn, "stall_discount", stall_id, now_ms=self.now_ms, name="discounts")
        self.batch.load(keys)  # locks first, so the duplicate check below sees committed rivals
        products = sorted({ln.product_id for c in good if isinstance(c.body, SaleRecord)
                           for ln in c.body.lines if ln.product_id is not None})
        # The stall's revenue account (locked above) already serializes the sales of its products; the row
        # lock keeps the stock exact for a sale naming another stall's product. After the accounts, in id order.
        if products:
            p = t.products
            query = select(p.c.id, p.c.stock, p.c.sold_out).where(p.c.id.in_(products)).order_by(p.c.id)
            if self.lock:
                query = query.with_for_update()
            self._stock = {int(r.id): (None if r.stock is None else int(r.stock), bool(r.sold_out))
                           for r in self.conn.execute(query)}
        self._access = self.cache.access(staff) if self.cache is not None else load_access(self.conn, staff)
        r = t.records
        if refs:
            for row in self.conn.execute(select(r.c.id, r.c.wallet_id, r.c.stall_id, r.c.amount, r.c.txn_id,
                                                r.c.terminal_id, r.c.staff_id, r.c.body)
                                         .where(r.c.id.in_(sorted(refs)), r.c.kind == "sale")):
                self._sales[row.id] = _Sale(int(row.wallet_id), int(row.stall_id), int(row.amount), row.txn_id,
                                            terminal_id=row.terminal_id, staff_id=row.staff_id,
                                            items=sold_items(json.loads(row.body).get("lines") or []))
            for txn_id, legs in sale_legs(self.conn, [s.txn_id for s in self._sales.values()
                                                      if s.txn_id is not None]).items():
                for sale in self._sales.values():
                    if sale.txn_id == txn_id:
                        sale.split = authority.Split(legs.get("stall_revenue", 0), -legs.get("stall_discount", 0),
                                                     legs.get("stall_deposit", 0))
            # What was given back of each sale: every refund or void transaction naming it, whether it
            # came from a terminal record or from the dashboard (which books no terminal record).
            by_txn = {sale.txn_id: ref for ref, sale in self._sales.items() if sale.txn_id is not None}
            for ref_txn, total in refunded_of(self.conn, by_txn).items():
                self._refunded[by_txn[ref_txn]] = total
            self._refunded_items = refunded_items(self.conn, self._sales)
        item_products = sorted({ln.product_id for c in good if isinstance(c.body, RefundRecord) for ln in c.body.lines})
        if item_products:
            p = t.products
            self._product_stall = {int(i): int(s) for i, s in self.conn.execute(
                select(p.c.id, p.c.stall_id).where(p.c.id.in_(item_products)))}
        if tickets:
            tt = t.ticket_types
            self._policies = {int(i): p for i, p in self.conn.execute(select(tt.c.id, tt.c.policy))}
            if self.lock:  # PostgreSQL: one push at a time per ticket, so two gates' entries see each other;
                # in id order, so two pushes never wait for each other in a cycle
                self.conn.execute(_LOCK_TICKETS, {"keys": [_TICKET_LOCKS + i for i in sorted(tickets)]}).all()
            ci = t.checkins
            for seen in self.conn.execute(
                    select(ci.c.ticket_id, ci.c.terminal_id, ci.c.gate_id, ci.c.direction, ci.c.created_at,
                           ci.c.record_id).where(ci.c.ticket_id.in_(sorted(tickets)))):
                self._timelines.setdefault(int(seen.ticket_id), []).append(_Passage(
                    int(seen.created_at), seen.record_id, seen.direction, int(seen.terminal_id), int(seen.gate_id)))
            for line in self._timelines.values():
                line.sort()
            rv = t.revocations
            self._revoked_at = {int(ref): int(at) for ref, at in self.conn.execute(
                select(rv.c.ref, rv.c.created_at).where(rv.c.kind == "ticket", rv.c.ref.in_(sorted(tickets)),
                                                         rv.c.revoked.is_(True)))}
            known = sorted({p.record_id for line in self._timelines.values() for p in line})
            an = t.anomalies
            for start in range(0, len(known), 500):
                self._passbacks.update(rid for (rid,) in self.conn.execute(
                    select(an.c.record_id).where(an.c.kind == "passback",
                                                 an.c.record_id.in_(known[start:start + 500]))))

    def _prepare_authority(self, good: list[Checked]) -> None:
        """For a push: the terminal's clock window and the catalog its sales name (``server.authority``)."""
        self._clock = authority.terminal_clock(self.conn, self.terminal.id)
        voids = [c.body for c in good if isinstance(c.body, VoidRecord)]
        self._offline = authority.OfflineSaleCheck(self.settings, self._catalog, authority.own_reversals(voids))

    def _security(self, c: Checked, breaches: list[authority.Breach], *, wallet_id: int | None = None) -> None:
        """Raise each breach of a booked record as a security anomaly naming the terminal."""
        for breach in breaches:
            self.batch.anomaly(breach.code, severity="security", terminal_id=self.terminal.id, record_id=c.id,
                               wallet_id=wallet_id, detail={**breach.detail, "terminal": self.terminal.name})

    def _existing(self, ids: list[str]) -> dict[str, tuple[str, Outcome]]:
        if not ids:
            return {}
        r = t.records
        out: dict[str, tuple[str, Outcome]] = {}
        query = select(r.c.id, r.c.body_hash, r.c.wallet_id, r.c.balance_after, r.c.seq_after).where(
            r.c.id.in_(sorted(set(ids))))
        for row in self.conn.execute(query):
            out[row.id] = (row.body_hash, Outcome(row.id, ItemStatus.APPLIED, 200, None, row.wallet_id,
                                                  row.balance_after, row.seq_after))
        return out

    # ------------------------------------------------------------ one record

    def _place(self, c: Checked, b: CheckInRecord, *, reentry: bool) -> None:
        """Put a check-in into its ticket's timeline; for re-entry, flag entries with no exit between, or clear one."""
        line = self._timelines.setdefault(b.ticket_id, [])
        here = _Passage(b.created_at, c.id, b.direction, self.terminal.id, b.gate_id)
        at = bisect.bisect_left(line, here)
        before = line[at - 1] if at > 0 else None
        after = line[at] if at < len(line) else None
        line.insert(at, here)
        if not reentry:
            return
        if b.direction == "in":
            if before is not None and before.direction == "in":
                self._passback(b.ticket_id, earlier=before, later=here)
            if after is not None and after.direction == "in":  # this entry arrived late: the next one had no exit
                self._passback(b.ticket_id, earlier=here, later=after)
        elif before is not None and after is not None and before.direction == after.direction == "in":
            self._explained(after, by=here)

    def _passback(self, ticket_id: int, *, earlier: _Passage, later: _Passage) -> None:
        if later.record_id in self._passbacks:
            return
        self._passbacks.add(later.record_id)
        self.batch.anomaly("passback", terminal_id=later.terminal_id, record_id=later.record_id,
                           detail={"ticket_id": ticket_id, "entered_at": later.created_at, "gate_id": later.gate_id,
                                   "already_in_since": earlier.created_at, "earlier_gate_id": earlier.gate_id,
                                   "earlier_record_id": earlier.record_id})

    def _explained(self, entry: _Passage, *, by: _Passage) -> None:
        """An exit synced late falls between two entries: the later entry's passback was no passback."""
        pending = [a for a in self.batch.anomalies if a["kind"] == "passback" and a["record_id"] == entry.record_id]
        for queued in pending:  # raised in this very batch: never written
            self.batch.anomalies.remove(queued)
            self._passbacks.discard(entry.record_id)
        if pending:
            return
        an = t.anomalies
        for (anomaly_id,) in self.conn.execute(select(an.c.id).where(
                an.c.kind == "passback", an.c.record_id == entry.record_id, an.c.resolved_at.is_(None))).all():
            mark_resolved(self.conn, anomaly_id, staff_id=None, now_ms=self.now_ms)
            audit(self.conn, actor="server", action="anomaly.resolve", now_ms=self.now_ms, anomaly_id=anomaly_id,
                  resolution="explained", note=f"an exit at gate {by.gate_id} (record {by.record_id}) synced later "
                  "falls between the two entries")

    def _apply(self, c: Checked, *, online: bool) -> Outcome:
        b = c.body
        assert b is not None
        now_s = (self.now_ms if online else b.created_at) // 1000
        own = None
        if isinstance(b, RefundRecord | VoidRecord):
            own = self._sales.get(str(b.ref_id))
        verdict = authority.judge(self.terminal, b, self._access, received_ms=self.now_ms, online=online,
                                  clock=self._clock, own_reversal=own is not None and own.terminal_id ==
                                  self.terminal.id and own.staff_id == b.staff_id)
        if verdict.breaches and (online or verdict.refused):
            if online:
                return Outcome(c.id, None, 422 if "not_online" in verdict.reason else 200,
                               "authorize takes sale and topup records" if "not_online" in verdict.reason
                               else "forbidden")
            if verdict.clock is not None:
                self._security(c, [verdict.clock])
            self.batch.anomaly("record_refused", severity="security", terminal_id=self.terminal.id, record_id=c.id,
                               wallet_id=getattr(b, "wallet_id", None),
                               detail={"reason": verdict.reason, "terminal": self.terminal.name,
                                       "breaches": [x.code for x in verdict.breaches], "body": c.signed.body})
            return Outcome(c.id, ItemStatus.REJECTED, 422, verdict.reason)
        c.breaches = verdict.breaches + ([verdict.clock] if verdict.clock is not None else [])
        if isinstance(b, SaleRecord):
            return self._sale(c, b, online=online, now_s=now_s)
        if isinstance(b, RefundRecord | VoidRecord):
            if online:
                return Outcome(c.id, None, 422, "authorize takes sale and topup records")
            return self._refund(c, b, now_s=now_s)
        if isinstance(b, DepositReturnRecord):
            return self._deposit_return(c, b, online=online)
        if isinstance(b, TopUpRecord):
            return self._topup(c, b, online=online, now_s=now_s)
        if isinstance(b, CashOutRecord):
            return self._cashout(c, b, online=online)
        if isinstance(b, DrawerRecord):
            if online:
                return Outcome(c.id, None, 422, "authorize takes sale and topup records")
            return self._drawer(c, b)
        if online:
            return Outcome(c.id, None, 422, "authorize takes sale and topup records")
        assert isinstance(b, CheckInRecord)
        return self._checkin(c, b, now_s=now_s)

    def _reject(self, c: Checked, reason: str, *, online: bool, anomaly: str | None = None,
                **detail: Any) -> Outcome:
        if online:
            return Outcome(c.id, None, 200, reason)
        if anomaly:
            self.batch.anomaly(anomaly, terminal_id=self.terminal.id, record_id=c.id,
                               wallet_id=getattr(c.body, "wallet_id", None), detail={"reason": reason, **detail})
        return Outcome(c.id, ItemStatus.REJECTED, 422, reason)

    def _store(self, c: Checked, *, txn_index: int | None, online: bool, wallet: AccountState | None = None,
               stall_id: int | None = None, amount: int | None = None, ref_id: str | None = None) -> Outcome:
        b = c.body
        assert b is not None
        self.batch.records.append({
            "id": c.id, "terminal_id": self.terminal.id, "kind": b.kind, "body_hash": c.hash,
            "body": canonical_json(c.signed.body).decode("utf-8"), "sig": c.signed.sig, "txn_index": txn_index,
            "wallet_id": wallet.ref if wallet else None, "stall_id": stall_id, "staff_id": b.staff_id,
            "amount": amount, "ref_id": ref_id, "balance_after": wallet.balance if wallet else None,
            "seq_after": wallet.seq if wallet else None, "online": online, "created_at": b.created_at,
            "received_at": self.now_ms,
        })
        if wallet is None:
            return Outcome(c.id, ItemStatus.APPLIED, 200)
        return Outcome(c.id, ItemStatus.APPLIED, 200, None, wallet.ref, wallet.balance, wallet.seq)

    def _sale(self, c: Checked, b: SaleRecord, *, online: bool, now_s: int) -> Outcome:
        wallet = self.batch.account("wallet", b.wallet_id)
        revenue = self.batch.account("stall_revenue", b.stall_id)
        if wallet is None:
            return self._reject(c, "unknown_wallet", online=online, anomaly="unknown_wallet")
        if revenue is None:
            return self._reject(c, "unknown_stall", online=online, anomaly="unknown_stall")
        split = authority.split_sale(b, self._catalog)
        deposit = self.batch.account("stall_deposit", b.stall_id)
        discount = self.batch.account("stall_discount", b.stall_id)
        assert deposit is not None and discount is not None  # made in _prepare
        over_returned = split.deposits < 0 and deposit.balance + split.deposits < 0
        if online:
            if wallet.blocked:
                return Outcome(c.id, None, 200, "wallet_blocked")
            if not self.settings.is_open(self.now_ms):  # the event's opening hours, on the server's clock
                return Outcome(c.id, None, 200, "closed", wallet.ref, wallet.balance, wallet.seq)
            if authority.line_doubts(b, self._catalog):
                return Outcome(c.id, None, 200, "line_refused", wallet.ref, wallet.balance, wallet.seq)
            if over_returned:
                return Outcome(c.id, None, 200, "deposit_not_held", wallet.ref, wallet.balance, wallet.seq)
            if wallet.balance < b.amount:
                return Outcome(c.id, None, 200, "insufficient_balance", wallet.ref, wallet.balance, wallet.seq)
            if self._short_of_stock(b):
                return Outcome(c.id, None, 200, "sold_out", wallet.ref, wallet.balance, wallet.seq)
        else:
            if over_returned:  # handed over already: booked, and the stall's deposit account goes below zero
                self.batch.anomaly("deposit_not_held", terminal_id=self.terminal.id, record_id=c.id,
                                   wallet_id=wallet.ref, detail={"stall_id": b.stall_id, "held": deposit.balance,
                                                                 "returned": -split.deposits})
            doubts = self._offline.doubts(c.id, b) if self._offline is not None else []
            self._security(c, c.breaches + doubts, wallet_id=wallet.ref)
            if not self.settings.is_open(b.created_at):  # handed over already: booked, and raised
                self.batch.anomaly("outside_hours", terminal_id=self.terminal.id, record_id=c.id,
                                   wallet_id=wallet.ref, detail={"amount": b.amount, "stall_id": b.stall_id,
                                                                 "created_at": b.created_at})
            if wallet.blocked:
                self.batch.anomaly("blocked_wallet_sale", terminal_id=self.terminal.id, record_id=c.id,
                                   wallet_id=wallet.ref, detail={"amount": b.amount})
            for product_id, left, qty in self._short_of_stock(b):  # handed over already: booked, and flagged
                self.batch.anomaly("oversold", terminal_id=self.terminal.id, record_id=c.id, wallet_id=wallet.ref,
                                   detail={"product_id": product_id, "stock": left, "qty": qty,
                                           "stall_id": b.stall_id})
        legs = [(wallet, -b.amount), (revenue, split.goods), (discount, -split.discounts), (deposit, split.deposits)]
        index = self.batch.post("sale", [(acc, amount) for acc, amount in legs if amount], record_id=c.id,
                                terminal_id=self.terminal.id, staff_id=b.staff_id, amount=b.amount)
        self._sales[c.id] = _Sale(b.wallet_id, b.stall_id, b.amount, txn_index=index, terminal_id=self.terminal.id,
                                  staff_id=b.staff_id, split=split, items=sold_items(b.lines))
        foreign = self._offline.catalog.products if self._offline is not None else None
        for line in b.lines:  # another stall's product (a breach above) keeps its stock
            if line.product_id is not None and (foreign is None or foreign.get(line.product_id, (b.stall_id,))[0]
                                                == b.stall_id):
                self.batch.stock[line.product_id] = self.batch.stock.get(line.product_id, 0) + line.qty
        self._overdraft(wallet, c)
        return self._store(c, txn_index=index, online=online, wallet=wallet, stall_id=b.stall_id, amount=b.amount)

    def _short_of_stock(self, b: SaleRecord) -> list[tuple[int, int, int]]:
        """The counted products of ``b`` that this batch has too few of: (product, units left, units asked).

        Units left are the stock read under lock in ``_prepare`` less what this batch already sold;
        a product switched to sold out has none left. Products that are not counted never run short.
        """
        asked: dict[int, int] = {}
        for line in b.lines:
            if line.product_id is not None:
                asked[line.product_id] = asked.get(line.product_id, 0) + line.qty
        short = []
        for product_id, qty in sorted(asked.items()):
            stock, sold_out = self._stock.get(product_id, (None, False))
            if stock is None and not sold_out:
                continue
            left = 0 if sold_out else max(0, (stock or 0) - self.batch.stock.get(product_id, 0))
            if qty > left:
                short.append((product_id, left, qty))
        return short

    def _overdraft(self, wallet: AccountState, c: Checked) -> None:
        """Note that ``c`` moved the wallet; it is judged once, after the whole batch (``_judge``)."""
        self._moved[wallet.ref] = (wallet, c)

    def _judge(self) -> None:
        """Flag, block, or clear each wallet this batch moved, on its balance after the batch.

        A compensating record (void, refund, late top-up) re-judges the wallet: an
        overdraft that is covered again is resolved, and a block the server put for
        overdraft that the tolerance no longer calls for is lifted; both are audited
        as the server's own.
        """
        for wallet, c in self._moved.values():
            if wallet.balance >= 0:
                if wallet.overdrawn:
                    wallet.overdrawn = False
                    wallet.dirty = True
                    self._resolve(wallet, "overdraft", c)
            elif not wallet.overdrawn:
                wallet.overdrawn = True
                wallet.dirty = True
                self.batch.anomaly("overdraft", terminal_id=self.terminal.id, record_id=c.id, wallet_id=wallet.ref,
                                   detail={"balance": wallet.balance})
            over = -wallet.balance > self.settings.overdraft_tolerance
            if over and not wallet.blocked:
                self.batch.block_wallet(wallet, reason="overdraft")
                self.batch.anomaly("overdraft_blocked", terminal_id=self.terminal.id, record_id=c.id,
                                   wallet_id=wallet.ref,
                                   detail={"balance": wallet.balance, "tolerance": self.settings.overdraft_tolerance})
            elif not over and wallet.blocked and self._blocked_for_overdraft(wallet.ref):
                wallet.blocked = False
                wallet.dirty = True
                self.batch.revocations[("wallet", wallet.ref)] = {"kind": "wallet", "ref": wallet.ref,
                                                                  "revoked": False, "reason": "overdraft covered"}
                audit(self.conn, actor="server", action="wallet.unblock", now_ms=self.now_ms, wallet_id=wallet.ref,
                      balance=wallet.balance, record_id=c.id,
                      note="the overdraft block is no longer deserved: a later record covered the wallet")
                self._resolve(wallet, "overdraft_blocked", c)
        self._moved.clear()

    def _blocked_for_overdraft(self, wallet_id: int) -> bool:
        queued = self.batch.revocations.get(("wallet", wallet_id))
        if queued is not None:
            return bool(queued["revoked"]) and queued["reason"] == "overdraft"
        rv = t.revocations
        reason = self.conn.execute(select(rv.c.reason).where(rv.c.kind == "wallet", rv.c.ref == wallet_id,
                                                             rv.c.revoked.is_(True))).scalar()
        return reason == "overdraft"

    def _resolve(self, wallet: AccountState, kind: str, c: Checked) -> None:
        """Close the wallet's open anomalies of ``kind``: a later record explains them."""
        queued = [a for a in self.batch.anomalies if a["kind"] == kind and a["wallet_id"] == wallet.ref]
        for a in queued:
            self.batch.anomalies.remove(a)
        an = t.anomalies
        for (anomaly_id,) in self.conn.execute(select(an.c.id).where(
                an.c.kind == kind, an.c.wallet_id == wallet.ref, an.c.resolved_at.is_(None))).all():
            mark_resolved(self.conn, anomaly_id, staff_id=None, now_ms=self.now_ms)
            audit(self.conn, actor="server", action="anomaly.resolve", now_ms=self.now_ms, anomaly_id=anomaly_id,
                  resolution="explained", note=f"record {c.id} brought the wallet back to {wallet.balance}")

    def _refund(self, c: Checked, b: RefundRecord | VoidRecord, *, now_s: int) -> Outcome:
        ref = str(b.ref_id)
        sale = self._sales.get(ref)
        if sale is None:
            return self._reject(c, "unknown_sale: the referenced sale is not booked", online=False,
                                anomaly="refund_unknown_sale", ref_id=ref)
        if sale.wallet_id != b.wallet_id or sale.stall_id != b.stall_id:
            return self._reject(c, "mismatch: wallet or stall differ from the sale", online=False,
                                anomaly="refund_mismatch", ref_id=ref)
        done = self._refunded.get(ref, 0)
        remaining = sale.amount - done
        if isinstance(b, VoidRecord) and (b.amount != sale.amount or done):
            return self._reject(c, f"void_mismatch: a void cancels the whole sale ({sale.amount}), "
                                f"{done} already refunded", online=False, anomaly="void_mismatch", ref_id=ref)
        if b.amount > remaining:
            return self._reject(c, f"exceeds_refundable: {remaining} left of {sale.amount}", online=False,
                                anomaly="refund_exceeds_sale", ref_id=ref, amount=b.amount)
        items: dict[tuple[int, int], int] = {}
        if isinstance(b, RefundRecord) and b.lines:
            items = sold_items(b.lines)
            given = self._refunded_items.get(ref, {})
            for (product_id, unit_price), qty in sorted(items.items()):
                sold = sale.items.get((product_id, unit_price), 0)
                if not sold:
                    return self._reject(c, f"line_not_in_sale: product {product_id} at {unit_price} is not a "
                                        "line of the sale", online=False, anomaly="refund_line_mismatch", ref_id=ref,
                                        product_id=product_id, unit_price=unit_price)
                left = sold - given.get((product_id, unit_price), 0)
                if qty > left:
                    return self._reject(c, f"exceeds_item: product {product_id}: {left} of {sold} left to refund",
                                        online=False, anomaly="refund_line_mismatch", ref_id=ref,
                                        product_id=product_id, qty=qty, left=left)
        wallet = self.batch.account("wallet", b.wallet_id)
        assert wallet is not None  # the sale booked against it
        self._security(c, c.breaches, wallet_id=wallet.ref)  # refused above unless only the clock is off
        split = sale.legs()
        if isinstance(b, VoidRecord):  # the sale's own legs, reversed
            back = {"stall_revenue": split.goods, "stall_discount": -split.discounts, "stall_deposit": split.deposits}
        else:
            back = give_back(split, done, b.amount)
        legs = [(wallet, b.amount)]
        for kind, amount in back.items():
            acc = self.batch.account(kind, b.stall_id)
            if amount:
                assert acc is not None  # the sale booked against it
                legs.append((acc, -amount))
        index = self.batch.post(b.kind, legs, record_id=c.id, ref_txn=sale.txn_id, ref_index=sale.txn_index,
                                terminal_id=self.terminal.id, staff_id=b.staff_id, note=b.reason, amount=b.amount)
        self._refunded[ref] = done + b.amount
        if items:
            given = self._refunded_items.setdefault(ref, {})
            for (product_id, unit_price), qty in items.items():
                given[(product_id, unit_price)] = given.get((product_id, unit_price), 0) + qty
                if self._product_stall.get(product_id) == b.stall_id:  # counted stock back (uncounted: no-op)
                    self.batch.stock[product_id] = self.batch.stock.get(product_id, 0) - qty
        if (isinstance(b, VoidRecord) and b.reason.startswith(authority.REVERSAL_PREFIX)
                and sale.terminal_id == self.terminal.id):
            self._explain_reversed(ref, c)
        self._overdraft(wallet, c)
        return self._store(c, txn_index=index, online=False, wallet=wallet, stall_id=b.stall_id, amount=b.amount,
                           ref_id=ref)

    def _explain_reversed(self, sale_id: str, c: Checked) -> None:
        """Close the offline-limit flags of a sale its own terminal reversed in a later batch.

        The sale was an authorization left unanswered (online, not an offline approval), so the
        caps an offline approval must keep never applied to it; pushed in the same batch as its
        reversal it is not flagged at all (``OfflineSaleCheck.reversed_ids``).
        """
        queued = [a for a in self.batch.anomalies
                  if a["kind"] in authority.OFFLINE_DOUBTS and a.get("record_id") == sale_id]
        for a in queued:
            self.batch.anomalies.remove(a)
        an = t.anomalies
        for (anomaly_id,) in self.conn.execute(select(an.c.id).where(
                an.c.kind.in_(sorted(authority.OFFLINE_DOUBTS)), an.c.record_id == sale_id,
                an.c.terminal_id == self.terminal.id, an.c.resolved_at.is_(None))).all():
            mark_resolved(self.conn, anomaly_id, staff_id=None, now_ms=self.now_ms)
            audit(self.conn, actor="server", action="anomaly.resolve", now_ms=self.now_ms, anomaly_id=anomaly_id,
                  resolution="explained", note=f"record {c.id} is the automatic reversal of sale {sale_id}")

    def _deposit_return(self, c: Checked, b: DepositReturnRecord, *, online: bool) -> Outcome:
        """Cups back without a purchase: the stall's deposit account −amount, the wallet +amount.

        Online (authorize) it is declined when the wallet is blocked, a line is not one of the
        stall's deposit products at its price (``line_refused``), or the stall's deposit account
        holds less than the amount (``deposit_not_held``), read under the account's lock, so
        parallel returns pay out exactly what is held.  Pushed (decided offline on the
        terminal's own ledger: the cups were taken back), a line no honest terminal could make
        is refused, and a return beyond what the stall holds is booked and raised as
        ``deposit_not_held`` (the account goes below zero), as in a sale's basket.
        """
        wallet = self.batch.account("wallet", b.wallet_id)
        deposit = self.batch.account("stall_deposit", b.stall_id)
        if wallet is None:
            return self._reject(c, "unknown_wallet", online=online, anomaly="unknown_wallet")
        if deposit is None:
            return self._reject(c, "unknown_stall", online=online, anomaly="unknown_stall")
        doubts = authority.return_doubts(b, self._catalog)
        if online:
            if wallet.blocked:
                return Outcome(c.id, None, 200, "wallet_blocked")
            if doubts:
                return Outcome(c.id, None, 200, "line_refused", wallet.ref, wallet.balance, wallet.seq)
            if deposit.balance < b.amount:
                return Outcome(c.id, None, 200, "deposit_not_held", wallet.ref, wallet.balance, wallet.seq)
        else:
            if doubts:  # no honest terminal makes it: refused, like a breach of the rule
                reason = "forbidden: " + ", ".join(d.code for d in doubts)
                self.batch.anomaly("record_refused", severity="security", terminal_id=self.terminal.id,
                                   record_id=c.id, wallet_id=wallet.ref,
                                   detail={"reason": reason, "terminal": self.terminal.name,
                                           "breaches": [d.code for d in doubts], "body": c.signed.body})
                return Outcome(c.id, ItemStatus.REJECTED, 422, reason)
            if deposit.balance < b.amount:  # handed back already: booked, the deposit account goes below zero
                self.batch.anomaly("deposit_not_held", terminal_id=self.terminal.id, record_id=c.id,
                                   wallet_id=wallet.ref, detail={"stall_id": b.stall_id, "held": deposit.balance,
                                                                 "returned": b.amount})
            self._security(c, c.breaches, wallet_id=wallet.ref)  # refused above unless only the clock is off
        index = self.batch.post("deposit_return", [(deposit, -b.amount), (wallet, b.amount)], record_id=c.id,
                                terminal_id=self.terminal.id, staff_id=b.staff_id, amount=b.amount)
        self._overdraft(wallet, c)  # a credit: may cover an earlier overdraft
        return self._store(c, txn_index=index, online=online, wallet=wallet, stall_id=b.stall_id, amount=b.amount)

    def _topup(self, c: Checked, b: TopUpRecord, *, online: bool, now_s: int) -> Outcome:
        wallet = self.batch.account("wallet", b.wallet_id)
        drawer = self.batch.account("cash_drawer", self.terminal.id)
        if wallet is None:
            return self._reject(c, "unknown_wallet", online=online, anomaly="unknown_wallet")
        assert drawer is not None  # made at enrollment
        self._security(c, c.breaches, wallet_id=wallet.ref)  # refused above unless only the clock is off
        index = self.batch.post("topup", [(drawer, -b.amount), (wallet, b.amount)], record_id=c.id,
                                terminal_id=self.terminal.id, staff_id=b.staff_id)
        self._overdraft(wallet, c)
        return self._store(c, txn_index=index, online=online, wallet=wallet, amount=b.amount)

    def _cashout(self, c: Checked, b: CashOutRecord, *, online: bool) -> Outcome:
        """Cash paid out of a wallet at a desk: wallet −amount, system "cash-outs" +amount.

        Online (authorize) it is declined on a blocked wallet or a balance below the amount,
        booking nothing.  Pushed (decided offline: the cash was handed over) it is a fact,
        held against the offline caps like a sale.  A cash-out of the whole balance
        (``close``) that leaves the wallet at or below zero closes it (revocation
        ``cashed_out``), so terminals that pull refuse its old tokens.
        """
        wallet = self.batch.account("wallet", b.wallet_id)
        system = self.batch.account("system", SYSTEM_CASHOUTS)
        if wallet is None:
            return self._reject(c, "unknown_wallet", online=online, anomaly="unknown_wallet")
        assert system is not None  # made in _prepare
        if online:
            if wallet.blocked:
                return Outcome(c.id, None, 200, "wallet_blocked")
            if wallet.balance < b.amount:
                return Outcome(c.id, None, 200, "insufficient_balance", wallet.ref, wallet.balance, wallet.seq)
        else:
            doubts = authority.cashout_doubts(self._offline, b) if self._offline is not None else []
            self._security(c, c.breaches + doubts, wallet_id=wallet.ref)
            if wallet.blocked:
                self.batch.anomaly("blocked_wallet_cashout", terminal_id=self.terminal.id, record_id=c.id,
                                   wallet_id=wallet.ref, detail={"amount": b.amount})
        index = self.batch.post("cashout", [(wallet, -b.amount), (system, b.amount)], record_id=c.id,
                                terminal_id=self.terminal.id, staff_id=b.staff_id)
        if b.close and wallet.balance <= 0 and not wallet.blocked:
            self.batch.block_wallet(wallet, reason="cashed_out")
        self._overdraft(wallet, c)
        return self._store(c, txn_index=index, online=online, wallet=wallet, amount=b.amount)

    def _drawer(self, c: Checked, b: DrawerRecord) -> Outcome:
        """A desk's drawer counted: counted − expected (from the server's books) to the imbalance account.

        Expected = the float + the desk's booked top-ups − its cash-outs created after its
        previous close-out up to this one (those earlier in this batch included).
        """
        since = drawers.previous_closeout(self.conn, self.terminal.id, before=b.created_at)
        for queued in self.batch.records:  # a close-out earlier in this very batch
            if queued["kind"] == "drawer" and since < queued["created_at"] < b.created_at:
                since = int(queued["created_at"])
        topups, cashouts = drawers.shift_totals(self.conn, self.terminal.id, since=since, until=b.created_at)
        for queued in self.batch.records:  # booked in this batch, not flushed yet
            if queued["kind"] in ("topup", "cashout") and queued["txn_index"] is not None \
                    and since < queued["created_at"] <= b.created_at:
                if queued["kind"] == "topup":
                    topups += int(queued["amount"])
                else:
                    cashouts += int(queued["amount"])
        expected = b.start_float + topups - cashouts
        difference = b.counted - expected
        index = None
        if difference:
            drawer = self.batch.account("cash_drawer", self.terminal.id)
            imbalance = self.batch.account("system", drawers.SYSTEM_IMBALANCE)
            assert drawer is not None and imbalance is not None  # made at enrollment / in _prepare
            index = self.batch.post("drawer_closeout", [(drawer, -difference), (imbalance, difference)],
                                    record_id=c.id, terminal_id=self.terminal.id, staff_id=b.staff_id,
                                    note=f"counted {b.counted}, expected {expected}")
        if b.expected != expected:  # the desk saw another figure: the admin should know why
            self.batch.anomaly("drawer_expected_mismatch", terminal_id=self.terminal.id, record_id=c.id,
                               detail={"desk_expected": b.expected, "expected": expected, "topups": topups,
                                       "cashouts": cashouts, "since": since})
        self.conn.execute(drawers.drawer_closeouts.insert().values(
            record_id=c.id, terminal_id=self.terminal.id, staff_id=b.staff_id, since=since, closed_at=b.created_at,
            start_float=b.start_float, topups=topups, cashouts=cashouts, expected=expected, counted=b.counted,
            difference=difference, desk_expected=b.expected, received_at=self.now_ms))
        self._security(c, c.breaches)  # refused above unless only the clock is off
        return self._store(c, txn_index=index, online=False, amount=difference)

    def _checkin(self, c: Checked, b: CheckInRecord, *, now_s: int) -> Outcome:
        self._security(c, c.breaches)  # a check-in is a fact: booked, each breach an anomaly
        policy = self._policies.get(b.ticket_type)
        if b.direction == "in":
            others = {p.terminal_id for p in self._timelines.get(b.ticket_id, ()) if p.direction == "in"}
            if policy == "single" and others - {self.terminal.id}:
                self.batch.anomaly("duplicate_entry", terminal_id=self.terminal.id, record_id=c.id,
                                   detail={"ticket_id": b.ticket_id, "other_terminals": sorted(others)})
            revoked_at = self._revoked_at.get(b.ticket_id)
            if revoked_at is not None and b.created_at >= revoked_at:
                self.batch.anomaly("revoked_entry", terminal_id=self.terminal.id, record_id=c.id,
                                   detail={"ticket_id": b.ticket_id, "gate_id": b.gate_id, "admitted_at": b.created_at,
                                           "revoked_at": revoked_at})
        self._place(c, b, reentry=policy == "reentry")
        self.batch.checkins.append({
            "record_id": c.id, "gate_id": b.gate_id, "terminal_id": self.terminal.id, "ticket_id": b.ticket_id,
            "ticket_type": b.ticket_type, "direction": b.direction, "created_at": b.created_at,
        })
        return self._store(c, txn_index=None, online=False)

