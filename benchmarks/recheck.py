"""Section 9: the cost of re-checking an unchanged 1,200-comment thread next to its first crawl (issue 10).

The demo site's `big-thread-article` is crawled into a fresh database, then crawled again unchanged with
its thread due (COMMENTS_RECHECK_AFTER = 0, as when a monitoring run re-checks it). The first crawl
fetches the full text of every cut comment; the re-check only what can have changed, so its requests
should be at most a quarter of the first crawl's, with no history row recorded.
"""

from __future__ import annotations

from pathlib import Path

from benchmarks.crawls import CrawlResult, crawl_articles, serve_site, write_urls_file
from benchmarks.report import Section, count, percent, seconds
from benchmarks.results import history_rows
from crawler.replica import build_demo_site
from crawler.replica.demo_site import BIG_THREAD_SLUG

#: Issue 10: a re-check of an unchanged thread costs at most this share of the first crawl's requests.
RECHECK_REQUESTS_GOAL = 0.25
RECHECK = {"COMMENTS_RECHECK_AFTER": "0"}


def _requests(crawl: CrawlResult) -> int:
    return crawl.stats["downloader/request_count"]


def thread_recheck(repeats: int, workdir: Path) -> Section:
    """Requests and wall time of first crawl and unchanged re-check, pair by pair."""
    first: list[CrawlResult] = []
    again: list[CrawlResult] = []
    history: list[int] = []
    with serve_site(build_demo_site()) as urls:
        url = next(u for u in urls if u.endswith(f"/{BIG_THREAD_SLUG}/"))
        urls_file = write_urls_file([url], workdir / "recheck.txt")
        for repeat in range(repeats):
            path = workdir / f"recheck-{repeat}.db"
            first.append(crawl_articles(urls_file, path, RECHECK))
            again.append(crawl_articles(urls_file, path, RECHECK))
            history.append(sum(history_rows(path, again[-1].run_id).values()))
    section = Section(f"9. Re-check of an unchanged thread (issue 10): {BIG_THREAD_SLUG}, 1,200 comments")
    for name, crawls in (("first crawl", first), ("re-check", again)):
        section.add_median(f"{name}: requests", [_requests(c) for c in crawls], count)
        section.add_median(f"{name}: wall time", [c.process.wall_seconds for c in crawls], seconds)
    section.add_ratio(
        "re-check / first crawl, requests",
        [_requests(c) for c in again],
        [_requests(c) for c in first],
        RECHECK_REQUESTS_GOAL,
        at_most=True,
        fmt=percent,
    )
    section.add_ratio(
        "re-check / first crawl, wall time",
        [c.process.wall_seconds for c in again],
        [c.process.wall_seconds for c in first],
        fmt=percent,
    )
    section.add_zero("re-check: history rows of its run", history)
    skipped = again[-1].stats.get("article_spider/full_text/skipped", 0)
    section.notes.append(f"full-text fetches the re-check skipped: {count(skipped)}")
    return section
