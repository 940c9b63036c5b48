"""Run the benchmarks and print their tables: `python -m benchmarks.run [--quick]` from the project root.

Three sections, each measured side by side in this one invocation (the machine is shared and noisy, so a
ratio is only meaningful between numbers taken moments apart): crawl throughput against `scrapy bench`,
Store throughput against raw sqlite-utils, and what an unchanged re-crawl costs and records. Goals are
printed as met or not met; the exit status is non-zero only when a benchmark crashed.
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
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from statistics import median

import scrapy

from benchmarks import synthetic
from benchmarks.crawls import crawl_articles, scrapy_bench, serve_bench_site, write_urls_file
from benchmarks.report import Section, count, per_second, seconds
from benchmarks.results import history_rows, thread_summary
from benchmarks.writes import raw_rows, time_item_conversion, time_raw, time_store

#: Issue 3: the crawl at least half as fast as `scrapy bench`, the Store at least half as fast as raw.
THROUGHPUT_GOAL = 0.5


@dataclass(frozen=True)
class Profile:
    """How big and how often: the bench site's size and the repeats of each measure."""

    name: str
    articles: int
    comments_each: int
    crawl_repeats: int
    store_repeats: int
    bench_seconds: int


FULL = Profile("full", articles=200, comments_each=50, crawl_repeats=3, store_repeats=5, bench_seconds=10)
QUICK = Profile("quick", articles=40, comments_each=50, crawl_repeats=1, store_repeats=2, bench_seconds=4)


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
    fresh, raw, rewrite, conversion, added = [], [], [], [], []
    for repeat in range(profile.store_repeats):
        path = workdir / f"store-{repeat}.db"
        fresh.append(time_store(items, path)[0])
        raw.append(time_raw(rows, workdir / f"raw-{repeat}.db"))
        before = sum(history_rows(path).values())
        rewrite.append(time_store(items, path)[0])
        added.append(sum(history_rows(path).values()) - before)
        conversion.append(time_item_conversion(items))
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
    section.add("(c) history rows added", count(max(added)), map(count, added), "0", max(added) == 0)
    section.add_median("item -> dict inside (a) (ItemAdapter.asdict)", conversion, seconds)
    section.notes.append(
        f"item -> dict is {median(conversion) / median(fresh):.0%} of (a)'s median time; "
        f"(b) gets its rows as dicts built before the clock starts"
    )
    return section


def unchanged_recrawl(profile: Profile, urls_file: Path, workdir: Path) -> Section:
    """Section 3: the same site crawled twice into one database; the second crawl must record nothing."""
    first, second, of_run, added = [], [], [], []
    for repeat in range(profile.crawl_repeats):
        path = workdir / f"recrawl-{repeat}.db"
        first.append(crawl_articles(urls_file, path).wall_seconds)
        before = sum(history_rows(path).values())
        recrawl = crawl_articles(urls_file, path)
        second.append(recrawl.wall_seconds)
        of_run.append(history_rows(path, recrawl.run_id))
        added.append(sum(history_rows(path).values()) - before)
    section = Section("3. Unchanged re-crawl (issue 4)")
    section.add_median("first crawl, wall time", first, seconds)
    section.add_median("re-crawl, wall time", second, seconds)
    section.add_ratio("re-crawl / first crawl", second, first)
    for table in of_run[0]:
        values = [counts[table] for counts in of_run]
        section.add(
            f"{table} rows of the re-crawl's run",
            count(max(values)),
            map(count, values),
            "0",
            max(values) == 0,
        )
    section.add(
        "history rows added by the re-crawl (any run_id)",
        count(max(added)),
        map(count, added),
        "0",
        max(added) == 0,
    )
    return section


def _header(profile: Profile) -> str:
    return (
        f"Panda Watch benchmarks, {profile.name} profile: bench site {profile.articles} articles x "
        f"{profile.comments_each} comments; crawls repeated {profile.crawl_repeats}x, store writes "
        f"{profile.store_repeats}x.\nValues are medians (ratios: of the medians); 'runs' lists each run "
        f"in order.\nPython {platform.python_version()}, Scrapy {scrapy.__version__}, SQLite "
        f"{sqlite3.sqlite_version}, {os.cpu_count()} CPUs."
    )


def _run_section(name: str, measure: Callable[[], Section]) -> bool:
    """Print one section's table, or its traceback; return whether it ran without crashing."""
    started = time.perf_counter()
    try:
        section = measure()
    except Exception:
        print(f"{name}: CRASHED\n{traceback.format_exc()}", flush=True)
        return False
    print(f"{section.render()}\n  ({time.perf_counter() - started:.0f} s)\n", flush=True)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a small site and fewer repeats, to check the benchmarks run (under a minute)",
    )
    profile = QUICK if parser.parse_args(argv).quick else FULL
    print(_header(profile) + "\n", flush=True)
    with (
        tempfile.TemporaryDirectory(prefix="pandawatch-bench-") as tmp,
        serve_bench_site(profile.articles, profile.comments_each) as urls,
    ):
        workdir = Path(tmp)
        urls_file = write_urls_file(urls, workdir / "urls.txt")
        sections = {
            "1. Crawl throughput": lambda: crawl_throughput(profile, urls_file, workdir),
            "2. Store throughput": lambda: store_throughput(profile, workdir),
            "3. Unchanged re-crawl": lambda: unchanged_recrawl(profile, urls_file, workdir),
        }
        ok = [_run_section(name, measure) for name, measure in sections.items()]
    return 0 if all(ok) else 1


if __name__ == "__main__":
    sys.exit(main())
