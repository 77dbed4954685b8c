from __future__ import annotations

import base45
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sync.errors import TokenError, TokenReason
from sync.keys import IssuerKey, KeySet
from sync.tokens import (
    MAX_TOKEN_BYTES,
    EntryPolicy,
    StaffBadge,
    TicketFlags,
    TicketToken,
    WalletFlags,
    WalletToken,
    decode_token,
    encode_token,
)

ISSUER = IssuerKey.generate(7)
OTHER = IssuerKey.generate(7)  # same key id, different key: a forger
KEYS = KeySet([ISSUER])
NOW = 1_790_000_000

u40 = st.integers(0, (1 << 40) - 1)
u32 = st.integers(0, (1 << 32) - 1)
wallets = st.builds(
    WalletToken,
    wallet_id=u40,
    balance=st.integers(-(1 << 63), (1 << 63) - 1),
    seq=u32,
    issued_at=u32,
    expires_at=u32,
    offline_limit=u32,
    flags=st.sampled_from(list(WalletFlags)),
)
tickets = st.builds(
    TicketToken,
    ticket_id=u40,
    ticket_type=st.integers(0, 65535),
    valid_from=u32,
    valid_until=u32,
    policy=st.sampled_from(list(EntryPolicy)),
    flags=st.sampled_from(list(TicketFlags)),
)
badges = st.builds(StaffBadge, staff_id=u40, issued_at=u32, expires_at=u32)
any_token = st.one_of(wallets, tickets, badges)

LARGEST = [
    WalletToken((1 << 40) - 1, (1 << 63) - 1, (1 << 32) - 1, (1 << 32) - 1, (1 << 32) - 1, (1 << 32) - 1,
                WalletFlags(255)),
    WalletToken((1 << 40) - 1, -(1 << 63), 0, 0, 0, 0),
    TicketToken((1 << 40) - 1, 65535, (1 << 32) - 1, (1 << 32) - 1, EntryPolicy.UNLIMITED, TicketFlags(255)),
    StaffBadge((1 << 40) - 1, (1 << 32) - 1, (1 << 32) - 1),
]


def _payload(text: str) -> bytes:
    return base45.b45decode(text[4:])


@pytest.mark.parametrize("token", LARGEST, ids=lambda t: type(t).__name__)
def test_largest_field_values_fit_in_110_bytes(token) -> None:
    text = encode_token(token, ISSUER)
    assert len(_payload(text)) <= MAX_TOKEN_BYTES
    assert decode_token(text, KEYS, now=None) == token


def test_text_is_qr_alphanumeric_only() -> None:
    text = encode_token(LARGEST[0], ISSUER)
    assert set(text) <= set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")
    assert text.startswith("EW1:")
    assert encode_token(LARGEST[2], ISSUER).startswith("ET1:")
    assert encode_token(LARGEST[3], ISSUER).startswith("ES1:")


@given(any_token)
def test_round_trip(token) -> None:
    decoded = decode_token(encode_token(token, ISSUER), KEYS, now=None)
    assert decoded == token
    assert decoded.key_id == ISSUER.key_id


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(any_token, st.data())
def test_any_changed_bit_is_rejected(token, data) -> None:
    text = encode_token(token, ISSUER)
    raw = bytearray(_payload(text))
    bit = data.draw(st.integers(0, len(raw) * 8 - 1))
    raw[bit // 8] ^= 1 << (bit % 8)
    altered = text[:4] + base45.b45encode(bytes(raw)).decode()
    with pytest.raises(TokenError):
        decode_token(altered, KEYS, now=None)


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(any_token, st.data())
def test_any_changed_character_is_rejected(token, data) -> None:
    text = encode_token(token, ISSUER)
    pos = data.draw(st.integers(0, len(text) - 1))
    char = data.draw(st.sampled_from("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:").filter(lambda c: c != text[pos]))
    altered = text[:pos] + char + text[pos + 1 :]
    with pytest.raises(TokenError):
        decode_token(altered, KEYS, now=None)


@settings(max_examples=500)
@given(st.one_of(st.text(), st.binary(), st.text(alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:").map(
    lambda s: "EW1:" + s)))
def test_fuzzed_input_raises_only_token_error(junk) -> None:
    with pytest.raises(TokenError):
        decode_token(junk, KEYS, now=NOW)


@given(st.binary(min_size=0, max_size=120), st.sampled_from(["EW1:", "ET1:", "ES1:"]))
def test_fuzzed_payloads_raise_only_token_error(raw: bytes, prefix: str) -> None:
    with pytest.raises(TokenError):
        decode_token(prefix + base45.b45encode(raw).decode(), KEYS, now=NOW)


def _wallet(**kw) -> WalletToken:
    base = dict(wallet_id=42, balance=1000, seq=3, issued_at=NOW - 10, expires_at=NOW + 600, offline_limit=3000)
    base.update(kw)
    return WalletToken(**base)


def _reason(text: str, keys: KeySet = KEYS, **kw) -> TokenReason:
    with pytest.raises(TokenError) as info:
        decode_token(text, keys, now=kw.pop("now", NOW), **kw)
    return info.value.reason


def test_reasons() -> None:
    good = encode_token(_wallet(), ISSUER)
    assert _reason("hello") is TokenReason.NOT_A_CODE
    assert _reason("https://example.org") is TokenReason.NOT_A_CODE
    assert _reason("EW2:" + good[4:]) is TokenReason.UNKNOWN_VERSION
    assert _reason("EW1:!!!") is TokenReason.BAD_ENCODING
    assert _reason(good[:40]) in (TokenReason.TRUNCATED, TokenReason.BAD_ENCODING)
    assert _reason("EW1:" + base45.b45encode(_payload(good)[:50]).decode()) is TokenReason.TRUNCATED
    assert _reason("EW1:" + base45.b45encode(_payload(good) + b"x").decode()) is TokenReason.MALFORMED
    raw = bytearray(_payload(good))
    raw[0] = 9
    assert _reason("EW1:" + base45.b45encode(bytes(raw)).decode()) is TokenReason.UNKNOWN_VERSION
    assert _reason("ET1:" + good[4:]) is TokenReason.MALFORMED
    assert _reason(encode_token(_wallet(), IssuerKey.generate(99))) is TokenReason.UNKNOWN_KEY
    assert _reason(encode_token(_wallet(), OTHER)) is TokenReason.BAD_SIGNATURE
    assert _reason(encode_token(_wallet(expires_at=NOW), ISSUER)) is TokenReason.EXPIRED
    assert _reason(encode_token(_wallet(issued_at=NOW + 3600), ISSUER)) is TokenReason.NOT_YET_VALID
    assert _reason(good, expect=TicketToken) is TokenReason.WRONG_KIND
    ticket = TicketToken(1, 1, NOW + 100, NOW + 200)
    assert _reason(encode_token(ticket, ISSUER)) is TokenReason.NOT_YET_VALID
    assert _reason(encode_token(ticket, ISSUER), now=NOW + 200) is TokenReason.EXPIRED


def test_expired_error_carries_the_token_for_the_message() -> None:
    with pytest.raises(TokenError) as info:
        decode_token(encode_token(_wallet(expires_at=NOW - 1), ISSUER), KEYS, now=NOW)
    assert info.value.token == _wallet(expires_at=NOW - 1)
    assert not info.value.is_forgery


def test_forgery_is_flagged() -> None:
    with pytest.raises(TokenError) as info:
        decode_token(encode_token(_wallet(), OTHER), KEYS, now=NOW)
    assert info.value.is_forgery


def test_key_rotation() -> None:
    old, new = IssuerKey.generate(1), IssuerKey.generate(2)
    keys = KeySet([old])
    old_token = encode_token(_wallet(), old)
    new_token = encode_token(_wallet(balance=5), new)
    assert _reason(new_token, keys) is TokenReason.UNKNOWN_KEY
    keys.add(new.key_id, new.public)
    assert decode_token(old_token, keys, now=NOW) == _wallet()
    assert decode_token(new_token, keys, now=NOW) == _wallet(balance=5)
    keys.withdraw(old.key_id)
    assert _reason(old_token, keys) is TokenReason.UNKNOWN_KEY
    assert decode_token(new_token, keys, now=NOW).balance == 5


def test_bytes_input_is_accepted() -> None:
    assert decode_token(encode_token(_wallet(), ISSUER).encode(), KEYS, now=NOW) == _wallet()


def test_encode_refuses_out_of_range_fields() -> None:
    with pytest.raises(ValueError):
        encode_token(_wallet(wallet_id=1 << 40), ISSUER)
    with pytest.raises(ValueError):
        encode_token(_wallet(seq=-1), ISSUER)
