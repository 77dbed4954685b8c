"""The close of the event: balances still held, payout requests and runs, unclaimed balances, stall fees.

Money leaves the wallets only through ledger transactions, like everything else:

    payout     wallet −balance, system "payouts" +balance     a bank transfer the customer asked for on My page
    donation   wallet −balance, system "donations" +balance   given to the school (chosen, or the closing rule)

and the deposits nobody came back for leave the stalls' deposit accounts the same way:

    deposit_closeout  stall_deposit −held, stall_revenue +held   the cups that never came back are the stall's
                                                                 (it bought them): paid out with its settlement

A paid-out wallet is then blocked (revocation reason ``paid_out``), so a terminal
that pulls refuses its old tokens, and a terminal that sells offline on an old
token raises the usual overdraft anomaly.  A payout always takes the wallet's
balance *at the run*, read after the wallet's row is locked: what a customer
spends between asking and the run is not paid out twice.

The event's closing configuration (``close_settings``, one row) holds the stall
fee rate (basis points of net sales, rounded down, in the stall's favour), whether
My page takes payout requests, and what happens to balances nobody claimed by a
date (donated, or kept for a later decision).
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    and_,
    exists,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError

from server.db import tables as t
from server.db.tables import BIG, BOOL, NAMING_CONVENTION, STRICT
from server.ledger import LedgerBatch, ensure_account

__all__ = [
    "DONATION_KINDS",
    "SYSTEM_DONATIONS",
    "SYSTEM_PAYOUTS",
    "BankDetails",
    "CloseError",
    "CloseSettings",
    "apply_unclaimed_rule",
    "balances_held",
    "cancel_request",
    "close_out_deposits",
    "close_settings",
    "make_payout_run",
    "payout_runs",
    "payout_status",
    "pending_requests",
    "request_payout",
    "run_csv",
    "save_close_settings",
    "stall_fee",
]

SYSTEM_PAYOUTS = 3  # the other side of bank transfers paid out to customers
SYSTEM_DONATIONS = 4  # the other side of balances given to the school
DONATION_KINDS = ("payout", "donation")
DEPOSIT_CLOSEOUT = "deposit_closeout"  # deposits never returned, moved to the stall's revenue at the close
MAX_FEE_BP = 10_000

metadata = MetaData(naming_convention=NAMING_CONVENTION)

close_table = Table(
    "close_settings", metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),  # always 1
    Column("stall_fee_bp", Integer, nullable=False, server_default="0"),  # basis points of net sales
    Column("payouts_open", BOOL, nullable=False, server_default="0"),
    Column("claim_until", BIG, nullable=True),  # Unix ms: after it, unclaimed balances follow the rule
    Column("unclaimed_rule", Text(), nullable=False, server_default="keep"),  # donate | keep
    Column("updated_at", BIG, nullable=False, server_default="0"),
    **STRICT,
)

payout_requests = Table(
    "payout_requests", metadata,
    Column("id", Integer, primary_key=True),
    Column("wallet_id", BIG, nullable=False),
    Column("method", Text(), nullable=False),  # bank | donate
    Column("holder_kana", Text(), nullable=False, server_default=""),
    Column("bank_code", Text(), nullable=False, server_default=""),
    Column("branch_code", Text(), nullable=False, server_default=""),
    Column("account_type", Text(), nullable=False, server_default=""),  # ordinary | current | savings
    Column("account_number", Text(), nullable=False, server_default=""),
    Column("status", Text(), nullable=False),  # requested | paid | donated | cancelled
    Column("source", Text(), nullable=False, server_default="customer"),  # customer | rule
    Column("amount", BIG, nullable=True),  # what left the wallet at the run
    Column("txn_id", BIG, nullable=True),
    Column("run_id", Integer, nullable=True),
    Column("created_at", BIG, nullable=False),
    Column("closed_at", BIG, nullable=True),
    Index(None, "wallet_id"),
    # one open request per wallet, whatever the concurrency (the database says no to a second)
    Index("uq_payout_requests_open", "wallet_id", unique=True, sqlite_where=text("status = 'requested'"),
          postgresql_where=text("status = 'requested'")),
    **STRICT,
)

payout_runs = Table(
    "payout_runs", metadata,
    Column("id", Integer, primary_key=True),
    Column("created_at", BIG, nullable=False),
    Column("actor", Text(), nullable=False),
    Column("transfers", Integer, nullable=False),
    Column("donations", Integer, nullable=False),
    Column("total", BIG, nullable=False),
    **STRICT,
)


class CloseError(ValueError):
    """A closing action refused; ``code`` names it for the translations, the message is English."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class CloseSettings:
    """The event's closing configuration."""

    stall_fee_bp: int = 0
    payouts_open: bool = False
    claim_until: int | None = None
    unclaimed_rule: str = "keep"


def close_settings(conn: Connection) -> CloseSettings:
    """The closing configuration (defaults until an admin saves it)."""
    row = conn.execute(select(close_table).where(close_table.c.id == 1)).first()
    if row is None:
        return CloseSettings()
    return CloseSettings(int(row.stall_fee_bp), bool(row.payouts_open),
                         None if row.claim_until is None else int(row.claim_until), str(row.unclaimed_rule))


def save_close_settings(conn: Connection, value: CloseSettings, *, now_ms: int) -> None:
    """Store the closing configuration; raises CloseError for values out of range."""
    if not 0 <= value.stall_fee_bp <= MAX_FEE_BP:
        raise CloseError("fee_range", "the stall fee is 0 to 100 %")
    if value.unclaimed_rule not in ("donate", "keep"):
        raise CloseError("rule", "unclaimed balances are donated or kept")
    if value.claim_until is not None and not 0 < value.claim_until < 2**53:
        raise CloseError("date", "not a date")
    values = {"stall_fee_bp": value.stall_fee_bp, "payouts_open": value.payouts_open,
              "claim_until": value.claim_until, "unclaimed_rule": value.unclaimed_rule, "updated_at": now_ms}
    if not conn.execute(update(close_table).where(close_table.c.id == 1).values(**values)).rowcount:
        conn.execute(insert(close_table).values(id=1, **values))


def stall_fee(net: int, fee_bp: int) -> int:
    """The event's fee on a stall's net sales: basis points, rounded down (never more than the stall made)."""
    return max(0, net) * fee_bp // MAX_FEE_BP


# ------------------------------------------------------------------ bank details

_KANA = re.compile(r"^[\u30A0-\u30FF\u3000 ()（）./\-A-Z0-9]+$")


@dataclass(frozen=True, slots=True)
class BankDetails:
    """Where a payout goes: a Japanese domestic account (Zengin fields)."""

    holder_kana: str
    bank_code: str
    branch_code: str
    account_type: str
    account_number: str

    @classmethod
    def parse(cls, *, holder: str, bank: str, branch: str, account_type: str, number: str) -> BankDetails:
        """Check and normalise what a customer typed; raises CloseError naming the field."""
        holder = unicodedata.normalize("NFKC", holder).strip().upper()  # half-width kana -> full-width
        holder = re.sub(r"\s+", " ", holder)
        has_kana = any("\u30a1" <= c <= "\u30fa" for c in holder)
        if not holder or len(holder) > 48 or not _KANA.match(holder) or not has_kana:
            raise CloseError("holder", "the account holder's name in katakana, as the bank has it")
        digits = {name: unicodedata.normalize("NFKC", value).strip()
                  for name, value in (("bank", bank), ("branch", branch), ("number", number))}
        if not re.fullmatch(r"\d{4}", digits["bank"]):
            raise CloseError("bank", "the bank code has 4 digits")
        if not re.fullmatch(r"\d{3}", digits["branch"]):
            raise CloseError("branch", "the branch code has 3 digits")
        if not re.fullmatch(r"\d{1,7}", digits["number"]):
            raise CloseError("number", "the account number has up to 7 digits")
        if account_type not in ("ordinary", "current", "savings"):
            raise CloseError("account_type", "choose the kind of account")
        return cls(holder, digits["bank"], digits["branch"], account_type, digits["number"].zfill(7))


# ------------------------------------------------------------------ My page side


def _wallet(conn: Connection, wallet_id: int) -> Any:
    a = t.accounts
    return conn.execute(select(a.c.balance, a.c.blocked).where(a.c.kind == "wallet", a.c.ref == wallet_id)).first()


def request_payout(conn: Connection, wallet_id: int, *, method: str, bank: BankDetails | None,
                   now_ms: int) -> int:
    """Ask for the wallet's remaining balance (bank transfer or donation); returns the request id.

    Raises CloseError: payouts not open, nothing left, already paid out, already asked.
    """
    if not close_settings(conn).payouts_open:
        raise CloseError("closed", "payout requests are not open yet")
    if method not in ("bank", "donate") or (method == "bank") != (bank is not None):
        raise CloseError("method", "choose a bank transfer (with the account) or a donation")
    wallet = _wallet(conn, wallet_id)
    if wallet is None:
        raise CloseError("unknown", "unknown wallet")
    r = payout_requests
    if conn.execute(select(r.c.id).where(r.c.wallet_id == wallet_id, r.c.status.in_(("paid", "donated")))).first():
        raise CloseError("done", "this wallet was already paid out")
    if int(wallet.balance) <= 0:
        raise CloseError("empty", "there is no balance to pay out")
    values: dict[str, Any] = {"wallet_id": wallet_id, "method": method, "status": "requested", "created_at": now_ms}
    if bank is not None:
        values.update(holder_kana=bank.holder_kana, bank_code=bank.bank_code, branch_code=bank.branch_code,
                      account_type=bank.account_type, account_number=bank.account_number)
    try:
        with conn.begin_nested():
            return int(conn.execute(insert(r).values(**values).returning(r.c.id)).scalar_one())
    except IntegrityError as exc:
        raise CloseError("pending", "a payout request for this wallet is already waiting") from exc


def cancel_request(conn: Connection, wallet_id: int, *, now_ms: int) -> bool:
    """Withdraw the wallet's waiting request (one conditional statement); True when there was one."""
    r = payout_requests
    return bool(conn.execute(update(r).where(r.c.wallet_id == wallet_id, r.c.status == "requested")
                             .values(status="cancelled", closed_at=now_ms)).rowcount)


def payout_status(conn: Connection, wallet_id: int) -> dict[str, Any] | None:
    """The wallet's latest payout request (waiting, paid, donated or cancelled), for My page."""
    r = payout_requests
    row = conn.execute(select(r).where(r.c.wallet_id == wallet_id).order_by(r.c.id.desc()).limit(1)).first()
    return None if row is None else dict(row._mapping)


# ------------------------------------------------------------------ the admin side


def pending_requests(conn: Connection) -> list[dict[str, Any]]:
    """Waiting requests with the wallet's current balance, oldest first."""
    r, a = payout_requests, t.accounts
    rows = conn.execute(
        select(r, a.c.balance).join(a, and_(a.c.kind == "wallet", a.c.ref == r.c.wallet_id))
        .where(r.c.status == "requested").order_by(r.c.id))
    return [dict(row._mapping) for row in rows]


def _close_wallet(conn: Connection, request: Any, *, kind: str, run_id: int | None, lock: bool,
                  now_ms: int) -> int:
    """Move the whole balance out of one wallet (locked first); returns the amount (0: nothing to move)."""
    system = SYSTEM_PAYOUTS if kind == "payout" else SYSTEM_DONATIONS
    ensure_account(conn, "system", system, now_ms=now_ms, name="payouts" if kind == "payout" else "donations")
    batch = LedgerBatch(conn, lock=lock, now_ms=now_ms)
    batch.load([("wallet", int(request.wallet_id)), ("system", system)])
    wallet, other = batch.account("wallet", int(request.wallet_id)), batch.account("system", system)
    assert wallet is not None and other is not None
    amount = wallet.balance  # read under the lock: what is really there now
    status = "paid" if kind == "payout" else "donated"
    booked = None
    if amount <= 0:
        status, amount = "cancelled", 0
    else:
        booked = batch.txns[batch.post(kind, [(wallet, -amount), (other, amount)], note=f"payout request {request.id}")]
        batch.block_wallet(wallet, reason="paid_out")
    batch.flush()
    txn = None if booked is None else booked.id
    conn.execute(update(payout_requests).where(payout_requests.c.id == request.id).values(
        status=status, amount=amount, txn_id=txn, run_id=run_id, closed_at=now_ms))
    return amount


def make_payout_run(conn: Connection, *, actor: str, lock: bool, now_ms: int) -> int:
    """Book every waiting request at its wallet's balance now; returns the run id. Raises CloseError (none waiting).

    The waiting requests are claimed with one conditional UPDATE per request (status
    ``requested`` → ``running``) before anything is booked, so two admins pressing the
    button at once (two server processes on PostgreSQL) book each request once.
    """
    r = payout_requests
    ids = [int(i) for i in conn.execute(select(r.c.id).where(r.c.status == "requested").order_by(r.c.id)).scalars()]
    run_id = int(conn.execute(insert(payout_runs).values(created_at=now_ms, actor=actor, transfers=0, donations=0,
                                                         total=0).returning(payout_runs.c.id)).scalar_one())
    claimed = []
    for request_id in ids:
        if conn.execute(update(r).where(r.c.id == request_id, r.c.status == "requested")
                        .values(status="running", run_id=run_id)).rowcount:
            claimed.append(request_id)
    if not claimed:
        raise CloseError("nothing", "no payout request is waiting")
    transfers = donations = total = 0
    for request_id in claimed:
        request = conn.execute(select(r).where(r.c.id == request_id)).one()
        amount = _close_wallet(conn, request, kind="payout" if request.method == "bank" else "donation",
                               run_id=run_id, lock=lock, now_ms=now_ms)
        if amount:
            total += amount
            transfers += request.method == "bank"
            donations += request.method == "donate"
    conn.execute(update(payout_runs).where(payout_runs.c.id == run_id).values(
        transfers=transfers, donations=donations, total=total))
    return run_id


def apply_unclaimed_rule(conn: Connection, *, lock: bool, now_ms: int) -> tuple[int, int]:
    """After the claim date, donate every positive balance nobody asked for; returns (wallets, total).

    Raises CloseError when the rule is not "donate" or the date has not passed.
    """
    settings = close_settings(conn)
    if settings.unclaimed_rule != "donate":
        raise CloseError("rule_keep", "the closing rule keeps unclaimed balances")
    if settings.claim_until is None or now_ms < settings.claim_until:
        raise CloseError("too_early", "the claim date has not passed yet")
    a, r = t.accounts, payout_requests
    asked = exists().where(r.c.wallet_id == a.c.ref, r.c.status.in_(("requested", "running", "paid", "donated")))
    wallets = [int(w) for w in conn.execute(select(a.c.ref).where(a.c.kind == "wallet", a.c.balance > 0, ~asked)
                                            .order_by(a.c.ref)).scalars()]
    count = total = 0
    for wallet_id in wallets:
        try:
            with conn.begin_nested():
                request_id = int(conn.execute(insert(r).values(
                    wallet_id=wallet_id, method="donate", status="running", source="rule",
                    created_at=now_ms).returning(r.c.id)).scalar_one())
        except IntegrityError:  # asked for at this very moment: theirs wins
            continue
        request = conn.execute(select(r).where(r.c.id == request_id)).one()
        amount = _close_wallet(conn, request, kind="donation", run_id=None, lock=lock, now_ms=now_ms)
        count += amount > 0
        total += amount
    return count, total


def deposits_held(conn: Connection) -> list[dict[str, Any]]:
    """Every stall whose deposit account is not empty: stall id, name, the deposits it still holds (by id)."""
    a, st = t.accounts, t.stalls
    return [{"stall_id": int(r.ref), "name": r.name, "held": int(r.balance)} for r in conn.execute(
        select(a.c.ref, a.c.balance, st.c.name).join(st, st.c.id == a.c.ref)
        .where(a.c.kind == "stall_deposit", a.c.balance != 0).order_by(a.c.ref))]


def close_out_deposits(conn: Connection, *, lock: bool, now_ms: int) -> dict[str, Any]:
    """Move every stall's deposits still held (cups never returned) to its own revenue; raises CloseError (none).

    One ``deposit_closeout`` transaction per stall, of the balance read after both accounts are
    locked (a cup brought back at this very moment is paid first or declined after, never
    both).  A deposit account below zero (more cups paid back offline than taken, flagged
    ``deposit_not_held``) is brought to zero from the stall's revenue the same way.  Once
    done, a cup brought back later is declined online (``deposit_not_held``); the step can be
    repeated for what an offline till books afterwards.  Returns {stalls, total, moved: {stall: amount}}.
    """
    stalls = [int(r["stall_id"]) for r in deposits_held(conn)]
    if not stalls:
        raise CloseError("no_deposits", "no stall holds deposits")
    batch = LedgerBatch(conn, lock=lock, now_ms=now_ms)
    batch.load([(kind, stall) for stall in stalls for kind in ("stall_revenue", "stall_deposit")])
    moved: dict[str, int] = {}
    for stall in stalls:
        deposit, revenue = batch.account("stall_deposit", stall), batch.account("stall_revenue", stall)
        if deposit is None or revenue is None or deposit.balance == 0:  # returned meanwhile
            continue
        held = deposit.balance
        batch.post(DEPOSIT_CLOSEOUT, [(deposit, -held), (revenue, held)], amount=held,
                   note=f"deposits not returned at the close of the event: {held} to the stall's revenue")
        moved[str(stall)] = held
    batch.flush()
    return {"stalls": len(moved), "total": sum(moved.values()), "moved": moved}


def payout_run_rows(conn: Connection, run_id: int) -> list[dict[str, Any]]:
    """The requests one run booked, in request order."""
    r = payout_requests
    return [dict(row._mapping) for row in conn.execute(select(r).where(r.c.run_id == run_id).order_by(r.c.id))]


def run_csv(conn: Connection, run_id: int) -> str:
    """The bank-transfer file of a run: one line per transfer (donations are not transfers)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["request_id", "wallet", "bank_code", "branch_code", "account_type", "account_number",
                     "holder_kana", "amount"])
    from sync.ids import format_short_id

    for row in payout_run_rows(conn, run_id):
        if row["method"] == "bank" and row["status"] == "paid":
            writer.writerow([row["id"], format_short_id(int(row["wallet_id"])), row["bank_code"], row["branch_code"],
                             row["account_type"], row["account_number"], row["holder_kana"], row["amount"]])
    return out.getvalue()


def payout_runs_list(conn: Connection) -> list[dict[str, Any]]:
    """Every run, newest first."""
    return [dict(row._mapping) for row in conn.execute(select(payout_runs).order_by(payout_runs.c.id.desc()))]


def balances_held(conn: Connection, *, limit: int = 200) -> dict[str, Any]:
    """Money still in wallets: the total, per kind of wallet, and the largest balances.

    Kinds: ``student`` (My page with a student's role), ``visitor`` (My page, no role),
    ``card`` (no My page: a printed card or a wallet made at a desk).
    """
    from server.web.tables import customers

    a = t.accounts
    kind = (select(func.count()).select_from(customers)
            .where(customers.c.wallet_id == a.c.ref).scalar_subquery())
    student = (select(func.count()).select_from(customers)
               .where(customers.c.wallet_id == a.c.ref, customers.c.staff_id.is_not(None)).scalar_subquery())
    rows = conn.execute(select(a.c.ref, a.c.balance, kind.label("my"), student.label("student"))
                        .where(a.c.kind == "wallet", a.c.balance > 0)).all()
    per: dict[str, dict[str, int]] = {k: {"wallets": 0, "total": 0} for k in ("student", "visitor", "card")}
    listed: list[dict[str, Any]] = []
    for row in rows:
        name = "student" if row.student else "visitor" if row.my else "card"
        per[name]["wallets"] += 1
        per[name]["total"] += int(row.balance)
        listed.append({"wallet_id": int(row.ref), "balance": int(row.balance), "kind": name})
    listed.sort(key=lambda r: (-r["balance"], r["wallet_id"]))
    total = sum(p["total"] for p in per.values())
    negative = conn.execute(select(func.coalesce(func.sum(a.c.balance), 0))
                            .where(a.c.kind == "wallet", a.c.balance < 0)).scalar_one()
    return {"total": total, "wallets": len(rows), "per_kind": per, "largest": listed[:limit],
            "overdrawn_total": int(negative)}


def money_summary(conn: Connection) -> dict[str, int]:
    """Where the event's money is, by account kind; the ledger's sum of everything is zero.

    money in = cash taken at desks and by admins (the negative balances of drawers and of
    "admin cash"); it sits in wallets, stall revenue, payouts, donations, cash paid out at desks
    (cash-outs), drawer imbalances (counted − expected at close-outs) and adjustments; the stalls'
    discounts (negative: taken off their revenue) and the deposits stalls hold for customers
    (and in accounts of kinds added later, ``other``).  ``money_in == accounted`` always.
    """
    from server.drawers import SYSTEM_IMBALANCE
    from server.ledger import SYSTEM_ADJUSTMENTS, SYSTEM_ADMIN_CASH
    from server.records import SYSTEM_CASHOUTS

    a = t.accounts
    names = {("system", SYSTEM_ADMIN_CASH): "cash_in_admin", ("system", SYSTEM_PAYOUTS): "payouts",
             ("system", SYSTEM_DONATIONS): "donations", ("system", SYSTEM_ADJUSTMENTS): "adjustments",
             ("system", SYSTEM_CASHOUTS): "cash_outs", ("system", SYSTEM_IMBALANCE): "imbalance"}
    summary = dict.fromkeys(("cash_in_desks", "cash_in_admin", "wallets", "stall_revenue", "stall_discounts",
                             "deposits_held", "payouts", "donations", "cash_outs", "imbalance", "adjustments",
                             "other"), 0)
    for kind, ref, balance in conn.execute(select(a.c.kind, a.c.ref, func.sum(a.c.balance))
                                           .group_by(a.c.kind, a.c.ref)):
        name = names.get((str(kind), int(ref))) or {
            "cash_drawer": "cash_in_desks", "wallet": "wallets", "stall_revenue": "stall_revenue",
            "stall_discount": "stall_discounts", "stall_deposit": "deposits_held"}.get(str(kind), "other")
        summary[name] += int(balance)
    summary["cash_in_desks"] = -summary["cash_in_desks"]  # a drawer goes negative by the cash it took in
    summary["cash_in_admin"] = -summary["cash_in_admin"]
    summary["money_in"] = summary["cash_in_desks"] + summary["cash_in_admin"]
    summary["accounted"] = sum(summary[k] for k in ("wallets", "stall_revenue", "stall_discounts", "deposits_held",
                                                    "payouts", "donations",
                                                    "cash_outs", "imbalance", "adjustments", "other"))
    return summary
