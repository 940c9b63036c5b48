"""The age-decay recrawl policy, simulated over days with a fake clock."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from scrapy.settings import Settings

from crawler.monitor.schedule import DEFAULT_POLICY, Policy, parse_duration

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
H, M, D = timedelta(hours=1), timedelta(minutes=1), timedelta(days=1)


def simulate(policy: Policy, changes: list[datetime], until: datetime, seed: int = 1):
    """Checks of one article published at T0: [(check time, last activity, interval to the next check)].

    As in the store, a change is recorded when a check sees it, so its time is that check's time.
    """
    rng = random.Random(seed)
    now, previous, last_activity, checks = T0, T0, T0, []
    while now < until:
        if any(previous < c <= now for c in changes):
            last_activity = now
        previous = now
        nxt = policy.next_check(now, T0, last_activity, rng)
        checks.append((now, last_activity, None if nxt is None else nxt - now))
        if nxt is None:
            break
        now = nxt
    return checks


def expected_interval(quiet: timedelta) -> timedelta:
    if quiet < 3 * H:
        return 15 * M
    if quiet < D:
        return H
    if quiet < 7 * D:
        return 3 * H
    if quiet < 30 * D:
        return D
    return 7 * D


def test_schedule_follows_the_documented_tiers_within_jitter():
    changes = [T0 + k * 20 * M for k in range(1, 19)]  # busy for the first six hours
    checks = simulate(DEFAULT_POLICY, changes, T0 + 200 * D)
    assert checks[-1][2] is None  # retired in the end
    for now, last_activity, interval in checks[:-1]:
        base = expected_interval(now - last_activity)
        assert base * 0.9 <= interval <= base * 1.1, (now, interval)
    # while comments keep coming, every ~15 minutes; the first quiet day hourly; then every 3 hours
    first_six_hours = [c for c in checks if c[0] < T0 + 6 * H]
    assert len(first_six_hours) >= 20
    quiet_from = max(c[1] for c in checks)
    hourly = [c for c in checks if quiet_from + 3 * H <= c[0] < quiet_from + D]
    assert hourly and all(0.9 * H <= c[2] <= 1.1 * H for c in hourly)
    three_hourly = [c for c in checks if quiet_from + D <= c[0] < quiet_from + 7 * D]
    assert three_hourly and all(2.7 * H <= c[2] <= 3.3 * H for c in three_hourly)
    retired_at = checks[-1][0]
    assert retired_at - T0 > 90 * D and retired_at - quiet_from > 30 * D


def test_jitter_spreads_articles_enrolled_together():
    intervals = {DEFAULT_POLICY.next_check(T0, T0, T0, random.Random(seed)) - T0 for seed in range(50)}
    assert len(intervals) > 40
    assert min(intervals) >= 15 * M * 0.9 and max(intervals) <= 15 * M * 1.1


def test_retirement_needs_age_and_quiet():
    rng = random.Random(0)
    old = T0 + 100 * D
    assert DEFAULT_POLICY.next_check(old, T0, T0 + 60 * D, rng) is None  # old, quiet for 40 days
    assert DEFAULT_POLICY.next_check(old, T0, old - 2 * D, rng) is not None  # old but still changing
    assert DEFAULT_POLICY.next_check(T0 + 50 * D, T0, T0, rng) is not None  # quiet but young


def test_an_article_coming_back_to_life_is_checked_often_again():
    changes = [T0 + 10 * D]
    checks = simulate(DEFAULT_POLICY, changes, T0 + 11 * D)
    seen = next(c for c in checks if c[1] > T0)  # the first check after the change records it
    assert seen[0] - changes[0] <= 1.1 * D  # found at the next (daily) check
    after = [c for c in checks if seen[0] <= c[0] < seen[0] + 3 * H]
    assert len(after) >= 10 and all(c[2] <= 15 * M * 1.1 for c in after)


def test_policy_from_settings_and_bad_values():
    policy = Policy.from_settings(
        Settings(
            {
                "MONITOR_SCHEDULE": ["1h=5m", "1d=30m"],
                "MONITOR_JITTER": 0,
                "MONITOR_INTERVAL_BEYOND": "2d",
                "MONITOR_RETIRE_AFTER": "10d",
            }
        )
    )
    assert (
        policy.interval(30 * M) == 5 * M
        and policy.interval(2 * H) == 30 * M
        and policy.interval(3 * D) == 2 * D
    )
    assert policy.next_check(T0, T0, T0, random.Random(0)) == T0 + 5 * M
    with pytest.raises(ValueError, match="increasing order"):
        Policy.from_settings(Settings({"MONITOR_SCHEDULE": ["1d=1h", "1h=5m"]}))
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration("soon")
