"""The values the engine hands back: decisions with reason codes, carts, login results.

An ordinary decline is a ``Decision`` with a ``DeclineReason``, never an
exception; the reason's value is stable (UI texts, logs and tests key on it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

__all__ = ["Cart", "CartLine", "Decision", "DeclineReason", "GateCounts", "GateDecision", "LoginResult", "Mode",
           "RefundableItem"]

Mode = Literal["offline", "online"]


class DeclineReason(StrEnum):
    """Why the terminal said no."""

    # the code shown
    NOT_A_CODE = "not_a_code"  # not an Ennichi code at all
    DAMAGED = "damaged"  # looked like ours but could not be read (encoding, truncated, version)
    FORGED = "forged"  # bad signature or unknown key id: written to the security log
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    WRONG_KIND = "wrong_kind"  # e.g. a ticket on the payment screen
    WALLET_REVOKED = "wallet_revoked"  # blocked by the server
    NO_STATEMENT = "no_statement"  # a typed wallet id the terminal has no statement for
    # money
    INSUFFICIENT_BALANCE = "insufficient_balance"
    OFFLINE_LIMIT = "offline_limit"  # the wallet's offline spending here would pass its limit
    UNSYNCED_CAP = "unsynced_cap"  # the terminal holds too much unsynced money
    SYNC_TOO_OLD = "sync_too_old"  # too long since the last successful sync to approve offline
    SERVER_DECLINED = "server_declined"  # params["server_reason"] says why
    SERVER_UNREACHABLE = "server_unreachable"  # above the floor limit and no answer in time
    TOPUP_IN_DOUBT = "topup_in_doubt"  # sent, answer lost even after retries: keep the cash, the next push settles it
    CASHOUT_IN_DOUBT = "cashout_in_doubt"  # sent, answer lost even after retries: do not pay out yet
    DRAWER_DOUBTS_OPEN = "drawer_doubts_open"  # a top-up or cash-out is still in doubt: settle it first
    TOPUP_NOT_SENT = "topup_not_sent"  # the server surely never got it: nothing booked, hand the cash back
    ISSUE_NEEDS_SERVER = "issue_needs_server"  # a new wallet at a desk: the server cannot be reached (no offline path)
    ISSUE_NO_ANSWER = "issue_no_answer"  # asked, answer lost: the next "New wallet" asks again (the same wallet)
    ISSUE_CAP = "issue_cap"  # this desk issued as many new wallets as the server allows (per hour, in all)
    SOLD_OUT_NEEDS_SERVER = "sold_out_needs_server"  # marking sold out (or back on sale) is the server's: offline
    NO_STOCK_LEFT = "no_stock_left"  # back on sale refused: its counted stock is 0 (set it on the dashboard)
    CLOCK_SKEW = "clock_skew"  # the token is fine; this terminal's clock is off (params: minutes, direction)
    # the cart and the till
    CLOSED = "closed"  # outside the event's opening hours (params: opens_at, the next opening, or none)
    INVALID_CART = "invalid_cart"  # unknown product, another stall's, sold out, bad quantity
    FREE_AMOUNT_NOT_ALLOWED = "free_amount_not_allowed"
    INVALID_AMOUNT = "invalid_amount"  # also a mixed basket that would pay out: a sale is never negative
    DISCOUNT_TOO_LARGE = "discount_too_large"  # the discounts pass the goods they are taken off
    DEPOSIT_NOT_HELD = "deposit_not_held"  # cups back: the stall holds less in deposits than the return
    REF_NOT_FOUND = "ref_not_found"  # refund/void of a sale this terminal did not make
    ABOVE_ORIGINAL = "above_original"  # a refund or void beyond what is left of the sale
    ALREADY_VOIDED = "already_voided"
    ITEM_ABOVE_LEFT = "item_above_left"  # a refund by item beyond what is left of a line (params: name, left)
    ITEM_NOT_IN_SALE = "item_not_in_sale"  # a refund by item of a product the sale did not sell
    # who and where
    NOT_LOGGED_IN = "not_logged_in"  # also after an idle logout
    NOT_PERMITTED = "not_permitted"
    WRONG_MODE = "wrong_mode"  # e.g. selling on a gate terminal
    NOT_ENROLLED = "not_enrolled"
    TERMINAL_REVOKED = "terminal_revoked"
    STORAGE_FAILED = "storage_failed"  # the disk is full, read-only or gone: nothing was recorded
    # gates
    TICKET_REVOKED = "ticket_revoked"
    WRONG_GATE = "wrong_gate"
    TICKET_TYPE_INACTIVE = "ticket_type_inactive"
    ALREADY_USED = "already_used"  # single-entry ticket that already entered
    ALREADY_INSIDE = "already_inside"  # re-entry ticket entering twice without an exit
    UNKNOWN_TICKET = "unknown_ticket"  # a typed ticket id this gate has not pulled


@dataclass(frozen=True, slots=True)
class RefundableItem:
    """One line of a sale as the refund screen offers it: how many were sold, how many may still come back."""

    product_id: int
    name: str
    unit_price: int
    sold: int
    left: int


@dataclass(frozen=True, slots=True)
class CartLine:
    """A catalog product and how many."""

    product_id: int
    qty: int = 1


@dataclass(frozen=True, slots=True)
class Cart:
    """What the customer buys: catalog lines, or a free amount where the stall allows it."""

    lines: tuple[CartLine, ...] = ()
    free_amount: int | None = None

    @classmethod
    def of(cls, items: list[tuple[int, int]] | tuple[tuple[int, int], ...]) -> Cart:
        """Return a cart of ``(product_id, qty)`` pairs."""
        return cls(lines=tuple(CartLine(p, q) for p, q in items))

    @classmethod
    def amount(cls, amount: int) -> Cart:
        """Return a free-amount cart."""
        return cls(free_amount=amount)


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome of a sale, refund, void or top-up."""

    approved: bool
    reason: DeclineReason | None = None
    kind: str = "sale"
    record_id: str | None = None
    amount: int = 0
    wallet_id: int | None = None
    balance_after: int | None = None  # best estimate; None when unknown
    mode: Mode | None = None
    params: dict[str, Any] = field(default_factory=dict)  # for the message text

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-ready dict (the headless protocol's result)."""
        return {
            "ok": True, "approved": self.approved, "reason": self.reason.value if self.reason else None,
            "kind": self.kind, "id": self.record_id, "amount": self.amount, "wallet_id": self.wallet_id,
            "balance_after": self.balance_after, "mode": self.mode, "params": self.params,
        }


@dataclass(frozen=True, slots=True)
class GateCounts:
    """People inside as this terminal knows it: its own check-ins and the other gates' pulled ones."""

    inside: int  # tickets whose last known passage, at any gate, is an entry
    entries_here: int  # entries at this gate
    exits_here: int  # exits at this gate

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return {"inside": self.inside, "entries_here": self.entries_here, "exits_here": self.exits_here}


@dataclass(frozen=True, slots=True)
class GateDecision:
    """The outcome of a ticket scan at a gate."""

    approved: bool
    reason: DeclineReason | None = None
    record_id: str | None = None
    ticket_id: int | None = None
    ticket_type: int | None = None
    direction: Literal["in", "out"] = "in"
    params: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return {
            "ok": True, "approved": self.approved, "reason": self.reason.value if self.reason else None,
            "kind": "checkin", "id": self.record_id, "ticket_id": self.ticket_id,
            "ticket_type": self.ticket_type, "direction": self.direction, "params": self.params,
        }


@dataclass(frozen=True, slots=True)
class LoginResult:
    """The outcome of a badge + PIN login; ``reason`` is one of the LOGIN_* strings when refused."""

    ok: bool
    reason: str | None = None  # not_a_badge, forged, expired, clock_skew, damaged, unknown_staff, inactive,
    #                            badge_replaced, revoked, wrong_pin, locked, not_enrolled, terminal_revoked
    staff_id: int | None = None
    name: str = ""
    locked_until_ms: int | None = None
    attempts_left: int | None = None
    clock_minutes: int | None = None  # reason clock_skew: this laptop's clock is this many minutes off
    clock_direction: str | None = None  # "slow" | "fast"

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return {"ok": self.ok, "reason": self.reason, "staff_id": self.staff_id, "name": self.name,
                "locked_until_ms": self.locked_until_ms, "attempts_left": self.attempts_left,
                "clock_minutes": self.clock_minutes, "clock_direction": self.clock_direction}
