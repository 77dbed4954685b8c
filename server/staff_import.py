"""Staff from a CSV file (``ennichi admin import-staff``, the dashboard's staff page): all or nothing.

Columns (a header row, any order, case-insensitive): ``name`` (required), ``role`` (a role name, or
blank), ``scope`` (``event``, ``stall:ID``, ``gate:ID``, a stall's or a gate's name; blank: event),
``pin`` (4-12 digits; blank: one is generated and shown once).  Every bad line is reported, in English
or Japanese, and then nothing is created.
"""

from __future__ import annotations

import csv
import io
import secrets
from dataclasses import dataclass

from sqlalchemy import Connection, select

from server.db import tables as t
from server.staff import create_staff, grant_role
from sync.permissions import Scope, ScopeKind

__all__ = ["MAX_ROWS", "ImportedStaff", "StaffImportError", "import_staff_csv", "imported_csv", "parse_staff_csv"]

MAX_ROWS = 2000
COLUMNS = ("name", "role", "scope", "pin")

_WORDS: dict[str, tuple[str, str]] = {
    "header": ("the CSV needs a header row with a 'name' column (and optionally role, scope, pin)",
               "CSV の1行目に「name」列の見出しが必要です(role, scope, pin は任意)"),
    "unknown_column": ("unknown column {column!r}: use name, role, scope, pin",
                       "不明な列「{column}」です。name, role, scope, pin を使ってください"),
    "empty": ("the CSV has no people", "CSV にスタッフがいません"),
    "too_many": ("at most {n} people per file", "1ファイル {n} 人までです"),
    "csv": ("line {line}: {error}", "{line}行目: {error}"),
    "name": ("line {line}: a name is needed (blank or only spaces is not one)",
             "{line}行目: 名前がありません(空白だけの名前は使えません)"),
    "name_long": ("line {line}: a name has at most 100 characters", "{line}行目: 名前は100文字までです"),
    "role": ("line {line}: unknown role {role!r}", "{line}行目: 不明な役割「{role}」です"),
    "scope": ("line {line}: unknown scope {scope!r} (use event, stall:ID, gate:ID or a stall's or gate's name)",
              "{line}行目: 不明な範囲「{scope}」です(event、stall:ID、gate:ID、屋台名かゲート名を使ってください)"),
    "scope_no_role": ("line {line}: a scope needs a role", "{line}行目: 範囲には役割が必要です"),
    "pin": ("line {line}: a PIN is 4 to 12 digits", "{line}行目: 暗証番号は4〜12桁の数字です"),
}


def _say(lang: str, key: str, **params: object) -> str:
    en, ja = _WORDS[key]
    return (ja if lang == "ja" else en).format(**params)


class StaffImportError(ValueError):
    """The file was refused; ``errors`` holds every bad line in the caller's language."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        super().__init__("; ".join(errors[:20]) + (f" (+{len(errors) - 20} more)" if len(errors) > 20 else ""))


@dataclass(frozen=True, slots=True)
class _Row:
    line: int
    name: str
    role: str | None
    scope: Scope
    pin: str | None


@dataclass(frozen=True, slots=True)
class ImportedStaff:
    """One person created: their id and the PIN (``generated``: made here, shown only now)."""

    line: int
    staff_id: int
    name: str
    role: str | None
    scope: str
    pin: str
    generated: bool


def _scope_lookup(conn: Connection) -> dict[str, Scope]:
    scopes: dict[str, Scope] = {"": Scope(), "event": Scope()}
    for kind, table in ((ScopeKind.STALL, t.stalls), (ScopeKind.GATE, t.gates)):
        for row in conn.execute(select(table.c.id, table.c.name)):
            scopes[f"{kind.value}:{row.id}"] = Scope(kind, int(row.id))
            scopes.setdefault(str(row.name).strip().casefold(), Scope(kind, int(row.id)))
    return scopes


def parse_staff_csv(conn: Connection, text: str, *, lang: str = "en") -> list[_Row]:
    """Check every line against the event's roles, stalls and gates; raises StaffImportError with all errors."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    errors: list[str] = []
    try:
        header = [h.strip().lower() for h in next(reader, [])]
    except csv.Error as exc:
        raise StaffImportError([_say(lang, "csv", line=1, error=exc)]) from None
    if "name" not in header:
        raise StaffImportError([_say(lang, "header")])
    for column in header:
        if column not in COLUMNS:
            errors.append(_say(lang, "unknown_column", column=column))
    roles = {str(r) for r in conn.execute(select(t.roles.c.name)).scalars()}
    scopes = _scope_lookup(conn)
    rows: list[_Row] = []
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            errors.append(_say(lang, "csv", line=reader.line_num, error=exc))
            break
        line = reader.line_num
        if not any(c.strip() for c in cells):
            continue
        if len(rows) >= MAX_ROWS:
            raise StaffImportError([_say(lang, "too_many", n=MAX_ROWS)])
        cell = dict(zip(header, (c.strip() for c in cells), strict=False))
        name, role = cell.get("name", ""), cell.get("role", "")
        scope_text, pin = cell.get("scope", ""), cell.get("pin", "")
        bad = len(errors)
        if not name:
            errors.append(_say(lang, "name", line=line))
        elif len(name) > 100:
            errors.append(_say(lang, "name_long", line=line))
        if role and role not in roles:
            errors.append(_say(lang, "role", line=line, role=role))
        scope = scopes.get(scope_text if ":" in scope_text else scope_text.casefold())
        if scope is None:
            errors.append(_say(lang, "scope", line=line, scope=scope_text))
        elif scope_text and scope_text != "event" and not role:
            errors.append(_say(lang, "scope_no_role", line=line))
        if pin and not (pin.isascii() and pin.isdigit() and 4 <= len(pin) <= 12):
            errors.append(_say(lang, "pin", line=line))
        if len(errors) == bad and scope is not None:
            rows.append(_Row(line, name, role or None, scope, pin or None))
    if errors:
        raise StaffImportError(errors)
    if not rows:
        raise StaffImportError([_say(lang, "empty")])
    return rows


def _scope_text(scope: Scope) -> str:
    return "event" if scope.kind is ScopeKind.EVENT else f"{scope.kind.value}:{scope.id}"


def import_staff_csv(conn: Connection, text: str, *, now_ms: int, lang: str = "en") -> list[ImportedStaff]:
    """Create everyone in the file in ``conn``'s transaction, or no one; raises StaffImportError."""
    made: list[ImportedStaff] = []
    for row in parse_staff_csv(conn, text, lang=lang):
        pin = row.pin or f"{secrets.randbelow(10**6):06d}"
        staff_id = create_staff(conn, name=row.name, pin=pin, now_ms=now_ms)
        if row.role:
            grant_role(conn, staff_id, row.role, scope=row.scope)
        made.append(ImportedStaff(row.line, staff_id, row.name, row.role, _scope_text(row.scope), pin,
                                  row.pin is None))
    return made


def imported_csv(made: list[ImportedStaff]) -> str:
    """The people created as CSV (id, printed id, name, role, scope, PIN) - generated PINs are shown only here."""
    from sync.ids import format_short_id

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["line", "staff_id", "display_id", "name", "role", "scope", "pin", "pin_generated"])
    for m in made:
        writer.writerow([m.line, m.staff_id, format_short_id(m.staff_id), m.name, m.role or "", m.scope,
                         m.pin, "yes" if m.generated else "no"])
    return out.getvalue()
