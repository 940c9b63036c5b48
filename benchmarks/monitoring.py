"""Section 6 (issue 6): the second monitoring run over an unchanged site, as users run monitoring.

The bench site's URLs go on a fresh watch list (`crawler watch import`), `scrapy crawl monitor` checks
them all (they are due as soon as they are added), then `scrapy crawl monitor -a all=1` checks every
one again at once. The site has not changed, so the second run should download next to nothing,
answer 304 to every article page and record no history. Section 3 measures the same kind of re-crawl
with the article spider and a URL file; this is the path of `crawler run` and the watch list.
"""

from __future__ import annotations

from pathlib import Path

from benchmarks.crawls import CrawlResult, scrapy_crawl, watch_import
from benchmarks.report import Section, count, percent, seconds, size
from benchmarks.results import history_rows

#: Issue 6: the second run downloads at most 10% of the bytes of the first, in at most 25% of its time.
BYTES_GOAL = 0.10
WALL_TIME_GOAL = 0.25


def _add_run_rows(section: Section, name: str, crawls: list[CrawlResult]) -> None:
    """Rows of what one of the two runs cost: responses, bytes, wall time and CPU time."""
    section.add_median(f"{name}: responses", [c.stats["downloader/response_count"] for c in crawls], count)
    section.add_median(
        f"{name}: bytes downloaded", [c.stats["downloader/response_bytes"] for c in crawls], size
    )
    section.add_median(f"{name}: wall time", [c.process.wall_seconds for c in crawls], seconds)
    section.add_median(
        f"{name}: CPU time of the crawl process", [c.process.cpu_seconds for c in crawls], seconds
    )


def _not_modified(crawl: CrawlResult) -> int:
    return crawl.stats.get("downloader/response_status_count/304", 0)


def monitoring_rerun(urls_file: Path, articles: int, repeats: int, workdir: Path) -> Section:
    """Section 6: first and second `scrapy crawl monitor` of the watch list, pair by pair."""
    first: list[CrawlResult] = []
    second: list[CrawlResult] = []
    added: list[int] = []
    for repeat in range(repeats):
        path = workdir / f"monitor-{repeat}.db"
        watch_import(urls_file, path)
        first.append(scrapy_crawl("monitor", path))
        before = sum(history_rows(path).values())
        second.append(scrapy_crawl("monitor", path, {"all": "1"}))
        added.append(sum(history_rows(path).values()) - before)
    section = Section(f"6. Monitoring, second run (issue 6): {articles} watched articles, unchanged")
    _add_run_rows(section, "first run", first)
    _add_run_rows(section, "second run", second)
    section.add_ratio(
        "second / first, bytes downloaded",
        [c.stats["downloader/response_bytes"] for c in second],
        [c.stats["downloader/response_bytes"] for c in first],
        BYTES_GOAL,
        at_most=True,
        fmt=percent,
    )
    walls = [c.process.wall_seconds for c in second], [c.process.wall_seconds for c in first]
    section.add_ratio("second / first, wall time", *walls, WALL_TIME_GOAL, at_most=True, fmt=percent)
    cpu = [c.process.cpu_seconds for c in second], [c.process.cpu_seconds for c in first]
    section.add_ratio("second / first, CPU time", *cpu, fmt=percent)
    shares = [_not_modified(c) / c.stats["downloader/response_count"] for c in second]
    section.add_median("second run: share of responses that are 304", shares, percent)
    answered = [_not_modified(c) for c in second]
    section.add(
        "second run: article pages answered 304",
        f"{min(answered)}/{articles}",
        map(str, answered),
        "all",
        min(answered) == articles,
    )
    section.add_zero("second run: history rows added (any run_id)", added)
    return section
