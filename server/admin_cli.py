"""``ennichi admin``: operations on an event from a shell (the dashboard comes later).

Every command that changes something writes an audit entry with actor ``cli``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from server.settings import ServerSettings
from sync.schemas import PRODUCT_COLOURS

__all__ = ["main"]


def _role(text: str) -> tuple[str, str, int | None]:
    """Parse ``cashier`` or ``cashier:stall:1`` or ``gatekeeper:gate:2``."""
    parts = text.split(":")
    if len(parts) == 1:
        return parts[0], "event", None
    if len(parts) == 3 and parts[1] in ("stall", "gate") and parts[2].isascii() and parts[2].isdigit():
        return parts[0], parts[1], int(parts[2])
    raise argparse.ArgumentTypeError(f"role {text!r}: use ROLE or ROLE:stall:ID or ROLE:gate:ID")


def _name(text: str) -> str:
    """A name or reason: outer spaces removed; blank or only spaces is refused."""
    if not text.strip():
        raise argparse.ArgumentTypeError("must not be blank or only spaces")
    if len(text.strip()) > 200:
        raise argparse.ArgumentTypeError("at most 200 characters")
    return text.strip()


def _category(text: str) -> str:
    """A product category: spaces folded, at most 40 characters ("" for none)."""
    value = " ".join(text.split())
    if len(value) > 40:  # sync.schemas.CATEGORY_MAX
        raise argparse.ArgumentTypeError("at most 40 characters")
    return value


def _amount_text(text: str) -> str:
    """An amount in major units as people write it (``500``, ``4.80``, ``1,000``); read against the event's
    currency and number locale once the database is open (``sync.money.parse_amount``)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("must not be blank")
    return text


def _count(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be from {low} to {high}")
        return value

    parse.__name__ = "whole number"
    return parse


_ID = _count(1, 2**31 - 1)


def _short_id(text: str) -> int:
    from sync.ids import ShortIdError, parse_short_id

    if text.isascii() and text.isdigit():
        return int(text)
    try:
        return parse_short_id(text)
    except ShortIdError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def _when(text: str) -> int:
    from server.tickets import TicketError, parse_time

    try:
        value = parse_time(text, "time")
    except TicketError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc
    if value is None:
        raise argparse.ArgumentTypeError("empty time")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ennichi admin", description="Operations on an event.")
    parser.add_argument("--data-dir", type=Path, default=None, help="data directory (env ENNICHI_DATA_DIR, ./data)")
    parser.add_argument("--database-url", default=None, help="SQLAlchemy URL (env ENNICHI_DATABASE_URL)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    sub.add_parser("reconcile", help="check the ledger; exit 1 on any break")
    p = sub.add_parser("reset-admin", help="give the dashboard admin a new password (or make one); prints it once")
    p.add_argument("--login", default="admin", help="the admin's dashboard login (default: admin)")
    p = sub.add_parser("set-event", help="change the event's name, time zone or number locale (terminals follow on "
                       "their next pull; the currency is fixed at init)")
    p.add_argument("--event-name", dest="event_name", type=_name)
    p.add_argument("--timezone", type=_name, help="IANA time zone, e.g. Europe/Berlin")
    p.add_argument("--number-locale", dest="number_locale", type=_name,
                   help="CLDR locale of typed amounts' marks, e.g. de_DE (1.234,50)")
    p = sub.add_parser("enroll-code", help="print a one-time enrollment code (EE1:...)")
    p.add_argument("--mode", choices=["stall", "gate", "topup"], required=True)
    p.add_argument("--stall", type=_ID)
    p.add_argument("--gate", type=_ID)
    p.add_argument("--url", type=_name, help="server URL terminals use (default: public_url or http://host:port)")
    p = sub.add_parser("create-stall", help="create a stall; prints its id")
    p.add_argument("--name", type=_name, required=True)
    p.add_argument("--free-amount", action="store_true", help="allow free amounts (no product)")
    p = sub.add_parser("create-product", help="create a product; prints its id")
    p.add_argument("--stall", type=_ID, required=True)
    p.add_argument("--name", type=_name, required=True)
    p.add_argument("--price", type=_amount_text, required=True,
                   help="in major units as on the dashboard: 500 (JPY), 4.80 (EUR); the event's decimal mark")
    p.add_argument("--stock", type=_count(0, 10**9))
    p.add_argument("--kind", choices=("normal", "deposit", "discount"), default="normal",
                   help="deposit: paid back when returned (a cup); discount: taken off a basket")
    p.add_argument("--category", type=_category, default="",
                   help="groups the buttons on the terminal, e.g. Drinks (at most 40 characters)")
    p.add_argument("--colour", choices=PRODUCT_COLOURS, help="the button's colour on the terminal")
    p = sub.add_parser("create-gate", help="create a gate; prints its id")
    p.add_argument("--name", type=_name, required=True)
    p = sub.add_parser("create-ticket-type", help="create a ticket type; prints its id")
    p.add_argument("--name", type=_name, required=True)
    p.add_argument("--policy", choices=["single", "reentry", "unlimited"], required=True)
    p.add_argument("--valid-from", type=_when, help="tickets valid from (Unix s or ISO 8601 with zone)")
    p.add_argument("--valid-until", type=_when, help="tickets valid until (Unix s or ISO 8601 with zone)")
    p = sub.add_parser("issue-tickets", help="issue tickets; writes CSV (ids, tokens) to --out or stdout")
    p.add_argument("--type", type=_ID, help="ticket type id (or a 'type' column in --csv)")
    how = p.add_mutually_exclusive_group(required=True)
    how.add_argument("--count", type=_count(1, 100_000), help="how many tickets of --type")
    how.add_argument("--csv", type=Path, help="one ticket per row: type, holder, valid_from, valid_until")
    p.add_argument("--holder", default="", help="holder name for --count tickets")
    p.add_argument("--valid-from", type=_when)
    p.add_argument("--valid-until", type=_when)
    p.add_argument("--out", type=Path, help="the CSV to write (refused if it exists)")
    p = sub.add_parser("revoke-ticket", help="revoke (or --unrevoke) a ticket at every gate")
    p.add_argument("--ticket", type=_short_id, required=True)
    p.add_argument("--unrevoke", action="store_true")
    p.add_argument("--reason", type=_name, default="admin")
    p = sub.add_parser("create-staff", help="create a staff member; prints id and badge text")
    p.add_argument("--name", type=_name, required=True)
    p.add_argument("--pin", required=True)
    p.add_argument("--role", type=_role, action="append", default=[], help="ROLE[:stall|gate:ID], repeatable")
    p.add_argument("--badge-days", type=_count(1, 366), default=7)
    p = sub.add_parser("import-staff", help="create staff from a CSV (name, role, scope, pin): all or nothing; "
                       "writes id and PIN of each (generated PINs shown only then) to --out or stdout")
    p.add_argument("--csv", type=Path, required=True, help="columns: name, role, scope (event, stall:ID, gate:ID or "
                   "a stall's or gate's name), pin (blank: generated)")
    p.add_argument("--out", type=Path, help="the CSV to write (refused if it exists; mode 0600)")
    p.add_argument("--lang", choices=["en", "ja"], default="en", help="language of the per-line errors")
    p = sub.add_parser("create-token", help="print an API token acting as a staff member")
    p.add_argument("--staff", type=_short_id, required=True)
    p = sub.add_parser("create-wallet", help="create a wallet; prints its id and a token")
    p.add_argument("--balance", type=_amount_text, default="0",
                   help="initial admin top-up, in major units like --price")
    p = sub.add_parser("topup", help="load admin cash onto a wallet")
    p.add_argument("--wallet", type=_short_id, required=True)
    p.add_argument("--amount", type=_amount_text, required=True, help="in major units like --price")
    p = sub.add_parser("block-wallet", help="block (or --unblock) a wallet")
    p.add_argument("--wallet", type=_short_id, required=True)
    p.add_argument("--unblock", action="store_true")
    p.add_argument("--reason", type=_name, default="admin")
    p = sub.add_parser("revoke-terminal", help="revoke a terminal; it wipes itself on next contact")
    p.add_argument("--terminal", type=_ID, required=True)
    sub.add_parser("rotate-key", help="make a new issuer key that signs from now on (older keys stay trusted)")
    p = sub.add_parser("retire-key", help="stop trusting an issuer key everywhere (a leaked key)")
    p.add_argument("--key-id", type=_ID, required=True)
    p = sub.add_parser("backup", help="write database, issuer keys and server.toml to one tar.gz (mode 0600)")
    p.add_argument("--out", required=True, help="the archive to write (refused if it exists, unless --force)")
    p.add_argument("--force", action="store_true")
    p.add_argument("--timeout", type=_count(1, 86400), default=900, help="seconds pg_dump may take (default 900)")
    p = sub.add_parser("restore", help="restore a backup into a fresh database and data dir, then verify it")
    p.add_argument("--from", dest="source", required=True, help="the archive written by `backup`")
    p.add_argument("--data-dir", dest="target_data_dir", type=Path, help="where keys and server.toml go")
    p.add_argument("--database-url", dest="target_database_url", help="the database to restore into")
    p.add_argument("--force", action="store_true", help="replace a database or keys that are already there")
    p.add_argument("--timeout", type=_count(1, 86400), default=900, help="seconds pg_restore may take (default 900)")
    return parser


def main(argv: list[str]) -> int:
    """Run ``ennichi admin ...``; returns the exit code (1 on a failed check or bad input, 2 for bad usage)."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        settings = ServerSettings.load(data_dir=args.data_dir, database_url=args.database_url)
    except ValueError as exc:
        parser.error(str(exc))
    from sqlalchemy.exc import IntegrityError, OperationalError

    from server.db.engine import Database
    from server.event import EventMissing

    db = Database(settings.url, synchronous=settings.sqlite_synchronous)
    try:
        handler: Callable[[Any, ServerSettings, argparse.Namespace], int] = _COMMANDS[args.command]
        return handler(db, settings, args)
    except (ValueError, LookupError, EventMissing) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except IntegrityError as exc:  # a reference the checks above missed: refused by the database, nothing written
        print(f"error: refused by the database (an unknown reference or a duplicate): {exc.orig}", file=sys.stderr)
        return 1
    except (OperationalError, OSError) as exc:
        print(f"error: {exc.orig if isinstance(exc, OperationalError) else exc}", file=sys.stderr)
        return 1
    finally:
        db.dispose()


def _amount(conn: Any, text: str, option: str, *, positive: bool = False) -> int:
    """``text`` in major units of the event's currency and number locale (the dashboard's parser)."""
    from server.event import get_event_settings
    from sync.money import parse_amount

    event = get_event_settings(conn)
    try:
        value = parse_amount(text, event.currency, locale=event.number_locale)
    except ValueError as exc:
        raise ValueError(f"{option} {text!r}: {exc}") from None
    if positive and value <= 0:
        raise ValueError(f"{option} must be more than zero")
    return value


def _money(conn: Any, amount: int) -> str:
    from server.event import get_event_settings
    from sync.money import currency_for

    return currency_for(get_event_settings(conn).currency).format(amount)


def _now() -> int:
    from server.clock import system_clock

    return system_clock()


def _reconcile(db: Any, settings: ServerSettings, args: argparse.Namespace) -> int:
    from server.reconcile import reconcile

    with db.read() as conn:
        report = reconcile(conn)
    print(report.text())
    return 0 if report.ok else 1


def _reset_admin(db: Any, settings: ServerSettings, args: argparse.Namespace) -> int:
    """A forgotten or locked-out admin: a new password, the account active, the admin role held event-wide."""
    import secrets

    from sqlalchemy import select, update

    from server.audit import audit
    from server.db import tables as t
    from server.staff import create_staff, grant_role, hash_secret

    login = args.login.strip()
    if not login or len(login) > 100:
        print("error: --login must be 1-100 characters / ログイン名は1〜100文字です", file=sys.stderr)
        return 2
    password = secrets.token_urlsafe(12)
    now = _now()
    with db.write() as conn:
        staff_id = conn.execute(select(t.staff.c.id).where(t.staff.c.login == login)).scalar()
        if staff_id is None:
            pin = f"{secrets.randbelow(10**6):06d}"
            staff_id = create_staff(conn, name="Administrator", pin=pin, now_ms=now, login=login, password=password)
            print(f"made a new admin {login!r} (staff id {staff_id}, terminal PIN {pin})")
        else:
            conn.execute(update(t.staff).where(t.staff.c.id == staff_id)
                         .values(password_hash=hash_secret(password), active=True))
        held = conn.execute(select(t.staff_roles.c.id).where(
            t.staff_roles.c.staff_id == staff_id, t.staff_roles.c.role == "admin",
            t.staff_roles.c.scope_kind == "event")).first()
        if held is None:
            grant_role(conn, staff_id, "admin")
        audit(conn, actor="cli", action="admin.reset", now_ms=now, staff_id=staff_id, login=login)
    print(f"admin login: {login}")
    print(f"admin password: {password}   (shown once; write it down / 一度だけ表示します。書き留めてください)")
    return 0


def _set_event(db: Any, settings: ServerSettings, args: argparse.Namespace) -> int:
    from server.audit import audit
    from server.event import get_event_settings, set_event_settings
    from sync.money import known_locale
    from sync.timezone import event_zone

    changes = {k: getattr(args, k) for k in ("event_name", "timezone", "number_locale") if getattr(args, k)}
    if not changes:
        raise ValueError("nothing to change: give --event-name, --timezone or --number-locale")
    if "timezone" in changes:
        event_zone(changes["timezone"])
    if "number_locale" in changes and not known_locale(changes["number_locale"]):
        raise ValueError(f"unknown locale {changes['number_locale']!r}: use a CLDR locale such as ja_JP, de_DE")
    now = _now()
    with db.write() as conn:
        event = get_event_settings(conn)
        set_event_settings(conn, event.model_copy(update=changes))
        audit(conn, actor="cli", action="event.update", now_ms=now, **changes)
    for key, value in changes.items():
        print(f"{key}: {value}")
    return 0


def _enroll_code(db: Any, settings: ServerSettings, args: argparse.Namespace) -> int:
    from server.audit import audit
    from server.enroll import create_enrollment_code
    from sync.schemas import TerminalMode

    now = _now()
    with db.write() as conn:
        code = create_enrollment_code(conn, mode=TerminalMode(args.mode), base_url=args.url or settings.base_url,
                                      now_ms=now, ttl_s=settings.enroll_code_ttl_s, stall_id=args.stall,
                                      gate_id=args.gate, pin=settings.tls_pin)
        audit(conn, actor="cli", action="enroll_code.create", now_ms=now, mode=args.mode, stall=args.stall,
              gate=args.gate)
    print(code.text())
    return 0


def _simple(fn_name: str) -> Callable[[Any, ServerSettings, argparse.Namespace], int]:
    def run(db: Any, settings: ServerSettings, args: argparse.Namespace) -> int:
        from server import catalog
        from server.audit import audit

        now = _now()
        with db.write() as conn:
            if fn_name == "stall":
                new_id = catalog.create_stall(conn, name=args.name, now_ms=now, allow_free_amount=args.free_amount)
            elif fn_name == "product":
                new_id = catalog.create_product(conn, stall_id=args.stall, name=args.name,
                                                price=_amount(conn, args.price, "--price"), stock=args.stock,
                                                kind=args.kind, category=args.category, colour=args.colour)
            elif fn_name == "gate":
                new_id = catalog.create_gate(conn, name=args.name)
            else:
                new_id = catalog.create_ticket_type(conn, name=args.name, policy=args.policy,
                                                    valid_from=args.valid_from, valid_until=args.valid_until)
            audit(conn, actor="cli", action=f"{fn_name}.create", now_ms=now, id=new_id, name=args.name)
        print(new_id)
        return 0

    return run


def _create_staff(db: Any, settings: ServerSettings, args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from server.audit import audit
    from server.db import tables as t
    from server.issuer import IssuerKeys
    from server.staff import create_staff, grant_role
    from sync.ids import format_short_id
    from sync.permissions import Scope, ScopeKind
    from sync.tokens import StaffBadge, encode_token

    now = _now()
    with db.write() as conn:
        for _role_name, kind, scope_id in args.role:
            table = {"stall": t.stalls, "gate": t.gates}.get(kind)
            if table is not None and conn.execute(select(table.c.id).where(table.c.id == scope_id)).first() is None:
                raise LookupError(f"--role: unknown {kind} {scope_id}")
        staff_id = create_staff(conn, name=args.name, pin=args.pin, now_ms=now)
        for role, kind, scope_id in args.role:
            grant_role(conn, staff_id, role, scope=Scope(ScopeKind(kind), scope_id))
        issuer = IssuerKeys(settings.issuer_key_path).active(conn)
        audit(conn, actor="cli", action="staff.create", now_ms=now, staff_id=staff_id,
              roles=[list(r) for r in args.role])
    now_s = now // 1000
    badge = encode_token(StaffBadge(staff_id, now_s, now_s + args.badge_days * 86400), issuer)
    print(f"staff id: {staff_id} ({format_short_id(staff_id)})")
    print(f"badge: {badge}")
    return 0


def _check_out(out: Path | None, what: str) -> None:
    """Refuse an output file before anything is written: it exists, or its folder does not."""
    if out is None:
        return
    if out.exists():
        raise ValueError(f"{out} exists; refusing to overwrite {what}")
    if not out.parent.is_dir():
        raise ValueError(f"{out.parent} is not a folder: nothing was written")


def _import_staff(db: Any, settings: ServerSettings, args: argparse.Namespace) -> int:
    from server.audit import audit
    from server.staff_import import StaffImportError, import_staff_csv, imported_csv

    _check_out(args.out, "PINs")
    text = args.csv.read_text(encoding="utf-8")
    now = _now()
    try:
        with db.write() as conn:
            made = import_staff_csv(conn, text, now_ms=now, lang=args.lang)
            audit(conn, actor="cli", action="staff.import", now_ms=now, count=len(made),
                  staff_ids=[m.staff_id for m in made])
    except StaffImportError as exc:
        print("error: nothing imported" if args.lang == "en" else "error: 取り込みませんでした", file=sys.stderr)
        for line in exc.errors:
            print(f"  {line}", file=sys.stderr)
        return 1
    out = imported_csv(made)
    if args.out is not None:
        args.out.touch(mode=0o600, exist_ok=False)
        args.out.write_text(out, encoding="utf-8")
        print(f"imported {len(made)} staff; ids and PINs in {args.out}")
    else:
        sys.stdout.write(out)
    return 0


def _create_token(db: Any, settings: ServerSettings, args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from server.audit import audit
    from server.db import tables as t
    from server.staff import create_api_token

    now = _now()
    with db.write() as conn:
        if conn.execute(select(t.staff.c.id).where(t.staff.c.id == args.staff)).first() is None:
            raise LookupError(f"--staff: unknown staff {args.staff}")
        token = create_api_token(conn, args.staff, now_ms=now)
        audit(conn, actor="cli", action="api_token.create", now_ms=now, staff_id=args.staff)
    print(token)
    return 0


def _create_wallet(db: Any, settings: ServerSettings, args: argparse.Namespace) -> int:
    from server.audit import audit
    from server.event import get_event_settings
    from server.issuer import IssuerKeys
    from server.wallets import admin_topup, create_wallet, signed_wallet_token
    from sync.ids import format_short_id

    now = _now()
    with db.write() as conn:
        balance = _amount(conn, args.balance, "--balance")
        wallet_id = create_wallet(conn, now_ms=now)
        if balance:
            admin_topup(conn, wallet_id, balance, lock=not db.is_sqlite, now_ms=now)
        audit(conn, actor="cli", action="wallet.create", now_ms=now, wallet_id=wallet_id, balance=balance)
        token = signed_wallet_token(conn, wallet_id, issuer=IssuerKeys(settings.issuer_key_path).active(conn),
                                    settings=get_event_settings(conn), now_ms=now)
    print(f"wallet id: {wallet_id} ({format_short_id(wallet_id)})")
    print(f"token: {token.token}")
    return 0


def _topup(db: Any, settings: ServerSettings, args: argparse.Namespace) -> int:
    from server.audit import audit
    from server.wallets import admin_topup

    now = _now()
    with db.write() as conn:
        amount = _amount(conn, args.amount, "--amount", positive=True)
        balance, seq = admin_topup(conn, args.wallet, amount, lock=not db.is_sqlite, now_ms=now)
        audit(conn, actor="cli", action="wallet.topup", now_ms=now, wallet_id=args.wallet, amount=amount)
        shown = _money(conn, balance)
    print(f"balance: {shown} (seq {seq})")
    return 0


def _block_wallet(db: Any, settings: ServerSettings, args: argparse.Namespace) -> int:
    from server.audit import audit
    from server.wallets import set_blocked

    now = _now()
    with db.write() as conn:
        set_blocked(conn, args.wallet, blocked=not args.unblock, reason=args.reason, now_ms=now)
        audit(conn, actor="cli", action="wallet.unblock" if args.unblock else "wallet.block", now_ms=now,
              wallet_id=args.wallet, reason=args.reason)
    print("unblocked" if args.unblock else "blocked")
    return 0


def _revoke_terminal(db: Any, settings: ServerSettings, args: argparse.Namespace) -> int:
    from server.audit import audit
    from server.terminals import revoke_terminal

    now = _now()
    with db.write() as conn:
        revoke_terminal(conn, args.terminal, now_ms=now)
        audit(conn, actor="cli", action="terminal.revoke", now_ms=now, terminal_id=args.terminal)
    print("revoked")
    return 0


def _rotate_key(db: Any, settings: ServerSettings, args: argparse.Namespace) -> int:
    from server.audit import audit
    from server.issuer import rotate_issuer_key

    now = _now()
    with db.write() as conn:
        key = rotate_issuer_key(conn, path_for=settings.issuer_key_path, now_ms=now)
        audit(conn, actor="cli", action="issuer_key.rotate", now_ms=now, key_id=key.key_id)
    print(f"issuer key {key.key_id} signs from now on (private key {settings.issuer_key_path(key.key_id)}, "
          "mode 0600); older keys stay trusted until retired; terminals learn the key with their next pull. "
          "Make a new backup: it must hold this key.")
    return 0


def _retire_key(db: Any, settings: ServerSettings, args: argparse.Namespace) -> int:
    from server.audit import audit
    from server.issuer import retire_issuer_key

    now = _now()
    with db.write() as conn:
        retire_issuer_key(conn, args.key_id)
        audit(conn, actor="cli", action="issuer_key.retire", now_ms=now, key_id=args.key_id)
    print(f"issuer key {args.key_id} retired: every token it signed (cards, badges, tickets) reads as forged "
          "on each terminal after its next pull; reissue what people still need")
    return 0


def _backup(db: Any, settings: ServerSettings, args: argparse.Namespace) -> int:
    from server.backup import backup_command

    return backup_command(settings, args, now_ms=_now())


def _restore(db: Any, settings: ServerSettings, args: argparse.Namespace) -> int:
    from server.backup import restore_command

    target = ServerSettings.load(data_dir=args.target_data_dir or args.data_dir,
                                 database_url=args.target_database_url or args.database_url)
    return restore_command(target, args, now_ms=_now())


def _issue_tickets(db: Any, settings: ServerSettings, args: argparse.Namespace) -> int:
    from server.audit import audit
    from server.issuer import IssuerKeys
    from server.tickets import TicketRequest, import_tickets_csv, issue_tickets, tickets_csv

    _check_out(args.out, "tickets")
    if args.count is not None and (args.type is None or args.count < 1):
        raise ValueError("--count needs --type and a positive number")
    now = _now()
    with db.write() as conn:
        issuer = IssuerKeys(settings.issuer_key_path).active(conn)
        if args.csv is not None:
            issued = import_tickets_csv(conn, args.csv.read_text(encoding="utf-8"), issuer=issuer, now_ms=now,
                                        default_type=args.type)
        else:
            request = TicketRequest(args.type, holder=args.holder, valid_from=args.valid_from,
                                    valid_until=args.valid_until)
            issued = issue_tickets(conn, [request] * args.count, issuer=issuer, now_ms=now)
        audit(conn, actor="cli", action="tickets.issue", now_ms=now, count=len(issued),
              source="csv" if args.csv else "admin", ticket_type=args.type)
    text = tickets_csv(issued)
    if args.out is not None:
        args.out.touch(mode=0o600, exist_ok=False)
        args.out.write_text(text, encoding="utf-8")
        print(f"issued {len(issued)} tickets to {args.out}")
    else:
        sys.stdout.write(text)
    return 0


def _revoke_ticket(db: Any, settings: ServerSettings, args: argparse.Namespace) -> int:
    from server.audit import audit
    from server.tickets import revoke_ticket

    now = _now()
    with db.write() as conn:
        from sqlalchemy import select

        from server.db import tables as t

        tid = revoke_ticket(conn, args.ticket, now_ms=now, reason=args.reason, revoked=not args.unrevoke)
        known = conn.execute(select(t.tickets.c.ticket_id).where(t.tickets.c.ticket_id == tid)).first() is not None
        audit(conn, actor="cli", action="ticket.unrevoke" if args.unrevoke else "ticket.revoke", now_ms=now,
              ticket_id=tid, reason=args.reason)
    print("unrevoked" if args.unrevoke else "revoked")
    if not known:
        print(f"note: ticket {tid} is not in the ticket registry (another system's ticket); "
              "the revocation still reaches every gate")
    return 0


_COMMANDS: dict[str, Callable[[Any, ServerSettings, argparse.Namespace], int]] = {
    "reconcile": _reconcile,
    "set-event": _set_event,
    "enroll-code": _enroll_code,
    "reset-admin": _reset_admin,
    "create-stall": _simple("stall"),
    "create-product": _simple("product"),
    "create-gate": _simple("gate"),
    "create-ticket-type": _simple("ticket_type"),
    "create-staff": _create_staff,
    "import-staff": _import_staff,
    "create-token": _create_token,
    "create-wallet": _create_wallet,
    "topup": _topup,
    "block-wallet": _block_wallet,
    "revoke-terminal": _revoke_terminal,
    "rotate-key": _rotate_key,
    "retire-key": _retire_key,
    "issue-tickets": _issue_tickets,
    "revoke-ticket": _revoke_ticket,
    "backup": _backup,
    "restore": _restore,
}
