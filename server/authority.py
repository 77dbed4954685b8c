"""Who may have made a record: the server's one rule table per record kind (DESIGN.md, "Authority").

A terminal's API token and signing key sit in its data folder, so a valid
signature proves only *which* terminal sent a record, never that the terminal
was allowed to make it.  ``judge`` holds every record against ``RULES``:

* the terminal: not revoked, of a mode that makes this kind, for its own stall
  or gate (a stall terminal's sale names its stall; a gate's check-in its gate);
* the person named in the record: known, active, holding the kind's permission
  in that stall or gate, both at the record's ``created_at`` (what the terminal
  checked) and when the server receives it (a backdated record does not revive
  an expired grant);
* the time: ``created_at`` within the terminal's plausible clock window
  (``clock_window``): not before its enrollment, not after the server's now,
  widened by the clock skew it last reported.

What breaks the rule is refused (422, the reason names the breach), except
where the record is a fact (``Rule.fact``: an offline sale, whose goods were
handed over, or a gate's check-in, whose person walked in): then it is booked
and every breach becomes a security anomaly naming the terminal.  A clock
outside the window is always an anomaly only.

``OfflineSaleCheck`` then holds a pushed offline sale against what an honest
terminal could have decided (``terminal.authorize.offline_decline`` and the
catalog it pulled): the floor limit and the fallback, the offline limit per
wallet, the unsynced cap, the products of its own stall at their price, free
amounts only where the stall allows them.  What it could not have decided is
booked and raised as a security anomaly.

``fold_flood`` caps the security anomalies one terminal can open per hour; the
rest are folded into one row per kind with a count and first/last seen.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from server.auth import TerminalCaller
from server.db import tables as t
from server.staff import Access
from sync.permissions import Permission, Scope
from sync.schemas import (
    CashOutRecord,
    CheckInRecord,
    DepositReturnRecord,
    DrawerRecord,
    EventSettings,
    OfflineFallback,
    RefundRecord,
    SaleRecord,
    TerminalMode,
    TopUpRecord,
    VoidRecord,
)

__all__ = ["ACTIONS", "CLOCK_SLACK_MS", "FLOOD_CAP", "LOGIN_PERMISSIONS", "RULES", "Breach", "Catalog",
           "OfflineSaleCheck", "Rule", "Split", "TerminalClock", "Verdict", "cashout_doubts", "fold_flood", "judge",
           "judge_action", "line_doubts", "load_catalog", "may_work_at", "return_doubts", "split_sale",
           "terminal_clock", "terminal_scope"]

Body = (SaleRecord | RefundRecord | VoidRecord | TopUpRecord | CashOutRecord | DrawerRecord | CheckInRecord
        | DepositReturnRecord)
CLOCK_SLACK_MS = 5 * 60_000  # a terminal's clock may be this far off beyond the skew it reported
FLOOD_CAP = 50  # open security anomalies of one kind one terminal may raise per hour, each its own row
FLOOD_WINDOW_MS = 3_600_000
REVERSAL_PREFIX = "automatic reversal"  # terminal.sales.reverse: the void of an unanswered authorization
# what OfflineSaleCheck flags only because a sale was approved offline (not a reversed authorization)
OFFLINE_DOUBTS = frozenset({"offline_not_allowed", "offline_limit", "unsynced_cap"})


@dataclass(frozen=True, slots=True)
class Rule:
    """Who may make one kind of record."""

    kind: str
    modes: frozenset[TerminalMode]
    permission: Permission
    scope: Callable[[Any], Scope]  # the stall or gate the record acts in (from the body)
    fact: bool  # True: a pushed record that breaks the rule is booked + anomaly; False: refused (422)
    online: bool  # taken by /authorize


def _stall(b: Any) -> Scope:
    return Scope.stall(b.stall_id)


def _gate(b: Any) -> Scope:
    return Scope.gate(b.gate_id)


def _event(_b: Any) -> Scope:
    return Scope()


STALL, GATE, TOPUP = TerminalMode.STALL, TerminalMode.GATE, TerminalMode.TOPUP
# THE rule table (docs/security.md shows it per kind).  Refunds and voids also accept the
# permission of the record's supervisor; a void that is a stall terminal's automatic reversal of
# its own sale (same terminal, same person) needs no refund permission.
RULES: dict[str, Rule] = {
    "sale": Rule("sale", frozenset({STALL}), Permission.SELL, _stall, fact=True, online=True),
    "refund": Rule("refund", frozenset({STALL}), Permission.REFUND, _stall, fact=False, online=False),
    "void": Rule("void", frozenset({STALL}), Permission.REFUND, _stall, fact=False, online=False),
    "topup": Rule("topup", frozenset({TOPUP}), Permission.TOPUP, _event, fact=False, online=True),
    # cash leaves only at a top-up desk, by someone holding "cashout"; a cash-out that breaks the rule is
    # refused (the wallet is not debited) and raised as a security anomaly naming the terminal
    "cashout": Rule("cashout", frozenset({TOPUP}), Permission.CASHOUT, _event, fact=False, online=True),
    # a desk's drawer counted at close-out, by someone who may close a shift there (books counted − expected)
    "drawer": Rule("drawer", frozenset({TOPUP}), Permission.SHIFT_CLOSE, _event, fact=False, online=False),
    "checkin": Rule("checkin", frozenset({GATE}), Permission.GATE, _gate, fact=True, online=False),
    # cups brought back without a purchase: the stall's deposit account pays the wallet, by a cashier of that
    # stall.  Money leaves a stall's account for a wallet, as with a refund, so a record that breaks the rule
    # is refused (a terminal's key alone must not mint money onto wallets); only a return beyond what the
    # stall holds, decided offline on the terminal's own ledger, is booked + ``deposit_not_held``
    "deposit_return": Rule("deposit_return", frozenset({STALL}), Permission.SELL, _stall, fact=False, online=True),
}


# Terminal API calls that make no record (nothing is booked) but still act for a person at a terminal: the same
# rule shape, judged by ``judge_action`` at the server's time.  A desk issues a new (empty) wallet for a visitor;
# a stall's till marks one of its stall's products sold out or back on sale (the subject: the product).
ACTIONS: dict[str, Rule] = {
    "wallet_issue": Rule("wallet_issue", frozenset({TOPUP}), Permission.TOPUP, _event, fact=False, online=True),
    "product_sold_out": Rule("product_sold_out", frozenset({STALL}), Permission.PRODUCT_SOLD_OUT, _stall,
                             fact=False, online=True),
}

# Who a terminal's pull delivers (badge, PIN hash, roles): people who may work at it, by a
# permission of its mode in its stall or gate.  Holding it only through the "admin" role does not
# count: the admin works the dashboard (an admin who runs a till is given a till role for it).
LOGIN_PERMISSIONS: dict[TerminalMode, tuple[Permission, ...]] = {
    STALL: (Permission.SELL, Permission.REFUND, Permission.SHIFT_CLOSE),
    GATE: (Permission.GATE,),
    TOPUP: (Permission.TOPUP, Permission.CASHOUT),
}


def terminal_scope(terminal: TerminalCaller) -> Scope:
    """The stall or gate a terminal works in (the event for a top-up desk)."""
    if terminal.mode is STALL and terminal.stall_id is not None:
        return Scope.stall(terminal.stall_id)
    if terminal.mode is GATE and terminal.gate_id is not None:
        return Scope.gate(terminal.gate_id)
    return Scope()


def may_work_at(terminal: TerminalCaller, access: Access, *, now_s: int) -> bool:
    """True when the person may log in at ``terminal`` (a permission of its mode in its scope)."""
    working = Access(access.staff_id, access.active, tuple(r for r in access.roles if r.role != "admin"),
                     access.overrides)
    scope = terminal_scope(terminal)
    return any(working.allows(p, scope, now_s=now_s) for p in LOGIN_PERMISSIONS[terminal.mode])


@dataclass(frozen=True, slots=True)
class Breach:
    """One way a record breaks its rule; ``code`` is also the anomaly's kind."""

    code: str
    detail: dict[str, Any]


@dataclass(slots=True)
class Verdict:
    """What ``judge`` found; ``refused`` means: do not book it."""

    rule: Rule
    breaches: list[Breach] = field(default_factory=list)
    clock: Breach | None = None  # created_at outside the terminal's clock window (always an anomaly only)

    @property
    def refused(self) -> bool:
        """True when the record must not be booked (for a push: a 422 for this item)."""
        return bool(self.breaches) and not self.rule.fact

    @property
    def reason(self) -> str:
        """The 422 reason: ``forbidden: <codes>``."""
        return "forbidden: " + ", ".join(b.code for b in self.breaches)


@dataclass(frozen=True, slots=True)
class TerminalClock:
    """What the server knows of a terminal's clock: when it enrolled, the skew it last showed."""

    enrolled_at: int
    skew_ms: int  # server minus terminal at its last pull (0: unknown)


def terminal_clock(conn: Connection, terminal_id: int) -> TerminalClock:
    """Read the terminal's enrollment time and last clock skew."""
    tm = t.terminals
    row = conn.execute(select(tm.c.enrolled_at, tm.c.clock_skew_ms).where(tm.c.id == terminal_id)).first()
    if row is None:
        return TerminalClock(0, 0)
    return TerminalClock(int(row.enrolled_at), int(row.clock_skew_ms or 0))


def _place(terminal: TerminalCaller, rule: Rule, body: Any) -> Breach | None:
    if terminal.mode not in rule.modes:
        return Breach("wrong_mode", {"terminal_mode": terminal.mode.value, "kind": rule.kind,
                                     "modes": sorted(m.value for m in rule.modes)})
    if terminal.mode is STALL and terminal.stall_id != body.stall_id:
        return Breach("stall_mismatch", {"terminal_stall": terminal.stall_id, "record_stall": body.stall_id})
    if terminal.mode is GATE and terminal.gate_id != body.gate_id:
        return Breach("gate_mismatch", {"terminal_gate": terminal.gate_id, "record_gate": body.gate_id})
    return None


def judge(terminal: TerminalCaller, body: Body, access: Mapping[int, Access], *, received_ms: int,
          online: bool, clock: TerminalClock | None = None, own_reversal: bool = False) -> Verdict:
    """Hold ``body`` against its kind's rule for ``terminal`` and the people it names.

    ``online``: an /authorize request, judged at the server's time only (the terminal asks now);
    a push is judged at ``created_at`` and at ``received_ms``.  ``own_reversal``: a void of this
    terminal's own sale by the sale's own person (``terminal.sales.reverse``).
    """
    rule = RULES[body.kind]
    verdict = Verdict(rule)
    if terminal.revoked:
        verdict.breaches.append(Breach("terminal_revoked", {"terminal_id": terminal.id}))
    if online and not rule.online:
        verdict.breaches.append(Breach("not_online", {"kind": rule.kind}))
    place = _place(terminal, rule, body)
    if place is not None:
        verdict.breaches.append(place)
    people: list[int] = [body.staff_id]
    supervisor = getattr(body, "supervisor_id", None)
    if supervisor is not None:
        people.append(supervisor)
    scope = rule.scope(body)
    times = {"received": received_ms // 1000} if online else {"created_at": body.created_at // 1000,
                                                              "received": received_ms // 1000}
    missing = [name for name, at_s in times.items()
               if not any(p in access and access[p].allows(rule.permission, scope, now_s=at_s) for p in people)]
    exempt = own_reversal and isinstance(body, VoidRecord) and body.reason.startswith(REVERSAL_PREFIX)
    if missing and not exempt:
        verdict.breaches.append(Breach("permission", {
            "staff_id": body.staff_id, "supervisor_id": supervisor, "permission": rule.permission.value,
            "scope": scope.kind.value, "scope_id": scope.id, "not_held_at": missing,
            "known": body.staff_id in access, "active": body.staff_id in access and access[body.staff_id].active}))
    if clock is not None and not online:
        earliest = clock.enrolled_at - CLOCK_SLACK_MS - max(0, clock.skew_ms)
        latest = received_ms + CLOCK_SLACK_MS + max(0, -clock.skew_ms)
        if not earliest <= body.created_at <= latest:
            verdict.clock = Breach("clock_window", {"created_at": body.created_at, "earliest": earliest,
                                                    "latest": latest, "skew_ms": clock.skew_ms})
    return verdict


def judge_action(terminal: TerminalCaller, kind: str, staff_id: int, access: Mapping[int, Access], *,
                 received_ms: int, subject: Any = None) -> Verdict:
    """Hold a terminal's call of ``ACTIONS[kind]`` for ``staff_id`` against its rule (never a fact: refused).

    The terminal: not revoked, of a mode that may make the call, and (a stall rule) of the stall of
    ``subject`` (what the call acts on: an object with ``stall_id``); the person: known, active,
    holding the rule's permission in the subject's scope now (``received_ms``).
    """
    rule = ACTIONS[kind]
    verdict = Verdict(rule)
    if terminal.revoked:
        verdict.breaches.append(Breach("terminal_revoked", {"terminal_id": terminal.id}))
    if terminal.mode not in rule.modes:
        verdict.breaches.append(Breach("wrong_mode", {"terminal_mode": terminal.mode.value, "kind": rule.kind,
                                                      "modes": sorted(m.value for m in rule.modes)}))
    elif rule.scope is _stall and terminal.stall_id != subject.stall_id:
        verdict.breaches.append(Breach("stall_mismatch", {"terminal_stall": terminal.stall_id,
                                                          "record_stall": subject.stall_id}))
    scope = rule.scope(subject)
    person = access.get(staff_id)
    if person is None or not person.allows(rule.permission, scope, now_s=received_ms // 1000):
        verdict.breaches.append(Breach("permission", {
            "staff_id": staff_id, "permission": rule.permission.value, "scope": scope.kind.value,
            "scope_id": scope.id, "not_held_at": ["received"], "known": person is not None,
            "active": person is not None and person.active}))
    return verdict

# ---------------------------------------------------------------- offline sales


@dataclass(frozen=True, slots=True)
class Catalog:
    """The products and stalls a batch's sales name: product -> (stall, price, active, kind), stall -> free amount."""

    products: dict[int, tuple[int, int, bool, str]]
    free_amount: dict[int, bool]

    def kind(self, product_id: int | None) -> str:
        """A line's product kind as the server knows it (a free amount or an unknown product: normal)."""
        known = self.products.get(product_id) if product_id is not None else None
        return known[3] if known is not None else "normal"


@dataclass(frozen=True, slots=True)
class Split:
    """Where a sale's money goes, by the server's own product kinds (the wallet pays ``goods - discounts + deposits``).

    ``goods``: normal products and free amounts (the stall's revenue, never negative);
    ``discounts``: the discount lines, as a positive amount (the stall's discount account);
    ``deposits``: deposits taken less deposits returned (the stall's deposit account; negative
    when more cups came back than were taken in this basket).
    """

    goods: int
    discounts: int
    deposits: int

    @property
    def net(self) -> int:
        return self.goods - self.discounts + self.deposits


def split_sale(sale: SaleRecord, catalog: Catalog) -> Split:
    """The ledger legs of ``sale`` (``Split``); a line's kind is the server's, never the terminal's."""
    goods = discounts = deposits = 0
    for line in sale.lines:
        value = line.qty * line.unit_price
        kind = catalog.kind(line.product_id)
        if kind == "deposit":
            deposits += value
        elif kind == "discount":
            discounts -= value
        else:
            goods += value
    if not sale.lines:
        goods = sale.amount
    return Split(goods, discounts, deposits)


def line_doubts(sale: SaleRecord, catalog: Catalog) -> list[Breach]:
    """The sign rules of a basket, the one place they are checked (online declines, a push flags).

    A negative line is a deposit product's return or a discount product; a discount product
    is never a positive line; discounts never exceed the basket's goods (a discount never
    eats into a deposit); the price of a deposit or discount line is the catalogue's.  That
    the total is above zero is the record's own rule (``SaleRecord``).
    """
    out: list[Breach] = []
    for line in sale.lines:
        kind = catalog.kind(line.product_id)
        if line.qty < 0 and kind == "normal":
            out.append(Breach("negative_line", {"product_id": line.product_id, "qty": line.qty}))
        elif line.qty > 0 and kind == "discount":
            out.append(Breach("discount_positive", {"product_id": line.product_id, "qty": line.qty}))
        known = catalog.products.get(line.product_id) if line.product_id is not None else None
        if kind != "normal" and known is not None and line.unit_price != known[1]:
            out.append(Breach("line_price_mismatch", {"product_id": line.product_id,
                                                      "unit_price": line.unit_price, "price": known[1]}))
    split = split_sale(sale, catalog)
    if split.discounts > split.goods:
        out.append(Breach("discount_exceeds_goods", {"goods": split.goods, "discounts": split.discounts}))
    return out


def return_doubts(ret: DepositReturnRecord, catalog: Catalog) -> list[Breach]:
    """Why no honest terminal could have made ``ret`` (empty: it could).

    Every line is a deposit product of the record's own stall at the catalogue's price.
    """
    out: list[Breach] = []
    for line in ret.lines:
        known = catalog.products.get(line.product_id)
        if known is None:
            out.append(Breach("unknown_product", {"product_id": line.product_id}))
        elif known[0] != ret.stall_id:
            out.append(Breach("foreign_product", {"product_id": line.product_id, "product_stall": known[0],
                                                  "record_stall": ret.stall_id}))
        elif known[3] != "deposit":
            out.append(Breach("not_a_deposit", {"product_id": line.product_id, "kind": known[3]}))
        elif line.unit_price != known[1]:
            out.append(Breach("line_price_mismatch", {"product_id": line.product_id,
                                                      "unit_price": line.unit_price, "price": known[1]}))
    return out


def load_catalog(conn: Connection, sales: Iterable[SaleRecord | DepositReturnRecord]) -> Catalog:
    """Read the products and stalls named by ``sales`` (and returns-only baskets)."""
    product_ids = sorted({ln.product_id for s in sales for ln in s.lines if ln.product_id is not None})
    stall_ids = sorted({s.stall_id for s in sales})
    p, st = t.products, t.stalls
    products = {int(r.id): (int(r.stall_id), int(r.price), bool(r.active), str(r.kind)) for r in conn.execute(
        select(p.c.id, p.c.stall_id, p.c.price, p.c.active, p.c.kind).where(p.c.id.in_(product_ids)))
    } if product_ids else {}
    free = {int(r.id): bool(r.allow_free_amount) for r in conn.execute(
        select(st.c.id, st.c.allow_free_amount).where(st.c.id.in_(stall_ids)))} if stall_ids else {}
    return Catalog(products, free)


@dataclass(slots=True)
class OfflineSaleCheck:
    """What an honest terminal could have approved offline, over one pushed batch."""

    settings: EventSettings
    catalog: Catalog
    reversed_ids: frozenset[str] = frozenset()  # sales this batch voids as automatic reversals
    _per_wallet: dict[tuple[int, int], int] = field(default_factory=dict)  # (wallet, token seq) -> offline total
    _total: int = 0

    def doubts(self, record_id: str, sale: SaleRecord) -> list[Breach]:
        """Return why an honest terminal could not have approved ``sale`` offline (empty: it could)."""
        out: list[Breach] = []
        for line in sale.lines:
            if line.product_id is None:
                if not self.catalog.free_amount.get(sale.stall_id, False):
                    out.append(Breach("free_amount_not_allowed", {"stall_id": sale.stall_id}))
                continue
            known = self.catalog.products.get(line.product_id)
            if known is None:
                out.append(Breach("unknown_product", {"product_id": line.product_id}))
            elif known[0] != sale.stall_id:
                out.append(Breach("foreign_product", {"product_id": line.product_id, "product_stall": known[0],
                                                      "record_stall": sale.stall_id}))
            elif line.unit_price != known[1] and known[3] == "normal":  # the others: line_doubts
                out.append(Breach("price_mismatch", {"product_id": line.product_id, "unit_price": line.unit_price,
                                                     "price": known[1]}))
        out += line_doubts(sale, self.catalog)
        if record_id in self.reversed_ids:  # an authorization left unanswered and reversed at once
            return out
        return out + self.spend(sale.wallet_id, sale.token_seq, sale.amount)

    def spend(self, wallet_id: int, token_seq: int, amount: int) -> list[Breach]:
        """Count an offline spend (a sale or a cash-out) against the caps an honest terminal keeps.

        The wallet's offline limit per token seq and the batch's unsynced total, over everything
        this check has counted so far; the floor limit when the event's fallback is "decline".
        """
        s = self.settings
        out: list[Breach] = []
        key = (wallet_id, token_seq)
        spent = self._per_wallet.get(key, 0) + amount
        self._per_wallet[key] = spent
        self._total += amount
        if amount > s.floor_limit and s.offline_fallback is OfflineFallback.DECLINE:
            out.append(Breach("offline_not_allowed", {"amount": amount, "floor_limit": s.floor_limit}))
        if spent > s.offline_limit:
            out.append(Breach("offline_limit", {"amount": amount, "spent": spent,
                                                "offline_limit": s.offline_limit, "token_seq": token_seq}))
        if self._total > s.unsynced_cap:
            out.append(Breach("unsynced_cap", {"total": self._total, "unsynced_cap": s.unsynced_cap}))
        return out


def cashout_doubts(check: OfflineSaleCheck, cashout: CashOutRecord) -> list[Breach]:
    """Why an honest desk could not have paid ``cashout`` out offline (empty: it could); shares the sales' caps.

    An offline cash-out counts against the wallet's offline limit (with the sales on the same
    token) and the terminal's unsynced total, like any spend.
    """
    return check.spend(cashout.wallet_id, cashout.token_seq, cashout.amount)


def own_reversals(voids: Iterable[VoidRecord]) -> frozenset[str]:
    """The sale ids a batch's automatic-reversal voids name."""
    return frozenset(str(v.ref_id) for v in voids if v.reason.startswith(REVERSAL_PREFIX))


# ---------------------------------------------------------------- floods


def _flood_key(kind: str) -> str:
    return f"flood:{kind}"


def fold_flood(conn: Connection, terminal_id: int, queued: list[dict[str, Any]], *, now_ms: int,
               cap: int = FLOOD_CAP) -> list[dict[str, Any]]:
    """Keep at most ``cap`` open security anomalies per kind per terminal per hour; fold the rest.

    Returns the anomalies to insert; those past the cap become one open ``flood`` row per kind
    for the terminal (detail: kind, count, first_seen, last_seen), updated in place.  Record
    bodies are not kept in folded rows.
    """
    mine = [a for a in queued if a.get("severity") == "security" and a.get("terminal_id") == terminal_id
            and a["kind"] != "flood"]
    mine_ids = {id(a) for a in mine}
    if not mine:
        return queued
    an = t.anomalies
    open_counts: dict[str, int] = dict(conn.execute(
        select(an.c.kind, func.count()).where(an.c.terminal_id == terminal_id, an.c.severity == "security",
                                              an.c.resolved_at.is_(None), an.c.created_at > now_ms - FLOOD_WINDOW_MS,
                                              an.c.kind.in_(sorted({a["kind"] for a in mine})))
        .group_by(an.c.kind)).all())
    keep: list[dict[str, Any]] = []
    folded: dict[str, int] = {}
    for a in queued:
        if id(a) not in mine_ids:
            keep.append(a)
            continue
        n = int(open_counts.get(a["kind"], 0))
        if n < cap:
            open_counts[a["kind"]] = n + 1
            keep.append(a)
        else:
            folded[a["kind"]] = folded.get(a["kind"], 0) + 1
    for kind, count in sorted(folded.items()):
        row = conn.execute(select(an.c.id, an.c.detail).where(
            an.c.kind == "flood", an.c.terminal_id == terminal_id, an.c.record_id == _flood_key(kind),
            an.c.resolved_at.is_(None))).first()
        if row is None:
            conn.execute(insert(an).values(kind="flood", severity="security", terminal_id=terminal_id,
                                           record_id=_flood_key(kind), created_at=now_ms, detail=json.dumps(
                                               {"kind": kind, "count": count, "first_seen": now_ms,
                                                "last_seen": now_ms}, sort_keys=True)))
        else:
            detail = json.loads(row.detail or "{}")
            detail.update(count=int(detail.get("count", 0)) + count, last_seen=now_ms)
            conn.execute(update(an).where(an.c.id == row.id).values(detail=json.dumps(detail, sort_keys=True)))
    return keep
