from __future__ import annotations

import stat
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync.errors import KeyFileError, RecordSignatureError
from sync.keys import KeySet, SigningKey, load_private_key, public_key_from_b64, save_private_key
from sync.records import body_hash, canonical_json, sign_record, verify_record


def test_private_key_file_is_owner_only_and_round_trips(tmp_path) -> None:
    key = SigningKey.generate()
    path = tmp_path / "keys" / "terminal.pem"
    save_private_key(key, path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_private_key(path).public_b64 == key.public_b64


def test_loading_garbage_raises_key_file_error(tmp_path) -> None:
    path = tmp_path / "bad.pem"
    path.write_text("not a key")
    with pytest.raises(KeyFileError):
        load_private_key(path)
    with pytest.raises(KeyFileError):
        load_private_key(tmp_path / "missing.pem")


def test_keyset_json_round_trip() -> None:
    a, b = SigningKey.generate(), SigningKey.generate()
    keys = KeySet({1: a.public, 2: b.public})
    again = KeySet.from_json(keys.to_json())
    assert sorted(again) == [1, 2]
    assert again.verify(1, a.sign(b"x"), b"x")
    assert not again.verify(2, a.sign(b"x"), b"x")
    assert not again.verify(3, a.sign(b"x"), b"x")


@pytest.mark.parametrize("text", ["", "abc", "A" * 43 + "==", "A" * 100])
def test_bad_public_keys_raise_value_error(text: str) -> None:
    with pytest.raises(ValueError):
        public_key_from_b64(text)


def test_canonical_json_is_sorted_compact_utf8() -> None:
    assert canonical_json({"b": 1, "a": "焼きそば", "c": [1, {"z": 0, "y": None}]}) == (
        '{"a":"焼きそば","b":1,"c":[1,{"y":null,"z":0}]}'.encode()
    )


def test_canonical_json_refuses_floats() -> None:
    with pytest.raises(ValueError):
        canonical_json({"amount": 1.5})
    with pytest.raises(ValueError):
        canonical_json({"x": [1, 2.0]})


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@given(st.dictionaries(st.text(max_size=8), json_values, max_size=6))
def test_sign_verify_round_trip_and_tamper(body) -> None:
    key = SigningKey.generate()
    sig = sign_record(body, key)
    verify_record(body, sig, key.public)
    tampered = dict(body, __extra__=1)
    with pytest.raises(RecordSignatureError):
        verify_record(tampered, sig, key.public)
    with pytest.raises(RecordSignatureError):
        verify_record(body, sig, SigningKey.generate().public)


def test_record_body_change_is_detected() -> None:
    key = SigningKey.generate()
    body = {"id": str(uuid.uuid4()), "kind": "sale", "amount": 500, "wallet_id": 7}
    sig = sign_record(body, key)
    with pytest.raises(RecordSignatureError):
        verify_record(dict(body, amount=50), sig, key.public)
    with pytest.raises(RecordSignatureError):
        verify_record(body, "not-base64!!", key.public)
    assert body_hash(body) == body_hash(dict(reversed(list(body.items()))))
    assert body_hash(body) != body_hash(dict(body, amount=50))
