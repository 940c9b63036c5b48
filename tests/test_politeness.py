"""Politeness as sites ask for it: Crawl-delay, Retry-After, and redirect loops counted as failures.

Real crawls of the replica; gaps are measured by the replica's own clock when the requests arrive. Only
lower bounds are asserted (a loaded machine makes gaps longer, never shorter).
"""

from __future__ import annotations

from datetime import UTC, datetime

from crawler.politeness import retry_after_seconds
from tests.crawling import crawl
from tests.recorder import Recorder


def gaps(replica, path_prefix: str = "/") -> list[float]:
    times = [t for t, _, path in replica.stats["times"] if path.startswith(path_prefix)]
    return [b - a for a, b in zip(times, times[1:], strict=False)]


def test_crawl_delay_is_honoured_per_domain(replica, replica_site, tmp_path):
    # 1.5 s: well above the gap of two requests without it (milliseconds), and not a whole number
    replica_site.robots_extra = ["Crawl-delay: 1.5"]
    urls = [f"{replica.base_url}/fault/slow/?seconds=0&n={n}" for n in range(3)]
    replica.reset_stats()
    result = crawl(tmp_path / "c.db", urls, settings={"CONCURRENT_REQUESTS_PER_DOMAIN": "2"})
    times = replica.stats["times"]
    assert [path for _, _, path in times] == ["/robots.txt", "/fault/slow/", "/fault/slow/", "/fault/slow/"]
    assert min(gaps(replica)) >= 1.5, gaps(replica)
    assert result.stats[f"robotstxt/crawl_delay/{replica.host}"] == 1.5


def test_crawl_delay_is_capped_by_the_setting(replica, replica_site, tmp_path):
    replica_site.robots_extra = ["Crawl-delay: 3600"]
    urls = [f"{replica.base_url}/fault/slow/?seconds=0&n={n}" for n in range(2)]
    result = crawl(tmp_path / "c.db", urls, settings={"ROBOTSTXT_CRAWL_DELAY_MAX": "0.5"})
    assert result.stats[f"robotstxt/crawl_delay/{replica.host}"] == 0.5
    assert min(gaps(replica)) >= 0.5


def test_retry_after_is_waited_for(replica, tmp_path):
    url = f"{replica.base_url}/fault/retry-after/?after=1&key=a"
    replica.reset_stats()
    result = crawl(tmp_path / "c.db", [url], settings={"RETRY_TIMES": "2"})
    assert result.stats["retry_after/waited"] == 1 and result.stats["retry/count"] == 1
    assert replica.stats["statuses"] == {200: 2, 503: 1}  # robots.txt, the 503, the retry
    assert gaps(replica, "/fault/")[0] >= 1.0


class SlowDownOnce(Recorder):
    """Article pages; the first one asked for is answered 429 with `Retry-After: <after>` (once)."""

    def __init__(self, articles: int, after: str = "1"):
        self.after = after
        super().__init__({"/robots.txt": (200, {"Content-Type": "text/plain"}, "User-agent: *\nAllow: /\n")})
        for n in range(articles):
            body = " ".join(
                f"Paragraph {p} of story {n} tells what the parish council decided." for p in range(8)
            )
            self.pages[f"/story/{n}/"] = (
                200,
                {},
                f"<html><head><title>Story {n}</title><meta property='og:type' content='article'></head>"
                f"<body><article><h1>Story {n}</h1><p>{body}</p></article></body></html>",
            )
        self.slowed_down = False

    def answer(self, path):
        with self.lock:
            first = path.startswith("/story/") and not self.slowed_down
            self.slowed_down = self.slowed_down or first
        if first:
            return 429, {"Retry-After": self.after}, "Too many requests"
        return super().answer(path)


def test_retry_after_pauses_the_whole_domain(tmp_path):
    # One request at a time, 0.2 s apart: without the pause, the next queued article would leave 0.2 s
    # after the 429. Every request after it must arrive at least 1 s after it (the server's own clock).
    # (A delay, as by default: with DOWNLOAD_DELAY 0, Scrapy 2.19 sends every queued request of a slot
    # at once, whatever its concurrency, so some would be on the wire before the 429 came back.)
    with SlowDownOnce(articles=5) as site:
        urls = [f"{site.base_url}/story/{n}/" for n in range(5)]
        settings = {"CONCURRENT_REQUESTS_PER_DOMAIN": "1", "DOWNLOAD_DELAY": "0.2", "RETRY_TIMES": "1"}
        result = crawl(tmp_path / "c.db", urls, settings=settings)
        log = site.log()
    [(slowed_at, slowed_path)] = [(t, path) for t, path, status in log if status == 429]
    after = [(t - slowed_at, path) for t, path, status in log if t > slowed_at]
    assert len(after) == 5, log  # the four other articles and the retry, all after the 429
    assert min(gap for gap, _ in after) >= 1.0 - 0.05, after  # a small tolerance for the clock only
    assert slowed_path in {path for _, path in after}  # the 429 was retried
    assert result.stats["retry_after/paused"] == 1 and result.stats["retry_after/waited"] == 1
    assert result.query("SELECT count(*) AS n FROM articles") == [{"n": 5}]
    assert result.run["status"] == "ok"


def test_a_longer_retry_after_pauses_the_domain_only_up_to_the_bound(tmp_path):
    # An hour asked for, RETRY_AFTER_MAX 1 s: the 429 is not retried, the rest waits 1 s, not an hour.
    with SlowDownOnce(articles=3, after="3600") as site:
        urls = [f"{site.base_url}/story/{n}/" for n in range(3)]
        settings = {"CONCURRENT_REQUESTS_PER_DOMAIN": "1", "DOWNLOAD_DELAY": "0.2", "RETRY_AFTER_MAX": "1"}
        result = crawl(tmp_path / "c.db", urls, settings={**settings, "RETRY_TIMES": "1"})
        log = site.log()
    [slowed_at] = [t for t, _, status in log if status == 429]
    after = [t - slowed_at for t, _, _ in log if t > slowed_at]
    assert len(after) == 2 and min(after) >= 1.0 - 0.05, log  # the two others, after the bound
    assert result.stats["retry_after/paused"] == 1 and result.stats["retry_after/too_long"] == 1
    assert result.query("SELECT count(*) AS n FROM articles") == [{"n": 2}]
    assert result.run["status"] != "ok"


def test_retry_after_beyond_the_bound_is_not_retried_and_counts_as_failed(replica, tmp_path):
    url = f"{replica.base_url}/fault/retry-after/?after=3600&key=b"
    result = crawl(tmp_path / "c.db", [url], settings={"RETRY_TIMES": "2"})
    assert result.stats["retry_after/too_long"] == 1
    assert "retry/count" not in result.stats
    assert result.stats["article_spider/request_error/article"] == 1
    assert result.run["status"] != "ok"
    assert "over RETRY_AFTER_MAX" in result.stderr


def test_retry_after_http_date():
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert retry_after_seconds(b"Thu, 01 Jan 2026 12:00:30 GMT", now) == 30.0
    assert retry_after_seconds(b"120") == 120.0
    assert retry_after_seconds(b"soon") is None and retry_after_seconds(None) is None


def test_redirect_loop_is_a_failed_request(replica, tmp_path):
    result = crawl(tmp_path / "c.db", [f"{replica.base_url}/fault/loop/?step=a"])  # a -> b -> a
    assert result.stats["redirect/loop"] == 1
    assert result.stats["article_spider/request_error/article"] == 1
    assert result.run["status"] != "ok"
    assert "Redirect loop:" in result.stderr
