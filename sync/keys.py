"""Ed25519 keys: issuer keys with small key ids, key sets for rotation, key files.

The server signs QR tokens with an ``IssuerKey``; terminals hold a ``KeySet`` of
public keys learned at enrollment and on every pull.  Several keys are valid at
once so an event can rotate keys; withdrawing one removes it from the set.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from sync.errors import KeyFileError

__all__ = [
    "IssuerKey",
    "KeySet",
    "SigningKey",
    "b64d",
    "b64e",
    "load_private_key",
    "public_key_from_b64",
    "public_key_to_b64",
    "save_private_key",
]


def b64e(data: bytes) -> str:
    """Return URL-safe base64 without padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64d(text: str) -> bytes:
    """Decode URL-safe base64 with or without padding; raises ValueError."""
    if not isinstance(text, str) or len(text) > 4096:
        raise ValueError("not base64 text")
    padded = text + "=" * (-len(text) % 4)
    return base64.b64decode(padded.encode("ascii"), altchars=b"-_", validate=True)


def public_key_to_b64(key: Ed25519PublicKey) -> str:
    """Return the raw 32-byte public key as URL-safe base64."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return b64e(raw)


def public_key_from_b64(text: str) -> Ed25519PublicKey:
    """Parse a raw 32-byte public key from base64; raises ValueError."""
    try:
        raw = b64d(text)
    except Exception as exc:
        raise ValueError("public key is not base64") from exc
    if len(raw) != 32:
        raise ValueError("public key must be 32 bytes")
    return Ed25519PublicKey.from_public_bytes(raw)


@dataclass(frozen=True)
class SigningKey:
    """An Ed25519 private key (a terminal's, or the private half of an issuer key)."""

    private: Ed25519PrivateKey

    @classmethod
    def generate(cls) -> SigningKey:
        """Return a new random key."""
        return cls(Ed25519PrivateKey.generate())

    @property
    def public(self) -> Ed25519PublicKey:
        """The public half."""
        return self.private.public_key()

    @property
    def public_b64(self) -> str:
        """The public half as base64 text, for the API."""
        return public_key_to_b64(self.public)

    def sign(self, data: bytes) -> bytes:
        """Return the 64-byte signature of ``data``."""
        return self.private.sign(data)


@dataclass(frozen=True)
class IssuerKey:
    """The server's token-signing key with its key id (0..255)."""

    key_id: int
    key: SigningKey

    def __post_init__(self) -> None:
        if not 0 <= self.key_id <= 255:
            raise ValueError("key id must fit in one byte")

    @classmethod
    def generate(cls, key_id: int) -> IssuerKey:
        """Return a new issuer key with ``key_id``."""
        return cls(key_id, SigningKey.generate())

    def sign(self, data: bytes) -> bytes:
        """Return the 64-byte signature of ``data``."""
        return self.key.sign(data)

    @property
    def public(self) -> Ed25519PublicKey:
        """The public half."""
        return self.key.public


class KeySet(Mapping[int, Ed25519PublicKey]):
    """The issuer public keys a verifier trusts, by key id."""

    def __init__(self, keys: Mapping[int, Ed25519PublicKey] | Iterable[IssuerKey] = ()) -> None:
        self._keys: dict[int, Ed25519PublicKey] = {}
        if isinstance(keys, Mapping):
            for key_id, pub in keys.items():
                self.add(key_id, pub)
        else:
            for issuer in keys:
                self.add(issuer.key_id, issuer.public)

    def add(self, key_id: int, public: Ed25519PublicKey) -> None:
        """Trust ``public`` under ``key_id`` (replacing any key with that id)."""
        if not 0 <= key_id <= 255:
            raise ValueError("key id must fit in one byte")
        self._keys[key_id] = public

    def withdraw(self, key_id: int) -> None:
        """Stop trusting ``key_id``; tokens it signed are refused from now on."""
        self._keys.pop(key_id, None)

    def verify(self, key_id: int, signature: bytes, data: bytes) -> bool:
        """Return True when ``signature`` over ``data`` is good for ``key_id``."""
        public = self._keys.get(key_id)
        if public is None:
            return False
        try:
            public.verify(signature, data)
        except InvalidSignature:
            return False
        return True

    def to_json(self) -> list[dict[str, object]]:
        """Return ``[{"key_id": 1, "public_key": "..."}]`` for the API."""
        return [{"key_id": k, "public_key": public_key_to_b64(v)} for k, v in sorted(self._keys.items())]

    @classmethod
    def from_json(cls, items: Iterable[Mapping[str, object]]) -> KeySet:
        """Build a key set from the API form; raises ValueError."""
        keys = cls()
        for item in items:
            key_id = item["key_id"]
            public = item["public_key"]
            if not isinstance(key_id, int) or not isinstance(public, str):
                raise ValueError("bad key entry")
            keys.add(key_id, public_key_from_b64(public))
        return keys

    def __getitem__(self, key_id: int) -> Ed25519PublicKey:
        return self._keys[key_id]

    def __iter__(self) -> Iterator[int]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)


def save_private_key(key: SigningKey, path: Path) -> None:
    """Write ``key`` as PKCS#8 PEM readable only by its owner (mode 0600)."""
    pem = key.private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, pem)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def load_private_key(path: Path) -> SigningKey:
    """Read a key written by ``save_private_key``; raises KeyFileError."""
    try:
        data = path.read_bytes()
        private = serialization.load_pem_private_key(data, password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise KeyFileError(f"cannot read key {path}: {exc}") from exc
    if not isinstance(private, Ed25519PrivateKey):
        raise KeyFileError(f"{path} is not an Ed25519 key")
    return SigningKey(private)
