"""The one amount parser (sync.money.parse_amount): property tests over currencies and locales."""

from __future__ import annotations

from decimal import Decimal

import pytest
from babel.localedata import locale_identifiers
from babel.numbers import format_currency, format_decimal
from hypothesis import given, settings
from hypothesis import strategies as st

from sync.money import (
    EUR,
    JPY,
    USD,
    AmountError,
    MoneyError,
    amount_input,
    currency_codes,
    currency_for,
    known_locale,
    parse_amount,
)

CODES = sorted(currency_codes())
LOCALES = sorted(loc for loc in locale_identifiers() if known_locale(loc))
CURRENCY = st.sampled_from(CODES).map(currency_for)
LOCALE = st.sampled_from(LOCALES)
AMOUNT = st.integers(min_value=0, max_value=10**12)


def _major(amount: int, digits: int) -> Decimal:
    return Decimal(amount).scaleb(-digits)


def _pattern(digits: int, grouped: bool) -> str:
    return ("#,##0" if grouped else "0") + ("." + "0" * digits if digits else "")


@pytest.mark.parametrize(
    ("text", "code", "locale", "expected"),
    [
        ("4,80", "EUR", "de_DE", 480),
        ("4.80", "EUR", "en", 480),
        ("1,000", "USD", "en", 100_000),
        ("1,000", "JPY", "ja", 1000),
        ("1.000", "EUR", "de_DE", 100_000),
        ("1.234,50", "EUR", "de_DE", 123_450),
        ("1 234,50", "EUR", "fr_FR", 123_450),
        ("1\u202f234,50", "EUR", "fr_FR", 123_450),
        ("1'234.50", "CHF", "de_CH", 123_450),
        ("1’234.50", "CHF", "de_CH", 123_450),
        ("1,00,000", "INR", "en_IN", 10_000_000),
        ("100円", "JPY", "ja", 100),
        ("¥100", "JPY", "en", 100),
        ("￥1,200", "JPY", "ja", 1200),
        ("１，２００", "JPY", "ja", 1200),
        ("€4.80", "EUR", "en", 480),
        ("4,80 €", "EUR", "de_DE", 480),
        ("EUR 4.80", "EUR", "en", 480),
        ("£12.05", "GBP", "en_GB", 1205),
        ("₩5,000", "KRW", "ko", 5000),
        ("CHF 4.80", "CHF", "de_CH", 480),
        ("1.250", "KWD", "en", 1250),
        ("1,000.000", "KWD", "en", 1_000_000),
        ("0.5", "USD", "en", 50),
        (" 7 ", "JPY", "en", 7),
    ],
)
def test_reads_what_people_write(text: str, code: str, locale: str, expected: int) -> None:
    assert parse_amount(text, code, locale=locale) == expected


@pytest.mark.parametrize(
    ("text", "code", "locale", "key"),
    [
        ("4,80", "EUR", "en", "ambiguous_grouping"),  # never 480.00
        ("4,80", "USD", "ja", "ambiguous_grouping"),
        ("4.80", "EUR", "de_DE", "ambiguous_grouping"),
        ("1,0000", "USD", "en", "ambiguous_grouping"),
        ("12,34,567", "USD", "en", "ambiguous_grouping"),
        ("1,000", "KWD", "en", "ambiguous_grouping"),  # 1000 or 1.000?
        ("12.345", "USD", "en", "too_many_decimals"),
        ("1,000", "EUR", "de_DE", "too_many_decimals"),
        ("1.5", "JPY", "en", "no_decimals"),
        ("1.000", "JPY", "ja", "no_decimals"),  # a European 1.000 yen is not 1 yen
        ("$4.80", "EUR", "en", "wrong_currency"),
        ("4.80 USD", "EUR", "en", "wrong_currency"),
        ("100円", "USD", "en", "not_amount"),
        ("abc", "USD", "en", "not_amount"),
        ("1 000", "USD", "en", "not_amount"),
        ("1.2.3", "USD", "en", "not_amount"),
        ("1.000,5", "USD", "en", "not_amount"),
        ("", "USD", "en", "empty"),
        ("   ", "USD", "en", "empty"),
        ("-5", "JPY", "en", "negative"),
        ("99999999999999999999999", "JPY", "en", "too_large"),
    ],
)
def test_refuses_what_is_ambiguous_or_wrong(text: str, code: str, locale: str, key: str) -> None:
    with pytest.raises(AmountError) as caught:
        parse_amount(text, code, locale=locale)
    assert caught.value.key == key


def test_refusals_speak_japanese_and_english() -> None:
    with pytest.raises(AmountError) as caught:
        parse_amount("4,80", "EUR", locale="en", lang="ja")
    assert "あいまい" in str(caught.value) and "1,234.50" in str(caught.value)
    assert "ambiguous" in caught.value.message("en")
    with pytest.raises(AmountError) as caught:
        parse_amount("1.5", "JPY", lang="ja")
    assert "小数がありません" in str(caught.value)


def test_negative_amounts_when_allowed() -> None:
    assert parse_amount("-4.80", "EUR", allow_negative=True) == -480
    assert parse_amount("−4,80 €", "EUR", locale="de_DE", allow_negative=True) == -480
    assert parse_amount("-€4.80", "EUR", allow_negative=True) == -480


def test_bounds() -> None:
    assert parse_amount("1,000", "JPY", max_minor=1000) == 1000
    with pytest.raises(AmountError):
        parse_amount("1,001", "JPY", max_minor=1000)


def test_any_iso_currency_and_only_those() -> None:
    assert {"GBP", "KRW", "CHF", "KWD", "JPY", "EUR", "USD"} <= currency_codes()
    assert currency_for("KRW").minor_digits == 0
    assert currency_for("KWD").minor_digits == 3
    assert currency_for("GBP").format(1205) == "£12.05"
    assert currency_for("JPY") is JPY and currency_for("EUR") is EUR
    for bad in ("XXX", "DEM", "eur", "", "ABCD"):
        with pytest.raises(MoneyError):
            currency_for(bad)
    assert not known_locale("xx_NOPE") and known_locale("de_CH")


@settings(max_examples=400)
@given(CURRENCY, LOCALE, AMOUNT, st.booleans())
def test_reads_back_what_the_locale_writes(currency, locale: str, amount: int, grouped: bool) -> None:
    """format(parse(x)) round trip with Babel's own formatter of the locale, grouped or not."""
    text = format_decimal(_major(amount, currency.minor_digits), locale=locale, group_separator=grouped,
                          decimal_quantization=False)
    try:
        assert parse_amount(text, currency, locale=locale) == amount
    except AmountError as exc:  # only the documented refusal of a lone 3-digit group in a 3-decimal currency
        assert exc.key == "ambiguous_grouping" and currency.minor_digits == 3 and text.count(",") + text.count(
            ".") + text.count("\u202f") + text.count("\u00a0") + text.count("’") == 1, (text, exc)


@settings(max_examples=300)
@given(CURRENCY, LOCALE, AMOUNT)
def test_reads_babel_currency_format(currency, locale: str, amount: int) -> None:
    """Babel's format_currency (symbol, the locale's marks and grouping) reads back to the same amount."""
    text = format_currency(_major(amount, currency.minor_digits), currency.code, locale=locale,
                           currency_digits=True)
    try:
        value = parse_amount(text, currency, locale=locale)
    except AmountError as exc:  # a symbol the event does not know is refused, never misread
        assert exc.key in ("wrong_currency", "not_amount", "ambiguous_grouping"), (text, exc)
    else:
        assert value == amount, text


@given(CURRENCY, st.integers(min_value=-(10**12), max_value=10**12), st.booleans())
def test_reads_back_ennichis_own_formatter(currency, amount: int, symbol: bool) -> None:
    text = currency.format(amount, symbol=symbol)
    assert currency.parse(text) == amount
    assert parse_amount(text, currency, locale="ja", allow_negative=True) == amount


@given(CURRENCY, LOCALE, st.integers(min_value=-(10**12), max_value=10**12))
def test_form_prefill_reads_back(currency, locale: str, amount: int) -> None:
    assert parse_amount(amount_input(amount, currency, locale=locale), currency, locale=locale,
                        allow_negative=True) == amount


TYPED = st.text(alphabet="0123456789.,'’ -−€$¥円", min_size=1, max_size=14)


@settings(max_examples=1500)
@given(TYPED, st.sampled_from([JPY, USD, EUR, currency_for("KWD"), currency_for("GBP")]),
       st.sampled_from(["en", "ja", "de_DE", "fr_FR", "de_CH", "en_IN"]))
def test_no_text_reads_as_another_amount(text: str, currency, locale: str) -> None:
    """Whatever is typed: accepted only if it is the amount the locale's own formatter writes for the result."""
    try:
        value = parse_amount(text, currency, locale=locale, allow_negative=True)
    except AmountError:
        return
    shown = format_decimal(_major(abs(value), currency.minor_digits),
                           format=_pattern(currency.minor_digits, False), locale=locale, decimal_quantization=False)
    from babel.numbers import get_decimal_symbol, get_group_symbol

    digits_typed = "".join(ch for ch in text if ch.isdigit() or ch == get_decimal_symbol(locale))
    group = get_group_symbol(locale)
    if group not in ("'", "’", " ", "\u202f", "\u00a0"):
        assert group not in digits_typed
    typed = Decimal(digits_typed.replace(get_decimal_symbol(locale), ".").strip(".") or "0")
    if digits_typed.endswith(get_decimal_symbol(locale)) or digits_typed.startswith(get_decimal_symbol(locale)):
        typed = Decimal(digits_typed.replace(get_decimal_symbol(locale), ".") + ("0" if digits_typed.endswith(
            get_decimal_symbol(locale)) else ""))
    assert typed == Decimal(shown.replace(get_decimal_symbol(locale), ".")), (text, value, shown)


@settings(max_examples=1500)
@given(TYPED, st.sampled_from([JPY, USD, EUR, currency_for("KWD"), currency_for("GBP"), currency_for("KRW")]))
def test_swapped_marks_never_disagree(text: str, currency) -> None:
    """A text both en (1,234.50) and de (1.234,50) accept means the same amount in both: nothing is ambiguous."""
    try:
        english = parse_amount(text, currency, locale="en", allow_negative=True)
        german = parse_amount(text, currency, locale="de_DE", allow_negative=True)
    except AmountError:
        return
    assert english == german, text
