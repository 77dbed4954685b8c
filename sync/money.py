"""Money: amounts are ``int`` in the currency's minor unit, never floats.

``Currency`` knows how many minor digits it has, and formats and parses amounts
for people.  Nothing here ever builds a float.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["CURRENCIES", "EUR", "JPY", "USD", "Currency", "MoneyError", "check_amount"]

MAX_AMOUNT = 2**53  # far above any festival, still exact in JSON parsers


class MoneyError(ValueError):
    """An amount that is not a valid integer of minor units."""


def check_amount(value: object, *, allow_negative: bool = False) -> int:
    """Return ``value`` if it is an int amount in range; raises MoneyError."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise MoneyError(f"amount must be an integer of minor units, got {type(value).__name__}")
    if abs(value) > MAX_AMOUNT:
        raise MoneyError("amount out of range")
    if value < 0 and not allow_negative:
        raise MoneyError("amount must not be negative")
    return value


@dataclass(frozen=True, slots=True)
class Currency:
    """An ISO 4217 currency with its minor digits and how to show it."""

    code: str
    minor_digits: int
    symbol: str
    symbol_after: bool = False

    def format(self, amount: int, *, symbol: bool = True) -> str:
        """Return e.g. ``¥1,200`` or ``$12.05``, for any int (pages show what the ledger holds, however large).

        Raises MoneyError only for a non-int (a float or bool is a bug, never a display problem).
        """
        if isinstance(amount, bool) or not isinstance(amount, int):
            raise MoneyError(f"amount must be an integer of minor units, got {type(amount).__name__}")
        sign = "-" if amount < 0 else ""
        whole, minor = divmod(abs(amount), 10**self.minor_digits)
        text = f"{whole:,}"
        if self.minor_digits:
            text += f".{minor:0{self.minor_digits}d}"
        if not symbol:
            return sign + text
        if self.symbol_after:
            return f"{sign}{text} {self.symbol}"
        return f"{sign}{self.symbol}{text}"

    def parse(self, text: str) -> int:
        """Parse ``"1,200"`` or ``"12.05"`` to minor units; raises MoneyError."""
        cleaned = text.strip().replace(",", "").replace(self.symbol, "").strip()
        match = re.fullmatch(r"(-?)(\d+)(?:\.(\d+))?", cleaned)
        if not match:
            raise MoneyError(f"not an amount: {text!r}")
        sign, whole, minor = match.groups()
        minor = minor or ""
        if len(minor) > self.minor_digits:
            raise MoneyError(f"{self.code} has {self.minor_digits} minor digits")
        value = int(whole) * 10**self.minor_digits + int(minor.ljust(self.minor_digits, "0") or 0)
        return check_amount(-value if sign else value, allow_negative=True)


JPY = Currency("JPY", 0, "¥")
USD = Currency("USD", 2, "$")
EUR = Currency("EUR", 2, "€", symbol_after=True)
CURRENCIES = {c.code: c for c in (JPY, USD, EUR)}
