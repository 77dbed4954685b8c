from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync.money import EUR, JPY, USD, MoneyError, check_amount


@pytest.mark.parametrize(
    ("currency", "amount", "text"),
    [
        (JPY, 0, "¥0"),
        (JPY, 1200, "¥1,200"),
        (JPY, -320, "-¥320"),
        (USD, 1205, "$12.05"),
        (USD, 5, "$0.05"),
        (USD, 123456789, "$1,234,567.89"),
        (EUR, -5, "-0.05 €"),
    ],
)
def test_format(currency, amount, text) -> None:
    assert currency.format(amount) == text


@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_parse_inverts_format(amount: int) -> None:
    for currency in (JPY, USD):
        assert currency.parse(currency.format(amount, symbol=False)) == amount


@pytest.mark.parametrize("bad", [1.5, "100", True, None, 2**60])
def test_non_integer_amounts_are_refused(bad: object) -> None:
    with pytest.raises(MoneyError):
        check_amount(bad)


def test_negative_needs_permission() -> None:
    with pytest.raises(MoneyError):
        check_amount(-1)
    assert check_amount(-1, allow_negative=True) == -1


@pytest.mark.parametrize("text", ["12.345", "abc", "", "1.2.3"])
def test_parse_refuses_bad_text(text: str) -> None:
    with pytest.raises(MoneyError):
        USD.parse(text)
    with pytest.raises(MoneyError):
        JPY.parse("1.5")
