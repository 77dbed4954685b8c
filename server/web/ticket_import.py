"""Reading a tickets CSV as organisers write it: ticket type names (or ids), local date-times, ja/en headers.

``read_tickets_csv`` returns the tickets to issue or raises ``ImportRefused``
with every bad line, each in the page's language.  Times without an offset
are the event's local time (``sync.timezone.parse_local_time``); a date alone
is the start of that day for ``valid_from`` and its end for ``valid_until``;
``2026/11/03 9:00`` (a spreadsheet's way) reads like ``2026-11-03T09:00``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
from collections.abc import Callable, Mapping

from server.tickets import TicketRequest
from server.web.people import PeopleError as ImportRefused
from server.web.people import csv_lines
from sync.timezone import parse_local_time

__all__ = ["MAX_TICKET_LINES", "ImportRefused", "read_tickets_csv", "template_csv"]

MAX_TICKET_LINES = 10_000
_HEADERS = {
    "type": "type", "ticket_type": "type", "種類": "type", "券種": "type", "チケットの種類": "type",
    "holder": "holder", "name": "holder", "名前": "holder", "氏名": "holder",
    "valid_from": "from", "from": "from", "開始": "from", "有効開始": "from",
    "valid_until": "until", "until": "until", "終了": "until", "有効終了": "until",
}
_DATE_TIME = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?(.*)")


def _clean(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip()


def _time(text: str, zone: str, *, end_of_day: bool) -> int:
    """Unix seconds of a typed time; raises ValueError (the caller words it)."""
    if text.isascii() and text.isdigit():
        return int(text)
    match = _DATE_TIME.fullmatch(text)
    if match is None:
        raise ValueError(text)
    year, month, day, hour, minute, second, rest = match.groups()
    if hour is None:
        if rest.strip():
            raise ValueError(text)
        hour, minute, second = ("23", "59", "59") if end_of_day else ("0", "0", "0")
    iso = f"{int(year):04d}-{int(month):02d}-{int(day):02d}T{int(hour):02d}:{int(minute):02d}:{int(second or 0):02d}"
    moment = parse_local_time(iso + rest.strip(), zone)  # ValueError: no such date, or a DST gap or repeat
    return int(moment.timestamp())


def read_tickets_csv(text: str, *, types: Mapping[int, str], zone: str, t: Callable[..., str]) -> list[TicketRequest]:
    """Every line as a ticket to issue, or ImportRefused with every bad line (``types``: active id -> name)."""
    by_name = {_clean(name).casefold(): tid for tid, name in types.items()}
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    try:
        header = next(reader, None)
    except csv.Error:
        header = None
    columns: dict[str, int] = {}
    for i, cell in enumerate(header or []):
        key = _HEADERS.get(_clean(cell).lower())
        if key and key not in columns:
            columns[key] = i
    if "type" not in columns:
        raise ImportRefused([t("tickets.err.no_type_column")])
    out: list[TicketRequest] = []
    errors: list[str] = []
    known = "、".join(types.values()) if t("people.err.sep") == "、" else ", ".join(types.values())
    for line, row in csv_lines(reader, limit=MAX_TICKET_LINES, kept=lambda: len(out), errors=errors, t=t):
        cells = {key: _clean(row[i]) if i < len(row) else "" for key, i in columns.items()}
        problems: list[str] = []
        type_text = cells.get("type", "")
        ticket_type = None
        if type_text.isascii() and type_text.isdigit() and int(type_text) in types:
            ticket_type = int(type_text)
        elif type_text.casefold() in by_name:
            ticket_type = by_name[type_text.casefold()]
        else:
            problems.append(t("tickets.err.type", text=type_text[:40], known=known))
        holder = cells.get("holder", "")
        if len(holder) > 200:
            problems.append(t("tickets.err.holder"))
        times: dict[str, int | None] = {}
        for key in ("from", "until"):
            typed = cells.get(key, "")
            times[key] = None
            if typed:
                try:
                    times[key] = _time(typed, zone, end_of_day=key == "until")
                except ValueError:
                    problems.append(t("tickets.err.time", text=typed[:40]))
        start, end = times["from"], times["until"]
        if start is not None and end is not None and end <= start:
            problems.append(t("tickets.err.order"))
        if problems:
            errors.append(t("people.err.line", n=line, what=t("people.err.sep").join(problems)))
        elif ticket_type is not None:
            out.append(TicketRequest(ticket_type, holder=holder, valid_from=start, valid_until=end))
    if errors:
        raise ImportRefused(errors)
    if not out:
        raise ImportRefused([t("people.err.no_rows")])
    return out


def template_csv(*, lang: str, type_names: list[str], today: dt.date) -> str:
    """The tickets template to download: the header and two lines with this event's type names."""
    first = type_names[0] if type_names else ("一般" if lang == "ja" else "Day pass")
    day = today.strftime("%Y/%m/%d")
    if lang == "ja":
        return f"種類,名前,開始,終了\n{first},山田 花子,{day} 9:00,{day} 17:00\n{first},,,\n"
    return f"type,holder,valid_from,valid_until\n{first},Hana Yamada,{day} 9:00,{day} 17:00\n{first},,,\n"
