"""The event's time zone: one IANA name (``EventSettings.timezone``) for every time shown, bucketed or typed."""

from __future__ import annotations

import datetime as dt
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["BUCKET_MS", "day_hours", "event_zone", "hour_label", "local_hour_start_ms", "local_time",
           "parse_local_time"]

BUCKET_MS = 15 * 60_000  # every zone's offset is a multiple of 15 min (Asia/Kathmandu +5:45): regroup these

Zone = str | dt.tzinfo


def _tz(zone: Zone) -> dt.tzinfo:
    return zone if isinstance(zone, dt.tzinfo) else event_zone(zone)


@cache
def event_zone(name: str) -> ZoneInfo:
    """The zone for an IANA name (``Asia/Tokyo``, ``Europe/Berlin``); raises ValueError for anything else."""
    if not isinstance(name, str) or not name or name != name.strip() or ".." in name or name.startswith("/"):
        raise ValueError(f"unknown time zone {name!r}: use an IANA name such as Asia/Tokyo or Europe/London")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}: use an IANA name such as Asia/Tokyo or Europe/London") from exc


def local_time(ms: int, zone: Zone) -> dt.datetime:
    """The aware local time of a Unix-ms instant in the event's zone."""
    return dt.datetime.fromtimestamp(ms / 1000, _tz(zone))


def local_hour_start_ms(ms: int, zone: Zone) -> int:
    """Unix ms of the start of the local hour holding ``ms`` (a report's hour bucket; DST-safe).

    The two 02:00 hours of an autumn DST night are two buckets, told apart by their offsets.
    """
    moment = local_time(ms, zone)
    start = moment.replace(minute=0, second=0, microsecond=0)
    return int(start.timestamp() * 1000)


def hour_label(ms: int, zone: Zone, fmt: str = "%Y-%m-%d %H:00") -> str:
    """``ms`` as a local hour; an hour a DST change repeats carries its zone name (02:00 CEST, 02:00 CET)."""
    moment = local_time(ms, zone)
    naive = moment.replace(tzinfo=None)
    tz = _tz(zone)
    repeated = naive.replace(tzinfo=tz, fold=0).utcoffset() != naive.replace(tzinfo=tz, fold=1).utcoffset()
    return moment.strftime(fmt + (" %Z" if repeated else ""))


def day_hours(day_start_ms: int, zone: Zone) -> list[int]:
    """Unix ms of each local hour of the day starting at ``day_start_ms``: 24, or 23/25 on a DST day."""
    start = local_time(day_start_ms, zone)
    next_day = (start.replace(tzinfo=None) + dt.timedelta(days=1)).replace(tzinfo=_tz(zone))
    end_ms = int(next_day.timestamp() * 1000)
    return list(range(day_start_ms, end_ms, 3_600_000))


def parse_local_time(text: str, zone: Zone) -> dt.datetime:
    """ISO 8601 text; without an offset it is the event's local time.  Raises ValueError.

    A wall time that a DST change skips (02:30 on the spring-forward night) is refused; one it repeats
    (02:30 on the autumn night) is refused unless written with its offset, so no typed time is ambiguous.
    """
    moment = dt.datetime.fromisoformat(text.strip())
    if moment.tzinfo is not None:
        return moment
    tz = _tz(zone)
    first, second = moment.replace(tzinfo=tz, fold=0), moment.replace(tzinfo=tz, fold=1)
    if first.utcoffset() != second.utcoffset():
        raise ValueError(f"{text.strip()} happens twice or never in {zone} (a daylight-saving change): "
                         "write it with its offset, e.g. 2026-10-25T02:30+02:00")
    back = first.astimezone(dt.UTC).astimezone(tz)
    if back.replace(tzinfo=None) != moment:
        raise ValueError(f"{text.strip()} does not exist in {zone} (a daylight-saving change)")
    return first
