"""Identifiers: UUIDv7 record ids and short, human-typeable ids.

Short ids (wallets, tickets, staff) are 40 random bits written as 8 Crockford
base32 characters plus one check character (value mod 37, Crockford's check
symbols), shown grouped as ``K7M2-QX4P-9``.  Mod 37 is prime, so every single
wrong character and every swap of two neighbouring characters changes the
check.  ``new_short_id`` only draws ids whose check is a plain base32 symbol,
so printed ids never contain ``* ~ $ = U``; the parser still accepts them.
"""

from __future__ import annotations

import secrets
import uuid

import uuid6

__all__ = [
    "SHORT_ID_BITS",
    "ShortIdError",
    "format_short_id",
    "new_record_id",
    "new_short_id",
    "parse_short_id",
    "uuid7_time_ms",
]

SHORT_ID_BITS = 40
_DATA_CHARS = SHORT_ID_BITS // 5
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_CHECK_ALPHABET = _ALPHABET + "*~$=U"
_DECODE = {ch: i for i, ch in enumerate(_ALPHABET)}
# The usual confusions when a person reads a code aloud or types it.
_DECODE.update({"O": 0, "I": 1, "L": 1})
_CHECK_DECODE = dict(_DECODE)
_CHECK_DECODE.update({ch: 32 + i for i, ch in enumerate("*~$=U")})


class ShortIdError(ValueError):
    """A short id that cannot be read; ``str(err)`` says why, safe to show."""


def new_record_id() -> uuid.UUID:
    """Return a fresh UUIDv7 (time-ordered), the idempotency key of a record."""
    return uuid.UUID(bytes=uuid6.uuid7().bytes)


def uuid7_time_ms(value: uuid.UUID) -> int:
    """Return the Unix time in milliseconds embedded in a UUIDv7."""
    return value.int >> 80


def new_short_id() -> int:
    """Return a random 40-bit id whose check character is alphanumeric."""
    while True:
        value = secrets.randbits(SHORT_ID_BITS)
        if value % 37 < 32:
            return value


def format_short_id(value: int, *, grouped: bool = True) -> str:
    """Return ``value`` as ``XXXX-XXXX-C``; raises ValueError if out of range."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("short id must be an int")
    if not 0 <= value < 1 << SHORT_ID_BITS:
        raise ValueError("short id out of range")
    chars = []
    for shift in range(SHORT_ID_BITS - 5, -1, -5):
        chars.append(_ALPHABET[(value >> shift) & 31])
    data = "".join(chars)
    check = _CHECK_ALPHABET[value % 37]
    if not grouped:
        return data + check
    return f"{data[:4]}-{data[4:]}-{check}"


def parse_short_id(text: str) -> int:
    """Parse a typed short id; tolerant of case, spaces, dashes and O/0, I/L/1.

    Raises ShortIdError when the text is not 9 symbols or the check fails.
    """
    if not isinstance(text, str):
        raise ShortIdError("not a code")
    cleaned = "".join(ch for ch in text.upper() if ch not in " -\t")
    if len(cleaned) != _DATA_CHARS + 1:
        raise ShortIdError(f"a code has {_DATA_CHARS + 1} characters, got {len(cleaned)}")
    value = 0
    for ch in cleaned[:-1]:
        digit = _DECODE.get(ch)
        if digit is None:
            raise ShortIdError(f"'{ch}' is not used in codes")
        value = (value << 5) | digit
    check = _CHECK_DECODE.get(cleaned[-1])
    if check is None:
        raise ShortIdError(f"'{cleaned[-1]}' is not a check character")
    if value % 37 != check:
        raise ShortIdError("check character does not match: a character was mistyped")
    return value
