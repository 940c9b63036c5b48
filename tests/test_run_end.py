"""Runs end cleanly: SIGTERM finishes the run as `interrupted`; a killed run is reaped by the next one,
which records its thread as one event, not one per comment; time limits end a stalled crawl with the
thread marked incomplete. Real crawls of the replica in child processes, real SQLite files."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

from scrapy.settings import Settings

from crawler.replica.demo_site import BIG_THREAD_SLUG
from crawler.spiders.monitor import MonitorSpider
from tests.crawling import FAST, ROOT, article_url, crawl, model_thread, query

SLOW = {"STORE_BATCH_SIZE": "25", "CONCURRENT_REQUESTS_PER_DOMAIN": "1", "DOWNLOAD_DELAY": "0.05"}


def start_crawl(db, url, settings) -> subprocess.Popen:
    command = [sys.executable, "-m", "scrapy", "crawl", "article", "-a", f"url={url}"]
    for name, value in {**FAST, "SQLITE_PATH": str(db), **settings}.items():
        command += ["-s", f"{name}={value}"]
    env = {**os.environ, "SCRAPY_SETTINGS_MODULE": "crawler.settings"}
    env.pop("PANDAWATCH_DB", None)
    return subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )


def wait_for_comments(db, process, at_least: int) -> int:
    """Poll the database until the running crawl has committed `at_least` comments (or give up)."""
    deadline = time.monotonic() + 120
    written = 0
    while time.monotonic() < deadline and written < at_least and process.poll() is None:
        time.sleep(0.05)
        try:
            written = query(db, "SELECT count(*) AS n FROM comments")[0]["n"]
        except sqlite3.OperationalError:
            written = 0
    assert process.poll() is None, "the crawl ended before the signal"
    return written


def test_sigterm_mid_run_finishes_the_run_as_interrupted(replica, tmp_path):
    db, url = tmp_path / "c.db", article_url(replica, BIG_THREAD_SLUG)
    process = start_crawl(db, url, SLOW)
    assert wait_for_comments(db, process, 100) >= 100
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr[-2000:]
    [run] = query(db, "SELECT status, finish_reason, finished_at FROM runs")
    assert run["status"] == "interrupted" and run["finish_reason"] == "shutdown" and run["finished_at"]
    [load] = query(db, "SELECT complete, reason FROM thread_loads")
    assert load["complete"] == 0 and "crawl stopped before the thread was loaded (shutdown)" in load["reason"]
    assert query(db, "SELECT comments_complete FROM articles") == [{"comments_complete": 0}]
    assert query(db, "SELECT count(*) AS n FROM comments WHERE status = 'deleted'") == [{"n": 0}]
    # every comment the crawl got is stored: the last batch was written before the run was finished
    scraped = json.loads(query(db, "SELECT stats FROM runs")[0]["stats"])
    assert query(db, "SELECT count(*) AS n FROM comments")[0]["n"] > 0
    assert scraped["finish_reason"] == "shutdown"


def test_kill_9_then_rerun_reaps_the_old_run_without_a_flood_of_events(replica, replica_site, tmp_path):
    db, url = tmp_path / "c.db", article_url(replica, BIG_THREAD_SLUG)
    process = start_crawl(db, url, SLOW)
    written = wait_for_comments(db, process, 150)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert query(db, "SELECT run_id, status FROM runs") == [{"run_id": 1, "status": "running"}]
    rerun = crawl(db, [url])
    assert rerun.returncode == 0
    runs = query(db, "SELECT run_id, status, finish_reason, notes FROM runs ORDER BY run_id")
    assert [(r["run_id"], r["status"], r["finish_reason"]) for r in runs] == [
        (1, "interrupted", "process gone"),
        (2, "ok", "finished"),
    ]
    assert any("reaped by run 2" in note for note in json.loads(runs[0]["notes"]))
    # The interrupted first load had no complete thread: the complete load of run 2 records the thread
    # as one event, not ~1,000 comment `added` events.
    assert rerun.query("SELECT entity_type, kind, field, new_value FROM changes WHERE run_id = 2") == [
        {"entity_type": "article", "kind": "added", "field": "comments", "new_value": "1200 comments"}
    ]
    assert written < 1200
    stored = {r["comment_id"] for r in rerun.query("SELECT comment_id FROM comments WHERE status = 'live'")}
    assert stored == set(model_thread(replica_site, BIG_THREAD_SLUG))
    # and from then on, a new comment is one `added` again
    new = replica_site.add_comment(BIG_THREAD_SLUG, "A comment after the first complete load.")
    third = crawl(db, [url])
    assert third.query("SELECT entity_id, kind FROM changes WHERE run_id = 3") == [
        {"entity_id": f"boredpanda:{new}", "kind": "added"}
    ]


def test_thread_time_limit_ends_a_stalled_thread_as_incomplete(replica, tmp_path):
    db, url = tmp_path / "c.db", article_url(replica, BIG_THREAD_SLUG)
    # ~210 requests at 0.1 s each take over 20 s; the thread may take 1 s (the requests already queued
    # when the limit is reached are still fetched, ~25 of them: 2.5 s at this delay, 5 s at 0.2 s)
    result = crawl(
        db,
        [url],
        settings={
            "CONCURRENT_REQUESTS_PER_DOMAIN": "1",
            "DOWNLOAD_DELAY": "0.1",
            "COMMENTS_THREAD_TIME_LIMIT": "1",
        },
    )
    assert result.returncode == 0
    assert result.run["status"] == "incomplete"
    [load] = result.query("SELECT complete, reason FROM thread_loads")
    assert load["complete"] == 0
    assert load["reason"].startswith("thread time limit reached (COMMENTS_THREAD_TIME_LIMIT=1 s)")
    assert result.stats["article_spider/thread_time_limit"] == 1
    assert result.stats["downloader/request_count"] < 100


def test_whole_run_time_limit_ends_the_crawl_with_the_thread_incomplete(replica, tmp_path):
    db, url = tmp_path / "c.db", article_url(replica, BIG_THREAD_SLUG)
    result = crawl(
        db,
        [url],
        # the thread takes over 20 s at this delay; the requests queued in the downloader at the
        # timeout are still fetched before the spider closes (~25: 2.5 s)
        settings={"CONCURRENT_REQUESTS_PER_DOMAIN": "1", "DOWNLOAD_DELAY": "0.1", "CLOSESPIDER_TIMEOUT": "2"},
    )
    assert result.returncode == 0
    assert (result.run["status"], result.run["finish_reason"]) == ("incomplete", "closespider_timeout")
    [load] = result.query("SELECT complete, reason FROM thread_loads")
    assert load["complete"] == 0
    assert "crawl stopped before the thread was loaded (closespider_timeout)" in load["reason"]


def test_monitor_runs_have_a_time_limit_by_default():
    default = Settings({"MONITOR_RUN_TIME_LIMIT": 1800})
    MonitorSpider.update_settings(default)
    assert default.getfloat("CLOSESPIDER_TIMEOUT") == 1800
    own = Settings({"CLOSESPIDER_TIMEOUT": 60, "MONITOR_RUN_TIME_LIMIT": 1800})
    MonitorSpider.update_settings(own)
    assert own.getfloat("CLOSESPIDER_TIMEOUT") == 60
