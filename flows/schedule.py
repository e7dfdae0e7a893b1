"""Compute when a schedule fires: cron or fixed interval, in an IANA time zone, in UTC instants.

Why a pure module with "now" passed in: fire times are the part of scheduling that is easiest
to get wrong (DST, server time zone, start/end dates), so they are computed here without
processes, clocks or databases, and tested with any instant we like. Nothing here reads the
server's local time zone: every instant in and out is an aware UTC datetime.

DST rules (documented in docs/schedules.md):
- cron expressions describe wall-clock times in the schedule's time zone;
- a wall time that does not exist that day (02:30 on spring-forward day in New York) fires once,
  at the moment the clocks jump (03:00 local), never skipped and never twice;
- a wall time that happens twice (01:30 on fall-back day) fires once, at its first occurrence;
- intervals are elapsed time, unaffected by DST, counted from the start date (or from
  1970-01-01 00:00 UTC), so "every 15 minutes" fires at :00, :15, :30 and :45.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter
from croniter.croniter import CroniterError

UTC = timezone.utc
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MAX_INTERVAL_SECONDS = 366 * 24 * 3600
_SCAN_LIMIT = 5000  # cron candidates examined per answer (a fall-back hour of a per-minute cron is 60)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2})?$")

class ScheduleError(ValueError):
    """A schedule setting is unusable; `path` names the config field, the message says what to fix."""

    def __init__(self, path: str, message: str):
        super().__init__(message)
        self.path = path


@dataclass(frozen=True)
class Schedule:
    """A parsed schedule: every field checked, times already in UTC."""

    mode: str
    cron: str | None
    interval_seconds: int | None
    tz: ZoneInfo
    start: datetime | None
    end: datetime | None

    @property
    def timezone_name(self) -> str:
        return self.tz.key

    def next_after(self, after: datetime) -> datetime | None:
        """Return the first fire time strictly after `after` (aware), or None when the schedule ended."""
        after = after.astimezone(UTC)
        if self.start is not None and after < self.start:
            after = self.start - timedelta(microseconds=1)
        fire = self._interval_next(after) if self.mode == "interval" else self._cron_next(after)
        if fire is None or (self.end is not None and fire > self.end):
            return None
        return fire

    def upcoming(self, after: datetime, count: int) -> list[datetime]:
        """Return up to `count` fire times after `after`."""
        fires: list[datetime] = []
        cursor = after
        while len(fires) < count:
            fire = self.next_after(cursor)
            if fire is None:
                break
            fires.append(fire)
            cursor = fire
        return fires

    def fires_between(self, first: datetime, last: datetime, limit: int) -> tuple[list[datetime], bool]:
        """Return the fire times in [first, last] (at most `limit`) and whether more were left out."""
        fires: list[datetime] = []
        cursor = first - timedelta(microseconds=1)
        while True:
            fire = self.next_after(cursor)
            if fire is None or fire > last:
                return fires, False
            if len(fires) == limit:
                return fires, True
            fires.append(fire)
            cursor = fire

    def _interval_next(self, after: datetime) -> datetime:
        anchor = self.start or EPOCH
        if after < anchor:
            return anchor
        step = timedelta(seconds=self.interval_seconds)
        return anchor + ((after - anchor) // step + 1) * step

    def _cron_next(self, after: datetime) -> datetime | None:
        wall = after.astimezone(self.tz).replace(tzinfo=None)
        itr = croniter(self.cron, wall)
        for _ in range(_SCAN_LIMIT):
            try:
                candidate = itr.get_next(datetime)
            except (CroniterError, ValueError, OverflowError):  # no match within croniter's horizon (30 February)
                return None
            fire = wall_to_utc(candidate, self.tz)
            if fire > after:
                return fire
        return None


def wall_to_utc(wall: datetime, tz: ZoneInfo) -> datetime:
    """Convert a naive wall time in `tz` to UTC: first occurrence if ambiguous, jump moment if skipped."""
    first = wall.replace(tzinfo=tz, fold=0).astimezone(UTC)
    if first.astimezone(tz).replace(tzinfo=None) == wall:
        return first
    # The wall time falls in a gap (clocks jumped over it): fire when the jump happens, i.e. the
    # earliest instant whose local wall time is at or after `wall`. The gap lies between the
    # instants computed with the offsets after (fold=1) and before (fold=0) the jump.
    low = int(wall.replace(tzinfo=tz, fold=1).astimezone(UTC).timestamp())
    high = int(first.timestamp())
    if low > high:
        low, high = high, low
    while high - low > 1:  # whole seconds: an offset change happens on a whole second
        mid = (low + high) // 2
        if datetime.fromtimestamp(mid, tz).replace(tzinfo=None) >= wall:
            high = mid
        else:
            low = mid
    return datetime.fromtimestamp(high, UTC)


def zone(name: str) -> ZoneInfo:
    """Return the IANA time zone `name`; raise ScheduleError naming the mistake."""
    if not isinstance(name, str) or not name or len(name) > 64 or name.startswith(("/", ".")) or ".." in name:
        raise ScheduleError("config.timezone", f"'{name}' is not an IANA time zone; use a name such as "
                                               f"'Europe/Berlin', 'America/New_York' or 'UTC'.")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ScheduleError("config.timezone", f"Unknown time zone '{name}'; use an IANA name such as "
                                               f"'Europe/Berlin', 'America/New_York' or 'UTC'.") from None


def check_cron(expression: object) -> str:
    """Return the expression if it is a valid 5-field cron expression; raise ScheduleError otherwise."""
    path = "config.cron"
    if not isinstance(expression, str) or not expression.strip():
        raise ScheduleError(path, "Enter a cron expression such as '0 9 * * *' (daily at 09:00).")
    fields = expression.split()
    if len(fields) != 5:
        raise ScheduleError(path, f"A cron expression has 5 fields (minute hour day-of-month month day-of-week), "
                                  f"e.g. '0 9 * * 1'; '{expression}' has {len(fields)}.")
    normalized = " ".join(fields)
    try:
        croniter(normalized, datetime(2000, 1, 1))
    except Exception as exc:  # noqa: BLE001  (croniter raises several types; any of them means "invalid")
        raise ScheduleError(path, f"'{expression}' is not a valid cron expression ({exc}). Example: "
                                  f"'*/15 * * * *' is every 15 minutes.") from None
    return normalized


def _local_datetime(value: object, field: str, tz: ZoneInfo, end_of_day: bool) -> datetime | None:
    if value in (None, ""):
        return None
    path = f"config.{field}"
    if not isinstance(value, str) or not (_DATE.match(value) or _DATETIME.match(value)):
        raise ScheduleError(path, f"'{value}' is not a date; use YYYY-MM-DD or YYYY-MM-DDTHH:MM.")
    try:
        if _DATE.match(value):
            day = date.fromisoformat(value)
            wall = datetime.combine(day + timedelta(days=1), time()) - timedelta(seconds=1) if end_of_day \
                else datetime.combine(day, time())
        else:
            wall = datetime.fromisoformat(value.replace(" ", "T"))
    except ValueError:
        raise ScheduleError(path, f"'{value}' is not a real date; use YYYY-MM-DD or YYYY-MM-DDTHH:MM.") from None
    return wall_to_utc(wall, tz)


def parse(config: dict, default_timezone: str = "UTC") -> Schedule:
    """Build a Schedule from a schedule trigger's config (defaults filled in); raise ScheduleError."""
    tz = zone(config.get("timezone") or default_timezone)
    mode = config.get("mode", "cron")
    cron, interval = None, None
    if mode == "interval":
        interval = config.get("interval_seconds")
        if not isinstance(interval, int) or isinstance(interval, bool) or not 1 <= interval <= MAX_INTERVAL_SECONDS:
            raise ScheduleError("config.interval_seconds",
                                f"The interval must be a whole number of seconds from 1 to {MAX_INTERVAL_SECONDS}.")
    elif mode == "cron":
        cron = check_cron(config.get("cron"))
    else:
        raise ScheduleError("config.mode", "The mode must be 'cron' or 'interval'.")
    start = _local_datetime(config.get("start_date"), "start_date", tz, end_of_day=False)
    end = _local_datetime(config.get("end_date"), "end_date", tz, end_of_day=True)
    if start and end and end < start:
        raise ScheduleError("config.end_date", "The end date is before the start date; move one of them.")
    schedule = Schedule(mode=mode, cron=cron, interval_seconds=interval, tz=tz, start=start, end=end)
    if mode == "cron" and schedule.next_after(start or datetime(2000, 1, 1, tzinfo=UTC)) is None and end is None:
        raise ScheduleError("config.cron", f"'{cron}' never fires (e.g. 30 February); check the day and month.")
    return schedule


def local_label(instant: datetime, tz: ZoneInfo) -> str:
    """Format an instant for people, e.g. "Sun 08 Mar 2026, 03:00 EDT" (seconds only when set)."""
    local = instant.astimezone(tz)
    return local.strftime("%a %d %b %Y, %H:%M" + (":%S" if local.second else "") + " ") + (local.tzname() or "")


def local_iso(instant: datetime, tz: ZoneInfo) -> str:
    """Format an instant as local time with its UTC offset, e.g. 2026-03-08T03:00:00-04:00."""
    return instant.astimezone(tz).isoformat(timespec="seconds")
