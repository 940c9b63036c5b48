"""Run the benchmarks and print their tables: `python -m benchmarks.run [--quick] [--only N]` from the root.

Thirteen sections, each measured side by side in this one invocation (the machine is shared and noisy, so
a ratio is only meaningful between numbers taken moments apart): crawl throughput against `scrapy bench`,
Store throughput against raw sqlite-utils, what an unchanged re-crawl costs and records, the API path
against the browser path, a long browser crawl's memory, a second monitoring run, evidence (WARC),
concurrent writers, scale-out on Redis, the generic adapter against the Bored Panda adapter on the same
saved pages, a learned comment API against the browser path, a re-check of an unchanged comment
thread, and learned comment APIs on each replica site. Goals are printed as met or not met; the exit
status is non-zero only when a benchmark crashed.
"""

from __future__ import annotations

import argparse
import os
import platform
import sqlite3
import sys
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import scrapy

from benchmarks import synthetic
from benchmarks.adapters import adapter_throughput
from benchmarks.browser_crawls import api_vs_browser, browser_crawl
from benchmarks.concurrent_writes import concurrent_writers
from benchmarks.crawls import CrawlResult, crawl_articles, scrapy_bench, serve_bench_site, write_urls_file
from benchmarks.distributed import scale_out
from benchmarks.evidence import evidence_throughput
from benchmarks.monitoring import monitoring_rerun
from benchmarks.recheck import thread_recheck
from benchmarks.recipes import RECIPE_PAIRS, recipe_vs_browser, recipes_per_site
from benchmarks.report import Section, count, per_second, seconds
from benchmarks.results import history_rows, thread_summary
from benchmarks.writes import raw_rows, time_raw, time_store

#: How a section is measured: called once, it returns the section's table.
Measure = Callable[[], Section]
#: Issue 3: the crawl at least half as fast as `scrapy bench`, the Store at least half as fast as raw.
THROUGHPUT_GOAL = 0.5
#: Two re-crawls of an unchanged site. As users run it, unchanged article pages answer 304 and their
#: comment threads (complete less than COMMENTS_RECHECK_AFTER ago) are skipped; in full, with
#: conditional GET off, every page and comment is parsed and compared with the store again, as happens
#: whenever a page changed (a vote count is enough) or its thread is due for a re-check.
RECRAWLS = {"re-crawl": {}, "full re-crawl": {"CONDITIONAL_GET": "False"}}


@dataclass(frozen=True)
class Profile:
    """How big and how often: the bench sites' sizes and the repeats of each measure."""

    name: str
    articles: int
    comments_each: int
    crawl_repeats: int
    store_repeats: int
    bench_seconds: int
    browser_pages: int


FULL = Profile(
    "full",
    articles=200,
    comments_each=50,
    crawl_repeats=3,
    store_repeats=5,
    bench_seconds=10,
    browser_pages=100,
)
QUICK = Profile(
    "quick",
    articles=40,
    comments_each=50,
    crawl_repeats=1,
    store_repeats=2,
    bench_seconds=4,
    browser_pages=15,
)


def crawl_throughput(profile: Profile, urls_file: Path, workdir: Path) -> Section:
    """Section 1: pages/s of the article spider into a fresh database, next to `scrapy bench`."""
    crawls, bench = [], []
    for repeat in range(profile.crawl_repeats):
        crawls.append(crawl_articles(urls_file, workdir / f"throughput-{repeat}.db"))
        bench.append(scrapy_bench(profile.bench_seconds))
    spider = [crawl.pages_per_second for crawl in crawls]
    summaries = [thread_summary(crawl.db_path) for crawl in crawls]
    expected = profile.articles * profile.comments_each
    section = Section("1. Crawl throughput (issue 3)")
    section.add_median("article spider, pages/s", spider, per_second)
    section.add_median("scrapy bench, pages/s (steady state)", bench, per_second)
    section.add_ratio("spider / scrapy bench", spider, bench, THROUGHPUT_GOAL)
    section.add_median("responses per crawl", [c.stats["downloader/response_count"] for c in crawls], count)
    section.add_median(
        "crawl time (Scrapy's elapsed_time_seconds)",
        [c.stats["elapsed_time_seconds"] for c in crawls],
        seconds,
    )
    section.add(
        "comments stored",
        count(min(s.comments for s in summaries)),
        (count(s.comments) for s in summaries),
        count(expected),
        all(s.comments == expected for s in summaries),
    )
    section.add(
        "articles with comments_complete = 1",
        f"{min(s.complete for s in summaries)}/{profile.articles}",
        (str(s.complete) for s in summaries),
        "all",
        all(s.complete == s.articles == profile.articles for s in summaries),
    )
    return section


def store_throughput(profile: Profile, workdir: Path) -> Section:
    """Section 2: Store writes (fresh, then an identical re-write) against raw sqlite-utils upserts."""
    items = synthetic.items(profile.articles, profile.comments_each)
    rows = raw_rows(items)
    fresh, raw, rewrite, added = [], [], [], []
    for repeat in range(profile.store_repeats):
        path = workdir / f"store-{repeat}.db"
        fresh.append(time_store(items, path))
        raw.append(time_raw(rows, workdir / f"raw-{repeat}.db"))
        before = sum(history_rows(path).values())
        rewrite.append(time_store(items, path))
        added.append(sum(history_rows(path).values()) - before)
    store_rate = [len(items) / t for t in fresh]
    raw_rate = [len(items) / t for t in raw]
    section = Section(
        f"2. Store throughput (issues 3, 4): {count(len(items))} rows "
        f"({profile.articles} articles, {count(len(rows['comments']))} comments)"
    )
    section.add_median("(a) Store, fresh database, rows/s", store_rate, per_second)
    section.add_median("(b) raw sqlite-utils upsert_all, rows/s", raw_rate, per_second)
    section.add_ratio("(a) / (b)", store_rate, raw_rate, THROUGHPUT_GOAL)
    section.add_median("(c) Store, identical re-write, rows/s", [len(items) / t for t in rewrite], per_second)
    section.add_zero("(c) history rows added", added)
    section.notes.append("(b) gets its rows as dicts built before the clock starts")
    return section


def _add_crawl_costs(
    section: Section, name: str, crawls: list[CrawlResult], baseline: list[CrawlResult] | None = None
) -> None:
    """Rows of what `crawls` cost: responses, wall time, CPU time (and its ratio to `baseline`'s)."""
    cpu = [crawl.process.cpu_seconds for crawl in crawls]
    section.add_median(f"{name}: responses", [c.stats["downloader/response_count"] for c in crawls], count)
    section.add_median(f"{name}: wall time", [crawl.process.wall_seconds for crawl in crawls], seconds)
    section.add_median(f"{name}: CPU time of the crawl process", cpu, seconds)
    if baseline is not None:
        section.add_ratio(f"{name} / first crawl, CPU time", cpu, [c.process.cpu_seconds for c in baseline])


def unchanged_recrawl(profile: Profile, urls_file: Path, workdir: Path) -> Section:
    """Section 3: the same site crawled again into the same database; the re-crawls must record nothing."""
    first: list[CrawlResult] = []
    again: dict[str, list[CrawlResult]] = {name: [] for name in RECRAWLS}
    of_run: dict[str, list[int]] = {name: [] for name in RECRAWLS}
    added: dict[str, list[int]] = {name: [] for name in RECRAWLS}
    by_table: dict[str, Counter[str]] = {name: Counter() for name in RECRAWLS}
    for repeat in range(profile.crawl_repeats):
        path = workdir / f"recrawl-{repeat}.db"
        first.append(crawl_articles(urls_file, path))
        for name, settings in RECRAWLS.items():
            before = sum(history_rows(path).values())
            crawl = crawl_articles(urls_file, path, settings)
            again[name].append(crawl)
            tables = history_rows(path, crawl.run_id)
            by_table[name].update(tables)
            of_run[name].append(sum(tables.values()))
            added[name].append(sum(history_rows(path).values()) - before)
    section = Section("3. Unchanged re-crawl (issue 4)")
    _add_crawl_costs(section, "first crawl", first)
    for name in RECRAWLS:
        _add_crawl_costs(section, name, again[name], first)
        section.add_zero(f"{name}: history rows of its run", of_run[name])
        section.add_zero(f"{name}: history rows added (any run_id)", added[name])
        tables = ", ".join(f"{table} {total}" for table, total in by_table[name].items())
        section.notes.append(f"{name}, history rows of its runs by table: {tables}")
    return section


def _header(profile: Profile) -> str:
    versions = (
        f"Python {platform.python_version()}, Scrapy {scrapy.__version__}, SQLite {sqlite3.sqlite_version}"
    )
    return (
        f"Panda Watch benchmarks, {profile.name} profile: bench site {profile.articles} articles x "
        f"{profile.comments_each} comments, browser crawl {profile.browser_pages} pages; crawls repeated "
        f"{profile.crawl_repeats}x, store writes {profile.store_repeats}x.\n"
        "Values are medians; a ratio is the median of the ratios of side-by-side pairs; 'runs' lists "
        "each run in order.\n"
        f"{versions}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}."
    )


def _run_section(name: str, measure: Measure) -> bool:
    """Print one section's table, or its traceback; return whether it ran without crashing."""
    started = time.perf_counter()
    try:
        section = measure()
    except Exception:
        print(f"{name}: CRASHED\n{traceback.format_exc()}", flush=True)
        return False
    took, load = time.perf_counter() - started, os.getloadavg()[0]
    print(f"{section.render()}\n  ({took:.0f} s; load average at the end: {load:.1f})\n", flush=True)
    return True


def _sections(profile: Profile, urls_file: Path, workdir: Path) -> dict[int, tuple[str, Measure]]:
    """Every section by number: its name, and how to measure it."""
    repeats = profile.crawl_repeats
    return {
        1: ("1. Crawl throughput", lambda: crawl_throughput(profile, urls_file, workdir)),
        2: ("2. Store throughput", lambda: store_throughput(profile, workdir)),
        3: ("3. Unchanged re-crawl", lambda: unchanged_recrawl(profile, urls_file, workdir)),
        4: ("4. API vs browser", lambda: api_vs_browser(repeats, workdir)),
        5: ("5. Browser crawl", lambda: browser_crawl(profile.browser_pages, repeats, workdir)),
        6: (
            "6. Monitoring, second run",
            lambda: monitoring_rerun(urls_file, profile.articles, repeats, workdir),
        ),
        7: ("7. Evidence", lambda: evidence_throughput(repeats, urls_file, workdir)),
        8: (
            "8. Concurrent writers",
            lambda: concurrent_writers(
                profile.articles, profile.comments_each, profile.store_repeats, workdir
            ),
        ),
        9: (
            "9. Scale-out on Redis",
            lambda: scale_out(*((8, 40, 10) if profile.name == "full" else (4, 10, 10)), workdir),
        ),
        10: ("10. Adapters", lambda: adapter_throughput(*((5, 20) if profile is FULL else (2, 6)))),
        11: (
            "11. Learned comment API vs browser",
            lambda: recipe_vs_browser(max(repeats, RECIPE_PAIRS), workdir),
        ),
        12: ("12. Re-check of an unchanged thread", lambda: thread_recheck(repeats, workdir)),
        13: ("13. Learned comment APIs per site", lambda: recipes_per_site(repeats, workdir)),
    }


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a small site and fewer repeats, to check the benchmarks run (about a minute)",
    )
    parser.add_argument(
        "--only",
        type=int,
        action="append",
        choices=range(1, 14),
        metavar="SECTION",
        help="run only this section (1-13); may be given more than once",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    arguments = _arguments(argv)
    profile = QUICK if arguments.quick else FULL
    print(_header(profile) + "\n", flush=True)
    with (
        tempfile.TemporaryDirectory(prefix="pandawatch-bench-") as tmp,
        serve_bench_site(profile.articles, profile.comments_each) as urls,
    ):
        workdir = Path(tmp)
        urls_file = write_urls_file(urls, workdir / "urls.txt")
        sections = _sections(profile, urls_file, workdir)
        chosen = sorted(set(arguments.only or sections))
        ok = [_run_section(*sections[number]) for number in chosen]
    return 0 if all(ok) else 1


if __name__ == "__main__":
    sys.exit(main())
