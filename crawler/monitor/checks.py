"""Run-over-run checks: signs that a run saw less than it should (layout change, failing endpoint).

Pure functions over the rows of `thread_loads` and the run's stats; the store records what they return
on the run's row (`runs.warnings`) and `crawler run` prints it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Thresholds:
    #: warn when an article's comments loaded fall below this share of the previous run's count
    drop: float = 0.7
    #: warn when a thread's loaded / reported share is below this
    coverage: float = 0.9
    #: warn when more than this share of the run's requests failed
    error_rate: float = 0.05

    @classmethod
    def from_settings(cls, settings) -> Thresholds:
        return cls(
            drop=settings.getfloat("MONITOR_DROP_WARN", 0.7),
            coverage=settings.getfloat("MONITOR_COVERAGE_WARN", 0.9),
            error_rate=settings.getfloat("MONITOR_ERROR_RATE_WARN", 0.05),
        )


def thread_warnings(current: dict, previous: dict | None, limits: Thresholds) -> list[str]:
    """Warnings for one article's thread load compared with its previous load."""
    warnings = []
    url = current.get("article_url") or current["article_id"]
    if previous and previous["loaded"] and current["loaded"] < previous["loaded"] * limits.drop:
        warnings.append(
            f"comments loaded for {url} fell from {previous['loaded']} (run {previous['run_id']}) to "
            f"{current['loaded']}: layout or endpoint change?"
        )
    reported = current.get("reported_total")
    if reported and current["loaded"] < reported * limits.coverage:
        warnings.append(
            f"thread coverage of {url} is {current['loaded']}/{reported} "
            f"({current['loaded'] / reported:.0%}), under {limits.coverage:.0%}"
        )
    return warnings


def error_rate_warning(stats: dict, limits: Thresholds) -> str | None:
    requests = stats.get("downloader/request_count", 0)
    failed = failed_requests(stats)
    if requests and failed / requests > limits.error_rate:
        return (
            f"{failed} of {requests} requests failed ({failed / requests:.0%}), over {limits.error_rate:.0%}"
        )
    return None


def failed_requests(stats: dict) -> int:
    """Requests of the run that failed for good: article pages, comment requests, browser pages."""
    return sum(
        v
        for k, v in stats.items()
        if k.startswith(("article_spider/request_error/", "browser/request_error"))
    )


DEFAULT_THRESHOLDS = Thresholds()
