"""The authorization rules (DESIGN.md, "Authorizing a payment on the terminal"), as plain functions.

``read_wallet`` turns scanned or typed text into a wallet view or a decline
reason.  ``best_statement`` picks the statement with the highest sequence
number between the token's own and the pulled one.  ``offline_decline`` applies
the caps: available balance, the wallet's offline limit at this terminal since
the statement, the unsynced total cap, and the time since the last sync.
"""

from __future__ import annotations

from dataclasses import dataclass

from sync.errors import TokenError, TokenReason
from sync.ids import ShortIdError, parse_short_id
from sync.keys import KeySet
from sync.schemas import EventSettings, StatementRow
from sync.tokens import CLOCK_SKEW_S, WalletToken, decode_token
from terminal.decisions import DeclineReason

__all__ = ["CAP_WARNING_PERCENT", "Balance", "ClockSkew", "WalletView", "best_statement", "cap_warning",
           "clock_skew", "offline_decline", "read_wallet", "token_decline"]

_TOKEN_REASONS = {
    TokenReason.NOT_A_CODE: DeclineReason.NOT_A_CODE,
    TokenReason.BAD_ENCODING: DeclineReason.DAMAGED,
    TokenReason.TRUNCATED: DeclineReason.DAMAGED,
    TokenReason.MALFORMED: DeclineReason.DAMAGED,
    TokenReason.UNKNOWN_VERSION: DeclineReason.DAMAGED,
    TokenReason.UNKNOWN_KEY: DeclineReason.FORGED,
    TokenReason.BAD_SIGNATURE: DeclineReason.FORGED,
    TokenReason.EXPIRED: DeclineReason.EXPIRED,
    TokenReason.NOT_YET_VALID: DeclineReason.NOT_YET_VALID,
    TokenReason.WRONG_KIND: DeclineReason.WRONG_KIND,
}


def token_decline(exc: TokenError) -> DeclineReason:
    """Map a token refusal to the decline reason the UI shows."""
    return _TOKEN_REASONS.get(exc.reason, DeclineReason.DAMAGED)


@dataclass(frozen=True, slots=True)
class ClockSkew:
    """This terminal's clock is ``minutes`` off (``slow`` or ``fast``): why a good token was refused."""

    minutes: int
    direction: str  # "slow" | "fast"

    def params(self) -> dict[str, object]:
        """The message parameters (``ui.messages``: "this laptop's clock is N minutes slow")."""
        return {"minutes": self.minutes, "direction": self.direction}


def clock_skew(exc: TokenError, *, now_s: int, server_skew_ms: int | None) -> ClockSkew | None:
    """Return the clock skew when a genuine token was refused only because this terminal's clock is off.

    ``server_skew_ms`` is the server's time minus this clock's now, as the last enrollment or
    pull measured it and the monotonic clock carried forward (``Store.server_skew_ms``; None:
    never measured).  Not yet valid: this clock is slow when the measurement says so by more
    than the allowed skew; with no measurement the token itself is the evidence (the server
    signed it at ``issued_at``, so this clock is at least ``issued_at − now`` slow).  Expired:
    only when the measurement says this clock is fast by more than the allowed skew and the
    token is still valid by the server's time.  Returns None otherwise (the token really is
    not valid yet, or expired).
    """
    token = exc.token
    issued_at = getattr(token, "issued_at", None)
    expires_at = getattr(token, "expires_at", None)
    slack_ms = CLOCK_SKEW_S * 1000
    if exc.reason is TokenReason.NOT_YET_VALID and isinstance(issued_at, int):
        if server_skew_ms is None:
            return ClockSkew(max(1, -(-(issued_at - now_s) // 60)), "slow")
        if server_skew_ms > slack_ms and now_s + server_skew_ms // 1000 >= issued_at - CLOCK_SKEW_S:
            return ClockSkew(max(1, -(-server_skew_ms // 60_000)), "slow")
        return None
    if exc.reason is TokenReason.EXPIRED and isinstance(expires_at, int) and server_skew_ms is not None \
            and -server_skew_ms > slack_ms and now_s + server_skew_ms // 1000 < expires_at:
        fast_ms = -server_skew_ms
        return ClockSkew(max(1, -(-fast_ms // 60_000)), "fast")
    return None


@dataclass(frozen=True, slots=True)
class WalletView:
    """The wallet a customer presented: its id and, when scanned, the verified token."""

    wallet_id: int
    token: WalletToken | None


def read_wallet(text: str, keys: KeySet, *, now_s: int) -> WalletView:
    """Read a wallet QR token or a typed wallet id; raises TokenError with the reason."""
    stripped = text.strip() if isinstance(text, str) else ""
    if stripped[:1].upper() == "E" and ":" in stripped[:5]:
        token = decode_token(stripped, keys, now=now_s, expect=WalletToken)
        assert isinstance(token, WalletToken)
        return WalletView(token.wallet_id, token)
    try:
        return WalletView(parse_short_id(stripped), None)
    except ShortIdError as exc:
        raise TokenError(TokenReason.NOT_A_CODE, "neither a wallet code nor a wallet id") from exc


@dataclass(frozen=True, slots=True)
class Balance:
    """The best statement and what this terminal knows on top of it."""

    balance: int  # the statement's balance
    seq: int  # the statement's sequence number
    source: str  # "token" or "statement"


def best_statement(token: WalletToken | None, statement: StatementRow | None) -> Balance | None:
    """Return the statement with the highest sequence number (the pulled one wins a tie), or None."""
    if statement is not None and (token is None or statement.seq >= token.seq):
        return Balance(statement.balance, statement.seq, "statement")
    if token is not None:
        return Balance(token.balance, token.seq, "token")
    return None


CAP_WARNING_PERCENT = 80  # the terminal warns when its unsynced offline total reaches this share of the cap


def cap_warning(unsynced_offline_total: int, cap: int) -> str | None:
    """Return "unsynced_near_cap" when the unsynced offline total is at or past 80 % of the cap, else None."""
    if cap > 0 and unsynced_offline_total * 100 >= cap * CAP_WARNING_PERCENT:
        return "unsynced_near_cap"
    return None


def offline_decline(
    *,
    amount: int,
    available: int,
    offline_spent: int,
    wallet_offline_limit: int,
    unsynced_offline_total: int,
    settings: EventSettings,
    now_ms: int,
    last_sync_ms: int,
) -> DeclineReason | None:
    """Return why an offline approval of ``amount`` is refused, or None to approve."""
    if amount > available:
        return DeclineReason.INSUFFICIENT_BALANCE
    if offline_spent + amount > wallet_offline_limit:
        return DeclineReason.OFFLINE_LIMIT
    if unsynced_offline_total + amount > settings.unsynced_cap:
        return DeclineReason.UNSYNCED_CAP
    if now_ms - last_sync_ms > settings.max_offline_s * 1000:
        return DeclineReason.SYNC_TOO_OLD
    return None
