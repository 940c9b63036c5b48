"""Real crawls for the benchmarks: the replica on loopback, `scrapy crawl`, `scrapy bench`, `crawler`.

Every crawl runs in a child process (Twisted's reactor cannot be restarted), with politeness off as in
tests/crawling.py (the replica is ours) and only warnings logged, so that logging does not weigh on the
numbers. The replica serves from a thread of the calling process; `scrapy bench` brings its own server.
A crawl can be watched while it runs: a callback gets the child's pid every WATCH_INTERVAL seconds.
"""

from __future__ import annotations

import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.results import last_run
from crawler.replica import ReplicaServer, Site, build_bench_site
from crawler.store.db import ENV_DB

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
#: Seconds between two calls of a watched crawl's callback.
WATCH_INTERVAL = 0.2
#: LogStats lines of `scrapy bench`, one a second: "Crawled 243 pages (at 6300 pages/min), …"
BENCH_LINE = re.compile(r"Crawled (\d+) pages \(at (\d+) pages/min\)")


class CrawlFailed(RuntimeError):
    """A child crawl exited with an error; the message ends with the tail of its stderr."""


@dataclass
class Finished:
    """A child process that exited cleanly: its stderr, wall time and CPU time (user + system)."""

    stderr: str
    wall_seconds: float
    cpu_seconds: float


@dataclass
class CrawlResult:
    """One `scrapy crawl` run: where it wrote, its run id, its stats and its process."""

    db_path: Path
    run_id: int
    stats: dict[str, Any]
    process: Finished

    @property
    def pages_per_second(self) -> float:
        """Responses downloaded per second of the crawl, as Scrapy's own stats count them."""
        return self.stats["downloader/response_count"] / self.stats["elapsed_time_seconds"]


@contextmanager
def serve_site(site: Site) -> Iterator[list[str]]:
    """Serve `site` while the block runs; yield its article URLs."""
    with ReplicaServer(site) as server:
        yield [f"{server.base_url}/{article.slug}/" for article in site.articles()]


def serve_bench_site(n_articles: int, comments_each: int) -> AbstractContextManager[list[str]]:
    """Serve a fresh bench site while the block runs; yield its article URLs."""
    return serve_site(build_bench_site(n_articles, comments_each))


def write_urls_file(urls: list[str], path: Path) -> Path:
    """The `urls_file` the article spider reads: one URL a line."""
    path.write_text("\n".join(urls) + "\n", encoding="utf-8")
    return path


def _children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _check(command: list[str], returncode: int, stderr: str) -> None:
    """Raise CrawlFailed for a child that exited with an error."""
    if returncode != 0:
        raise CrawlFailed(f"{' '.join(command[:5])} … exited with {returncode}:\n{stderr[-3000:]}")


def _run(command: list[str], cwd: Path, env: dict[str, str], timeout: float) -> Finished:
    """Run a child process to its end, or raise CrawlFailed if it exits with an error."""
    cpu, started = _children_cpu_seconds(), time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    wall, cpu = time.perf_counter() - started, _children_cpu_seconds() - cpu
    _check(command, done.returncode, done.stderr)
    return Finished(done.stderr, wall, cpu)


def _run_watched(
    command: list[str], cwd: Path, env: dict[str, str], timeout: float, watch: Callable[[int], None]
) -> Finished:
    """Like _run, calling `watch(pid)` every WATCH_INTERVAL seconds while the child runs.

    Its stderr goes to a temporary file, so a chatty child cannot fill a pipe nobody reads.
    """
    with tempfile.TemporaryFile(mode="w+", encoding="utf-8") as stderr:
        cpu, started = _children_cpu_seconds(), time.perf_counter()
        child = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=stderr)
        while child.poll() is None:
            if time.perf_counter() - started > timeout:
                child.kill()
                child.wait()
                raise CrawlFailed(f"{' '.join(command[:5])} … still running after {timeout:.0f} s")
            watch(child.pid)
            time.sleep(WATCH_INTERVAL)
        wall, cpu = time.perf_counter() - started, _children_cpu_seconds() - cpu
        stderr.seek(0)
        log = stderr.read()
    _check(command, child.returncode, log)
    return Finished(log, wall, cpu)


def _environment(project: bool) -> dict[str, str]:
    """The child's environment: with or without the project's settings, never a user's database."""
    env = {
        name: value for name, value in os.environ.items() if name not in ("SCRAPY_SETTINGS_MODULE", ENV_DB)
    }
    if project:
        env["SCRAPY_SETTINGS_MODULE"] = "crawler.settings"
    return env


def _options(flag: str, values: dict[str, str]) -> list[str]:
    """`flag NAME=VALUE` for each of `values`: `-a` for spider arguments, `-s` for settings."""
    return [part for name, value in values.items() for part in (flag, f"{name}={value}")]


def scrapy_crawl(
    spider: str,
    db_path: Path,
    arguments: dict[str, str] | None = None,
    settings: dict[str, str] | None = None,
    watch: Callable[[int], None] | None = None,
) -> CrawlResult:
    """`scrapy crawl SPIDER` into `db_path`, with `settings` added to (or overriding) FAST_SETTINGS.

    With `watch`, it is called with the child's pid every WATCH_INTERVAL seconds while it runs.
    """
    command = [sys.executable, "-m", "scrapy", "crawl", spider, *_options("-a", arguments or {})]
    command += _options("-s", {**FAST_SETTINGS, **(settings or {}), "SQLITE_PATH": str(db_path)})
    env = _environment(project=True)
    if watch is None:
        process = _run(command, ROOT, env, CRAWL_TIMEOUT_SECONDS)
    else:
        process = _run_watched(command, ROOT, env, CRAWL_TIMEOUT_SECONDS, watch)
    run_id, stats = last_run(db_path)
    return CrawlResult(db_path, run_id, stats, process)


def crawl_articles(
    urls_file: Path,
    db_path: Path,
    settings: dict[str, str] | None = None,
    render: str = "api",
    watch: Callable[[int], None] | None = None,
) -> CrawlResult:
    """`scrapy crawl article` of every URL in `urls_file` into `db_path`, on the API path by default."""
    arguments = {"urls_file": str(urls_file), "render": render}
    return scrapy_crawl("article", db_path, arguments, settings, watch)


def watch_import(urls_file: Path, db_path: Path) -> Finished:
    """`crawler watch import URLS_FILE --db DB`: put every URL of the file on the watch list."""
    command = [sys.executable, "-m", "crawler.cli", "watch", "import", str(urls_file), "--db", str(db_path)]
    return _run(command, ROOT, _environment(project=False), CRAWL_TIMEOUT_SECONDS)


def scrapy_bench(seconds: int) -> float:
    """Steady-state pages/s of `scrapy bench` run for `seconds`, outside the project."""
    settings = {"CLOSESPIDER_TIMEOUT": str(seconds), "LOG_LEVEL": "INFO"}
    command = [sys.executable, "-m", "scrapy", "bench", *_options("-s", settings)]
    with tempfile.TemporaryDirectory(prefix="scrapy-bench-") as outside:
        process = _run(command, Path(outside), _environment(project=False), seconds + 120)
    return steady_rate(process.stderr)


def steady_rate(log: str) -> float:
    """Median of the per-interval rates in a `scrapy bench` log, in pages/s.

    The first report comes as the spider opens and is always 0, so it is left out; the median keeps
    the slower last interval, when the spider is closing, from weighing on the result.
    """
    rates = [int(per_minute) / 60 for _, per_minute in BENCH_LINE.findall(log)][1:]
    if not rates:
        raise CrawlFailed(f"no 'Crawled N pages (at R pages/min)' line in scrapy bench's log:\n{log[-3000:]}")
    return statistics.median(rates)
