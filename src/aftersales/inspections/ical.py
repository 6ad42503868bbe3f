"""Issue 23 §2, §10: iCalendar text (RFC 5545), written here rather than with a library: a calendar with events,
each with a stable UID (a calendar program updates the event it has when the window moves, instead of adding a
second one), its times in UTC (no VTIMEZONE needed) or as whole days, escaped text and lines folded at 75 octets.
Pure: no ORM, no clock."""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

CRLF = "\r\n"


@dataclass(frozen=True)
class Event:
    uid: str
    summary: str
    start: datetime | date  # a date: a whole-day event
    end: datetime | date | None = None  # a date: the day after the last day (RFC 5545 3.6.1); None: one day
    description: str = ""
    location: str = ""
    url: str = ""
    status: str = "CONFIRMED"  # TENTATIVE, CONFIRMED, CANCELLED
    sequence: int = 0
    categories: tuple[str, ...] = field(default_factory=tuple)


def escape(text: str) -> str:
    """TEXT values: backslash, semicolon, comma escaped; line breaks as \\n."""
    text = str(text).replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return text.replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n")


def fold(line: str) -> str:
    """Content lines longer than 75 octets are folded (CRLF and one space), never inside a UTF-8 character."""
    out, current, size = [], "", 0
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > 75:
            out.append(current)
            current, size = " ", 1
        current += char
        size += width
    out.append(current)
    return CRLF.join(out)


def utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _when(name: str, value: datetime | date) -> str:
    if isinstance(value, datetime):
        return f"{name}:{utc(value)}"
    return f"{name};VALUE=DATE:{value:%Y%m%d}"


def event_lines(event: Event, *, stamp: datetime) -> list[str]:
    end = event.end
    if end is None:
        end = event.start + (timedelta(hours=1) if isinstance(event.start, datetime) else timedelta(days=1))
    lines = ["BEGIN:VEVENT", f"UID:{event.uid}", f"DTSTAMP:{utc(stamp)}", _when("DTSTART", event.start),
             _when("DTEND", end), f"SEQUENCE:{int(event.sequence)}", f"STATUS:{event.status}",
             f"SUMMARY:{escape(event.summary)}"]
    if event.description:
        lines.append(f"DESCRIPTION:{escape(event.description)}")
    if event.location:
        lines.append(f"LOCATION:{escape(event.location)}")
    if event.url:
        lines.append(f"URL:{event.url}")
    if event.categories:
        lines.append("CATEGORIES:" + ",".join(escape(c) for c in event.categories))
    lines.append("END:VEVENT")
    return lines


def calendar(events, *, name: str, stamp: datetime, method: str = "") -> str:
    """A VCALENDAR with `events`; `method` PUBLISH for an invitation file (empty for a subscribed feed)."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Aftersales//Inspections//ZH", "CALSCALE:GREGORIAN",
             f"X-WR-CALNAME:{escape(name)}", "X-WR-TIMEZONE:Asia/Shanghai"]
    if method:
        lines.append(f"METHOD:{method}")
    for event in events:
        lines.extend(event_lines(event, stamp=stamp))
    lines.append("END:VCALENDAR")
    return CRLF.join(fold(line) for line in lines) + CRLF
