"""Browser rendering for the article spider: pages whose comments need clicks in a real Chromium.

A rendered page is requested through scrapy-playwright with the page kept open; the callback expands
the thread (`crawler.browser.expand`) with the click plan of the page's adapter (from the registry),
takes the DOM, closes the page, and hands the HTML to the same adapter the HTTP path uses. Pages are
always closed, in the callback and in the errback;
browser contexts are replaced every BROWSER_CONTEXT_PAGES pages and closed once their pages are.
"""

from __future__ import annotations

import dataclasses

import scrapy
from scrapy.http import Response

from crawler.browser.expand import Expansion, Limits, expand_thread
from crawler.browser.frames import rendered_html
from crawler.sites.thread import ClickPlan

STATS = "browser"
INIT_CALLBACK = "crawler.browser.expand.install"
#: What a browser does on a page whose adapter has nothing to click: scroll the comment section into
#: view (lazy widgets load then) and read what it shows.
RENDER_ONLY = ClickPlan(
    container="#comments, .comments-area, section.comments", item="li.comment", load_more=()
)


class BrowserPages:
    """Mixin for the article spider: request, expand, parse and close browser pages."""

    def _browser_setup(self) -> None:
        settings = self.settings
        self.limits = Limits(
            max_clicks=settings.getint("BROWSER_MAX_CLICKS", 2000),
            time_budget=settings.getfloat("BROWSER_TIME_BUDGET", 300.0),
            settle_timeout=settings.getfloat("BROWSER_SETTLE_TIMEOUT", 15.0),
            lazy_wait=settings.getfloat("BROWSER_LAZY_WAIT", 3.0),
            quiet=settings.getfloat("BROWSER_QUIET", 0.2),
            # until the page's download slot says otherwise (paced_limits)
            clicks_per_round=max(1, settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN", 8)),
            round_delay=max(0.0, settings.getfloat("DOWNLOAD_DELAY", 0.0)),
        )
        self.context_pages = max(1, settings.getint("BROWSER_CONTEXT_PAGES", 20))
        self.pages_requested = 0
        # per context: pages assigned to it, and pages finished (closed or failed)
        self.context_assigned: dict[str, int] = {}
        self.context_done: dict[str, int] = {}

    def browser_request(
        self, url: str, callback, cb_kwargs: dict | None = None, plan: ClickPlan | None = None
    ) -> scrapy.Request:
        # Contexts are filled in request order; a full context gets no new page, so it can be closed
        # as soon as its last page is done (its memory, cookies and cache go with it).
        context = f"pandawatch-{self.pages_requested // self.context_pages}"
        self.pages_requested += 1
        self.context_assigned[context] = self.context_assigned.get(context, 0) + 1
        return scrapy.Request(
            url,
            callback=callback,
            errback=self.browser_failed,
            cb_kwargs=cb_kwargs or {},
            dont_filter=True,  # the same URL may already have been fetched over plain HTTP
            meta={
                "playwright": True,
                "playwright_include_page": True,
                "playwright_context": context,
                "playwright_page_init_callback": INIT_CALLBACK,
                "playwright_page_goto_kwargs": {"wait_until": "domcontentloaded"},
                "pandawatch_click_plan": plan or RENDER_ONLY,
                # record the page's fetch/XHR traffic, to learn the site's comment API (crawler/recipes)
                "pandawatch_record": hasattr(self, "record_exchanges") and self.record_exchanges(url),
            },
        )

    async def _page_done(self, page, context: str) -> None:
        """Close a page (if any); close its context once it is full and all its pages are done."""
        browser_context = page.context if page is not None else None
        if page is not None and not page.is_closed():
            await page.close()
            self.crawler.stats.inc_value(f"{STATS}/pages_closed")
        self.context_done[context] = self.context_done.get(context, 0) + 1
        full = self.context_assigned.get(context, 0) >= self.context_pages
        if full and self.context_done[context] >= self.context_assigned[context] and browser_context:
            await browser_context.close()
            self.crawler.stats.inc_value(f"{STATS}/contexts_closed")

    def paced_limits(self, response: Response) -> Limits:
        """The page's clicks go as Scrapy's own requests to its site go now: as many at once as the
        site's download slot allows, its delay apart (DOWNLOAD_DELAY, raised by AutoThrottle or by
        robots.txt's Crawl-delay, which also makes it one at a time: crawler/politeness.py)."""
        slot = self.crawler.engine.downloader.slots.get(response.meta.get("download_slot") or "")
        limits = self.limits
        if slot is not None:
            limits = dataclasses.replace(
                limits, clicks_per_round=max(1, slot.concurrency), round_delay=max(0.0, slot.delay)
            )
        # in the run's stats: how the last page's clicks were paced
        self.crawler.stats.set_value(f"{STATS}/clicks_per_round", limits.clicks_per_round)
        self.crawler.stats.set_value(f"{STATS}/round_delay", round(limits.round_delay, 3))
        return limits

    async def render_and_expand(
        self, response: Response
    ) -> tuple[str | None, Expansion | None, str | None, str | None]:
        """(DOM after expansion, how expansion ended, error message, why part of the comments may be
        missing from the DOM: a frame holding comments that could not be read); the page is always
        closed."""
        page = response.meta["playwright_page"]
        context = response.meta["playwright_context"]
        self.crawler.stats.inc_value(f"{STATS}/pages_opened")
        expansion = error = html = lost = None
        try:
            plan = response.meta["pandawatch_click_plan"]
            recorder = response.meta.get("pandawatch_recorder")  # crawler.browser.record, when learning
            expansion = await expand_thread(page, plan, self.paced_limits(response), recorder)
            self.crawler.stats.inc_value(f"{STATS}/clicks", expansion.clicks)
            self.crawler.stats.inc_value(f"{STATS}/click_rounds", expansion.rounds)
            self.crawler.stats.inc_value(f"{STATS}/stopped_by/{expansion.stopped_by}")
        except Exception as exc:  # a page can fail in many ways (timeouts, crashes); keep what it shows
            error = f"{type(exc).__name__}: {exc}".splitlines()[0]
            self.crawler.stats.inc_value(f"{STATS}/expand_error")
            self.logger.error("Expanding comments of %s failed: %s", response.url, error)
        try:
            # the top document with its frames' documents in place (a widget in an <iframe>)
            rendered = await rendered_html(page, f"{plan.container}, {plan.item}")
            html = rendered.html
            if rendered.frames:
                self.crawler.stats.inc_value(f"{STATS}/frames_read", rendered.frames)
            if rendered.failed:
                self.crawler.stats.inc_value(f"{STATS}/frames_unreadable", len(rendered.failed))
            if rendered.lost:
                # the thread was not read whole: like a page libxml2 cut, nothing is judged gone from it
                lost = f"a frame holding comments could not be read ({rendered.lost[0][:200]})"
        except Exception as exc:
            error = error or f"{type(exc).__name__}: {exc}".splitlines()[0]
        finally:
            await self._page_done(page, context)
        return html, expansion, error, lost

    async def browser_failed(self, failure) -> list:
        page = failure.request.meta.get("playwright_page")
        if page is not None:
            self.crawler.stats.inc_value(f"{STATS}/pages_opened")
        await self._page_done(page, failure.request.meta["playwright_context"])
        self.crawler.stats.inc_value(f"{STATS}/request_error")
        self.logger.error("Browser page %s failed: %s", failure.request.url, failure.getErrorMessage())
        # a page handed over by render=auto still records its thread (incomplete) from the HTTP path
        fallback = failure.request.cb_kwargs.get("fallback")
        return self.browser_gave_up(fallback, f"browser page failed: {failure.getErrorMessage()}")
