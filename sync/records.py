"""Canonical JSON and Ed25519 signatures for terminal records.

Every record a terminal makes (sale, refund, void, top-up, check-in) is a JSON
object signed by the terminal's own key.  The bytes signed are the canonical
encoding: sorted keys, no spaces, UTF-8, integers only (a float is refused:
money is integers).  The server checks the signature against the key the
terminal enrolled with; a record changed after signing is refused.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from sync.errors import RecordSignatureError
from sync.keys import SigningKey, b64d, b64e

__all__ = ["REVERSAL_REASON", "body_hash", "canonical_json", "sign_record", "verify_record"]

REVERSAL_REASON = "automatic reversal"  # the reason prefix of the void that reverses an unanswered authorization


def _reject_floats(value: Any, path: str = "$") -> None:
    if isinstance(value, float):
        raise ValueError(f"float at {path}: amounts and times are integers")
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValueError(f"non-string key at {path}")
            _reject_floats(item, f"{path}.{key}")
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            _reject_floats(item, f"{path}[{i}]")


def canonical_json(value: Mapping[str, Any]) -> bytes:
    """Return the canonical bytes of ``value``; raises ValueError for floats or odd types."""
    _reject_floats(value)
    try:
        text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except TypeError as exc:
        raise ValueError(str(exc)) from exc
    return text.encode("utf-8")


def body_hash(value: Mapping[str, Any]) -> str:
    """Return the SHA-256 of the canonical body, hex; used to compare re-sent records."""
    import hashlib

    return hashlib.sha256(canonical_json(value)).hexdigest()


def sign_record(body: Mapping[str, Any], key: SigningKey) -> str:
    """Return the base64 signature of ``body``'s canonical form."""
    return b64e(key.sign(canonical_json(body)))


def verify_record(body: Mapping[str, Any], signature: str, public: Ed25519PublicKey) -> None:
    """Check ``signature`` over ``body``; raises RecordSignatureError if it does not verify."""
    try:
        sig = b64d(signature)
        public.verify(sig, canonical_json(body))
    except (InvalidSignature, ValueError, TypeError) as exc:
        raise RecordSignatureError("record signature does not verify") from exc
