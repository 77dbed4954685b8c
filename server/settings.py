"""Server settings: where the data lives and how the process behaves.

Built from environment variables (``ENNICHI_*``) and/or a small TOML file in the
data directory (``server.toml``); nothing here touches the database.  Event
settings that terminals follow (floor limit, offline limits, ...) are not here:
they live in the database (``server.event``) so a running event can change them.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

__all__ = ["ServerSettings"]

_ENV_PREFIX = "ENNICHI_"


@dataclass(frozen=True, slots=True)
class ServerSettings:
    """How to run one event's server process."""

    data_dir: Path = field(default_factory=lambda: Path("data"))
    database_url: str = ""  # empty: SQLite file ``ennichi.db`` in data_dir
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str = ""  # what enrollment codes point at; empty: http(s)://host:port
    tls: bool = False  # serve HTTPS with the server's own certificate (server.tls), pinned by terminals
    max_body_bytes: int = 2 * 1024 * 1024
    max_inflight: int = 64  # requests served at once before new ones wait
    admission_wait_ms: int = 100  # how long a request may wait for a slot before 503
    worker_threads: int = 8  # threads running request handlers (fewer threads, less GIL convoying)
    pool_size: int = 8  # database connections kept open
    sqlite_synchronous: str = "FULL"  # money: FULL unless measured otherwise
    enroll_code_ttl_s: int = 86400
    log_level: str = "info"
    metrics_token: str = ""  # /metrics from off-loopback or through a proxy needs Bearer <this>; empty: refused
    # new wallets a top-up desk may issue (server.desk): per rolling hour, and in all; a stolen laptop mints no more
    desk_wallets_per_hour: int = 120
    desk_wallets_per_terminal: int = 1500

    @property
    def sqlite_path(self) -> Path:
        """The default SQLite database file."""
        return self.data_dir / "ennichi.db"

    @property
    def url(self) -> str:
        """The SQLAlchemy URL of the database."""
        return self.database_url or f"sqlite:///{self.sqlite_path}"

    @property
    def is_sqlite(self) -> bool:
        """True when the database is SQLite."""
        return self.url.startswith("sqlite")

    @property
    def base_url(self) -> str:
        """The URL terminals use to reach this server."""
        scheme = "https" if self.tls else "http"
        return (self.public_url or f"{scheme}://{self.host}:{self.port}").rstrip("/")

    @property
    def tls_dir(self) -> Path:
        """Where the server's own certificate and key live (``ennichi server run --tls``)."""
        return self.data_dir / "tls"

    @property
    def tls_pin(self) -> str:
        """The pin enrollment codes carry: SHA-256 of the server's own certificate, or empty without TLS."""
        if not self.tls:
            return ""
        from server.tls import certificate_pin_of

        return certificate_pin_of(self.tls_dir)

    def issuer_key_path(self, key_id: int) -> Path:
        """The private key file of issuer key ``key_id`` (mode 0600)."""
        return self.data_dir / "keys" / f"issuer-{key_id}.pem"

    @classmethod
    def load(cls, *, data_dir: Path | str | None = None, env: dict[str, str] | None = None,
             **overrides: Any) -> ServerSettings:
        """Build settings from ``server.toml`` in the data dir, then env, then overrides; raises ValueError."""
        env = dict(os.environ if env is None else env)
        base = Path(data_dir or env.get(f"{_ENV_PREFIX}DATA_DIR") or "data")
        values: dict[str, Any] = {}
        config = base / "server.toml"
        if config.is_file():
            with config.open("rb") as fh:
                values.update(tomllib.load(fh).get("server", {}))
        for f in fields(cls):
            raw = env.get(_ENV_PREFIX + f.name.upper())
            if raw is not None and f.name != "data_dir":
                values[f.name] = raw
        values.update({k: v for k, v in overrides.items() if v is not None})
        settings = cls(data_dir=base)
        converted: dict[str, Any] = {}
        for f in fields(cls):
            if f.name not in values or f.name == "data_dir":
                continue
            value = values[f.name]
            default = getattr(settings, f.name)
            try:
                if isinstance(default, bool):
                    converted[f.name] = _flag(value)
                    continue
                converted[f.name] = int(value) if isinstance(default, int) else str(value)
            except (TypeError, ValueError) as exc:
                raise ValueError(f"setting {f.name}: {value!r} is not valid") from exc
        unknown = set(values) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"unknown settings: {', '.join(sorted(unknown))}")
        return replace(settings, **converted)


def _flag(value: object) -> bool:
    """A yes/no setting from TOML (a bool) or the environment (1/0, true/false, yes/no, on/off)."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(text)
