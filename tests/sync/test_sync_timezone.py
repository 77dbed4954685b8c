"""The event's time zone (sync.timezone): times shown, hour buckets and typed times, in three zones."""

from __future__ import annotations

import datetime as dt

import pytest

from server.tickets import TicketError, parse_time
from sync.schemas import EventSettings
from sync.timezone import (
    BUCKET_MS,
    day_hours,
    event_zone,
    hour_label,
    local_hour_start_ms,
    local_time,
    parse_local_time,
)

H = 3_600_000


def _ms(text: str) -> int:
    return int(dt.datetime.fromisoformat(text).timestamp() * 1000)


@pytest.mark.parametrize(("zone", "utc", "local"), [
    ("Asia/Tokyo", "2026-08-01T01:30+00:00", "2026-08-01 10:30"),
    ("Europe/London", "2026-08-01T01:30+00:00", "2026-08-01 02:30"),  # BST
    ("Europe/London", "2026-12-01T01:30+00:00", "2026-12-01 01:30"),  # GMT
    ("Europe/Berlin", "2026-10-25T00:30+00:00", "2026-10-25 02:30"),  # CEST, first 02:30
    ("Europe/Berlin", "2026-10-25T01:30+00:00", "2026-10-25 02:30"),  # CET, second 02:30
])
def test_times_shown_in_the_event_zone(zone: str, utc: str, local: str) -> None:
    assert local_time(_ms(utc), zone).strftime("%Y-%m-%d %H:%M") == local


def test_event_settings_take_an_iana_zone() -> None:
    assert EventSettings(timezone="Europe/Berlin").timezone == "Europe/Berlin"
    for bad in ("Mars/Olympus", "", " Asia/Tokyo", "../etc/passwd", "/etc/localtime"):
        with pytest.raises(ValueError):
            EventSettings(timezone=bad)
        with pytest.raises(ValueError):
            event_zone(bad)


@pytest.mark.parametrize(("zone", "day", "count"), [
    ("Asia/Tokyo", "2026-10-25T00:00+09:00", 24),
    ("Europe/London", "2026-10-25T00:00+01:00", 25),  # BST ends
    ("Europe/London", "2026-03-29T00:00+00:00", 23),  # BST starts
    ("Europe/Berlin", "2026-10-25T00:00+02:00", 25),  # the last Sunday of October
    ("Europe/Berlin", "2026-07-01T00:00+02:00", 24),
])
def test_a_day_has_its_local_hours(zone: str, day: str, count: int) -> None:
    hours = day_hours(_ms(day), zone)
    assert len(hours) == count
    labels = [hour_label(h, zone, "%H") for h in hours]
    assert labels[0] == "00" and labels[-1] == "23"
    if count == 25:  # the repeated hour is shown twice, told apart by its zone name
        repeated = [lab for lab in labels if " " in lab]
        assert len(repeated) == 2 and repeated[0] != repeated[1]
    if count == 23:
        assert "01" not in labels


def test_hour_buckets_follow_the_local_hour() -> None:
    # Berlin, the night DST ends: 15-minute buckets regroup into the two 02:00 hours, not one
    since = _ms("2026-10-25T00:00+02:00")
    starts = {local_hour_start_ms(since + i * BUCKET_MS, "Europe/Berlin") for i in range(25 * 4)}
    assert sorted(starts) == day_hours(since, "Europe/Berlin")
    # Tokyo and London: a sale at 10:59 local is in the 10:00 bucket
    assert hour_label(local_hour_start_ms(_ms("2026-08-01T10:59+09:00"), "Asia/Tokyo"), "Asia/Tokyo") == \
        "2026-08-01 10:00"
    assert hour_label(local_hour_start_ms(_ms("2026-08-01T10:59+01:00"), "Europe/London"), "Europe/London") == \
        "2026-08-01 10:00"
    # a half-hour zone: the bucket starts at the local hour, not the UTC one
    assert local_hour_start_ms(_ms("2026-08-01T10:59+05:30"), "Asia/Kolkata") == _ms("2026-08-01T10:00+05:30")
    assert BUCKET_MS == 15 * 60_000


def test_typed_local_times() -> None:
    assert parse_local_time("2026-08-01T10:00", "Asia/Tokyo") == dt.datetime.fromisoformat("2026-08-01T10:00+09:00")
    assert parse_local_time("2026-08-01T10:00", "Europe/London").utcoffset() == dt.timedelta(hours=1)
    with pytest.raises(ValueError, match="twice or never"):
        parse_local_time("2026-10-25T02:30", "Europe/Berlin")  # happens twice
    with pytest.raises(ValueError, match="twice or never"):
        parse_local_time("2026-03-29T02:30", "Europe/Berlin")  # never happens
    assert parse_local_time("2026-10-25T02:30+01:00", "Europe/Berlin").utcoffset() == dt.timedelta(hours=1)


def test_ticket_windows_in_the_event_zone() -> None:
    assert parse_time("2026-08-01T09:00", "valid_from", "Asia/Tokyo") == _ms("2026-08-01T09:00+09:00") // 1000
    assert parse_time("2026-08-01T09:00", "valid_from", "Europe/London") == _ms("2026-08-01T09:00+01:00") // 1000
    with pytest.raises(TicketError, match="twice or never"):
        parse_time("2026-10-25T02:15", "valid_until", "Europe/Berlin")
    with pytest.raises(TicketError, match="needs a time zone"):
        parse_time("2026-08-01T09:00", "valid_from")
