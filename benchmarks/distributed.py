"""Section 8: scale-out on Redis — articles/s with 1, 2 and 3 workers next to one process.

Many replica domains, each its own loopback address (127.0.0.2, 127.0.0.3, …) serving a site of its
own, all polite in the same way: at most 2 requests in flight per domain and 0.1 s between them
(Scrapy's per-process slots in the single-process crawl; the same limits held cluster-wide in Redis by
the workers). Each measure starts from a fresh database whose watch list holds every article: the
single-process `scrapy crawl monitor` is timed from its start to its exit; a scaled-out run from the
start of its workers (the checks are queued just before) until the ingester has finished the run in
SQLite, so the workers' start-up and the ingester's writes are inside the time. Then the Redis memory a
queued check costs: thousands of checks queued into an empty Redis, `used_memory` before and after.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path

import redis

from benchmarks.report import Section, count, per_second, seconds
from crawler.distributed.queue import CheckQueue
from crawler.distributed.schedule import enqueue_due
from crawler.replica import ReplicaServer, Site
from crawler.replica.generate import generated_article
from crawler.store import open_db
from crawler.store import watch as watchlist

ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "SCRAPY_SETTINGS_MODULE": "crawler.settings"}
ENV.pop("PANDAWATCH_DB", None)
POLITE = {
    "AUTOTHROTTLE_ENABLED": "False",
    "ROBOTSTXT_OBEY": "True",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "2",
    "CONCURRENT_REQUESTS": "32",
    "DOWNLOAD_DELAY": "0.1",
    "RETRY_TIMES": "0",
    "LOG_LEVEL": "WARNING",
}
WORKERS = (1, 2, 3)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def redis_server(workdir: Path):
    """A throw-away redis-server (no persistence) on a free loopback port; yields its URL."""
    port = _free_port()
    directory = workdir / f"redis-{port}"
    directory.mkdir()
    process = subprocess.Popen(
        [shutil.which("redis-server") or "/usr/bin/redis-server", "--port", str(port), "--bind", "127.0.0.1",
         "--save", "", "--appendonly", "no", "--dir", str(directory)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    client = redis.Redis(port=port, decode_responses=True)
    for _ in range(200):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=20)


@contextmanager
def serve_domains(domains: int, articles_each: int, comments_each: int):
    """`domains` replica servers on 127.0.0.2, 127.0.0.3, …; yields every article URL."""
    with ExitStack() as stack:
        urls = []
        for number in range(domains):
            site = Site()
            for index in range(articles_each):
                site.add_article(
                    generated_article(f"scale-article-{index:04d}", 7_000_000 + number * 10_000 + index,
                                      comments_each, seed=number)
                )  # fmt: skip
            server = stack.enter_context(ReplicaServer(site, host=f"127.0.0.{number + 2}"))
            urls += [f"{server.base_url}/{a.slug}/" for a in site.articles()]
        yield urls


def _fresh_db(path: Path, urls: list[str]) -> Path:
    db = open_db(path)
    try:
        watchlist.add(db, urls)
    finally:
        db.close()
    return path


def _stored(path: Path) -> tuple[int, int]:
    conn = sqlite3.connect(path)
    try:
        return (
            conn.execute("SELECT count(*) FROM articles").fetchone()[0],
            conn.execute("SELECT count(*) FROM comments").fetchone()[0],
        )
    finally:
        conn.close()


def single_process(urls: list[str], path: Path) -> float:
    db = _fresh_db(path, urls)
    command = [sys.executable, "-m", "scrapy", "crawl", "monitor", "-s", f"SQLITE_PATH={db}"]
    for key, value in POLITE.items():
        command += ["-s", f"{key}={value}"]
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, env=ENV, check=True, capture_output=True)
    return time.perf_counter() - started


def _finished(path: Path) -> bool:
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute("SELECT finished_at FROM distributed_runs").fetchall()
    except sqlite3.OperationalError:
        return False
    finally:
        conn.close()
    return bool(rows) and all(r[0] for r in rows)


def scaled_out(urls: list[str], path: Path, workers: int, workdir: Path, timeout: float = 900) -> float:
    db = _fresh_db(path, urls)
    with redis_server(workdir) as url:
        queue = CheckQueue(redis.Redis.from_url(url, decode_responses=True))
        enqueue_due(db, queue, limit=len(urls))
        worker_command = [sys.executable, "-m", "crawler.cli", "worker", "--redis", url, "--idle-exit", "1"]
        for key, value in POLITE.items():
            worker_command += ["-s", f"{key}={value}"]
        started = time.perf_counter()
        processes = [
            subprocess.Popen(
                worker_command, cwd=ROOT, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            for _ in range(workers)
        ]
        ingester = subprocess.Popen(
            [sys.executable, "-m", "crawler.cli", "ingest", "--redis", url, "--db", str(db),
             "--idle-exit", "1"],
            cwd=ROOT, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            deadline = started + timeout
            while not _finished(db):
                if time.perf_counter() > deadline:
                    raise RuntimeError(f"{workers} worker(s) did not finish in {timeout} s")
                time.sleep(0.05)
            took = time.perf_counter() - started
        finally:
            for process in [*processes, ingester]:
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)
            for process in [*processes, ingester]:
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
    return took


def memory_per_check(workdir: Path, checks: int) -> float:
    """Bytes of Redis memory per queued check (its payload with a page's fetch state, its queue entry,
    its open mark)."""
    with redis_server(workdir) as url:
        client = redis.Redis.from_url(url, decode_responses=True)
        queue = CheckQueue(client)
        before = client.info("memory")["used_memory"]
        fetch = {
            "url_key": "", "etag": '"5f1c2a9b3e"', "last_modified": "Tue, 01 Dec 2026 10:00:00 GMT",
            "body_hash": "0" * 32, "article_id": "boredpanda:9000000", "post_id": "9000000",
            "comments_complete": 1, "comments_checked_at": "2026-12-01T10:00:00+00:00",
        }  # fmt: skip
        batch = []
        for number in range(checks):
            url_key = f"www.boredpanda.com/a-typical-article-slug-about-cats-and-dogs-{number:06d}"
            batch.append((f"https://{url_key}/", url_key, {**fetch, "url_key": url_key}))
            if len(batch) == 1000:
                queue.enqueue_run(batch)
                batch = []
        if batch:
            queue.enqueue_run(batch)
        client.delete(queue.results)  # the run entries are the stream's, not the queue's
        after = client.info("memory")["used_memory"]
        return (after - before) / checks


def scale_out(domains: int, articles_each: int, comments_each: int, workdir: Path) -> Section:
    with serve_domains(domains, articles_each, comments_each) as urls:
        n = len(urls)
        timings = {"single process": single_process(urls, workdir / "scale-single.db")}
        stored = {"single process": _stored(workdir / "scale-single.db")}
        for workers in WORKERS:
            name = f"{workers} worker{'s' if workers > 1 else ''} + ingester"
            path = workdir / f"scale-{workers}.db"
            timings[name] = scaled_out(urls, path, workers, workdir)
            stored[name] = _stored(path)
    section = Section(
        f"8. Scale-out on Redis (issue 14): {n} articles x {comments_each} comments over {domains} "
        "loopback domains, 2 requests in flight and 0.1 s apart per domain"
    )
    single_rate = n / timings["single process"]
    for name, took in timings.items():
        rate = n / took
        articles, comments = stored[name]
        ok = (articles, comments) == (n, n * comments_each)
        section.add(f"{name}: articles/s", per_second(rate), [seconds(took)])
        section.add(
            f"{name}: stored", f"{count(articles)} articles, {count(comments)} comments",
            goal=f"{count(n)}, {count(n * comments_each)}", met=ok,
        )  # fmt: skip
        if name != "single process":
            section.add(f"{name} / single process", f"{rate / single_rate:.2f}x")
    per_check = memory_per_check(workdir, 20_000)
    section.add("Redis memory per queued check", f"{per_check:.0f} B", ["20,000 checks queued"])
    section.notes.append(
        "runs column: wall time; all measures in this one invocation, on a machine shared with other work"
    )
    return section
