"""Expected occurrences of the calendars in this folder, from recurring-ical-events.

Run once by hand (not by CI) with the versions README.md names:

    pip install recurring-ical-events==3.8.2 icalendar==7.3.2
    python3 tests/calendars/generate.py

For each NAME.ics it writes NAME.expected.json: the window (a first day, a number of days and
the zone the window and floating times are read in) and every occurrence in it as
{uid, start, end}, with dates as YYYY-MM-DD and times as RFC 3339 with the event's offset.
"""

import datetime
import json
import pathlib
import sys
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events

HERE = pathlib.Path(__file__).parent
ZONE = "America/New_York"


def text(value, zone):
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=zone)
        return value.isoformat()
    return value.isoformat()


def window(calendar):
    """From a week before the first DTSTART, over a year or to a month past the last one."""
    starts = []
    for event in calendar.walk("VEVENT"):
        start = event.get("DTSTART")
        if start is not None:
            value = start.dt
            starts.append(value.date() if isinstance(value, datetime.datetime) else value)
    if not starts:
        return datetime.date(2020, 1, 1), 366
    first, last = min(starts), max(starts)
    days = min(max((last - first).days + 60, 400), 1200)
    return first - datetime.timedelta(days=7), days


def main():
    zone = ZoneInfo(ZONE)
    for path in sorted(HERE.glob("*.ics")):
        calendar = icalendar.Calendar.from_ical(path.read_bytes())
        first, days = window(calendar)
        start = datetime.datetime.combine(first, datetime.time(), zone)
        stop = datetime.datetime.combine(first + datetime.timedelta(days=days), datetime.time(), zone)
        result = {"from": first.isoformat(), "days": days, "zone": ZONE}
        try:
            occurrences = recurring_ical_events.of(calendar).between(start, stop)
            result["occurrences"] = [
                {
                    "uid": str(event.get("UID", "")),
                    "start": text(event.start, zone),
                    "end": text(event.end, zone),
                }
                for event in occurrences
            ]
        except Exception as error:  # the reference refuses the file
            result["error"] = f"{type(error).__name__}: {error}"
        out = path.with_suffix(".expected.json")
        out.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")
        print(path.name, len(result.get("occurrences", [])), result.get("error", ""), file=sys.stderr)


if __name__ == "__main__":
    main()
