from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync.ids import (
    SHORT_ID_BITS,
    ShortIdError,
    format_short_id,
    new_record_id,
    new_short_id,
    parse_short_id,
    uuid7_time_ms,
)

ids = st.integers(min_value=0, max_value=(1 << SHORT_ID_BITS) - 1)


def test_uuid7_is_version_7_and_time_ordered() -> None:
    a, b = new_record_id(), new_record_id()
    assert a.version == 7 and b.version == 7
    assert uuid7_time_ms(a) <= uuid7_time_ms(b)
    assert a != b


@given(ids)
def test_short_id_round_trip(value: int) -> None:
    text = format_short_id(value)
    assert len(text) == 11 and text[4] == "-" and text[9] == "-"
    assert parse_short_id(text) == value
    assert parse_short_id(text.lower().replace("-", " ")) == value
    assert parse_short_id(format_short_id(value, grouped=False)) == value


@given(ids)
def test_confusable_letters_are_read_as_digits(value: int) -> None:
    text = format_short_id(value, grouped=False)
    confused = text[:-1].replace("0", "O").replace("1", "l") + text[-1]
    assert parse_short_id(confused) == value


@given(ids, st.integers(min_value=0, max_value=8), st.integers(min_value=1, max_value=31))
def test_any_single_wrong_data_character_is_caught(value: int, pos: int, delta: int) -> None:
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    text = format_short_id(value, grouped=False)
    if pos == 8:  # the check character itself
        wrong = alphabet[(alphabet.index(text[8]) + delta) % 32] if text[8] in alphabet else "0"
        if wrong == text[8]:
            return
    else:
        wrong = alphabet[(alphabet.index(text[pos]) + delta) % 32]
    typo = text[:pos] + wrong + text[pos + 1 :]
    with pytest.raises(ShortIdError):
        parse_short_id(typo)


@given(ids, st.integers(min_value=0, max_value=6))
def test_swapped_neighbours_are_caught(value: int, pos: int) -> None:
    text = format_short_id(value, grouped=False)
    if text[pos] == text[pos + 1]:
        return
    swapped = text[:pos] + text[pos + 1] + text[pos] + text[pos + 2 :]
    with pytest.raises(ShortIdError):
        parse_short_id(swapped)


def test_new_short_ids_have_alphanumeric_check() -> None:
    for _ in range(500):
        assert format_short_id(new_short_id())[-1].isalnum()


@pytest.mark.parametrize("text", ["", "ABC", "K7M2-QX4P-99", "K7M2-QX4P-!", "UUUU-UUUU-0", None, 123])
def test_garbage_is_refused_with_short_id_error(text: object) -> None:
    with pytest.raises(ShortIdError):
        parse_short_id(text)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [-1, 1 << 40, True, 1.0])
def test_format_refuses_out_of_range(value: object) -> None:
    with pytest.raises(ValueError):
        format_short_id(value)  # type: ignore[arg-type]


def test_record_ids_are_uuids() -> None:
    assert isinstance(new_record_id(), uuid.UUID)
