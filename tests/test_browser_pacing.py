"""The browser path's clicks are paced like the crawl's own requests (crawler/browser/expand.py).

A click's request goes from Chromium straight to the site, past Scrapy's per-domain limit and
DOWNLOAD_DELAY. The replica logs when each comment-API request arrived and when it was answered,
so the test reads the pacing off the wire: never more requests at once than
CONCURRENT_REQUESTS_PER_DOMAIN, and DOWNLOAD_DELAY between an answer and the next request.
"""

from __future__ import annotations

import shutil

import pytest

from crawler.replica.ajax import AJAX_PATH
from crawler.replica.demo_site import NORMAL_SLUG
from tests.crawling import FAST, article_url, crawl, model_thread

pytestmark = pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian chromium is not installed")

DELAY = 0.25


def most_at_once(spans: list[tuple[float, float]]) -> int:
    """The largest number of (arrived, answered) spans open at one moment."""
    events = sorted([(a, 1) for a, _ in spans] + [(b, -1) for _, b in spans])
    open_now = peak = 0
    for _, step in events:
        open_now += step
        peak = max(peak, open_now)
    return peak


def test_clicks_wait_for_the_domain_slot_and_the_delay(replica, replica_site, tmp_path):
    settings = {**FAST, "CONCURRENT_REQUESTS_PER_DOMAIN": "1", "DOWNLOAD_DELAY": str(DELAY)}
    result = crawl(
        tmp_path / "c.db", [article_url(replica, NORMAL_SLUG)], args={"render": "browser"}, settings=settings
    )
    assert result.returncode == 0, result.stderr[-3000:]
    stored = result.query("SELECT count(*) AS n FROM comments")[0]["n"]
    assert stored == len(model_thread(replica_site, NORMAL_SLUG))
    assert result.query("SELECT method, complete FROM thread_loads") == [{"method": "browser", "complete": 1}]
    spans = [(a, b) for a, b, _, path in replica.timeline if path == AJAX_PATH]
    # the thread needs a comment page, replies and full texts: several clicks, several requests
    assert len(spans) >= 4 and result.stats["browser/clicks"] >= 4, (spans, result.stats)
    assert most_at_once(spans) == 1
    gaps = [nxt[0] - prev[1] for prev, nxt in zip(spans, spans[1:], strict=False)]
    assert min(gaps) >= DELAY, gaps
