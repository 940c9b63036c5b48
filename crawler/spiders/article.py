"""`scrapy crawl article -a url=…`: an article page, then its whole comment thread.

The spider navigates only: the site adapter parses every answer and says which follow-up requests the
thread still needs (next comment page, more replies, full text of cut comments). The spider runs them,
counts answers and failures per article, and when an article's last follow-up is answered emits a
ThreadItem saying whether the thread was loaded completely.
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
from crawler.sites import boredpanda
from crawler.sites.boredpanda.article import NotAnArticle
from crawler.sites.boredpanda.comments import BadAnswer
from crawler.sites.html import NotHTML
from crawler.sites.profile import ProfileError
from crawler.sites.thread import FollowUp, ThreadPage
from crawler.spiders.args import ArgumentError, parse_choice, parse_targets
from crawler.spiders.comment_state import CommentRecheck
from crawler.spiders.conditional import ConditionalGet
from crawler.spiders.confirm import ThreadEnd
from crawler.spiders.rendering import BrowserPages, BrowserSite, profile_site
from crawler.spiders.thread_state import ThreadState

STATS = "article_spider"
#: api: comment API only; browser: every article page in Chromium; auto: Chromium only for pages
#: whose comments the adapter cannot load by API (a JavaScript-only comment block).
RENDER_MODES = ("api", "browser", "auto")


def _now() -> str:
    return iso(now_utc())


def _render_mode(render: str | None, profile: str | None) -> str:
    mode = parse_choice("render", render, RENDER_MODES, "browser" if profile else "api")
    if profile and mode != "browser":
        raise ArgumentError(f"-a profile={profile} reads pages in a browser: drop render={mode}")
    return mode


def _profile_site(profile: str) -> BrowserSite:
    try:
        return profile_site(profile)
    except ProfileError as exc:
        raise ArgumentError(str(exc)) from exc


class ArticleSpider(ThreadEnd, ConditionalGet, CommentRecheck, BrowserPages, scrapy.Spider):
    name = "article"

    def __init__(
        self,
        url: str | None = None,
        urls_file: str | None = None,
        render: str | None = None,
        profile: str | None = None,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self.targets = self.targets_from(url, urls_file)
        self.render = _render_mode(render, profile)
        if profile:
            # A site known only by its profile has no comment API we could call: browser only.
            self.browser_site = _profile_site(profile)
        # Hosts the user named may be anywhere (even loopback); see crawler.hostguard.
        self.user_hosts = {urlsplit(u).hostname for u in self.targets}
        # ... and on the port they named it with: (host, port) pairs, what the host guard trusts.
        self.user_origins = origins(self.targets)

    @classmethod
    def check_arguments(
        cls,
        url: str | None = None,
        urls_file: str | None = None,
        render: str | None = None,
        profile: str | None = None,
        settings=None,
        **_: Any,
    ) -> None:
        """Raise ArgumentError for arguments this spider cannot run with (used before start)."""
        cls.targets_from(url, urls_file)
        mode = _render_mode(render, profile)
        if profile:
            _profile_site(profile)
        if mode != "api" and settings is not None:
            try:
                playwright_settings(settings)
            except BrowserNotFound as exc:
                raise ArgumentError(str(exc)) from exc

    @classmethod
    def targets_from(cls, url: str | None, urls_file: str | None) -> list[str]:
        """The URLs to crawl, from the spider arguments."""
        return parse_targets(url, urls_file)

    @classmethod
    def from_crawler(cls, crawler, *args: Any, **kwargs: Any):
        spider = super().from_crawler(crawler, *args, **kwargs)
        if spider.render != "api":
            # Settings may still change here (Scrapy freezes them after the spider is built): only
            # crawls that use the browser load scrapy-playwright and launch Chromium.
            try:
                browser = playwright_settings(crawler.settings, spider.user_origins, crawler)
                crawler.settings.update(browser, priority="spider")
            except BrowserNotFound as exc:
                raise ArgumentError(str(exc)) from exc
            spider._browser_setup()
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
        self.logger.warning("Skipped %s: %s", response.url, detail)

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
        thread = page.thread(response.url)
        if thread.needs_browser and self.render == "auto":
            self.crawler.stats.inc_value(f"{STATS}/auto_browser")
            yield self.browser_request(response.url, self.parse_rendered, {"with_article": False})
            return
        state = ThreadState(article_id=page.article.article_id, url=response.url, tolerance=self.tolerance)
        yield from self._absorb(state, thread, fetched_at)

    def open_in_browser(self, response: Response) -> Iterator[Any]:
        yield self.browser_request(response.url, self.parse_rendered, {"with_article": True})

    async def parse_rendered(self, response: Response, with_article: bool) -> AsyncIterator[Any]:
        """A page rendered in Chromium: expand its comments, then read it with the site adapter."""
        if not self.host_allowed(response.url):
            # The page itself redirected to a private host nobody named: nothing of it is kept.
            await self._page_done(response.meta["playwright_page"], response.meta["playwright_context"])
            self.crawler.stats.inc_value("hostguard/refused/browser_private_host")
            self._skip(response, "private_host", "the browser was redirected to a private host nobody named")
            return
        html, expansion, error = await self.render_and_expand(response)
        try:
            rendered = self.browser_site.parse(html or "", response.url)
        except (NotHTML, NotAnArticle) as exc:
            self._skip(response, "not_article", str(exc))
            return
        fetched_at = _now()
        article, thread = rendered.article, rendered.thread
        if with_article:
            article.fetched_at = fetched_at
            self.crawler.stats.inc_value(f"{STATS}/articles")
            yield article
            for item in self._list_items(rendered.list_items, fetched_at):  # no `yield from` in async
                yield item
            if rendered.next_page_url:
                yield self._list_page_request(rendered.next_page_url, article.article_id)
        state = ThreadState(
            article_id=article.article_id, url=response.url, tolerance=self.tolerance, method="browser"
        )
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

    def _read_page(self, response: Response, skip_reason: str) -> boredpanda.ArticlePage | None:
        """The adapter's reading of an HTML page, or None (counted and logged) for anything else."""
        body = self._html_or_skip(response)
        if body is None:
            return None
        try:
            return boredpanda.parse_article_page(body, response.url)
        except (NotHTML, NotAnArticle) as exc:
            self._skip(response, skip_reason, str(exc))
            return None

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
        if follow_up.kind == "comments_page" and state.pages_requested >= self.max_pages:
            # A comment list that never ends (or a bug in the site) must not page forever.
            state.capped = True
            self.crawler.stats.inc_value(f"{STATS}/comments_page_cap_reached")
            return None
        if follow_up.kind == "comments_page":
            state.pages_requested += 1
        state.requested.add(follow_up.key)
        state.requests_total += 1
        state.pending += 1
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
        key = "complete" if item.complete else "incomplete"
        self.crawler.stats.inc_value(f"{STATS}/threads/{key}")
        self.crawler.stats.inc_value(f"{STATS}/comments_loaded", item.loaded)
        if not item.complete:
            self.logger.warning("Comments of %s incomplete: %s", state.url, item.reason)
        return [item]

    def parse_follow_up(self, response: Response, state: ThreadState, follow_up: FollowUp) -> list[Any]:
        state.pending -= 1
        try:
            page = boredpanda.parse_answer(follow_up, response.body, state.article_id, response.url)
        except BadAnswer as exc:
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
