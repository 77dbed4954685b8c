"""Manual entry of short codes: typos are caught by the check character, IME input is read."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scanner.errors import ManualEntryError
from scanner.manual import format_as_typed, read_short_code
from sync.ids import SHORT_ID_BITS, format_short_id


@given(st.integers(min_value=0, max_value=(1 << SHORT_ID_BITS) - 1))
def test_round_trip_in_any_case(value):
    text = format_short_id(value)
    assert read_short_code(text.lower()).value == value
    assert read_short_code(text).text == text


@given(st.integers(min_value=0, max_value=(1 << SHORT_ID_BITS) - 1), st.integers(0, 7))
def test_swapped_neighbours_are_caught(value, i):
    plain = format_short_id(value, grouped=False)
    swapped = plain[:i] + plain[i + 1] + plain[i] + plain[i + 2 :]
    if swapped != plain:
        with pytest.raises(ManualEntryError):
            read_short_code(swapped)


def test_full_width_ime_input_reads():
    text = format_short_id(123456789)
    full = text.translate({ord(c): ord(c) + 0xFEE0 for c in text if c != "-"}).replace("-", "ー")
    assert read_short_code(full).value == 123456789


@pytest.mark.parametrize("bad", ["", "K7M2", "K7M2-QX4P-99", "K7M2-QX!P-9"])
def test_bad_input_has_a_safe_bilingual_message(bad):
    with pytest.raises(ManualEntryError) as info:
        read_short_code(bad)
    assert " / " in str(info.value)


def test_partial_input_is_grouped_as_typed():
    assert format_as_typed("k7m2q") == "K7M2-Q"
    assert format_as_typed("K7M2-QX4P9") == "K7M2-QX4P-9"
