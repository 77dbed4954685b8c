"""Settings of the web pages: session lifetime, lockout, cookie flags.

Read from ``ENNICHI_WEB_*`` environment variables when the web part is
mounted; nothing here touches the database.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

__all__ = ["WebSettings", "load_secret"]


@dataclass(frozen=True, slots=True)
class WebSettings:
    """How the dashboard and My page behave."""

    session_ttl_s: int = 8 * 3600  # an admin signs in once per festival day
    customer_session_ttl_s: int = 2 * 3600
    lockout_failures: int = 5  # this many attempts from one address on one login, none right ...
    lockout_minutes: int = 15  # ... lock the login for that address this long
    lockout_account_attempts: int = 20  # this many from all addresses together lock it for everyone (the cap)
    signin_ip_failures: int = 20  # this many failed sign-ins from one address (any account) ...
    signin_ip_window_s: int = 600  # ... within this window refuse that address (429)
    cookie_secure: str = "auto"  # auto: Secure when the request came over https; "1" / "0" force it
    poll_interval_s: int = 5  # the overview's live refresh
    wallet_qr_refresh_margin_s: int = 60  # My page fetches a new token this long before expiry

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> WebSettings:
        """Build from ``ENNICHI_WEB_*`` variables; raises ValueError on a bad number."""
        env = dict(os.environ if env is None else env)
        values: dict[str, object] = {}
        for name in cls.__dataclass_fields__:
            raw = env.get(f"ENNICHI_WEB_{name.upper()}")
            if raw is None:
                continue
            values[name] = raw if name == "cookie_secure" else int(raw)
        return cls(**values)  # type: ignore[arg-type]


def load_secret(data_dir: Path, env: dict[str, str] | None = None) -> bytes:
    """Return the key that signs session cookies: ``ENNICHI_WEB_SECRET`` or ``<data_dir>/web-secret``.

    The file is made (mode 0600) on first use.  Several server processes behind
    a load balancer must share it: set the variable, or share the data dir.
    """
    env = dict(os.environ if env is None else env)
    if env.get("ENNICHI_WEB_SECRET"):
        return env["ENNICHI_WEB_SECRET"].encode("utf-8")
    path = data_dir / "web-secret"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    return path.read_text().strip().encode("utf-8")
