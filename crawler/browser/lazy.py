"""A scrapy-playwright download handler that starts Playwright on the first browser request.

scrapy-playwright starts its driver when the engine starts. A crawl that pages learned comment APIs
over plain HTTP needs a browser only when a recipe turns out stale (crawler/spiders/recipes.py), so
such a crawl installs this handler instead: plain requests go through Scrapy's HTTP handler as usual,
and Playwright (then Chromium) starts only when the first `meta["playwright"]` request arrives.
"""

from __future__ import annotations

import asyncio

from scrapy.http import Request
from scrapy_playwright.handler import ScrapyPlaywrightDownloadHandler

from crawler.connections import keep_idle_connections

HANDLER = "crawler.browser.lazy.LazyPlaywrightHandler"


class LazyPlaywrightHandler(ScrapyPlaywrightDownloadHandler):
    def __init__(self, crawler) -> None:
        super().__init__(crawler)
        keep_idle_connections(self, crawler.settings)  # its plain requests are most of such a crawl
        self._started = False
        self._start_lock = asyncio.Lock()

    async def _maybe_launch_in_thread(self) -> None:  # engine_started: nothing to start yet
        return None

    def _engine_started(self):  # the same, for Scrapy versions without the async API
        from twisted.internet import defer

        return defer.succeed(None)

    async def _download_request(self, request: Request, spider=None):
        if not self._started:
            async with self._start_lock:
                if not self._started:
                    await self._launch()
                    self._started = True
        return await super()._download_request(request, spider)
