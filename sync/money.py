"""Money: amounts are ``int`` in the currency's minor unit, never floats.

``Currency`` knows how many minor digits it has, and formats and parses amounts
for people.  Nothing here ever builds a float.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import cache

__all__ = ["CURRENCIES", "EUR", "JPY", "USD", "AmountError", "Currency", "MoneyError", "amount_input", "check_amount",
           "currency_codes", "currency_for", "known_locale", "parse_amount"]

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
        """Parse ``"1,200"`` or ``"12.05"`` (English marks) to minor units; raises AmountError.

        The same rules as :func:`parse_amount` with ``locale="en"``.
        """
        return parse_amount(text, self, locale="en", allow_negative=True)


JPY = Currency("JPY", 0, "¥")
USD = Currency("USD", 2, "$")
EUR = Currency("EUR", 2, "€", symbol_after=True)
CURRENCIES = {c.code: c for c in (JPY, USD, EUR)}


# ---------------------------------------------------------------- any ISO 4217 currency

@cache
def currency_codes() -> frozenset[str]:
    """The ISO 4217 codes that are legal tender somewhere today (CLDR's territory data, via Babel)."""
    from babel.core import get_global

    return frozenset(code for rows in get_global("territory_currencies").values()
                     for code, _start, end, tender in rows if end is None and tender)


@cache
def currency_for(code: str) -> Currency:
    """The ``Currency`` for an ISO 4217 code: minor digits and symbol from CLDR (Babel); raises MoneyError.

    JPY, USD and EUR keep the symbols Ennichi always showed.  A symbol made of letters (``CHF``,
    ``kr``) goes after the amount, like EUR's.
    """
    if code in CURRENCIES:
        return CURRENCIES[code]
    if code not in currency_codes():
        raise MoneyError(f"unknown currency {code!r}: use an ISO 4217 code such as JPY, EUR, GBP, KRW, CHF")
    from babel.numbers import get_currency_precision, get_currency_symbol

    symbol = get_currency_symbol(code, "en")
    return Currency(code, get_currency_precision(code), symbol, symbol_after=any(ch.isalpha() for ch in symbol))


# ---------------------------------------------------------------- reading amounts people type

_MESSAGES: dict[str, tuple[str, str]] = {
    "empty": ("Enter an amount.", "金額を入力してください。"),
    "not_amount": ("“{text}” is not an amount: write it like {example}.",
                   "「{text}」は金額として読めません。{example} のように入力してください。"),
    "wrong_currency": ("“{text}” names another currency: this event's currency is {code}.",
                       "「{text}」は別の通貨です。このイベントの通貨は {code} です。"),
    "no_decimals": ("{code} has no decimal places: “{text}” cannot be an amount of {code} "
                    "(“{decimal}” marks decimals here; write it like {example}).",
                    "{code} には小数がありません。「{text}」は金額として読めません"
                    "(ここでは「{decimal}」が小数点です。{example} のように入力してください)。"),
    "too_many_decimals": ("{code} has {digits} decimal places: “{text}” has more "
                          "(“{decimal}” marks decimals here; write it like {example}).",
                          "{code} の小数は {digits} 桁までです。「{text}」はそれより多い桁です"
                          "(ここでは「{decimal}」が小数点です。{example} のように入力してください)。"),
    "ambiguous_grouping": ("“{text}” is ambiguous: here “{group}” separates thousands and “{decimal}” marks "
                           "decimals; write it like {example}.",
                           "「{text}」はあいまいです。ここでは「{group}」が桁区切り、「{decimal}」が小数点です。"
                           "{example} のように入力してください。"),
    "negative": ("The amount must not be negative.", "金額にマイナスは使えません。"),
    "too_large": ("“{text}” is too large an amount.", "「{text}」は大きすぎる金額です。"),
}


class AmountError(MoneyError):
    """Typed text that is not exactly one amount; ``message(lang)`` says why in English or Japanese."""

    def __init__(self, key: str, lang: str = "en", **params: object) -> None:
        self.key = key
        self.params = params
        self.lang = lang
        super().__init__(self.message(lang))

    def message(self, lang: str) -> str:
        """The refusal in ``lang`` ("ja" or anything else for English)."""
        en, ja = _MESSAGES[self.key]
        return (ja if lang == "ja" else en).format(**self.params)


@dataclass(frozen=True, slots=True)
class _Marks:
    decimal: str
    group: str
    primary: int  # digits in the group next to the decimal mark (3; 0 = the locale never groups)
    secondary: int  # digits in each group further left (3, or 2 for en_IN's 1,00,000)


@cache
def _marks(locale: str) -> _Marks:
    from babel.core import Locale, UnknownLocaleError
    from babel.numbers import get_decimal_symbol, get_group_symbol

    try:
        loc = Locale.parse(locale)
    except (UnknownLocaleError, ValueError, TypeError) as exc:
        raise MoneyError(f"unknown locale {locale!r}: use a CLDR locale such as en, ja, de_DE, fr_CH") from exc
    decimal = unicodedata.normalize("NFKC", get_decimal_symbol(loc))
    group = unicodedata.normalize("NFKC", get_group_symbol(loc))
    pattern = loc.decimal_formats.get(None)
    primary, secondary = pattern.grouping if pattern is not None else (3, 3)
    if len(decimal) != 1 or len(group) != 1 or decimal == group or decimal.isdigit() or group.isdigit():
        raise MoneyError(f"locale {locale!r} has no usable decimal and grouping marks")
    if not 2 <= primary <= 4 or not 2 <= secondary <= 4:
        primary = secondary = 0  # e.g. en_US_POSIX: numbers are written without grouping
    return _Marks(decimal, group, primary, secondary)


def known_locale(locale: str) -> bool:
    """Whether amounts can be read in ``locale`` (a CLDR locale name)."""
    try:
        _marks(locale)
    except MoneyError:
        return False
    return True


def amount_input(amount: int, currency: Currency, *, locale: str = "en") -> str:
    """``amount`` as a form field shows it for editing: the locale's decimal mark, no grouping, no symbol.

    ``parse_amount`` reads it back to ``amount``.
    """
    amount = check_amount(amount, allow_negative=True)
    marks = _marks(locale)
    sign = "-" if amount < 0 else ""
    whole, minor = divmod(abs(amount), 10**currency.minor_digits)
    if not currency.minor_digits:
        return f"{sign}{whole}"
    return f"{sign}{whole}{marks.decimal}{minor:0{currency.minor_digits}d}"


_SPACES = frozenset(" \u00a0\u202f\u2009\u2007")
_APOSTROPHES = frozenset("'’")
_MINUS = frozenset("-−")


def _example(currency: Currency, marks: _Marks) -> str:
    group = marks.group if marks.primary else ""
    text = f"1{group}234" if marks.primary else "1234"
    if currency.minor_digits:
        text += marks.decimal + "5" + "0" * (currency.minor_digits - 1)
    return text


def _own_symbols(currency: Currency, locale: str) -> list[str]:
    from babel.numbers import get_currency_symbol

    symbols = {currency.code, currency.symbol, unicodedata.normalize("NFKC", currency.symbol)}
    for loc in ("en", "ja", locale):
        try:
            symbols.add(unicodedata.normalize("NFKC", get_currency_symbol(currency.code, loc)))
        except (ValueError, LookupError):  # an unknown locale: the parser refuses it later
            continue
    if currency.code == "JPY":
        symbols.update(("円", "¥"))
    return sorted((s for s in symbols if s), key=len, reverse=True)


def _strip_symbols(text: str, symbols: list[str]) -> str:
    changed = True
    while changed:
        changed = False
        text = text.strip("".join(_SPACES))
        for symbol in symbols:
            if text.upper().startswith(symbol.upper()):
                text, changed = text[len(symbol):], True
            elif text.upper().endswith(symbol.upper()):
                text, changed = text[: len(text) - len(symbol)], True
    return text.strip("".join(_SPACES))


def parse_amount(text: str, currency: Currency | str, *, locale: str = "en", lang: str = "en",
                 allow_negative: bool = False, max_minor: int = MAX_AMOUNT) -> int:
    """Read an amount as people write it (major units: ``4.80``, ``1,000``, ``¥100``) into minor units.

    The rules (docs/server.md, "Amounts"):

    - the currency's minor digits come from ISO 4217 (CLDR, via Babel): JPY 0, EUR 2, KWD 3;
    - ``locale`` (CLDR: ``en``, ``ja``, ``de_DE``, ``fr_CH``) says which mark is the decimal mark and
      which groups thousands; the other marks are refused;
    - a grouping mark must sit exactly where the locale writes one (``1,000``, ``12,345,678``; ``1,00,000``
      in en_IN); anything else (``4,80`` in ``en``) is refused as ambiguous, never read as ``480``; in a
      3-decimal currency (KWD) one mark before three digits (``1,000``) is refused too: with the marks
      swapped it reads 1.000; write ``1000`` or ``1,000.000``;
    - no more decimals than the currency has (``12.345`` USD, ``1.5`` JPY and ``1.000`` JPY are refused);
    - the event currency's code or symbol may stand before or after (``¥100``, ``100円``, ``4.80 €``,
      ``EUR 4.80``); another currency's symbol or code is refused;
    - full-width digits and marks (``１，０００``) read as their ASCII forms; a leading ``-`` is a negative
      amount, refused unless ``allow_negative``.

    Raises ``AmountError`` (a ``MoneyError``, a ``ValueError``) whose message is in ``lang`` (ja/en).
    """
    cur = currency_for(currency) if isinstance(currency, str) else currency
    marks = _marks(locale)
    if not isinstance(text, str):
        raise AmountError("not_amount", lang, text=str(text), example=_example(cur, marks))
    raw = text.strip()
    shown = raw[:40]
    example = _example(cur, marks)
    if not raw:
        raise AmountError("empty", lang)
    # NFKC: full-width digits and marks as ASCII; format characters (bidi marks) carry no meaning.
    normal = "".join(ch for ch in unicodedata.normalize("NFKC", raw) if unicodedata.category(ch) != "Cf")
    symbols = _own_symbols(cur, locale)
    body = _strip_symbols(normal, symbols)
    negative = False
    if body[:1] in _MINUS:
        negative, body = True, _strip_symbols(body[1:], symbols)
    group = marks.group
    chars: list[str] = []
    for ch in body:
        if ch in _SPACES and group in _SPACES:
            ch = group
        elif ch in _APOSTROPHES and group in _APOSTROPHES:
            ch = group
        elif ch.isdecimal():
            ch = str(unicodedata.decimal(ch))
        chars.append(ch)
    body = "".join(chars)
    if not body or any(not (ch.isdigit() or ch in (marks.decimal, group)) for ch in body):
        if any(unicodedata.category(ch) == "Sc" for ch in body) or _names_currency(body):
            raise AmountError("wrong_currency", lang, text=shown, code=cur.code)
        raise AmountError("not_amount", lang, text=shown, example=example)
    whole, _, fraction = body.partition(marks.decimal)
    if marks.decimal in fraction or group in fraction or not (whole or fraction):
        raise AmountError("not_amount", lang, text=shown, example=example)
    if marks.decimal in body and not cur.minor_digits:
        raise AmountError("no_decimals", lang, text=shown, code=cur.code, decimal=marks.decimal, example=example)
    if len(fraction) > cur.minor_digits:
        raise AmountError("too_many_decimals", lang, text=shown, code=cur.code, digits=cur.minor_digits,
                          decimal=marks.decimal, example=example)
    groups = whole.split(group)
    if group in whole and (not _grouped_right(groups, marks)
                           # 1,000 of a 3-decimal currency (KWD) reads as 1.000 where the marks are swapped
                           or (len(groups) == 2 and not fraction and len(groups[1]) == cur.minor_digits)):
        raise AmountError("ambiguous_grouping", lang, text=shown, group=group, decimal=marks.decimal,
                          example=example)
    digits = whole.replace(group, "") or "0"
    if len(digits) > 20:
        raise AmountError("too_large", lang, text=shown)
    value: int = int(digits) * 10**cur.minor_digits + int(fraction.ljust(cur.minor_digits, "0") or 0)
    if value > max_minor or value > MAX_AMOUNT:
        raise AmountError("too_large", lang, text=shown)
    if negative and value:
        if not allow_negative:
            raise AmountError("negative", lang)
        return -value
    return value


def _grouped_right(groups: list[str], marks: _Marks) -> bool:
    """``1,234,567`` split at the marks: every group as long as the locale writes them."""
    if not marks.primary or len(groups) < 2 or not groups[0] or len(groups[-1]) != marks.primary:
        return False
    return all(len(g) == marks.secondary for g in groups[1:-1]) and len(groups[0]) <= marks.secondary


def _names_currency(body: str) -> bool:
    letters = "".join(ch for ch in body if ch.isalpha()).upper()
    return len(letters) == 3 and letters in currency_codes()
