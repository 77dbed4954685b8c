"""The event settings form: every field of ``sync.schemas.EventSettings``, read and bounded, refusals in ja/en.

``read_event_form`` turns the typed form into new settings or a list of
refusals (one per bad field, in the page's language); nothing is saved unless
every field reads.  Amounts go through ``sync.money.parse_amount`` in the
currency the form chooses; every integer has the bounds the schema gives it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Connection, exists, select

from server.db import tables as t
from sync.money import MoneyError, currency_codes, currency_for, known_locale, parse_amount
from sync.schemas import MAX_PERIOD_MS, MAX_PERIODS, EventSettings, OfflineFallback, OpenPeriod
from sync.timezone import Zone, event_zone, local_time, parse_local_time

__all__ = ["AMOUNT_FIELDS", "INT_FIELDS", "EventForm", "currency_locked", "form_values", "hours_text",
           "read_event_form", "read_hours"]

_LOCALE = re.compile(r"[A-Za-z]{2,3}(_[A-Za-z0-9]{2,8}){0,3}")  # EventSettings.number_locale
MAX_SETTING_AMOUNT = 10**12  # sync.schemas.Amount

# amount fields, in the order the page shows them
AMOUNT_FIELDS = ("floor_limit", "offline_limit", "unsynced_cap", "overdraft_tolerance")


@dataclass(frozen=True, slots=True)
class IntField:
    """A whole-number setting typed in ``unit`` (``scale`` stored units per typed unit), within [lo, hi]."""

    name: str  # the EventSettings field
    unit: str  # catalog key of the unit
    scale: int
    lo: int
    hi: int


INT_FIELDS: tuple[IntField, ...] = (
    IntField("max_offline_s", "unit.min", 60, 1, 7 * 24 * 60),
    IntField("staff_idle_logout_s", "unit.min", 60, 1, 24 * 60),
    IntField("wallet_token_ttl_s", "unit.min", 60, 1, 24 * 60),
    IntField("authorize_timeout_ms", "unit.ms", 1, 100, 30_000),
    IntField("pull_interval_s", "unit.s", 1, 1, 600),
    IntField("push_debounce_ms", "unit.ms", 1, 0, 10_000),
)


_HOURS_LINE = re.compile(r"(\d{4}-\d{2}-\d{2})\s+(\d{1,2}:\d{2})\s*[-~〜–]\s*(\d{1,2}:\d{2})")


def hours_text(periods: list[OpenPeriod], zone: Zone) -> str:
    """The opening hours as the form shows them: a line a period, ``2026-11-03 10:00-16:00`` in the event's zone."""
    lines = []
    for p in periods:
        opens, closes = local_time(p.opens_ms, zone), local_time(p.closes_ms, zone)
        lines.append(f"{opens:%Y-%m-%d %H:%M}-{closes:%H:%M}")
    return "\n".join(lines)


def read_hours(text: str, zone: Zone, *, t: Callable[..., str]) -> tuple[list[OpenPeriod], list[str]]:
    """Read the typed opening hours (a line a day: ``2026-11-03 10:00-16:00``, local times in ``zone``).

    A close at or before the opening is on the next day (``18:00-01:00``).  Returns the periods
    and the refusals in the page's language (one per bad line; overlapping days; too many).
    """
    periods: list[OpenPeriod] = []
    errors: list[str] = []
    lines = [ln.strip() for ln in unicodedata.normalize("NFKC", text).splitlines() if ln.strip()]
    if len(lines) > MAX_PERIODS:
        return [], [t("event.err.hours_many", n=MAX_PERIODS)]
    for number, line in enumerate(lines, 1):
        match = _HOURS_LINE.fullmatch(line)
        try:
            if match is None:
                raise ValueError(line)
            day, start, end = match.groups()
            opens = parse_local_time(f"{day}T{int(start[:-3]):02d}:{start[-2:]}", zone)
            closes = parse_local_time(f"{day}T{int(end[:-3]):02d}:{end[-2:]}", zone)
            opens_ms, closes_ms = int(opens.timestamp() * 1000), int(closes.timestamp() * 1000)
            if closes_ms <= opens_ms:  # past midnight: the close is on the next day
                closes_ms += 24 * 3600_000
            if not 0 < closes_ms - opens_ms <= MAX_PERIOD_MS:
                raise ValueError(line)
            periods.append(OpenPeriod(opens_ms=opens_ms, closes_ms=closes_ms))
        except ValueError:  # a bad date or time, one a DST change skips, or not the pattern at all
            errors.append(t("event.err.hours", n=number, text=line[:40]))
    ordered = sorted(periods, key=lambda p: p.opens_ms)
    if any(b.opens_ms < a.closes_ms for a, b in pairwise(ordered)):
        errors.append(t("event.err.hours_overlap"))
    return ordered, errors


def currency_locked(conn: Connection) -> bool:
    """True once any money moved (a sale, a top-up, ...): the currency may not change after that."""
    return bool(conn.execute(select(exists().where(t.transactions.c.id.is_not(None)))).scalar())


def form_values(settings: EventSettings, amount_input: Callable[[int], str]) -> dict[str, str]:
    """The form's fields as the page shows them (what ``read_event_form`` reads back unchanged)."""
    values: dict[str, str] = {
        "event_name": settings.event_name, "currency": settings.currency, "timezone": settings.timezone,
        "number_locale": settings.number_locale, "offline_fallback": settings.offline_fallback.value,
        "opening_hours": hours_text(settings.opening_hours, settings.timezone),
    }
    for name in AMOUNT_FIELDS:
        values[name] = amount_input(getattr(settings, name))
    for f in INT_FIELDS:
        stored = int(getattr(settings, f.name))
        values[f.name] = str(max(f.lo, -(-stored // f.scale)))  # a whole number of the unit, rounded up
    return values


@dataclass(frozen=True, slots=True)
class EventForm:
    """What the form read: the new settings, or the refusals; ``changes`` maps a field to (old, new)."""

    settings: EventSettings | None
    errors: list[str]
    changes: dict[str, tuple[Any, Any]]


def _whole(text: str) -> int | None:
    cleaned = unicodedata.normalize("NFKC", text).strip().replace(",", "").replace(" ", "")
    if not cleaned or len(cleaned) > 12 or not cleaned.isascii() or not cleaned.isdigit():
        return None
    return int(cleaned)


def read_event_form(form: Mapping[str, str], current: EventSettings, *, t: Callable[..., str], lang: str,
                    locked: bool) -> EventForm:
    """Read the typed form against ``current``; ``t`` is the page's translator. Raises nothing."""
    errors: list[str] = []
    new: dict[str, Any] = {}

    def label(name: str) -> str:
        return t(f"event.{name}")

    name = (form.get("event_name") or "").strip()
    if not name or len(name) > 200:
        errors.append(t("event.err.name"))
    else:
        new["event_name"] = name

    code = unicodedata.normalize("NFKC", form.get("currency") or "").strip().upper()
    if code != current.currency and locked:
        errors.append(t("event.err.currency_locked", code=current.currency))
        code = current.currency
    if code not in currency_codes():
        errors.append(t("event.err.currency", text=code[:10]))
        code = current.currency
    new["currency"] = code

    zone = (form.get("timezone") or "").strip()
    try:
        event_zone(zone)
        new["timezone"] = zone
    except ValueError:
        errors.append(t("event.err.timezone", text=zone[:64]))
        zone = current.timezone

    periods, refused = read_hours(form.get("opening_hours") or "", zone, t=t)  # in the zone the form chooses
    errors += refused
    new["opening_hours"] = periods

    locale = (form.get("number_locale") or "").strip()
    if len(locale) <= 32 and _LOCALE.fullmatch(locale) and known_locale(locale):
        new["number_locale"] = locale
    else:
        errors.append(t("event.err.locale", text=locale[:32]))
        locale = current.number_locale

    fallback = form.get("offline_fallback") or ""
    if fallback in {f.value for f in OfflineFallback}:
        new["offline_fallback"] = OfflineFallback(fallback)
    else:
        errors.append(t("event.err.choice", field=t("event.offline_fallback")))

    currency = currency_for(code)
    for field_name in AMOUNT_FIELDS:
        try:
            new[field_name] = parse_amount(form.get(field_name) or "", currency, locale=locale, lang=lang,
                                           max_minor=MAX_SETTING_AMOUNT)
        except MoneyError as exc:
            errors.append(f"{label(field_name)}: {exc}")

    for f in INT_FIELDS:
        value = _whole(form.get(f.name) or "")
        if value is None or not f.lo <= value <= f.hi:
            errors.append(t("event.err.range", field=label(f.name), lo=f"{f.lo:,}", hi=f"{f.hi:,}", unit=t(f.unit)))
        else:
            new[f.name] = value * f.scale

    if errors:
        return EventForm(None, errors, {})
    try:
        settings = EventSettings.model_validate(current.model_dump() | new)
    except (ValidationError, ValueError):  # the checks above mirror the schema; this is a last guard
        return EventForm(None, [t("event.err.invalid")], {})
    old = current.model_dump(mode="json")
    fresh = settings.model_dump(mode="json")
    changes = {k: (old.get(k), v) for k, v in fresh.items() if old.get(k) != v}
    return EventForm(settings, [], changes)
