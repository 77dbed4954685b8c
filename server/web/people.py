"""Wallets at the scale of a school: N cards in one action, and people from a class list with My page access.

A *batch* is one bulk action: ``make_cards`` creates N empty wallets for
printed cards; ``import_people`` reads a class-list CSV (name, class, e-mail,
kind) and creates, for every line, a wallet, its My page access and a
one-time sign-in link (printed on the person's letter; using it sets the
first PIN).  Both are all or nothing: a CSV with any bad line is refused with
every bad line listed in the page's language, and nothing is created.

First PINs are not generated: an argon2 hash costs about 0.3 s here, so 1,000
PINs would keep the request busy for minutes.  A link token is 32 random
bytes, stored as its SHA-256 (like API tokens), and cheap to make.
"""

from __future__ import annotations

import csv
import hashlib
import io
import secrets
import unicodedata
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, insert, or_, select, update

from server.db import tables as t
from server.said import Said
from server.wallets import create_wallet
from server.web.tables import customers, people, signin_links

__all__ = [
    "KINDS",
    "MAX_CARDS",
    "MAX_PEOPLE",
    "PeopleError",
    "Person",
    "Row",
    "batch_people",
    "find_people",
    "issue_links",
    "link_token",
    "make_cards",
    "parse_people_csv",
    "read_csv_bytes",
    "template_csv",
    "use_link",
]

MAX_CARDS = 1000  # wallets made in one click
MAX_PEOPLE = 5000  # lines of one class-list CSV
MAX_CSV_BYTES = 2 * 1024 * 1024
LINK_TTL_MS = 60 * 86400 * 1000  # a letter printed weeks before the festival still works on the day
UNSET_PIN = "!unset"  # no argon2 hash: never verifies (check_secret); the first sign-in is by the letter's link
KINDS = ("student", "visitor", "guest")

# Header names a school's spreadsheet may use (lower-cased, NFKC) -> the column.
_HEADERS = {
    "name": "name", "名前": "name", "氏名": "name", "なまえ": "name",
    "class": "class", "クラス": "class", "組": "class", "学級": "class", "class_name": "class",
    "email": "email", "e-mail": "email", "mail": "email", "メール": "email", "メールアドレス": "email",
    "kind": "kind", "role": "kind", "区分": "kind", "種別": "kind",
}
_KIND_WORDS = {"student": "student", "生徒": "student", "visitor": "visitor", "来場者": "visitor",
               "保護者": "visitor", "guest": "guest", "ゲスト": "guest", "来賓": "guest"}


class PeopleError(ValueError):
    """A refused bulk action; ``errors`` holds one line per problem, already in the page's language."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        super().__init__("; ".join(errors[:3]))


@dataclass(frozen=True, slots=True)
class Row:
    """One good line of a class list."""

    line: int
    name: str
    class_name: str
    email: str
    kind: str


@dataclass(frozen=True, slots=True)
class Person:
    """A wallet made in bulk, as its card or letter shows it (``link``: the one-time token, when just made)."""

    wallet_id: int
    name: str
    class_name: str
    email: str
    kind: str
    link: str = ""


def read_csv_bytes(raw: bytes, *, t: Callable[..., str]) -> str:
    """Decode an uploaded CSV: UTF-8 (BOM or not), else Shift_JIS (Excel's Japanese CSV); raises PeopleError."""
    if len(raw) > MAX_CSV_BYTES:
        raise PeopleError([t("people.err.too_big", mb=MAX_CSV_BYTES // (1024 * 1024))])
    for encoding in ("utf-8-sig", "cp932"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise PeopleError([t("people.err.encoding")])


def _clean(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip()


def csv_lines(reader: Any, *, limit: int, kept: Callable[[], int], errors: list[str],
              t: Callable[..., str]) -> Iterator[tuple[int, list[str]]]:
    """The non-blank lines of a ``csv.reader`` with their line numbers, for an all-or-nothing import.

    An unreadable line, or one past ``limit`` (``kept()`` lines taken so far plus the errors), ends
    the file with one error in ``errors``, in the page's language.
    """
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error:
            errors.append(t("people.err.line", n=reader.line_num, what=t("people.err.unreadable")))
            return
        if not any(c.strip() for c in row):
            continue
        if kept() + len(errors) >= limit:
            errors.append(t("people.err.too_many", n=limit))
            return
        yield reader.line_num, row


def parse_people_csv(text: str, *, t: Callable[..., str], default_kind: str = "student") -> list[Row]:
    """Every line of a class list, or PeopleError with every bad line (``t``: the page's translator)."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    try:
        header = next(reader, None)
    except csv.Error:
        header = None
    if not header:
        raise PeopleError([t("people.err.no_header")])
    columns: dict[str, int] = {}
    for i, heading in enumerate(header):
        key = _HEADERS.get(_clean(heading).lower())
        if key and key not in columns:
            columns[key] = i
    if "name" not in columns:
        raise PeopleError([t("people.err.no_name_column")])
    rows: list[Row] = []
    errors: list[str] = []

    def cell(row: list[str], key: str) -> str:
        i = columns.get(key)
        return _clean(row[i]) if i is not None and i < len(row) else ""

    for line, row in csv_lines(reader, limit=MAX_PEOPLE, kept=lambda: len(rows), errors=errors, t=t):
        name, class_name, email = cell(row, "name"), cell(row, "class"), cell(row, "email")
        kind_text = cell(row, "kind").lower()
        kind = _KIND_WORDS.get(kind_text, "") if kind_text else default_kind
        problems = []
        if not name:
            problems.append(t("people.err.no_name"))
        elif len(name) > 100:
            problems.append(t("people.err.long_name"))
        if len(class_name) > 40:
            problems.append(t("people.err.long_class"))
        if email and (len(email) > 200 or email.count("@") != 1 or email.startswith("@") or email.endswith("@")
                      or any(ch.isspace() for ch in email)):
            problems.append(t("people.err.email", text=email[:60]))
        if not kind:
            problems.append(t("people.err.kind", text=kind_text[:30]))
        if problems:
            errors.append(t("people.err.line", n=line, what=t("people.err.sep").join(problems)))
        else:
            rows.append(Row(line, name, class_name, email, kind))
    if errors:
        raise PeopleError(errors)
    if not rows:
        raise PeopleError([t("people.err.no_rows")])
    return rows


def template_csv(*, lang: str) -> str:
    """The class-list template to download (header and two example lines)."""
    if lang == "ja":
        return "名前,クラス,メール,区分\n山田 花子,2年3組,hanako@example.jp,生徒\n佐藤 一郎,,,来場者\n"
    return "name,class,email,kind\nHana Yamada,2-3,hana@example.org,student\nIchiro Sato,,,visitor\n"


def _new_batch() -> str:
    return uuid.uuid4().hex[:12]


def make_cards(conn: Connection, count: int, *, now_ms: int, class_name: str = "") -> tuple[str, list[int]]:
    """Create ``count`` empty wallets for printed cards (1..MAX_CARDS) as one batch; raises ValueError."""
    if not 1 <= count <= MAX_CARDS:
        raise Said(f"1 to {MAX_CARDS} wallets at a time", ja=f"一度に作れるのは1〜{MAX_CARDS}枚です")
    batch = _new_batch()
    ids = []
    rows = []
    for position in range(count):
        wallet_id = create_wallet(conn, now_ms=now_ms)
        ids.append(wallet_id)
        rows.append({"wallet_id": wallet_id, "name": "", "class_name": class_name.strip()[:40], "email": "",
                     "kind": "card", "batch": batch, "position": position, "created_at": now_ms})
    conn.execute(insert(people), rows)
    return batch, ids


def link_token() -> tuple[str, str]:
    """A new one-time sign-in link token and the SHA-256 that ``web_signin_links`` keeps."""
    token = secrets.token_urlsafe(32)
    return token, hashlib.sha256(token.encode("ascii")).hexdigest()


def import_people(conn: Connection, rows: list[Row], *, now_ms: int) -> tuple[str, list[Person]]:
    """Create every person's wallet, My page access and one-time sign-in link, as one batch.

    Students get a person row with the ``student`` role (guest invitations), as the wallet page's "student"
    tick does; its PIN hash is one that no PIN can match (students never sign in to a terminal).  The rows
    are written in bulk (one insert per table, one block of change numbers): what ``create_wallet``,
    ``create_staff`` and ``grant_role`` write one by one, 1,000 people in well under a second instead of 8 s.
    Raises PeopleError when the ``student`` role is missing.
    """
    from server.db.engine import reserve_changes
    from server.staff import hash_secret
    from sync.ids import new_short_id

    batch = _new_batch()
    students = [r for r in rows if r.kind == "student"]
    if students and conn.execute(select(t.roles.c.name).where(t.roles.c.name == "student")).scalar() is None:
        raise PeopleError(["the role 'student' is missing: run `ennichi server upgrade`"])
    student_pin_hash = hash_secret(secrets.token_urlsafe(24)) if students else ""
    first = reserve_changes(conn, len(rows) + len(students))  # terminals pull accounts and staff by these
    seqs = iter(range(first, first + len(rows) + len(students)))
    made: list[Person] = []
    account_rows, staff_rows, role_rows = [], [], []
    people_rows, customer_rows, link_rows = [], [], []
    for position, row in enumerate(rows):
        wallet_id = new_short_id()
        account_rows.append({"kind": "wallet", "ref": wallet_id, "name": row.name, "flags": 0,
                             "created_at": now_ms, "change_seq": next(seqs)})
        staff_id = None
        if row.kind == "student":
            staff_id = new_short_id()
            staff_rows.append({"id": staff_id, "name": row.name, "pin_hash": student_pin_hash, "login": None,
                               "password_hash": None, "active": True, "badge_not_before": 0, "created_at": now_ms,
                               "change_seq": next(seqs)})
            role_rows.append({"staff_id": staff_id, "role": "student", "scope_kind": "event", "scope_id": None})
        token, digest = link_token()
        people_rows.append({"wallet_id": wallet_id, "name": row.name, "class_name": row.class_name,
                            "email": row.email, "kind": row.kind, "batch": batch, "position": position,
                            "created_at": now_ms})
        customer_rows.append({"wallet_id": wallet_id, "holder_name": row.name, "pin_hash": UNSET_PIN,
                              "staff_id": staff_id, "guest_quota": -1, "guest_ticket_type": None,
                              "created_at": now_ms})
        link_rows.append({"token_hash": digest, "wallet_id": wallet_id, "created_at": now_ms,
                          "expires_at": now_ms + LINK_TTL_MS, "used_at": None})
        made.append(Person(wallet_id, row.name, row.class_name, row.email, row.kind, token))
    conn.execute(insert(t.accounts), account_rows)
    if staff_rows:
        conn.execute(insert(t.staff), staff_rows)
        conn.execute(insert(t.staff_roles), role_rows)
    conn.execute(insert(people), people_rows)
    conn.execute(insert(customers), customer_rows)
    conn.execute(insert(signin_links), link_rows)
    return batch, made


def batch_people(conn: Connection, batch: str, *, limit: int = MAX_PEOPLE) -> list[Person]:
    """The wallets of one batch in their order (no links: those are shown once)."""
    p = people
    rows = conn.execute(select(p).where(p.c.batch == batch[:40]).order_by(p.c.position).limit(limit))
    return [Person(int(r.wallet_id), r.name, r.class_name, r.email, r.kind) for r in rows]


def issue_links(conn: Connection, wallet_ids: Iterable[int], *, now_ms: int) -> dict[int, str]:
    """New one-time links for wallets whose holder has not chosen a PIN yet (older links stop working)."""
    ids = [int(i) for i in wallet_ids]
    unset = set(conn.execute(select(customers.c.wallet_id).where(
        customers.c.wallet_id.in_(ids), customers.c.pin_hash == UNSET_PIN)).scalars()) if ids else set()
    sl = signin_links
    links: dict[int, str] = {}
    if unset:
        conn.execute(update(sl).where(sl.c.wallet_id.in_(unset), sl.c.used_at.is_(None)).values(used_at=now_ms))
    rows = []
    for wallet_id in ids:
        if wallet_id in unset:
            token, digest = link_token()
            links[wallet_id] = token
            rows.append({"token_hash": digest, "wallet_id": wallet_id, "created_at": now_ms,
                         "expires_at": now_ms + LINK_TTL_MS, "used_at": None})
    if rows:
        conn.execute(insert(sl), rows)
    return links


def link_wallet(conn: Connection, token: str, *, now_ms: int, lock: bool = False) -> int | None:
    """The wallet a one-time link signs in to, or None (unknown, used, expired)."""
    if not (20 <= len(token) <= 64 and token.isascii()):
        return None
    digest = hashlib.sha256(token.encode("ascii")).hexdigest()
    sl = signin_links
    query = select(sl.c.wallet_id, sl.c.used_at, sl.c.expires_at).where(sl.c.token_hash == digest)
    row = conn.execute(query.with_for_update() if lock else query).first()
    if row is None or row.used_at is not None or int(row.expires_at) <= now_ms:
        return None
    return int(row.wallet_id)


def use_link(conn: Connection, token: str, *, pin_hash: str, now_ms: int, lock: bool) -> int | None:
    """Spend a one-time link: set the wallet's first PIN; returns the wallet id, or None when not valid.

    One conditional update marks it used, so two submissions of the same link set one PIN.
    """
    wallet_id = link_wallet(conn, token, now_ms=now_ms, lock=lock)
    if wallet_id is None:
        return None
    digest = hashlib.sha256(token.encode("ascii")).hexdigest()
    sl = signin_links
    spent = conn.execute(update(sl).where(sl.c.token_hash == digest, sl.c.used_at.is_(None))
                         .values(used_at=now_ms)).rowcount
    if not spent:
        return None
    conn.execute(update(customers).where(customers.c.wallet_id == wallet_id).values(pin_hash=pin_hash))
    return wallet_id


def find_people(conn: Connection, text: str, *, limit: int = 50) -> list[dict[str, Any]]:
    """Wallets whose holder's name, class or short code contains ``text`` (partial, case-insensitive)."""
    from sync.ids import format_short_id

    text = _clean(text)[:100]
    if not text:
        return []
    a, p = t.accounts, people
    like = f"%{text.replace('%', '').replace('_', '')}%"
    query = (select(a.c.ref, a.c.name, a.c.balance, a.c.blocked, a.c.overdrawn, p.c.class_name, p.c.kind)
             .select_from(a.outerjoin(p, p.c.wallet_id == a.c.ref))
             .where(a.c.kind == "wallet", or_(a.c.name.ilike(like), p.c.class_name.ilike(like)))
             .order_by(p.c.class_name, a.c.name).limit(limit))
    found = {int(r.ref): dict(r._mapping) for r in conn.execute(query)}
    compact = "".join(ch for ch in text.upper() if ch.isalnum())
    if 3 <= len(compact) <= 11 and compact.isascii():  # a partial short code: match on its printed form
        for r in conn.execute(select(a.c.ref, a.c.name, a.c.balance, a.c.blocked, a.c.overdrawn)
                              .where(a.c.kind == "wallet").limit(200_000)):
            if len(found) >= limit:
                break
            if int(r.ref) not in found and compact in format_short_id(int(r.ref)).replace("-", ""):
                found[int(r.ref)] = dict(r._mapping) | {"class_name": "", "kind": ""}
    return list(found.values())[:limit]


def recent_batches(conn: Connection, *, limit: int = 20) -> list[dict[str, Any]]:
    """The latest bulk actions: batch, kind, how many wallets, when."""
    from sqlalchemy import func

    p = people
    rows = conn.execute(select(p.c.batch, func.min(p.c.kind).label("kind"), func.count().label("n"),
                               func.min(p.c.created_at).label("at"), func.max(p.c.class_name).label("class_name"))
                        .group_by(p.c.batch).order_by(func.min(p.c.created_at).desc()).limit(limit))
    return [dict(r._mapping) for r in rows]
