"""Monitoring end to end: watch list, discovery, `crawler run` and its lock, cheap re-crawls, checks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import timedelta

from click.testing import CliRunner

from crawler.cli.main import cli
from crawler.replica import ReplicaServer, build_bench_site
from crawler.replica.demo_site import BIG_THREAD_SLUG, ONE_PAGE_SLUG
from crawler.replica.generate import REFERENCE_NOW, generated_article
from tests.crawling import FAST, ROOT, article_url, crawl, query

HISTORY = ("changes", "comment_versions", "article_versions", "vote_samples")
DISCOVER = {"DISCOVER_MAX_AGE_DAYS": "0"}  # the replica's articles date from 2024


def watched(db) -> list[str]:
    return sorted(r["url"] for r in query(db, "SELECT url FROM watchlist"))


def history_rows(db, run_id) -> int:
    return sum(
        query(db, f"SELECT count(*) AS n FROM {t} WHERE run_id = ?", [run_id])[0]["n"] for t in HISTORY
    )


def test_discovery_from_feed_sitemap_index_and_listing_enrols_new_articles_once(
    replica, replica_site, tmp_path
):
    db = tmp_path / "c.db"
    all_urls = sorted(article_url(replica, a.slug) for a in replica_site.articles())
    manual = article_url(replica, ONE_PAGE_SLUG)
    assert CliRunner().invoke(cli, ["watch", "add", manual, "--db", str(db)]).exit_code == 0

    feed = crawl(db, spider="discover", args={"url": f"{replica.base_url}/feed/"}, settings=DISCOVER)
    assert feed.run["articles_discovered"] == len(all_urls) - 1  # the feed lists all 12; one was watched
    sitemap = crawl(db, spider="discover", args={"url": f"{replica.base_url}/sitemap.xml"}, settings=DISCOVER)
    listing = crawl(db, spider="discover", args={"url": f"{replica.base_url}/page/1/"}, settings=DISCOVER)
    assert sitemap.stats["discover/parsed/sitemap"] == 3  # the index and its two sitemaps
    assert listing.stats["discover/parsed/listing"] == 2  # /page/1/ and /page/2/
    assert sitemap.run["articles_discovered"] == listing.run["articles_discovered"] == 0
    assert watched(db) == all_urls
    assert query(db, "SELECT source, count(*) AS n FROM watchlist GROUP BY source ORDER BY source") == [
        {"source": "feed", "n": 11},
        {"source": "manual", "n": 1},
    ]

    new = generated_article(
        "brand-new-article", 8_300_000, 4, published_at=REFERENCE_NOW + timedelta(hours=1)
    )
    replica_site.add_article(new)
    again = crawl(db, spider="discover", args={"url": f"{replica.base_url}/sitemap.xml"}, settings=DISCOVER)
    assert again.run["articles_discovered"] == 1
    assert query(db, "SELECT url, source FROM watchlist WHERE url LIKE '%brand-new%'") == [
        {"url": article_url(replica, "brand-new-article"), "source": "sitemap"}
    ]


def test_discovery_limits(replica, tmp_path):
    db = tmp_path / "c.db"
    limited = crawl(
        db,
        spider="discover",
        args={"url": f"{replica.base_url}/feed/"},
        settings={**DISCOVER, "DISCOVER_MAX_NEW": "3", "DISCOVER_DENY": "plain-article"},
    )
    assert limited.run["articles_discovered"] == 3
    assert limited.stats["discover/rejected/denied"] == 3
    assert not [u for u in watched(db) if "plain-article" in u]
    too_old = crawl(
        tmp_path / "old.db",
        spider="discover",
        args={"url": f"{replica.base_url}/feed/"},
        settings={"DISCOVER_MAX_AGE_DAYS": "30"},
    )
    assert too_old.run["articles_discovered"] == 0 and too_old.stats["discover/rejected/too_old"] == 12


def test_discover_without_a_source_is_one_clear_line(tmp_path):
    result = crawl(tmp_path / "c.db", spider="discover")
    assert (
        result.returncode == 2 and "no discovery source" in result.stderr and "Traceback" not in result.stderr
    )


def test_monitor_crawls_only_what_is_due(replica, tmp_path):
    db = tmp_path / "c.db"
    urls = [article_url(replica, s) for s in (ONE_PAGE_SLUG, "no-comments-article")]
    CliRunner().invoke(cli, ["watch", "add", *urls, "--db", str(db)])
    first = crawl(db, spider="monitor")
    assert first.stats["article_spider/articles"] == 2
    entries = query(db, "SELECT next_check_at, last_checked_at, article_id FROM watchlist")
    assert all(e["next_check_at"] > e["last_checked_at"] and e["article_id"] for e in entries)
    second = crawl(db, spider="monitor")
    assert "downloader/request_count" not in second.stats  # nothing due: not even robots.txt
    forced = crawl(db, spider="monitor", args={"all": "1"})
    assert forced.stats["conditional_get/unchanged/304"] == 2


def test_failed_fetches_back_off_then_retire(replica, tmp_path):
    db = tmp_path / "c.db"
    CliRunner().invoke(cli, ["watch", "add", f"{replica.base_url}/gone-article/", "--db", str(db)])
    for _ in range(2):
        crawl(db, spider="monitor", args={"all": "1"}, settings={"MONITOR_MAX_FAILURES": "2"})
    [entry] = query(db, "SELECT failures, retired_at, retired_reason FROM watchlist")
    assert entry["failures"] == 2 and entry["retired_at"] and "HTTP 404" in entry["retired_reason"]
    assert crawl(db, spider="monitor", args={"all": "1"}).stats.get("article_spider/articles") is None


def test_two_runs_at_once_one_waits_out_with_the_lock_message(replica, replica_site, tmp_path):
    db = tmp_path / "c.db"
    CliRunner().invoke(cli, ["watch", "add", article_url(replica, BIG_THREAD_SLUG), "--db", str(db)])
    env = {**os.environ, "PANDAWATCH_DB": str(db)}
    fast = [a for k, v in FAST.items() for a in ("-s", f"{k}={v}")]
    # The first run is held mid-crawl, whatever the machine's speed: the replica answers nothing while
    # the test holds the site's lock (every page and comment request takes it), and the test lets go
    # only once the second run has ended.
    replica_site.lock.acquire()
    try:
        first = subprocess.Popen(
            [sys.executable, "-m", "crawler.cli", "run", *fast],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        lock = tmp_path / "c.db.lock"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (lock.exists() and lock.read_text().startswith("pid")):
            time.sleep(0.05)
        second = subprocess.run(
            [sys.executable, "-m", "crawler.cli", "run"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert first.poll() is None, "the first run ended before the second one started"
    finally:
        replica_site.lock.release()
    out, err = first.communicate(timeout=120)
    assert second.returncode == 75
    assert "another `crawler run` holds" in second.stderr and f"pid {first.pid}" in second.stderr
    assert first.returncode == 0, err[-2000:]
    assert "articles checked: 1" in out
    assert query(db, "SELECT count(*) AS n FROM runs") == [{"n": 1}]  # the second one crawled nothing


def test_run_report_and_exit_code(replica, replica_site, tmp_path):
    db = tmp_path / "c.db"
    runner = CliRunner()
    runner.invoke(cli, ["watch", "add", article_url(replica, ONE_PAGE_SLUG), "--db", str(db)])
    runner.invoke(cli, ["sources", "add", f"{replica.base_url}/feed/", "--db", str(db)])
    env = {**os.environ, "PANDAWATCH_DB": str(db)}
    settings = [
        a for k, v in {**FAST, **DISCOVER, "DISCOVER_MAX_NEW": "2"}.items() for a in ("-s", f"{k}={v}")
    ]
    done = subprocess.run(
        [sys.executable, "-m", "crawler.cli", "run", *settings],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "new articles discovered: 2" in done.stdout and "articles checked: 3" in done.stdout
    comment = next(c for c in replica_site.article(ONE_PAGE_SLUG).comments if c.parent_id is None)
    replica_site.edit_comment(comment.id, "Edited between two runs.")
    replica_site.set_votes(comment.id, comment.upvotes + 3, comment.downvotes)
    done = subprocess.run(
        [sys.executable, "-m", "crawler.cli", "run", "--all", *settings],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "comment changes: 1 edited, 1 votes" in done.stdout and "vote movers: 1" in done.stdout


def test_unchanged_recrawl_of_200_articles_is_answered_304(tmp_path):
    # 200 articles of 5 comments: the number of articles is the point here, not the threads' size
    with ReplicaServer(build_bench_site(200, 5)) as server:
        urls = tmp_path / "urls.txt"
        urls.write_text("".join(f"{server.base_url}/bench-article-{n:04d}/\n" for n in range(200)))
        db = tmp_path / "c.db"
        first = crawl(db, args={"urls_file": str(urls)})
        second = crawl(db, args={"urls_file": str(urls)})
    assert first.run["threads_complete"] == 200
    stats = second.stats
    assert stats["downloader/response_status_count/304"] >= 0.95 * 200
    assert second.run["articles_unchanged"] >= 190
    assert history_rows(db, second.run["run_id"]) == 0
    assert stats["downloader/response_bytes"] < 0.1 * first.stats["downloader/response_bytes"]


def test_layout_change_hiding_half_the_comments_warns_and_deletes_nothing(replica, replica_site, tmp_path):
    db = tmp_path / "c.db"
    url = article_url(replica, BIG_THREAD_SLUG)
    crawl(db, [url])
    replica_site.set_hide_fraction(BIG_THREAD_SLUG, 0.5)
    second = crawl(db, [url])
    warnings = json.loads(second.run["warnings"])
    assert any("fell from 1200" in w and "layout or endpoint change" in w for w in warnings)
    assert any("not marked deleted" in w for w in warnings)
    assert query(db, "SELECT count(*) AS n FROM comments WHERE status = 'deleted'") == [{"n": 0}]
    assert history_rows(db, second.run["run_id"]) == 0


def test_run_every_repeats_in_the_foreground(replica, tmp_path):
    db = tmp_path / "c.db"
    CliRunner().invoke(cli, ["watch", "add", article_url(replica, ONE_PAGE_SLUG), "--db", str(db)])
    env = {**os.environ, "PANDAWATCH_DB": str(db)}
    command = [sys.executable, "-m", "crawler.cli", "run", "--every", "1s", "--all"]
    loop = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 90
        # A third run starts only after the second one's report was printed.
        while time.monotonic() < deadline and not (
            db.exists() and query(db, "SELECT count(*) AS n FROM runs")[0]["n"] >= 3
        ):
            time.sleep(0.2)
    finally:
        loop.terminate()
        out, err = loop.communicate(timeout=30)
    runs = query(db, "SELECT spider, status FROM runs WHERE status != 'running'")
    assert len(runs) >= 2 and all(r == {"spider": "monitor", "status": "ok"} for r in runs)
    assert out.count("next run in 1s") >= 2, err[-3000:]
    assert "runs: 1 monitor ok" in out and "runs: 2 monitor ok" in out
