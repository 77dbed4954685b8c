"""Wallets: creation, admin top-ups and adjustments, blocking, history, fresh tokens."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, insert, select, update

from server.db import tables as t
from server.db.engine import reserve_changes
from server.ledger import SYSTEM_ADJUSTMENTS, SYSTEM_ADMIN_CASH, LedgerBatch, ensure_account
from server.said import Said
from sync.ids import new_short_id
from sync.keys import IssuerKey
from sync.schemas import EventSettings, WalletTokenResponse
from sync.tokens import WalletFlags, WalletToken, encode_token

__all__ = ["WalletError", "WalletView", "admin_adjust", "admin_topup", "create_wallet", "set_blocked",
           "signed_wallet_token", "wallet_view"]


class WalletError(Said):
    """An unknown wallet or an operation it does not allow; the message is safe to show."""


@dataclass(frozen=True, slots=True)
class WalletView:
    """A wallet's state and recent history."""

    wallet_id: int
    balance: int
    seq: int
    blocked: bool
    overdrawn: bool
    flags: int
    history: list[dict[str, Any]]


def create_wallet(conn: Connection, *, now_ms: int, wallet_id: int | None = None, flags: int = 0) -> int:
    """Create an empty wallet and return its short id."""
    wallet_id = new_short_id() if wallet_id is None else wallet_id
    ensure_account(conn, "wallet", wallet_id, now_ms=now_ms, flags=flags, stamp=True)
    return wallet_id


def _book(conn: Connection, *, lock: bool, now_ms: int, kind: str, wallet_id: int, amount: int,
          other: tuple[str, int], note: str, staff_id: int | None) -> tuple[int, int]:
    batch = LedgerBatch(conn, lock=lock, now_ms=now_ms)
    ensure_account(conn, *other, now_ms=now_ms, name=note)
    batch.load([("wallet", wallet_id), other])
    wallet, counter = batch.account("wallet", wallet_id), batch.account(*other)
    if wallet is None:
        raise WalletError(f"unknown wallet {wallet_id}", ja=f"ウォレット {wallet_id} は見つかりません")
    assert counter is not None
    batch.post(kind, [(counter, -amount), (wallet, amount)], staff_id=staff_id, note=note)
    batch.flush()
    return wallet.balance, wallet.seq


def admin_topup(conn: Connection, wallet_id: int, amount: int, *, lock: bool, now_ms: int,
                staff_id: int | None = None) -> tuple[int, int]:
    """Load cash taken by an admin onto a wallet; returns (balance, seq); raises WalletError."""
    if amount <= 0:
        raise WalletError("a top-up amount must be positive", ja="チャージ額は0より大きくしてください")
    return _book(conn, lock=lock, now_ms=now_ms, kind="topup", wallet_id=wallet_id, amount=amount,
                 other=("system", SYSTEM_ADMIN_CASH), note="admin cash", staff_id=staff_id)


def admin_adjust(conn: Connection, wallet_id: int, amount: int, *, lock: bool, now_ms: int, note: str,
                 staff_id: int | None = None) -> tuple[int, int]:
    """Correct a wallet by ``amount`` (either sign) with a new transaction; raises WalletError."""
    if amount == 0:
        raise WalletError("an adjustment must not be zero", ja="調整額は0以外にしてください")
    if not note.strip():
        raise WalletError("an adjustment needs a note", ja="調整には理由のメモが必要です")
    return _book(conn, lock=lock, now_ms=now_ms, kind="adjustment", wallet_id=wallet_id, amount=amount,
                 other=("system", SYSTEM_ADJUSTMENTS), note=note, staff_id=staff_id)


def set_blocked(conn: Connection, wallet_id: int, *, blocked: bool, reason: str, now_ms: int) -> None:
    """Block or unblock a wallet and publish the (lifted) revocation; raises WalletError."""
    a = t.accounts
    number = reserve_changes(conn, 2)
    done = conn.execute(update(a).where(and_(a.c.kind == "wallet", a.c.ref == wallet_id))
                        .values(blocked=blocked, change_seq=number)).rowcount
    if not done:
        raise WalletError(f"unknown wallet {wallet_id}", ja=f"ウォレット {wallet_id} は見つかりません")
    r = t.revocations
    if not conn.execute(update(r).where(and_(r.c.kind == "wallet", r.c.ref == wallet_id)).values(
            revoked=blocked, reason=reason, created_at=now_ms, change_seq=number + 1)).rowcount:
        conn.execute(insert(r).values(kind="wallet", ref=wallet_id, revoked=blocked, reason=reason,
                                      created_at=now_ms, change_seq=number + 1))


def wallet_view(conn: Connection, wallet_id: int, *, history: int = 20) -> WalletView:
    """Return a wallet's balance and its latest postings; raises WalletError."""
    a, p, x = t.accounts, t.postings, t.transactions
    row = conn.execute(select(a).where(a.c.kind == "wallet", a.c.ref == wallet_id)).first()
    if row is None:
        raise WalletError(f"unknown wallet {wallet_id}", ja=f"ウォレット {wallet_id} は見つかりません")
    items = conn.execute(
        select(p.c.amount, p.c.seq, x.c.kind, x.c.record_id, x.c.created_at, x.c.terminal_id, x.c.note)
        .join(x, x.c.id == p.c.txn_id).where(p.c.account_id == row.id).order_by(p.c.seq.desc()).limit(history)
    )
    return WalletView(int(row.ref), int(row.balance), int(row.seq), bool(row.blocked), bool(row.overdrawn),
                      int(row.flags), [dict(i._mapping) for i in items])


def signed_wallet_token(conn: Connection, wallet_id: int, *, issuer: IssuerKey, settings: EventSettings,
                        now_ms: int) -> WalletTokenResponse:
    """Sign a fresh wallet token at the current balance; raises WalletError (unknown or blocked)."""
    a = t.accounts
    row = conn.execute(select(a.c.balance, a.c.seq, a.c.flags, a.c.blocked)
                       .where(a.c.kind == "wallet", a.c.ref == wallet_id)).first()
    if row is None:
        raise WalletError(f"unknown wallet {wallet_id}", ja=f"ウォレット {wallet_id} は見つかりません")
    if row.blocked:
        raise WalletError("this wallet is blocked", ja="このウォレットは停止されています")
    now_s = now_ms // 1000
    expires = now_s + settings.wallet_token_ttl_s
    token = WalletToken(wallet_id, int(row.balance), int(row.seq), now_s, expires, settings.offline_limit,
                        WalletFlags(int(row.flags) & 0xFF))
    return WalletTokenResponse(wallet_id=wallet_id, token=encode_token(token, issuer), balance=int(row.balance),
                               seq=int(row.seq), expires_at=expires)
