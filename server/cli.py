"""``ennichi server``: init (create an event), run (serve it with uvicorn), upgrade (migrate)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from dataclasses import fields
from pathlib import Path
from typing import Any

from server.settings import ServerSettings

__all__ = ["main"]


def _currency(text: str) -> str:
    from sync.money import MoneyError, currency_for

    code = text.strip().upper()
    try:
        currency_for(code)
    except MoneyError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return code


def _zone(text: str) -> str:
    from sync.timezone import event_zone

    try:
        event_zone(text.strip())
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text.strip()


def _locale(text: str) -> str:
    from sync.money import known_locale

    if not known_locale(text.strip()):
        raise argparse.ArgumentTypeError(f"unknown locale {text!r}: use a CLDR locale such as ja_JP, en_GB, de_DE")
    return text.strip()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ennichi server", description="Set up and run the central server.")
    parser.add_argument("--data-dir", type=Path, default=None, help="data directory (env ENNICHI_DATA_DIR, ./data)")
    parser.add_argument("--database-url", default=None, help="SQLAlchemy URL (env ENNICHI_DATABASE_URL; "
                        "default: SQLite file in the data dir)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    init = sub.add_parser("init", help="create an event: database, issuer key, first admin")
    init.add_argument("--event-name", default="Ennichi")
    init.add_argument("--currency", type=_currency, default="JPY",
                      help="any ISO 4217 currency in use (JPY, EUR, GBP, KRW, CHF, ...); minor digits from ISO 4217")
    init.add_argument("--timezone", type=_zone, default="Asia/Tokyo",
                      help="the event's IANA time zone (Asia/Tokyo, Europe/London, ...): every time shown and typed")
    init.add_argument("--number-locale", type=_locale, default="ja_JP",
                      help="CLDR locale whose decimal and grouping marks amounts are typed with (ja_JP: 1,234.50; "
                           "de_DE: 1.234,50; fr_CH; en_GB; ...)")
    init.add_argument("--admin-login", default="admin")
    run = sub.add_parser("run", help="serve the event with uvicorn")
    run.add_argument("--host", default=None, help="address to listen on (0.0.0.0: every network of this machine, "
                     "so other laptops and phones on the venue's Wi-Fi reach it); default 127.0.0.1")
    run.add_argument("--port", type=int, default=None)
    run.add_argument("--public-url", default=None, help="the URL terminals and phones use (for enrollment codes "
                     "and My page links); default: this machine's address on the venue network")
    run.add_argument("--tls", action="store_true", default=None,
                     help="serve HTTPS with this server's own certificate; terminals pin it from the enrollment code")
    run.add_argument("--workers", type=int, default=1, help="uvicorn worker processes (more than 1: PostgreSQL only)")
    sub.add_parser("upgrade", help="apply database migrations")
    return parser


def _settings(args: argparse.Namespace, **extra: Any) -> ServerSettings:
    return ServerSettings.load(data_dir=args.data_dir, database_url=args.database_url, **extra)


def main(argv: list[str]) -> int:
    """Run ``ennichi server ...``; returns the exit code (2 for bad usage)."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        settings = _settings(args, **({"host": args.host, "port": args.port, "public_url": args.public_url,
                                       "tls": args.tls} if args.command == "run" else {}))
    except ValueError as exc:
        parser.error(str(exc))
    if args.command == "init":
        return _init(settings, args)
    if args.command == "upgrade":
        from server.db.engine import Database
        from server.db.migrate import upgrade

        db = Database(settings.url)
        try:
            upgrade(db.engine)
        finally:
            db.dispose()
        print(f"database at {_safe_url(settings.url)} is up to date")
        return 0
    return _run(settings, workers=args.workers)


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _init(settings: ServerSettings, args: argparse.Namespace) -> int:
    from server.bootstrap import EventExists, init_event
    from server.clock import system_clock
    from sync.schemas import EventSettings

    try:
        result = init_event(settings, now_ms=system_clock(), admin_login=args.admin_login,
                            event=EventSettings(event_name=args.event_name, currency=args.currency,
                                                timezone=args.timezone, number_locale=args.number_locale))
    except EventExists as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"event created in {settings.data_dir} ({_safe_url(settings.url)})")
    print(f"issuer key {result.issuer_key_id}: {settings.issuer_key_path(result.issuer_key_id)}")
    print(f"admin login: {result.admin_login}")
    print(f"admin password: {result.admin_password}   (shown once; write it down)")
    print(f"admin staff id: {result.admin_staff_id}   PIN: {result.admin_pin}")
    return 0


def _run(settings: ServerSettings, *, workers: int = 1) -> int:
    import uvicorn

    from server.observability import JsonFormatter, configure_logging, prepare_multiprocess_metrics

    if workers < 1 or (workers > 1 and settings.is_sqlite):
        why = ("--workers must be at least 1" if workers < 1 else
               "SQLite serves one process: --workers above 1 needs PostgreSQL (--database-url or "
               "ENNICHI_DATABASE_URL=postgresql+psycopg://...); on SQLite raise worker_threads instead")
        print(f"error: {why}", file=sys.stderr)
        return 1
    from server.venue import announce, venue_settings

    settings = venue_settings(settings)
    configure_logging(settings.log_level)  # JSON lines; uvicorn's own loggers propagate into it
    common: dict[str, object] = {"host": settings.host, "port": settings.port, "log_level": settings.log_level,
                                 "log_config": None, "access_log": False, "timeout_graceful_shutdown": 10}
    if workers > 1:
        # uvicorn's supervisor kills a worker that does not answer its ping in time, dropping every request
        # in flight on it; during a burst of sign-ins (argon2 on every core) 5 s, the default, is too short
        common["timeout_worker_healthcheck"] = 30
    if settings.tls:
        from server.tls import CERT_NAME, KEY_NAME

        common.update(ssl_certfile=str(settings.tls_dir / CERT_NAME), ssl_keyfile=str(settings.tls_dir / KEY_NAME))
    # a person at the console gets the addresses and the My page QR; a service's output stays JSON lines
    # (one line naming the addresses, whatever the log level: it is what an operator looks for first)
    if sys.stdout.isatty():
        announce(settings)
    else:
        where = {"url": settings.base_url, "dashboard": f"{settings.base_url}/admin",
                 "my_page": f"{settings.base_url}/my", "tls_pin": settings.tls_pin if settings.tls else None}
        record = logging.makeLogRecord({"name": "ennichi.venue", "levelno": logging.INFO, "levelname": "INFO",
                                        "msg": "serving", **where})
        print(JsonFormatter().format(record), flush=True)
    if workers == 1:
        from server.api.app import create_app

        uvicorn.run(create_app(settings), **common)  # type: ignore[arg-type]
        return 0
    # Workers are fresh interpreters (spawn): they rebuild the settings from the environment.
    for f in fields(settings):
        value = getattr(settings, f.name)
        os.environ[f"ENNICHI_{f.name.upper()}"] = str(value.resolve() if isinstance(value, Path) else value)
    cleanup = prepare_multiprocess_metrics()
    try:
        uvicorn.run("server.api.app:app_from_env", factory=True, workers=workers, **common)  # type: ignore[arg-type]
    finally:
        cleanup()
    return 0
