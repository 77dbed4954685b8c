"""The JSON messages between terminals and the server (``/api/v1``).

These pydantic models are the wire contract: the server validates requests
with them and documents them in its OpenAPI schema; the terminal's client
builds and parses them.  Ids of wallets, tickets and staff are the 40-bit
short ids as integers; stalls, gates, products and ticket types are small
integers; record ids are UUIDv7 strings; times are Unix milliseconds in
records and Unix seconds in settings and tokens; money is integer minor units.

A terminal record travels as ``SignedRecord`` = the body as a plain JSON object
plus the terminal's signature over its canonical form (``sync.records``).  The
server verifies the signature first, then validates the body as ``RecordBody``.
"""

from __future__ import annotations

from enum import StrEnum
from itertools import pairwise
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator, model_validator

from sync.permissions import Permission, ScopeKind

__all__ = [
    "MAX_PUSH_BATCH",
    "MAX_RETURN_ITEMS",
    "AuthorizeRequest",
    "AuthorizeResponse",
    "CashOutRecord",
    "CheckInRecord",
    "CheckInRow",
    "DepositReturnRecord",
    "DeskWalletRequest",
    "DeskWalletResponse",
    "DrawerRecord",
    "EnrollRequest",
    "EnrollResponse",
    "EventSettings",
    "GateRow",
    "IssuerKeyRow",
    "ItemStatus",
    "OfflineFallback",
    "OpenPeriod",
    "OverrideRow",
    "ProductRow",
    "PullRequest",
    "PullResponse",
    "PushItemResult",
    "PushRequest",
    "PushResponse",
    "RecordBody",
    "RefundLine",
    "RefundRecord",
    "ReturnLine",
    "RevocationKind",
    "RevocationRow",
    "RoleRow",
    "SaleLine",
    "SaleRecord",
    "SecurityEvent",
    "SecurityReport",
    "SecurityReportResponse",
    "SignedRecord",
    "SoldOutRequest",
    "SoldOutResponse",
    "StaffRow",
    "StallRow",
    "StatementRow",
    "TerminalMode",
    "TerminalRow",
    "TerminalStatus",
    "TicketTypeRow",
    "TopUpRecord",
    "VoidRecord",
    "WalletTokenResponse",
]

MAX_PUSH_BATCH = 500
MAX_CARRIED = 100  # unsynced records of one wallet sent along with an authorization
MAX_EPOCH_LEN = 64  # a server's restore epoch (server.epoch), from a response header
EPOCH_HEADER = "Ennichi-Restore-Epoch"  # on every push and pull answer
Amount = Annotated[int, Field(ge=0, le=10**12, strict=True)]
PositiveAmount = Annotated[int, Field(gt=0, le=10**12, strict=True)]
ShortId = Annotated[int, Field(ge=0, lt=1 << 40, strict=True)]
SmallId = Annotated[int, Field(ge=1, le=65535, strict=True)]
TimeMs = Annotated[int, Field(ge=0, lt=1 << 47, strict=True)]
Count = Annotated[int, Field(ge=0, lt=1 << 63)]  # within a database's int64


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# ---------------------------------------------------------------- settings


class OfflineFallback(StrEnum):
    """What a terminal does when ``authorize`` does not answer in time."""

    DECLINE = "decline"
    OFFLINE_LIMIT = "offline_limit"  # approve within the wallet's offline limit


# The default unsynced cap in the currency's own minor units: about what a busy till takes in an hour or two
# offline (JPY has no minor unit: 300,000 yen; USD and EUR have two: 2,000.00).
UNSYNCED_CAP_DEFAULTS: dict[str, int] = {"JPY": 300_000, "USD": 200_000, "EUR": 200_000}


MAX_PERIOD_MS = 24 * 3600_000  # one opening period is at most a day (a festival day; past midnight is fine)
MAX_PERIODS = 31


class OpenPeriod(_Model):
    """One span the stalls sell in: from ``opens_ms`` to ``closes_ms`` (Unix ms, the end not included)."""

    opens_ms: Annotated[int, Field(ge=0, le=2**53)]
    closes_ms: Annotated[int, Field(ge=0, le=2**53)]

    @model_validator(mode="after")
    def _in_order(self) -> OpenPeriod:
        if not 0 < self.closes_ms - self.opens_ms <= MAX_PERIOD_MS:
            raise ValueError("an opening period closes after it opens, within a day")
        return self


class EventSettings(_Model):
    """Event configuration every terminal follows."""

    @model_validator(mode="before")
    @classmethod
    def _currency_defaults(cls, data: Any) -> Any:
        """Fill an unset unsynced cap with the default of the event's currency (minor units differ)."""
        if isinstance(data, dict) and "unsynced_cap" not in data:
            currency = data.get("currency", "JPY")
            if isinstance(currency, str) and currency in UNSYNCED_CAP_DEFAULTS:
                data = {**data, "unsynced_cap": UNSYNCED_CAP_DEFAULTS[currency]}
        return data

    event_name: str = Field("Ennichi", max_length=200)
    currency: str = Field("JPY", pattern=r"^[A-Z]{3}$")  # any ISO 4217 code in tender (sync.money)
    timezone: str = Field("Asia/Tokyo", max_length=64)  # IANA name: every time shown, bucketed or typed
    # CLDR locale whose decimal and grouping marks amounts are typed with (server side: sync.money.parse_amount;
    # the server checks it against CLDR at init, terminals only read the shape and never parse typed amounts)
    number_locale: str = Field("ja_JP", pattern=r"^[A-Za-z]{2,3}(_[A-Za-z0-9]{2,8}){0,3}$", max_length=32)
    floor_limit: Amount = 1000  # at or under: the terminal decides alone
    offline_limit: Amount = 3000  # per wallet per terminal since its statement
    unsynced_cap: Amount = 300_000  # unsynced total a terminal may hold (default per currency: see above)
    max_offline_s: Annotated[int, Field(ge=60, le=7 * 86400)] = 3600
    offline_fallback: OfflineFallback = OfflineFallback.OFFLINE_LIMIT
    overdraft_tolerance: Amount = 1000  # past this a wallet is blocked
    authorize_timeout_ms: Annotated[int, Field(ge=100, le=30_000)] = 1500
    push_debounce_ms: Annotated[int, Field(ge=0, le=10_000)] = 300
    pull_interval_s: Annotated[int, Field(ge=1, le=600)] = 3
    wallet_token_ttl_s: Annotated[int, Field(ge=60, le=86400)] = 600
    staff_idle_logout_s: Annotated[int, Field(ge=30, le=86400)] = 900
    # When stalls sell: none means always (the default).  Outside them a sale is declined on the
    # terminal and by the server ("closed"); a pushed one is booked and raised (``outside_hours``).
    # Top-ups, cash-outs, cup returns and gates are not held to them: a visitor gets their money back.
    opening_hours: list[OpenPeriod] = Field(default_factory=list, max_length=MAX_PERIODS)

    @field_validator("opening_hours")
    @classmethod
    def _apart(cls, value: list[OpenPeriod]) -> list[OpenPeriod]:
        ordered = sorted(value, key=lambda p: p.opens_ms)
        for before, after in pairwise(ordered):
            if after.opens_ms < before.closes_ms:
                raise ValueError("opening periods overlap")
        return ordered

    def is_open(self, at_ms: int) -> bool:
        """True when stalls may sell at ``at_ms``: within an opening period, or no periods set."""
        return not self.opening_hours or any(p.opens_ms <= at_ms < p.closes_ms for p in self.opening_hours)

    def next_opening(self, at_ms: int) -> int | None:
        """When the next opening period starts after ``at_ms`` (None: no later one)."""
        return next((p.opens_ms for p in self.opening_hours if p.opens_ms > at_ms), None)

    @field_validator("currency")
    @classmethod
    def _iso_currency(cls, value: str) -> str:
        from sync.money import currency_for

        currency_for(value)  # raises MoneyError (a ValueError): not an ISO 4217 currency in tender
        return value

    @field_validator("timezone")
    @classmethod
    def _iana_zone(cls, value: str) -> str:
        from sync.timezone import event_zone

        event_zone(value)  # raises ValueError
        return value


# ---------------------------------------------------------------- records


ProductKind = Literal["normal", "deposit", "discount"]
PRODUCT_KINDS: tuple[str, ...] = ("normal", "deposit", "discount")
# A product button's colour on the terminal: a name from this palette (the terminal's style
# holds the shades, each legible with dark text), never a free colour value.
ProductColour = Literal["red", "orange", "yellow", "green", "teal", "blue", "purple", "pink", "grey"]
# name -> (tint behind the words, strong edge); the terminal's style and the dashboard's swatches
PRODUCT_COLOUR_SHADES: dict[str, tuple[str, str]] = {
    "red": ("#fde0dc", "#c62828"), "orange": ("#ffe5cc", "#e65100"), "yellow": ("#fff6c2", "#b8860b"),
    "green": ("#dcf2dc", "#2e7d32"), "teal": ("#d4f0ee", "#00796b"), "blue": ("#dbe8fb", "#1f5fae"),
    "purple": ("#ece0f7", "#6a1b9a"), "pink": ("#fde0ef", "#ad1457"), "grey": ("#e6e4e0", "#616161"),
}
PRODUCT_COLOURS: tuple[str, ...] = tuple(PRODUCT_COLOUR_SHADES)
CATEGORY_MAX = 40  # characters of a product category ("Drinks", 飲み物)


class SaleLine(_Model):
    """One product line of a sale; ``product_id`` None for a free amount.

    ``qty`` is negative for a line that gives money back within the basket: the return of
    a deposit product (a cup brought back) or a discount product.  The price is never
    negative; which products may have negative lines, and that a sale's goods are never
    discounted below zero, is the server's check (``server.authority.line_doubts``).
    """

    product_id: SmallId | None
    qty: Annotated[int, Field(ge=-999, le=999, strict=True)]
    unit_price: Amount

    @model_validator(mode="after")
    def _not_zero(self) -> SaleLine:
        if self.qty == 0:
            raise ValueError("a line has a quantity (negative: given back), never 0")
        if self.qty < 0 and self.product_id is None:
            raise ValueError("a free amount is never negative")
        return self


class _RecordBase(_Model):
    id: UUID  # UUIDv7, made when the decision is taken; the idempotency key
    terminal_id: Annotated[int, Field(ge=1, lt=1 << 31, strict=True)]
    staff_id: ShortId
    created_at: TimeMs  # the terminal's clock


class SaleRecord(_RecordBase):
    """A payment from a wallet to a stall."""

    kind: Literal["sale"] = "sale"
    stall_id: SmallId
    wallet_id: ShortId
    amount: PositiveAmount
    lines: list[SaleLine] = Field(max_length=100)
    token_seq: Annotated[int, Field(ge=0, lt=1 << 63, strict=True)]  # the seq of the token shown

    @model_validator(mode="after")
    def _lines_sum(self) -> SaleRecord:
        if self.lines and sum(line.qty * line.unit_price for line in self.lines) != self.amount:
            raise ValueError("amount must equal the sum of the lines")
        return self


class RefundLine(_Model):
    """One item given back by a refund by item: a product of the sale, how many, at the sale's unit price."""

    product_id: SmallId
    qty: Annotated[int, Field(ge=1, le=999, strict=True)]
    unit_price: Amount


class RefundRecord(_RecordBase):
    """Money back to the wallet for (part of) an earlier sale: by amount, or by item (``lines``).

    With ``lines`` the amount is their sum; the server holds them against the sale's own
    lines less what earlier refunds by item gave back, and puts counted stock back.  A
    refund by amount leaves ``lines`` out of its signed body (``terminal.context.Context.sign``),
    so its body is byte for byte what it was before refunds by item.
    """

    kind: Literal["refund"] = "refund"
    stall_id: SmallId
    wallet_id: ShortId
    amount: PositiveAmount
    ref_id: UUID  # the sale
    supervisor_id: ShortId | None = None
    reason: str = Field("", max_length=200)
    lines: list[RefundLine] = Field(default_factory=list, max_length=100)

    @model_validator(mode="after")
    def _lines_sum(self) -> RefundRecord:
        if self.lines and sum(line.qty * line.unit_price for line in self.lines) != self.amount:
            raise ValueError("amount must equal the sum of the lines")
        return self


class VoidRecord(_RecordBase):
    """Cancels a whole sale (a mistake at the till)."""

    kind: Literal["void"] = "void"
    stall_id: SmallId
    wallet_id: ShortId
    amount: PositiveAmount  # the sale's full amount
    ref_id: UUID
    supervisor_id: ShortId | None = None
    reason: str = Field("", max_length=200)


MAX_RETURN_ITEMS = 100  # deposit items (cups) one returns-only basket may give back


class ReturnLine(_Model):
    """One deposit product of a returns-only basket: how many came back, at the deposit's price."""

    product_id: SmallId
    qty: Annotated[int, Field(ge=1, le=MAX_RETURN_ITEMS, strict=True)]
    unit_price: PositiveAmount


class DepositReturnRecord(_RecordBase):
    """Deposits paid back onto a wallet for items (cups) brought back without a purchase.

    The stall's deposit account pays the wallet ``amount`` (the sum of the lines); the server
    holds it against what that account holds (``server.records``).  A return inside a
    basket that also buys something stays a negative line of the ``SaleRecord``.
    """

    kind: Literal["deposit_return"] = "deposit_return"
    stall_id: SmallId
    wallet_id: ShortId
    amount: PositiveAmount
    lines: list[ReturnLine] = Field(min_length=1, max_length=20)

    @model_validator(mode="after")
    def _lines_sum(self) -> DepositReturnRecord:
        if sum(line.qty * line.unit_price for line in self.lines) != self.amount:
            raise ValueError("amount must equal the sum of the lines")
        if sum(line.qty for line in self.lines) > MAX_RETURN_ITEMS:
            raise ValueError(f"at most {MAX_RETURN_ITEMS} items come back in one basket")
        if len({line.product_id for line in self.lines}) != len(self.lines):
            raise ValueError("one line per product")
        return self


class TopUpRecord(_RecordBase):
    """Cash taken at a desk and loaded onto a wallet."""

    kind: Literal["topup"] = "topup"
    wallet_id: ShortId
    amount: PositiveAmount
    cash_received: Amount


class CashOutRecord(_RecordBase):
    """Cash handed back at a desk from a wallet's balance (all of it with ``close``, or a part)."""

    kind: Literal["cashout"] = "cashout"
    wallet_id: ShortId
    amount: PositiveAmount
    token_seq: Annotated[int, Field(ge=0, lt=1 << 63, strict=True)]  # the seq of the statement it was decided on
    close: bool = False  # the whole balance: the server closes the wallet (its old tokens spend nothing more)


class DrawerRecord(_RecordBase):
    """A top-up desk's cash drawer counted at close-out: the server books counted − expected as imbalance.

    Expected = ``start_float`` + the desk's top-ups − its cash-outs since its previous close-out
    (``since``: that close-out's ``created_at``, 0 for the first), as the server booked them.
    """

    kind: Literal["drawer"] = "drawer"
    since: TimeMs
    start_float: Amount
    counted: Amount
    expected: Annotated[int, Field(ge=-(10**12), le=10**12, strict=True)]  # the desk's own figure, for the admin


class CheckInRecord(_RecordBase):
    """A ticket passing a gate."""

    kind: Literal["checkin"] = "checkin"
    gate_id: SmallId
    ticket_id: ShortId
    ticket_type: SmallId
    direction: Literal["in", "out"]


RecordBody = Annotated[
    SaleRecord | RefundRecord | VoidRecord | TopUpRecord | CashOutRecord | DrawerRecord | CheckInRecord
    | DepositReturnRecord,
    Field(discriminator="kind"),
]


class SignedRecord(_Model):
    """A record as the terminal signed it: the body verbatim plus the signature."""

    body: dict[str, Any]
    sig: str = Field(max_length=200)


# ---------------------------------------------------------------- enroll


class TerminalMode(StrEnum):
    """What a terminal is for."""

    STALL = "stall"
    GATE = "gate"
    TOPUP = "topup"


class EnrollRequest(_Model):
    """A terminal presents a one-time code and its new public key."""

    code: str = Field(min_length=16, max_length=40)
    public_key: str = Field(min_length=40, max_length=64)  # raw Ed25519, base64url
    name: str = Field("", max_length=100)
    app_version: str = Field("", max_length=40)


class IssuerKeyRow(_Model):
    """An issuer public key terminals trust."""

    key_id: Annotated[int, Field(ge=0, le=255)]
    public_key: str
    active: bool = True


class TerminalRow(_Model):
    """What the server knows of the calling terminal."""

    terminal_id: int
    name: str
    mode: TerminalMode
    stall_id: int | None = None
    gate_id: int | None = None
    revoked: bool = False


class EnrollResponse(_Model):
    """Credentials for a newly enrolled terminal."""

    terminal: TerminalRow
    api_token: str  # sent once; the server keeps only its hash
    issuer_keys: list[IssuerKeyRow]
    settings: EventSettings
    server_time_ms: int


# ---------------------------------------------------------------- push


class PushRequest(_Model):
    """A batch of records from the outbox."""

    records: list[SignedRecord] = Field(min_length=1, max_length=MAX_PUSH_BATCH)


class ItemStatus(StrEnum):
    """What became of one pushed record."""

    APPLIED = "applied"  # booked now
    DUPLICATE = "duplicate"  # booked before with the same body; stored result returned
    CONFLICT = "conflict"  # the id is known with a different body (422); nothing changed
    REJECTED = "rejected"  # bad signature or invalid body (422); nothing changed


class PushItemResult(_Model):
    """The per-item result; a bad item never blocks the rest."""

    id: str
    status: ItemStatus
    code: int  # 200 for applied/duplicate, 422 otherwise
    reason: str | None = None
    wallet_id: int | None = None
    balance: int | None = None  # the wallet's balance right after this record
    seq: int | None = None  # the wallet's sequence number right after this record


class PushResponse(_Model):
    """Results in the order of the request."""

    results: list[PushItemResult]
    # The server's restore epoch, from the Ennichi-Restore-Epoch header (never in the body, so terminals
    # from before it still read the answer): set by SyncClient; None = an older server, epoch unknown.
    epoch: str | None = Field(default=None, exclude=True, max_length=MAX_EPOCH_LEN)


# ---------------------------------------------------------------- authorize


class AuthorizeRequest(_Model):
    """Online authorization of a sale above the floor limit, or a top-up.

    ``carried``: the terminal's records of the same wallet that the server has not
    acknowledged yet, oldest first; the server books them as a push would (a known
    id changes nothing) before it decides, so both paths use one "available".
    """

    record: SignedRecord
    carried: list[SignedRecord] = Field(default_factory=list, max_length=MAX_CARRIED)


class AuthorizeResponse(_Model):
    """The server's decision; when approved the record is already booked."""

    id: str
    approved: bool
    reason: str | None = None  # e.g. insufficient_balance, wallet_blocked, forbidden
    balance: int | None = None
    seq: int | None = None
    carried: list[PushItemResult] = Field(default_factory=list)  # one result per carried record, in order


# ---------------------------------------------------------------- pull


class TerminalStatus(_Model):
    """Health the terminal reports with every pull."""

    app_version: str = Field("", max_length=40)
    clock_ms: Annotated[int, Field(ge=0, lt=1 << 47)] = 0
    unsynced_count: Count = 0
    unsynced_amount: Annotated[int, Field(ge=0, le=10**12)] = 0  # money: within the bound of an Amount
    last_error: str = Field("", max_length=500)


class SecurityEvent(_Model):
    """A forged or altered token shown to a terminal (from its security log), reported for the admins."""

    n: Annotated[int, Field(ge=1, lt=1 << 62, strict=True)]  # the terminal's log number: the idempotency key
    at_ms: TimeMs
    event: Literal["forged_token"]
    reason: str = Field(max_length=60, pattern=r"^[a-z_]+$")
    fingerprint: str = Field("", max_length=64, pattern=r"^[0-9a-f]*$")  # a hash of the token text, never the token
    detail: str = Field("", max_length=200)


class SecurityReport(_Model):
    """Security events not yet reported, oldest first."""

    events: list[SecurityEvent] = Field(min_length=1, max_length=100)


class SecurityReportResponse(_Model):
    """How many events were new (each became a ``forged_token`` anomaly) and how many were known."""

    accepted: int
    known: int


class PullRequest(_Model):
    """Ask for what changed since ``cursor`` (empty: from the start)."""

    cursor: str = Field("", max_length=200)
    limit: Annotated[int, Field(ge=1, le=5000)] = 1000
    status: TerminalStatus = TerminalStatus()


class StallRow(_Model):
    id: int
    name: str
    allow_free_amount: bool = False
    active: bool = True


class ProductRow(_Model):
    id: int
    stall_id: int
    name: str
    price: Amount
    stock: int | None = None  # None: not counted
    sold_out: bool = False
    active: bool = True
    sort: int = 0
    kind: ProductKind = "normal"  # deposit: paid back on return; discount: always a negative line
    category: str = Field("", max_length=CATEGORY_MAX)  # "": none; the terminal groups buttons by it
    colour: ProductColour | None = None  # the button's colour on the terminal; None: plain


class GateRow(_Model):
    id: int
    name: str
    active: bool = True


class TicketTypeRow(_Model):
    id: int
    name: str
    policy: Literal["single", "reentry", "unlimited"]
    gate_ids: list[int] = []  # empty: every gate
    active: bool = True


class RoleRow(_Model):
    role: str
    permissions: list[Permission]
    scope_kind: ScopeKind = ScopeKind.EVENT
    scope_id: int | None = None


class OverrideRow(_Model):
    permission: Permission
    allow: bool
    scope_kind: ScopeKind = ScopeKind.EVENT
    scope_id: int | None = None
    expires_at: int | None = None  # Unix seconds


class StaffRow(_Model):
    """A staff member as a terminal needs them to log in and to check permissions offline."""

    staff_id: int
    name: str
    pin_hash: str  # argon2id
    active: bool = True
    badge_not_before: int = 0  # badges issued before this (Unix s) are refused
    roles: list[RoleRow] = []
    overrides: list[OverrideRow] = []


class StatementRow(_Model):
    """A wallet's balance at a sequence number."""

    wallet_id: int
    balance: int
    seq: int
    blocked: bool = False


class RevocationKind(StrEnum):
    WALLET = "wallet"
    TICKET = "ticket"
    STAFF = "staff"
    TERMINAL = "terminal"


class RevocationRow(_Model):
    """``revoked`` false lifts an earlier revocation (an unblocked wallet)."""

    kind: RevocationKind
    id: int
    revoked: bool = True


class CheckInRow(_Model):
    """A check-in decided at a gate, as other gates learn it."""

    id: str
    gate_id: int
    terminal_id: int
    ticket_id: int
    direction: Literal["in", "out"]
    created_at: int


class TicketRow(_Model):
    """A ticket as gates hold it, to decide a typed ticket id (no signed token to read)."""

    ticket_id: int
    ticket_type: int
    policy: Literal["single", "reentry", "unlimited"]
    valid_from: int  # Unix seconds
    valid_until: int
    flags: int = 0
    revoked: bool = False


class PullResponse(_Model):
    """One page of changes; call again with ``cursor`` while ``more``."""

    cursor: str
    more: bool
    server_time_ms: int
    terminal: TerminalRow
    settings: EventSettings
    issuer_keys: list[IssuerKeyRow]
    stalls: list[StallRow] = []
    products: list[ProductRow] = []
    gates: list[GateRow] = []
    ticket_types: list[TicketTypeRow] = []
    staff: list[StaffRow] = []
    statements: list[StatementRow] = []
    revocations: list[RevocationRow] = []
    checkins: list[CheckInRow] = []
    tickets: list[TicketRow] = []  # gate terminals only
    epoch: str | None = Field(default=None, exclude=True, max_length=MAX_EPOCH_LEN)  # as in PushResponse


class WalletTokenResponse(_Model):
    """A freshly signed wallet token."""

    wallet_id: int
    token: str
    balance: int
    seq: int
    expires_at: int


# ---------------------------------------------------------------- sold out, marked at a stall's till


class SoldOutRequest(_Model):
    """A stall terminal marks a product of its stall sold out, or back on sale (``POST /products/{id}/sold-out``).

    ``staff_id``: the person logged in at the till, who must hold ``product.sold_out`` for the
    stall.  It sets a value (it is not a toggle), so a retry after a lost answer is harmless.
    """

    staff_id: ShortId
    sold_out: StrictBool


class SoldOutResponse(_Model):
    """The product as it is now (the till stores it at once; the stall's other tills pull it)."""

    product: ProductRow
    changed: bool  # False: it was so already


# ---------------------------------------------------------------- wallets issued at a top-up desk


class DeskWalletRequest(_Model):
    """A top-up desk asks for a new empty wallet for a visitor (``POST /desk/wallets``).

    ``request_id`` (UUIDv7, made and stored on the desk before the request is sent) is the
    idempotency key: the same id asked again, after a lost answer, gives the same wallet.
    ``staff_id``: the person logged in at the desk, who must hold ``topup`` for the event.
    """

    request_id: UUID
    staff_id: ShortId


class DeskWalletResponse(_Model):
    """The wallet issued (balance 0), its signed token, and a one-time My page sign-in link for the phone."""

    wallet_id: ShortId
    display_id: str = Field(max_length=20)
    token: WalletTokenResponse
    signin_url: str | None = Field(default=None, max_length=400)  # None: its holder already chose a PIN
    repeated: bool = False  # True: this request id was answered before (the same wallet, a fresh link)
