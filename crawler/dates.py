"""Dates: absolute timestamps to ISO-8601 UTC, relative times ("2 months ago") to a UTC estimate.

A relative time is an estimate whose precision is its unit: "2 months ago" seen today is a date
somewhere in a month-wide window. The precision is stored next to the value so that a later, coarser
estimate of the same comment is not mistaken for an edit.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import lru_cache

from dateutil.relativedelta import relativedelta

# Coarsest last: the store keeps the finest estimate it has seen.
PRECISIONS = ("exact", "second", "minute", "hour", "day", "week", "month", "year")
_UNIT = re.compile(r"\b(second|sec|minute|min|hour|hr|day|yesterday|week|month|year)s?\b", re.I)
_UNIT_NAMES = {"sec": "second", "min": "minute", "hr": "hour", "yesterday": "day"}
# Any fixed instant works: we only need the offset the phrase describes.
_ANCHOR = datetime(2000, 1, 1, tzinfo=UTC)


def now_utc() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def iso(dt: datetime | None) -> str | None:
    """ISO-8601 in UTC with a 'Z'-free '+00:00' offset, seconds precision."""
    if dt is None:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC).replace(microsecond=0).isoformat()


def parse_absolute(value: str | None) -> str | None:
    """An absolute date/time string (ISO, RFC 822, …) to ISO UTC; None when unparseable."""
    if not value or not value.strip():
        return None
    value = value.strip()
    try:
        return iso(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError:
        pass
    import dateparser  # here: ~0.1 s to import, and the `crawler` commands that only read never need it

    parsed = dateparser.parse(value, settings={"TIMEZONE": "UTC", "RETURN_AS_TIMEZONE_AWARE": True})
    return iso(parsed)


# "2 months ago", "an hour ago": by far the most common form; dateparser takes ~20 ms per new phrase
# (a crawl meets dozens), so this form is computed directly and dateparser reads everything else.
_SIMPLE_AGO = re.compile(r"^(\d+|a|an|one) (second|minute|hour|day|week|month|year)s? ago$")


def _simple_offset(phrase: str):
    match = _SIMPLE_AGO.match(phrase)
    if not match:
        return None
    count = 1 if match.group(1) in ("a", "an", "one") else int(match.group(1))
    unit = match.group(2)
    anchor = _ANCHOR.replace(tzinfo=None)
    # calendar arithmetic for months and years, as dateparser does ("2 months ago" on 26 Nov: 26 Sep)
    return anchor - (anchor - relativedelta(**{f"{unit}s": count}))


@lru_cache(maxsize=4096)
def _relative_offset(phrase: str):
    simple = _simple_offset(phrase)
    if simple is not None:
        return simple
    import dateparser

    parsed = dateparser.parse(
        phrase,
        languages=["en"],
        settings={"RELATIVE_BASE": _ANCHOR.replace(tzinfo=None), "PREFER_DATES_FROM": "past"},
    )
    if parsed is None:
        return None
    return _ANCHOR.replace(tzinfo=None) - parsed


def relative_precision(phrase: str) -> str | None:
    match = _UNIT.search(phrase or "")
    if not match:
        return None
    unit = match.group(1).lower()
    return _UNIT_NAMES.get(unit, unit)


def estimate_relative(phrase: str | None, seen_at: str) -> tuple[str | None, str | None]:
    """("2 months ago", seen_at ISO) -> (estimated ISO UTC, precision).

    (None, None) when the phrase is not a relative time.
    """
    if not phrase:
        return None, None
    precision = relative_precision(phrase)
    if precision is None:
        return None, None
    offset = _relative_offset(" ".join(phrase.lower().split()))
    if offset is None:
        return None, None
    return iso(datetime.fromisoformat(seen_at) - offset), precision


def is_finer(new: str | None, old: str | None) -> bool:
    """True when precision `new` is strictly finer than `old` (unknown counts as coarsest)."""
    rank = {p: i for i, p in enumerate(PRECISIONS)}
    return rank.get(new or "", len(PRECISIONS)) < rank.get(old or "", len(PRECISIONS))
