"""Signed session cookies and CSRF tokens, with no server-side session table.

A cookie is ``base64url(json) + "." + base64url(hmac_sha256(secret, json))``.
The payload says who (an admin's staff id or a customer's wallet id), when it
was issued and when it expires, a random nonce from which the CSRF token is
derived, and a fingerprint of the password (or PIN) hash: changing the
password ends every session made with the old one.  Anything that does not
verify is treated as no cookie at all.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import asdict, dataclass

__all__ = ["ADMIN_COOKIE", "CUSTOMER_COOKIE", "Session", "SessionCodec", "credential_fingerprint"]

ADMIN_COOKIE = "ennichi_admin"
CUSTOMER_COOKIE = "ennichi_my"
ANON = "anon"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def credential_fingerprint(secret_hash: str) -> str:
    """A short digest of a password or PIN hash, so a changed credential ends old sessions."""
    return hashlib.sha256(secret_hash.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class Session:
    """Who a cookie speaks for; ``kind`` is ``admin``, ``wallet`` or ``anon`` (before sign-in)."""

    kind: str
    sub: int
    iat: int  # Unix seconds
    exp: int
    nonce: str
    fp: str = ""

    @classmethod
    def anonymous(cls, now: int, ttl_s: int) -> Session:
        """A fresh pre-sign-in session that only carries a CSRF nonce."""
        return cls(ANON, 0, now, now + ttl_s, secrets.token_urlsafe(16))

    @property
    def signed_in(self) -> bool:
        """True for an admin or customer session."""
        return self.kind != ANON


class SessionCodec:
    """Signs and verifies session cookies and derives CSRF tokens."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("the web secret must be at least 16 bytes")
        self._key = hashlib.sha256(b"ennichi-web-session\x00" + secret).digest()

    def _mac(self, data: bytes) -> bytes:
        return hmac.new(self._key, data, hashlib.sha256).digest()

    def dumps(self, session: Session) -> str:
        """Return the cookie value for ``session``."""
        body = json.dumps(asdict(session), separators=(",", ":"), sort_keys=True).encode("utf-8")
        return f"{_b64(body)}.{_b64(self._mac(body))}"

    def loads(self, value: str | None, *, now: int) -> Session | None:
        """Return the session in a cookie, or None if it is missing, forged, malformed or expired."""
        if not value or len(value) > 2000 or "." not in value:
            return None
        body_text, _, mac_text = value.partition(".")
        try:
            body, mac = _unb64(body_text), _unb64(mac_text)
        except (ValueError, TypeError):
            return None
        if not hmac.compare_digest(mac, self._mac(body)):
            return None
        try:
            session = Session(**json.loads(body))
        except (ValueError, TypeError):
            return None
        if not (session.iat - 300 <= now < session.exp):
            return None
        return session

    def csrf_token(self, session: Session) -> str:
        """The CSRF token every form of this session carries."""
        return _b64(self._mac(f"csrf:{session.kind}:{session.sub}:{session.nonce}".encode()))[:32]

    def check_csrf(self, session: Session | None, token: str | None) -> bool:
        """True when ``token`` is this session's CSRF token."""
        if session is None or not token:
            return False
        return hmac.compare_digest(token.encode("utf-8"), self.csrf_token(session).encode("utf-8"))
