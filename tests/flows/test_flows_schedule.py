"""Fire times with an injected clock: time zones, both DST changes, intervals, start and end dates."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pytest

from flows import schedule

UTC = timezone.utc


def local(fires, tz):
    return [schedule.local_iso(f, tz) for f in fires]


def test_daily_0900_new_york_fires_once_per_day_at_0900_local_across_both_dst_changes():
    s = schedule.parse({"mode": "cron", "cron": "0 9 * * *", "timezone": "America/New_York"})
    # Spring forward on 2026-03-08, fall back on 2026-11-01.
    for first_day in (datetime(2026, 3, 5, tzinfo=UTC), datetime(2026, 10, 29, tzinfo=UTC)):
        fires = s.upcoming(first_day, 7)
        days = [f.astimezone(s.tz).date() for f in fires]
        assert days == sorted(set(days)) and len(days) == 7
        assert all(d2 - d1 == timedelta(days=1) for d1, d2 in zip(days, days[1:]))
        assert all(f.astimezone(s.tz).strftime("%H:%M") == "09:00" for f in fires)
    spring = s.upcoming(datetime(2026, 3, 7, tzinfo=UTC), 2)
    assert [f.isoformat() for f in spring] == ["2026-03-07T14:00:00+00:00", "2026-03-08T13:00:00+00:00"]
    autumn = s.upcoming(datetime(2026, 10, 31, tzinfo=UTC), 2)
    assert [f.isoformat() for f in autumn] == ["2026-10-31T13:00:00+00:00", "2026-11-01T14:00:00+00:00"]


def test_0230_on_spring_forward_day_fires_once_when_the_clocks_jump():
    s = schedule.parse({"cron": "30 2 * * *", "timezone": "America/New_York"})
    fires = s.upcoming(datetime(2026, 3, 7, tzinfo=UTC), 3)
    assert local(fires, s.tz) == ["2026-03-07T02:30:00-05:00", "2026-03-08T03:00:00-04:00",
                                  "2026-03-09T02:30:00-04:00"]


def test_half_hourly_cron_has_no_duplicate_fire_inside_the_skipped_hour():
    s = schedule.parse({"cron": "*/30 * * * *", "timezone": "America/New_York"})
    fires = s.upcoming(datetime(2026, 3, 8, 6, 0, tzinfo=UTC), 4)
    assert local(fires, s.tz) == ["2026-03-08T01:30:00-05:00", "2026-03-08T03:00:00-04:00",
                                  "2026-03-08T03:30:00-04:00", "2026-03-08T04:00:00-04:00"]


def test_0130_on_fall_back_day_fires_once_at_its_first_occurrence():
    s = schedule.parse({"cron": "30 1 * * *", "timezone": "America/New_York"})
    fires = s.upcoming(datetime(2026, 10, 31, 12, tzinfo=UTC), 2)
    assert local(fires, s.tz) == ["2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00"]
    # Asked from inside the repeated hour (after the first 01:30), the next fire is the next day.
    assert s.next_after(datetime(2026, 11, 1, 6, 15, tzinfo=UTC)) == fires[1]


def test_every_15_seconds_fires_on_the_quarter_minutes_from_any_now():
    s = schedule.parse({"mode": "interval", "interval_seconds": 15})
    now = datetime(2026, 3, 8, 6, 59, 52, 500000, tzinfo=UTC)  # DST changes nothing for intervals
    fires = s.upcoming(now, 4)
    assert [f.strftime("%H:%M:%S") for f in fires] == ["07:00:00", "07:00:15", "07:00:30", "07:00:45"]
    assert s.next_after(fires[0]) == fires[1]  # strictly after: a fire time is never returned twice


def test_interval_counts_from_the_start_date_in_the_schedule_time_zone():
    s = schedule.parse({"mode": "interval", "interval_seconds": 7200, "timezone": "Europe/Berlin",
                        "start_date": "2026-06-01T10:15"})
    fires = s.upcoming(datetime(2026, 1, 1, tzinfo=UTC), 2)
    assert local(fires, s.tz) == ["2026-06-01T10:15:00+02:00", "2026-06-01T12:15:00+02:00"]


def test_end_date_stops_the_schedule_after_that_day():
    s = schedule.parse({"cron": "0 9 * * *", "timezone": "Asia/Tokyo", "end_date": "2026-01-02"})
    fires = s.upcoming(datetime(2025, 12, 30, 12, tzinfo=UTC), 5)
    assert local(fires, s.tz) == ["2025-12-31T09:00:00+09:00", "2026-01-01T09:00:00+09:00",
                                  "2026-01-02T09:00:00+09:00"]


def test_the_workspace_time_zone_is_the_default():
    s = schedule.parse({"cron": "0 9 * * *", "timezone": ""}, default_timezone="Asia/Kolkata")
    assert s.timezone_name == "Asia/Kolkata"
    assert s.next_after(datetime(2026, 1, 1, tzinfo=UTC)).isoformat() == "2026-01-01T03:30:00+00:00"


def test_fires_between_lists_missed_fires_and_says_when_it_stopped_counting():
    s = schedule.parse({"mode": "interval", "interval_seconds": 10})
    first, last = datetime(2026, 1, 1, 0, 0, 0, tzinfo=UTC), datetime(2026, 1, 1, 0, 1, 0, tzinfo=UTC)
    fires, more = s.fires_between(first, last, 100)
    assert len(fires) == 7 and fires[0] == first and fires[-1] == last and more is False
    fires, more = s.fires_between(first, last, 3)
    assert len(fires) == 3 and more is True


@pytest.mark.parametrize("config, path", [
    ({"cron": "61 * * * *"}, "config.cron"),
    ({"cron": "0 9 * *"}, "config.cron"),
    ({"cron": "0 0 30 2 *"}, "config.cron"),
    ({"timezone": "Mars/Base"}, "config.timezone"),
    ({"timezone": "../../etc/passwd"}, "config.timezone"),
    ({"start_date": "tomorrow"}, "config.start_date"),
    ({"start_date": "2026-02-30"}, "config.start_date"),
    ({"start_date": "2026-05-01", "end_date": "2026-04-01"}, "config.end_date"),
])
def test_bad_settings_are_refused_naming_the_field(config, path):
    with pytest.raises(schedule.ScheduleError) as caught:
        schedule.parse({"mode": "cron", "cron": "0 9 * * *", **config})
    assert caught.value.path == path and str(caught.value)


def test_fire_times_do_not_depend_on_the_servers_time_zone():
    code = ("from datetime import datetime, timezone; from flows import schedule;"
            "s = schedule.parse({'cron': '0 9 * * *', 'timezone': 'America/New_York'});"
            "print([f.isoformat() for f in s.upcoming(datetime(2026, 3, 7, tzinfo=timezone.utc), 3)])")
    outputs = {subprocess.run([sys.executable, "-c", code], env={**os.environ, "TZ": tz}, capture_output=True,
                              text=True, check=True).stdout for tz in ("UTC", "Pacific/Chatham", "Asia/Kathmandu")}
    assert len(outputs) == 1
