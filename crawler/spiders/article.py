"""`scrapy crawl article -a url=…`: an article page, then its whole comment thread.

The spider navigates only: the site registry (`crawler.sites.registry`) chooses the adapter of each
page, the adapter parses every answer and says which follow-up requests the thread still needs (next
comment page, more replies, full text of cut comments). The spider runs them, counts answers and
failures per article, and when an article's last follow-up is answered emits a ThreadItem saying
whether the thread was loaded completely. Pages it cannot store are counted and named, with a hint,
in `article_spider/skipped_pages` (the run's warnings).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy.http import Response, TextResponse

from crawler.browser.setup import BrowserNotFound, playwright_settings
from crawler.dates import iso, now_utc
from crawler.hostguard import origins, url_allowed
from crawler.sites import registry
from crawler.sites.errors import BadAnswer, NotAnArticle, NotHTML
from crawler.sites.profile import ProfileError
from crawler.sites.thread import FollowUp, ThreadPage
from crawler.spiders.args import ArgumentError, parse_choice, parse_targets
from crawler.spiders.comment_state import CommentRecheck
from crawler.spiders.conditional import ConditionalGet
from crawler.spiders.confirm import ThreadEnd
from crawler.spiders.recipes import LearnedApis
from crawler.spiders.rendering import BrowserPages
from crawler.spiders.thread_state import ThreadState

STATS = "article_spider"
#: api: plain HTTP and comment APIs only; browser: every article page in Chromium; auto: Chromium
#: only for pages whose comments plain HTTP could not load (a JavaScript-only block, an API path that
#: ended incomplete for a page that reports comments).
RENDER_MODES = ("api", "browser", "auto")
HINT = "try -a site=NAME (sites: {sites}) or -a profile=path/to/site.toml"


def _now() -> str:
    return iso(now_utc())


def _site(site: str | None, profile: str | None) -> str | None:
    """The adapter the user forces (`-a site=` or `-a profile=`), checked; None: chosen per page."""
    if site and profile and site != profile:
        raise ArgumentError(f"give -a site={site} or -a profile={profile}, not both")
    name = site or profile
    if name:
        try:
            registry.adapter_named(name)
        except ProfileError as exc:
            raise ArgumentError(str(exc)) from exc
    return name


def _render_mode(render: str | None, site: str | None) -> str:
    # A profile reads pages over plain HTTP and opens a browser only when it has something to click
    # (its thread is not wholly in the HTML): auto by default.
    forced = registry.adapter_named(site) if site else None
    default = "auto" if forced is not None and forced.click_plan and forced.seed_recipe is None else "api"
    return parse_choice("render", render, RENDER_MODES, default)


class ArticleSpider(LearnedApis, ThreadEnd, ConditionalGet, CommentRecheck, BrowserPages, scrapy.Spider):
    name = "article"

    def __init__(
        self,
        url: str | None = None,
        urls_file: str | None = None,
        render: str | None = None,
        profile: str | None = None,
        site: str | None = None,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self.targets = self.targets_from(url, urls_file)
        self.site = _site(site, profile)
        self.render = _render_mode(render, self.site)
        self.render_given = render is not None
        # Hosts the user named may be anywhere (even loopback); see crawler.hostguard.
        self.user_hosts = {urlsplit(u).hostname for u in self.targets}
        #: pages not stored, each "URL: reason (hint)", for the run's warnings and the summary
        self.skipped_pages: list[str] = []
        # ... and on the port they named it with: (host, port) pairs, what the host guard trusts.
        self.user_origins = origins(self.targets)

    @classmethod
    def check_arguments(
        cls,
        url: str | None = None,
        urls_file: str | None = None,
        render: str | None = None,
        profile: str | None = None,
        site: str | None = None,
        settings=None,
        **_: Any,
    ) -> None:
        """Raise ArgumentError for arguments this spider cannot run with (used before start)."""
        cls.targets_from(url, urls_file)
        mode = _render_mode(render, _site(site, profile))
        if mode != "api" and settings is not None:
            try:
                playwright_settings(settings)
            except BrowserNotFound as exc:
                if render is not None:  # asked for; a profile's default auto falls back to api
                    raise ArgumentError(str(exc)) from exc

    @classmethod
    def targets_from(cls, url: str | None, urls_file: str | None) -> list[str]:
        """The URLs to crawl, from the spider arguments."""
        return parse_targets(url, urls_file)

    @classmethod
    def from_crawler(cls, crawler, *args: Any, **kwargs: Any):
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider._recipes_setup(crawler.settings)
        if spider.render != "api" or spider.recipes_want_browser():
            # Settings may still change here (Scrapy freezes them after the spider is built): only
            # crawls that use the browser load scrapy-playwright and launch Chromium. A crawl that
            # pages learned comment APIs keeps one ready (launched on first use) for a stale recipe.
            try:
                browser = playwright_settings(crawler.settings, spider.user_origins, crawler)
                if spider.render == "api":
                    browser = spider.lazy_browser_settings(browser)
                crawler.settings.update(browser, priority="spider")
            except BrowserNotFound as exc:
                if spider.render == "api":
                    return spider  # only a learned recipe's fallback wanted one: none then
                if spider.render_given:
                    raise ArgumentError(str(exc)) from exc
                # a profile's default render=auto without a browser: plain HTTP, threads that need
                # clicks are recorded as incomplete (with the hint to install one)
                spider.logger.warning("No browser (%s): reading pages over plain HTTP only", exc)
                spider.render = "api"
                return spider
            spider._browser_setup()
            spider.browser_ready = True
        return spider

    def host_allowed(self, url: str) -> bool:
        return url_allowed(url, self.user_origins, self.settings.getbool("ALLOW_PRIVATE_HOSTS"))

    @property
    def tolerance(self) -> float:
        return self.settings.getfloat("COMMENTS_TOTAL_TOLERANCE", 0.0)

    @property
    def max_pages(self) -> int:
        return self.settings.getint("COMMENTS_MAX_PAGES", 400)

    async def start(self) -> AsyncIterator[Any]:
        self.logger.info("Crawling %d article(s), comments by %s", len(self.targets), self.render)
        self.crawler.stats.set_value(f"{STATS}/targets", len(self.targets))
        self.load_fetch_state(self.targets if self.render != "browser" else [])
        for url in self.targets:
            if self.render == "browser":
                # Plain HTTP first: Chromium follows redirects itself, past the host guard; Scrapy's
                # redirects pass it, and the browser then opens the page where they ended.
                yield scrapy.Request(url, callback=self.open_in_browser, errback=self.article_failed)
            else:
                yield self.article_request(url, self.parse_article, self.article_failed)

    # -- article pages -------------------------------------------------------------------------

    def _skip(self, response: Response, reason: str, detail: str) -> None:
        self.crawler.stats.inc_value(f"{STATS}/skipped/{reason}")
        self.crawler.stats.inc_value(f"{STATS}/pages_skipped")
        hint = "" if self.site else f"; {HINT.format(sites=', '.join(registry.known_sites()))}"
        if self.site:
            hint = f"; read with -a site={self.site}: try another site/profile or none"
        message = f"{response.url}: skipped, {detail}{hint}"
        self.skipped_pages.append(message)
        self.crawler.stats.set_value(f"{STATS}/skipped_pages", list(self.skipped_pages))
        self.logger.warning("Skipped %s", message)

    def _html_or_skip(self, response: Response) -> str | None:
        content_type = response.headers.get(b"Content-Type", b"").decode("latin-1").lower()
        if not isinstance(response, TextResponse) or "html" not in content_type:
            self._skip(response, "not_html", f"not an HTML page ({content_type or 'no content type'})")
            return None
        body = response.text
        if body.strip() and "</html" not in body[-4096:].lower():
            # A body cut short would be stored as a shortened article and later look like an edit.
            self._skip(response, "truncated_html", "the HTML ends before </html> (truncated page)")
            return None
        return body

    def parse_article(self, response: Response) -> Iterator[Any]:
        cached = self.cached_if_unchanged(response)
        if cached is not None and not self.comments_due(cached):
            yield self.fetch_item(response, cached["article_id"], unchanged=True)
            return
        if response.status == 304:
            # Unchanged, but its comment thread is due and a 304 has no page to start from.
            yield self.article_request(
                response.url, self.parse_article, self.article_failed, validators=False
            )
            return
        recipe_output = self.recipe_article(response)  # a learned comment API pages this thread
        if recipe_output is not None:
            yield from recipe_output
            return
        page = self._read_page(response, "not_article")
        if page is None:
            return
        fetched_at = _now()
        page.article.fetched_at = fetched_at
        self.crawler.stats.inc_value(f"{STATS}/articles")
        yield self.fetch_item(response, page.article.article_id)
        yield page.article
        yield from self._list_items(page.list_items, fetched_at)
        if page.next_page_url:
            yield self._list_page_request(page.next_page_url, page.article.article_id)
        thread = page.thread
        if thread.needs_browser and self.render == "auto":
            self.crawler.stats.inc_value(f"{STATS}/auto_browser")
            self.remember_served(response)
            fallback = self._state(page.article.article_id, response.url, page.site, thread)
            fallback.needs_browser = True
            yield self._auto_browser(response.url, page.site, fallback)
            return
        seeded = self.seed_thread(response, page, fetched_at)  # the site's seed recipe pages it
        if seeded is not None:
            yield from seeded
            return
        state = self._state(page.article.article_id, response.url, page.site, thread)
        yield from self._absorb(state, thread, fetched_at)

    def _state(
        self, article_id: str, url: str, site: str, thread: ThreadPage, method: str = "api"
    ) -> ThreadState:
        state = ThreadState(
            article_id=article_id, url=url, tolerance=self.tolerance, method=method, site=site
        )
        state.section, state.widget, state.parse_lost = thread.section, thread.widget, thread.parse_lost
        if thread.widget and not thread.comments:
            self.crawler.stats.inc_value(f"{STATS}/threads/unread/{thread.widget}")
        return state

    def _auto_browser(self, url: str, site: str, fallback: ThreadState) -> scrapy.Request:
        """The page again, in the browser (render=auto); `fallback` is the HTTP path's thread, recorded
        (incomplete) if the browser cannot do better."""
        return self.browser_request(
            url,
            self.parse_rendered,
            {"with_article": False, "site": site, "fallback": fallback},
            self._click_plan(site),
        )

    def browser_gave_up(self, fallback: ThreadState | None, why: str) -> list[Any]:
        """The ThreadItem of the HTTP path when the browser it was handed to failed."""
        if fallback is None or fallback.finished:
            return []
        fallback.browser_tried = True
        fallback.browser_stop = why
        return self._finish_if_done(fallback)

    def open_in_browser(self, response: Response) -> Iterator[Any]:
        self.remember_served(response)
        # The plain page says which adapter reads it (and so what the browser clicks); a page that
        # is no article before its scripts ran is opened all the same and read once rendered.
        site = self.site
        if site is None and isinstance(response, TextResponse):
            try:
                site = registry.parse_page(response.text, response.url).site
            except Exception:  # unreadable before rendering: the rendered page decides
                site = None
        yield self.browser_request(
            response.url,
            self.parse_rendered,
            {"with_article": True, "site": site},
            self._click_plan(site) if site else None,
        )

    async def parse_rendered(
        self,
        response: Response,
        with_article: bool,
        site: str | None = None,
        fallback: ThreadState | None = None,
    ) -> AsyncIterator[Any]:
        """A page rendered in Chromium: expand its comments, then read it with the site adapter."""
        if not self.host_allowed(response.url):
            # The page itself redirected to a private host nobody named: nothing of it is kept.
            await self._page_done(response.meta["playwright_page"], response.meta["playwright_context"])
            self.crawler.stats.inc_value("hostguard/refused/browser_private_host")
            self._skip(response, "private_host", "the browser was redirected to a private host nobody named")
            return
        html, expansion, error, lost = await self.render_and_expand(response)
        self.learn_from_browser(response, html, expansion, error or lost, site or self.site)
        try:
            rendered = registry.parse_page(html or "", response.url, site=site or self.site)
        except (NotHTML, NotAnArticle) as exc:
            if with_article:
                self._skip(response, "not_article", str(exc))
            else:
                self.logger.error("Rendered page %s unreadable: %s", response.url, exc)
                for item in self.browser_gave_up(fallback, f"rendered page unreadable: {exc}"):
                    yield item
            return
        fetched_at = _now()
        article, thread = rendered.article, rendered.thread
        thread.parse_lost = thread.parse_lost or lost  # a frame of comments unread: the block may be cut
        if with_article:
            article.fetched_at = fetched_at
            self.crawler.stats.inc_value(f"{STATS}/articles")
            yield article
            for item in self._list_items(rendered.list_items, fetched_at):  # no `yield from` in async
                yield item
            if rendered.next_page_url:
                yield self._list_page_request(rendered.next_page_url, article.article_id)
        state = self._state(article.article_id, response.url, rendered.site, thread, method="browser")
        state.browser_tried = True
        state.browser_stop = error or (expansion.stopped_by if expansion else "no page")
        state.end_reached = expansion is not None and expansion.exhausted and error is None
        # Follow-ups are the HTTP path's business; in a browser the clicks did that work.
        thread.follow_ups = []
        thread.end_reached = False
        thread.needs_browser = False
        for item in self._absorb(state, thread, fetched_at):
            yield item

    def _list_items(self, items: list, fetched_at: str) -> Iterator[Any]:
        for item in items:
            item.fetched_at = fetched_at
            yield item

    def _list_page_request(self, url: str, article_id: str) -> scrapy.Request:
        return scrapy.Request(
            url,
            callback=self.parse_list_page,
            errback=self.list_page_failed,
            cb_kwargs={"article_id": article_id},
        )

    def _read_page(self, response: Response, skip_reason: str) -> registry.Page | None:
        """The adapter's reading of an HTML page, or None (counted and logged) for anything else."""
        body = self._html_or_skip(response)
        if body is None:
            return None
        try:
            page = registry.parse_page(body, response.url, site=self.site)
        except (NotHTML, NotAnArticle) as exc:
            self._skip(response, skip_reason, str(exc))
            return None
        except Exception as exc:  # an adapter bug on an odd page: name the page, keep crawling the rest
            self.logger.exception("Adapter failed on %s", response.url)
            self._skip(response, "adapter_error", f"the adapter failed ({type(exc).__name__}: {exc})")
            return None
        self.crawler.stats.inc_value(f"{STATS}/site/{page.site}")
        return page

    def _click_plan(self, site: str):
        return registry.adapter_named(site).click_plan

    def parse_list_page(self, response: Response, article_id: str) -> Iterator[Any]:
        page = self._read_page(response, "not_list_page")
        if page is None:
            return
        self.crawler.stats.inc_value(f"{STATS}/list_pages")
        yield from self._list_items(page.list_items, _now())
        if page.next_page_url:
            yield self._list_page_request(page.next_page_url, article_id)

    def article_failed(self, failure) -> Iterator[Any]:
        self.crawler.stats.inc_value(f"{STATS}/request_error/article")
        self.crawler.stats.inc_value(f"{STATS}/targets_failed")
        self.logger.error("Article %s failed: %s", failure.request.url, failure.getErrorMessage())
        response = getattr(failure.value, "response", None)
        yield self.failed_fetch_item(failure.request, response.status if response is not None else 0)

    def list_page_failed(self, failure) -> None:
        self.crawler.stats.inc_value(f"{STATS}/request_error/list_page")
        self.logger.error("List page %s failed: %s", failure.request.url, failure.getErrorMessage())

    # -- the comment thread --------------------------------------------------------------------

    def _absorb(self, state: ThreadState, page: ThreadPage, fetched_at: str) -> list[Any]:
        """A thread page's comments, its follow-up requests and, when nothing is pending, the thread's
        ThreadItem.

        Returns a list, not a generator: Scrapy consumes a callback's output lazily, interleaved with
        other callbacks, and a thread whose follow-ups were not counted yet would look finished.
        """
        self.track_thread(state)
        if page.reported_total is not None:
            state.reported_total = page.reported_total
        state.end_reached |= page.end_reached
        state.needs_browser |= page.needs_browser
        output: list[Any] = []
        for comment in page.comments:
            comment.article_id = state.article_id
            comment.fetched_at = fetched_at
            state.seen.add(comment.comment_id)
            output.append(comment)
        by_id = {c.comment_id: c for c in page.comments}
        for follow_up in page.follow_ups:
            if (
                follow_up.kind == "full_text"
                and follow_up.key not in state.requested
                and not self.full_text_needed(state.article_id, by_id.get(follow_up.comment_id))
            ):
                state.requested.add(follow_up.key)  # decided once per run, like a request
                continue  # the stored full text is recent and the visible text unchanged
            request = self._follow_up_request(state, follow_up)
            if request is not None:
                output.append(request)
        output.extend(self._finish_if_done(state))
        return output

    def _follow_up_request(self, state: ThreadState, follow_up: FollowUp) -> scrapy.Request | None:
        if follow_up.key in state.requested or self.thread_over_time(state):
            return None
        if not state.admit(follow_up.key, follow_up.kind == "comments_page", self.max_pages):
            self.crawler.stats.inc_value(f"{STATS}/comments_page_cap_reached")
            return None
        self.crawler.stats.inc_value(f"{STATS}/follow_up/{follow_up.kind}")
        return scrapy.FormRequest(
            follow_up.url,
            formdata=follow_up.formdata,
            method=follow_up.method,
            callback=self.parse_follow_up,
            errback=self.follow_up_failed,
            cb_kwargs={"state": state, "follow_up": follow_up},
            dont_filter=True,
        )

    def _finish_if_done(self, state: ThreadState) -> list[Any]:
        if state.pending or state.finished:
            return []
        confirming = self.confirmation_requests(state)  # crawler/spiders/confirm.py
        if confirming:
            return confirming
        state.finished = True
        item = self.with_confirmations(state, state.item(_now()))
        if (
            item.complete is False
            and self.render == "auto"
            and not state.needs_browser
            and state.reported_total
            and not state.browser_tried
            and state.parse_lost is None
            and self._click_plan(state.site) is not None
        ):
            # The API path ended incomplete for a page that reports comments: the browser's turn.
            # Its own ThreadItem (over what the browser shows) replaces this one.
            self.crawler.stats.inc_value(f"{STATS}/auto_browser")
            self.logger.info(
                "Comments of %s incomplete over HTTP (%s): opening a browser", state.url, item.reason
            )
            return [self._auto_browser(state.url, state.site, state)]
        key = {True: "complete", False: "incomplete", None: "unread"}[item.complete]
        self.crawler.stats.inc_value(f"{STATS}/threads/{key}")
        self.crawler.stats.inc_value(f"{STATS}/comments_loaded", item.loaded)
        if item.complete is False:
            self.logger.warning("Comments of %s incomplete: %s", state.url, item.reason)
        elif item.complete is None:
            self.logger.info("Comments of %s not read: %s", state.url, item.reason)
        return [item]

    def parse_follow_up(self, response: Response, state: ThreadState, follow_up: FollowUp) -> list[Any]:
        state.pending -= 1
        try:
            page = registry.parse_answer(state.site, follow_up, response.body, state.article_id, response.url)
        except (BadAnswer, NotHTML) as exc:
            return self._failed(state, follow_up, str(exc))
        return self._absorb(state, page, _now())

    def follow_up_failed(self, failure) -> list[Any]:
        state: ThreadState = failure.request.cb_kwargs["state"]
        follow_up: FollowUp = failure.request.cb_kwargs["follow_up"]
        state.pending -= 1
        return self._failed(state, follow_up, failure.getErrorMessage())

    def _failed(self, state: ThreadState, follow_up: FollowUp, message: str) -> list[Any]:
        state.requests_failed += 1
        state.failures.append(f"{follow_up.key}: {message}")
        self.crawler.stats.inc_value(f"{STATS}/request_error/{follow_up.kind}")
        self.logger.error("Comment request %s for %s failed: %s", follow_up.key, state.url, message)
        return self._finish_if_done(state)


__all__ = ["ArgumentError", "ArticleSpider"]
