"""Two crawl-wide costs cut for the comment-API path (issue 12's 10x goal), and that they cut nothing else.

- QuietLogFormatter: Scrapy builds a DEBUG record per response and per item even when no handler
  emits DEBUG; the formatter skips them then, and only then.
- FreezeStartupObjects: `gc.freeze()` when the spider opens, recorded in the run's stats.
"""

from __future__ import annotations

import logging

from crawler.extensions.logformatter import QuietLogFormatter, debug_shown
from crawler.items import CommentItem
from tests.crawling import article_url, crawl


def _with_root_handler(level: int):
    handler = logging.StreamHandler()
    handler.setLevel(level)
    logging.root.addHandler(handler)
    return handler


def test_debug_records_are_built_only_when_a_handler_shows_them():
    old_handlers, old_level = logging.root.handlers[:], logging.root.level
    logging.root.setLevel(logging.NOTSET)  # as Scrapy sets it: the handlers filter
    for handler in old_handlers:
        logging.root.removeHandler(handler)
    try:
        info = _with_root_handler(logging.INFO)
        item = CommentItem(comment_id="boredpanda:1", text="hi")
        formatter = QuietLogFormatter()
        assert not debug_shown("scrapy.core.scraper")
        assert formatter.scraped(item, None, None) is None
        logging.root.removeHandler(info)
        _with_root_handler(logging.DEBUG)
        assert debug_shown("scrapy.core.scraper")
        formatter = QuietLogFormatter()  # the choice is made once per crawl, at its first message
        assert formatter.scraped(item, None, None)["level"] == logging.DEBUG
    finally:
        for handler in logging.root.handlers[:]:
            logging.root.removeHandler(handler)
        for handler in old_handlers:
            logging.root.addHandler(handler)
        logging.root.setLevel(old_level)


def test_debug_level_still_logs_every_item_and_the_start_up_objects_are_frozen(tmp_path, replica):
    url = article_url(replica, "two-page-comments-article")
    quiet = crawl(tmp_path / "info.db", [url])
    loud = crawl(tmp_path / "debug.db", [url], settings={"LOG_LEVEL": "DEBUG"})
    for run in (quiet, loud):
        assert run.returncode == 0, run.stderr[-2000:]
        assert run.stats["gc/frozen_objects"] > 10_000  # Scrapy's, Twisted's and the project's
    stored = quiet.query("SELECT count(*) AS n FROM comments")[0]["n"]
    assert stored == loud.query("SELECT count(*) AS n FROM comments")[0]["n"] > 0
    assert loud.stderr.count("Scraped from <200") >= stored
    assert "Scraped from" not in quiet.stderr
    # nothing went wrong, so nothing is a warning (components off by default used to warn each crawl)
    assert " WARNING: " not in quiet.stderr, quiet.stderr[-2000:]
    off = crawl(tmp_path / "off.db", [url], settings={"GC_FREEZE": "False"})
    assert off.returncode == 0 and "gc/frozen_objects" not in off.stats


def test_a_thread_paged_in_bursts_reuses_its_connections(tmp_path, replica):
    """With DOWNLOAD_DELAY 0, Scrapy 2.19 sends a slot's whole queue at once, past
    CONCURRENT_REQUESTS_PER_DOMAIN; its pool kept only that many idle connections, so every burst
    opened the rest again (36-48 connections for the 213 requests of this thread; 9-14 kept)."""
    url = article_url(replica, "big-thread-article")
    replica.reset_stats()
    run = crawl(tmp_path / "c.db", [url], settings={"CONCURRENT_REQUESTS_PER_DOMAIN": "4"})
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.query("SELECT count(*) AS n FROM comments")[0]["n"] == 1200
    served = replica.stats
    assert served["total"] >= 200
    assert served["connections"] <= 24, served["connections"]
