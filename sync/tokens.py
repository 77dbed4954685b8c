"""Signed QR tokens: wallet (``EW1:``), ticket (``ET1:``) and staff badge (``ES1:``).

Binary layout, big-endian, signed with Ed25519 by an issuer key::

    version:u8  kind:u8  key_id:u8  fields...  signature:64

    wallet  wallet_id:u40 balance:i64 seq:u32 issued_at:u32 expires_at:u32
            offline_limit:u32 flags:u8                          97 bytes
    ticket  ticket_id:u40 ticket_type:u16 valid_from:u32 valid_until:u32
            policy:u8 flags:u8                                  84 bytes
    staff   staff_id:u40 issued_at:u32 expires_at:u32           80 bytes

Times are Unix seconds.  The signature covers every byte before it, the kind
byte included, so one kind can never pass for another.  The bytes are written
as base45 after the prefix, so the whole text is in the QR alphanumeric set.
Every token stays at or under ``MAX_TOKEN_BYTES`` (QR version 7, level M).

``decode_token`` returns a typed token or raises ``TokenError`` with a reason;
nothing else escapes it, whatever it is fed.
"""

from __future__ import annotations

import hashlib
import re
import struct
from dataclasses import dataclass, field
from enum import IntEnum, IntFlag
from typing import ClassVar, TypeVar

import base45

from sync.errors import TokenError, TokenReason
from sync.keys import IssuerKey, KeySet

__all__ = [
    "CLOCK_SKEW_S",
    "MAX_TOKEN_BYTES",
    "EntryPolicy",
    "StaffBadge",
    "TicketFlags",
    "TicketToken",
    "Token",
    "TokenKind",
    "WalletFlags",
    "WalletToken",
    "decode_token",
    "encode_token",
    "token_fingerprint",
]

VERSION = 1
MAX_TOKEN_BYTES = 110
SIGNATURE_BYTES = 64
CLOCK_SKEW_S = 300  # a token issued up to 5 minutes "in the future" is still fine
_HEADER = struct.Struct(">BBB")
_PREFIX_RE = re.compile(r"^E([WTS])(\d+):")
_U40 = (1 << 40) - 1


class TokenKind(IntEnum):
    """The kind byte; its letter is the prefix letter."""

    WALLET = ord("W")
    TICKET = ord("T")
    STAFF = ord("S")

    @property
    def prefix(self) -> str:
        """The text prefix, e.g. ``EW1:``."""
        return f"E{chr(self.value)}{VERSION}:"


class WalletFlags(IntFlag):
    """Wallet token flags."""

    NONE = 0
    MINOR = 1  # the holder is a minor: stalls may refuse some products
    PRINTED_CARD = 2  # a long-lived printed card, not a fresh My page token


class TicketFlags(IntFlag):
    """Ticket token flags."""

    NONE = 0
    GUEST = 1  # issued by a student from their invitation quota
    STAFF = 2


class EntryPolicy(IntEnum):
    """How often a ticket may pass a gate."""

    SINGLE = 1  # one entry, ever
    REENTRY = 2  # re-entry after an exit
    UNLIMITED = 3  # no pass-back check (staff)


def _u40(value: int) -> bytes:
    if not 0 <= value <= _U40:
        raise ValueError("id out of range")
    return value.to_bytes(5, "big")


@dataclass(frozen=True, slots=True)
class WalletToken:
    """A signed balance statement the customer carries."""

    KIND: ClassVar[TokenKind] = TokenKind.WALLET
    _FIELDS: ClassVar[struct.Struct] = struct.Struct(">5sqIIIIB")

    wallet_id: int
    balance: int
    seq: int
    issued_at: int
    expires_at: int
    offline_limit: int
    flags: WalletFlags = WalletFlags.NONE
    key_id: int = field(default=0, compare=False)

    def _pack(self) -> bytes:
        return self._FIELDS.pack(
            _u40(self.wallet_id), self.balance, self.seq, self.issued_at,
            self.expires_at, self.offline_limit, int(self.flags),
        )

    @classmethod
    def _unpack(cls, data: bytes, key_id: int) -> WalletToken:
        wid, balance, seq, iat, exp, limit, flags = cls._FIELDS.unpack(data)
        return cls(int.from_bytes(wid, "big"), balance, seq, iat, exp, limit, WalletFlags(flags), key_id)

    def _window(self) -> tuple[int, int]:
        return self.issued_at - CLOCK_SKEW_S, self.expires_at


@dataclass(frozen=True, slots=True)
class TicketToken:
    """An admission ticket."""

    KIND: ClassVar[TokenKind] = TokenKind.TICKET
    _FIELDS: ClassVar[struct.Struct] = struct.Struct(">5sHIIBB")

    ticket_id: int
    ticket_type: int
    valid_from: int
    valid_until: int
    policy: EntryPolicy = EntryPolicy.SINGLE
    flags: TicketFlags = TicketFlags.NONE
    key_id: int = field(default=0, compare=False)

    def _pack(self) -> bytes:
        return self._FIELDS.pack(
            _u40(self.ticket_id), self.ticket_type, self.valid_from, self.valid_until,
            int(self.policy), int(self.flags),
        )

    @classmethod
    def _unpack(cls, data: bytes, key_id: int) -> TicketToken:
        tid, ttype, vfrom, vuntil, policy, flags = cls._FIELDS.unpack(data)
        return cls(int.from_bytes(tid, "big"), ttype, vfrom, vuntil, EntryPolicy(policy), TicketFlags(flags), key_id)

    def _window(self) -> tuple[int, int]:
        return self.valid_from, self.valid_until


@dataclass(frozen=True, slots=True)
class StaffBadge:
    """A staff member's badge; used with a PIN to log in on a terminal."""

    KIND: ClassVar[TokenKind] = TokenKind.STAFF
    _FIELDS: ClassVar[struct.Struct] = struct.Struct(">5sII")

    staff_id: int
    issued_at: int
    expires_at: int
    key_id: int = field(default=0, compare=False)

    def _pack(self) -> bytes:
        return self._FIELDS.pack(_u40(self.staff_id), self.issued_at, self.expires_at)

    @classmethod
    def _unpack(cls, data: bytes, key_id: int) -> StaffBadge:
        sid, iat, exp = cls._FIELDS.unpack(data)
        return cls(int.from_bytes(sid, "big"), iat, exp, key_id)

    def _window(self) -> tuple[int, int]:
        return self.issued_at - CLOCK_SKEW_S, self.expires_at


Token = WalletToken | TicketToken | StaffBadge
T = TypeVar("T", WalletToken, TicketToken, StaffBadge)
_CLASSES: dict[TokenKind, type[WalletToken] | type[TicketToken] | type[StaffBadge]] = {
    TokenKind.WALLET: WalletToken,
    TokenKind.TICKET: TicketToken,
    TokenKind.STAFF: StaffBadge,
}


def encode_token(token: Token, issuer: IssuerKey) -> str:
    """Sign ``token`` with ``issuer`` and return its QR text; raises ValueError on bad fields."""
    try:
        body = _HEADER.pack(VERSION, token.KIND, issuer.key_id) + token._pack()
    except struct.error as exc:
        raise ValueError(f"token field out of range: {exc}") from exc
    data = body + issuer.sign(body)
    assert len(data) <= MAX_TOKEN_BYTES
    encoded: bytes = base45.b45encode(data)
    return token.KIND.prefix + encoded.decode("ascii")


def token_fingerprint(text: str | bytes) -> str:
    """Return a short stable hash of a token's text, for logs (never the token itself)."""
    raw = text.encode("utf-8", "replace") if isinstance(text, str) else bytes(text)
    return hashlib.sha256(raw.strip()).hexdigest()[:16]


def decode_token(
    text: str | bytes,
    keys: KeySet,
    *,
    now: int | None,
    expect: type[T] | None = None,
) -> Token:
    """Parse and verify a token; raises TokenError (and nothing else) with the reason.

    ``now`` (Unix seconds, from the caller's clock) checks the validity window;
    ``None`` skips that check.  ``expect`` refuses other kinds with WRONG_KIND.
    """
    try:
        return _decode(text, keys, now=now, expect=expect)
    except TokenError:
        raise
    except Exception as exc:  # the promise: nothing but TokenError escapes
        raise TokenError(TokenReason.MALFORMED, type(exc).__name__) from exc


def _decode(text: str | bytes, keys: KeySet, *, now: int | None, expect: type | None) -> Token:
    if isinstance(text, bytes | bytearray | memoryview):
        try:
            text = bytes(text).decode("ascii")
        except UnicodeDecodeError as exc:
            raise TokenError(TokenReason.NOT_A_CODE, "not text") from exc
    if not isinstance(text, str):
        raise TokenError(TokenReason.NOT_A_CODE, "not text")
    text = text.strip()
    match = _PREFIX_RE.match(text)
    if not match:
        raise TokenError(TokenReason.NOT_A_CODE)
    if int(match.group(2)) != VERSION:
        raise TokenError(TokenReason.UNKNOWN_VERSION, f"prefix version {match.group(2)}")
    kind = TokenKind(ord(match.group(1)))
    payload = text[match.end():]
    if len(payload) > 4 * MAX_TOKEN_BYTES:
        raise TokenError(TokenReason.MALFORMED, "too long")
    try:
        data = base45.b45decode(payload)
    except Exception as exc:
        raise TokenError(TokenReason.BAD_ENCODING, "not base45") from exc
    if base45.b45encode(data).decode("ascii") != payload:
        raise TokenError(TokenReason.BAD_ENCODING, "not canonical base45")
    if len(data) < _HEADER.size:
        raise TokenError(TokenReason.TRUNCATED)
    version, kind_byte, key_id = _HEADER.unpack_from(data)
    if version != VERSION:
        raise TokenError(TokenReason.UNKNOWN_VERSION, f"version byte {version}")
    if kind_byte != kind:
        raise TokenError(TokenReason.MALFORMED, "kind byte does not match prefix")
    cls = _CLASSES[kind]
    expected_len = _HEADER.size + cls._FIELDS.size + SIGNATURE_BYTES
    if len(data) < expected_len:
        raise TokenError(TokenReason.TRUNCATED, f"{len(data)} of {expected_len} bytes")
    if len(data) > expected_len:
        raise TokenError(TokenReason.MALFORMED, "trailing bytes")
    body, signature = data[:-SIGNATURE_BYTES], data[-SIGNATURE_BYTES:]
    if key_id not in keys:
        raise TokenError(TokenReason.UNKNOWN_KEY, f"key id {key_id}")
    if not keys.verify(key_id, signature, body):
        raise TokenError(TokenReason.BAD_SIGNATURE)
    try:
        token = cls._unpack(body[_HEADER.size:], key_id)
    except ValueError as exc:  # an enum value we do not know, in a validly signed token
        raise TokenError(TokenReason.MALFORMED, "unknown field value") from exc
    if expect is not None and cls is not expect:
        raise TokenError(TokenReason.WRONG_KIND, f"{kind.name.lower()} token", token)
    if now is not None:
        start, end = token._window()
        if now < start:
            raise TokenError(TokenReason.NOT_YET_VALID, "", token)
        if now >= end:
            raise TokenError(TokenReason.EXPIRED, "", token)
    return token
