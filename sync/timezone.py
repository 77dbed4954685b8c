"""The event's time zone: one IANA name (``EventSettings.timezone``) for every time shown, bucketed or typed."""

from __future__ import annotations

import datetime as dt
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["event_zone", "local_hour_start_ms", "local_time", "parse_local_time"]


@cache
def event_zone(name: str) -> ZoneInfo:
    """The zone for an IANA name (``Asia/Tokyo``, ``Europe/Berlin``); raises ValueError for anything else."""
    if not isinstance(name, str) or not name or name != name.strip() or ".." in name or name.startswith("/"):
        raise ValueError(f"unknown time zone {name!r}: use an IANA name such as Asia/Tokyo or Europe/London")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}: use an IANA name such as Asia/Tokyo or Europe/London") from exc


def local_time(ms: int, zone: str) -> dt.datetime:
    """The aware local time of a Unix-ms instant in the event's zone."""
    return dt.datetime.fromtimestamp(ms / 1000, event_zone(zone))


def local_hour_start_ms(ms: int, zone: str) -> int:
    """Unix ms of the start of the local hour holding ``ms`` (a report's hour bucket; DST-safe)."""
    moment = local_time(ms, zone)
    return int(moment.replace(minute=0, second=0, microsecond=0).timestamp() * 1000)


def parse_local_time(text: str, zone: str) -> dt.datetime:
    """ISO 8601 text; without an offset it is the event's local time.  Raises ValueError.

    A wall time that a DST change skips (02:30 on the spring-forward night) is refused; one it repeats
    (02:30 on the autumn night) is refused unless written with its offset, so no typed time is ambiguous.
    """
    moment = dt.datetime.fromisoformat(text.strip())
    if moment.tzinfo is not None:
        return moment
    tz = event_zone(zone)
    first, second = moment.replace(tzinfo=tz, fold=0), moment.replace(tzinfo=tz, fold=1)
    if first.utcoffset() != second.utcoffset():
        raise ValueError(f"{text.strip()} happens twice or never in {zone} (a daylight-saving change): "
                         "write it with its offset, e.g. 2026-10-25T02:30+02:00")
    back = first.astimezone(dt.UTC).astimezone(tz)
    if back.replace(tzinfo=None) != moment:
        raise ValueError(f"{text.strip()} does not exist in {zone} (a daylight-saving change)")
    return first
