"""The recrawl policy: check an article often while it (or its comments) changes, less as it goes quiet.

Age-decay, after NewsDiffs: the interval grows with the time since the article last changed (any
change event: an edit, a new or deleted comment, a vote move), and the article retires once it is old
and quiet. Defaults (all settings):

| quiet for less than | check every |
|---------------------|-------------|
| 3 hours             | 15 minutes  |
| 1 day               | 1 hour      |
| 7 days              | 3 hours     |
| 30 days             | 1 day       |
| longer              | 7 days      |

An article is retired (no next check) once it was first published more than MONITOR_RETIRE_AFTER
(90 days) ago *and* has been quiet for more than MONITOR_RETIRE_QUIET (30 days). Each interval gets a
random jitter of ±MONITOR_JITTER (10%), so articles enrolled together spread out instead of hitting the
site in bursts. The functions are pure: the caller passes the clock and the random source.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}

DEFAULT_TIERS = (("3h", "15m"), ("1d", "1h"), ("7d", "3h"), ("30d", "1d"))


def parse_duration(text: str | int | float) -> timedelta:
    """'15m', '3h', '2d', '1w' (a bare number is seconds) -> timedelta."""
    if isinstance(text, int | float):
        return timedelta(seconds=text)
    match = _DURATION.match(str(text))
    if not match:
        raise ValueError(f"not a duration: {text!r} (use e.g. 30s, 15m, 3h, 2d, 1w)")
    return timedelta(**{_UNITS[match.group(2) or "s"]: float(match.group(1))})


@dataclass(frozen=True)
class Policy:
    tiers: tuple[tuple[timedelta, timedelta], ...]
    beyond: timedelta = timedelta(days=7)
    retire_after: timedelta = timedelta(days=90)
    retire_quiet: timedelta = timedelta(days=30)
    jitter: float = 0.1

    @classmethod
    def from_settings(cls, settings) -> Policy:
        tiers = settings.getlist("MONITOR_SCHEDULE") or [f"{q}={i}" for q, i in DEFAULT_TIERS]
        parsed = []
        for tier in tiers:
            quiet, _, interval = str(tier).partition("=")
            parsed.append((parse_duration(quiet), parse_duration(interval)))
        if [q for q, _ in parsed] != sorted(q for q, _ in parsed):
            raise ValueError("MONITOR_SCHEDULE tiers must be in increasing order of quiet time")
        return cls(
            tiers=tuple(parsed),
            beyond=parse_duration(settings.get("MONITOR_INTERVAL_BEYOND", "7d")),
            retire_after=parse_duration(settings.get("MONITOR_RETIRE_AFTER", "90d")),
            retire_quiet=parse_duration(settings.get("MONITOR_RETIRE_QUIET", "30d")),
            jitter=settings.getfloat("MONITOR_JITTER", 0.1),
        )

    def interval(self, quiet: timedelta) -> timedelta:
        """The check interval for an article quiet for `quiet` (before jitter)."""
        for limit, interval in self.tiers:
            if quiet < limit:
                return interval
        return self.beyond

    def next_check(
        self, now: datetime, published: datetime | None, last_activity: datetime, rng: random.Random
    ) -> datetime | None:
        """When to check next; None when the article is retired."""
        quiet = max(timedelta(0), now - last_activity)
        age = now - (published or last_activity)
        if age > self.retire_after and quiet > self.retire_quiet:
            return None
        interval = self.interval(quiet)
        factor = 1 + rng.uniform(-self.jitter, self.jitter)
        return now + interval * factor


DEFAULT_POLICY = Policy(tiers=tuple((parse_duration(q), parse_duration(i)) for q, i in DEFAULT_TIERS))
