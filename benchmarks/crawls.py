"""Real crawls for the benchmarks: the bench site on loopback, `scrapy crawl` and `scrapy bench`.

Every crawl runs in a child process (Twisted's reactor cannot be restarted), with the settings the
tests use (tests/crawling.py): politeness off against our own replica, and only warnings logged so
that logging does not weigh on the numbers. The replica serves from a thread of the calling process.
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.results import last_run
from crawler.replica import ReplicaServer, build_bench_site

ROOT = Path(__file__).resolve().parent.parent

#: The replica is ours: no politeness needed (robots.txt may stay obeyed, it is one request).
FAST_SETTINGS = {
    "AUTOTHROTTLE_ENABLED": "False",
    "DOWNLOAD_DELAY": "0",
    "CONCURRENT_REQUESTS": "32",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "16",
    "LOG_LEVEL": "WARNING",
}
CRAWL_TIMEOUT_SECONDS = 900
#: LogStats lines of `scrapy bench`, one a second: "Crawled 243 pages (at 6300 pages/min), …"
BENCH_LINE = re.compile(r"Crawled (\d+) pages \(at (\d+) pages/min\)")


class CrawlFailed(RuntimeError):
    """A child crawl exited with an error; the message ends with the tail of its stderr."""


@dataclass
class CrawlResult:
    """One `scrapy crawl article` run: where it wrote, its run id, its stats and its wall time."""

    db_path: Path
    run_id: int
    stats: dict[str, Any]
    wall_seconds: float

    @property
    def pages_per_second(self) -> float:
        """Responses downloaded per second of the crawl, as Scrapy's own stats count them."""
        return self.stats["downloader/response_count"] / self.stats["elapsed_time_seconds"]


@contextmanager
def serve_bench_site(n_articles: int, comments_each: int) -> Iterator[list[str]]:
    """Serve a fresh bench site while the block runs; yield its article URLs."""
    site = build_bench_site(n_articles, comments_each)
    with ReplicaServer(site) as server:
        yield [f"{server.base_url}/{article.slug}/" for article in site.articles()]


def write_urls_file(urls: list[str], path: Path) -> Path:
    """The `urls_file` the article spider reads: one URL a line."""
    path.write_text("\n".join(urls) + "\n", encoding="utf-8")
    return path


def _run(command: list[str], cwd: Path, env: dict[str, str], timeout: float) -> tuple[str, float]:
    """Run a child process; return (stderr, wall seconds) or raise CrawlFailed."""
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise CrawlFailed(f"{' '.join(command[:5])} … exited with {done.returncode}:\n{done.stderr[-3000:]}")
    return done.stderr, wall


def _environment(project: bool) -> dict[str, str]:
    """The child's environment: with or without the project's settings, never a user's database."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("SCRAPY_SETTINGS_MODULE", "PANDAWATCH_DB")
    }
    if project:
        env["SCRAPY_SETTINGS_MODULE"] = "crawler.settings"
    return env


def crawl_articles(urls_file: Path, db_path: Path) -> CrawlResult:
    """`scrapy crawl article` of every URL in `urls_file` on the API path, into `db_path`."""
    command = [
        sys.executable,
        "-m",
        "scrapy",
        "crawl",
        "article",
        "-a",
        f"urls_file={urls_file}",
        "-a",
        "render=api",
    ]
    for name, value in {**FAST_SETTINGS, "SQLITE_PATH": str(db_path)}.items():
        command += ["-s", f"{name}={value}"]
    _, wall = _run(command, ROOT, _environment(project=True), CRAWL_TIMEOUT_SECONDS)
    run_id, stats = last_run(db_path)
    return CrawlResult(db_path, run_id, stats, wall)


def scrapy_bench(seconds: int) -> float:
    """Steady-state pages/s of `scrapy bench` run for `seconds`, outside the project."""
    command = [
        sys.executable,
        "-m",
        "scrapy",
        "bench",
        "-s",
        f"CLOSESPIDER_TIMEOUT={seconds}",
        "-s",
        "LOG_LEVEL=INFO",
    ]
    with tempfile.TemporaryDirectory(prefix="scrapy-bench-") as outside:
        log, _ = _run(command, Path(outside), _environment(project=False), seconds + 120)
    return steady_rate(log)


def steady_rate(log: str) -> float:
    """Median of the per-interval rates in a `scrapy bench` log, in pages/s.

    The first report comes as the spider opens and is always 0, so it is left out; the median keeps
    the slower last interval, when the spider is closing, from weighing on the result.
    """
    rates = [int(per_minute) / 60 for _, per_minute in BENCH_LINE.findall(log)][1:]
    if not rates:
        raise CrawlFailed(f"no 'Crawled N pages (at R pages/min)' line in scrapy bench's log:\n{log[-3000:]}")
    return statistics.median(rates)
