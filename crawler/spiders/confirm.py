"""Confirming deletions and ending stalled threads: the article spider's thread-end helpers.

A comment that a complete load did not show is only a *candidate* for deletion (a page shift while the
thread was paged hides live comments; the completeness tolerance lets some pass). Before a thread's
ThreadItem is emitted, the spider asks the site about each stored, live comment the load missed, with
the single-comment request of the recipe that paged the thread (its `confirm` part: the Bored Panda
seed recipe has one, crawler/sites/boredpanda/recipe.json); the store deletes only those the site
says are gone. One comment
the load did show is asked too, as a control: if the site says that one is gone as well, the answers
mean nothing (an endpoint change) and every candidate stays live.

Also here: the per-thread time limit (COMMENTS_THREAD_TIME_LIMIT) and the ThreadItems of threads still
loading when the crawl stops (Ctrl+C, SIGTERM, CLOSESPIDER_TIMEOUT), recorded as incomplete.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass, field
from typing import Any

import scrapy
from scrapy.http import Response

from crawler.items import CommentItem, ThreadItem
from crawler.recipes.execute import confirm_call, gone_statuses, read_confirmation
from crawler.store import resolve_db_path

STATS = "article_spider/confirm"


@dataclass
class Confirmation:
    asked: bool = False
    control: str | None = None
    control_ok: bool | None = None
    gone: dict[str, str | None] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)


class ThreadEnd:
    """Mixin for ArticleSpider: deletion confirmation, thread time limit, unfinished threads."""

    def _confirmations(self) -> dict[str, Confirmation]:
        if not hasattr(self, "_confirm_state"):
            self._confirm_state: dict[str, Confirmation] = {}
            self._open_threads: dict[str, Any] = {}
            self._handed_over: dict[str, Any] = {}
        return self._confirm_state

    def track_thread(self, state) -> None:
        """Called whenever a thread gets a page: remembers it until its ThreadItem is out."""
        self._confirmations().setdefault(state.article_id, Confirmation())
        if not state.finished:
            self._open_threads[state.article_id] = state

    def hand_to_browser(self, state) -> None:
        """`state`'s load is given up for the browser's (a failing recipe): the browser's ThreadItem is
        the article's record. Until it is out, the load is kept for the crawl's end: should the
        browser never read the article, what the load held back is stored then."""
        self._confirmations()
        self._open_threads.pop(state.article_id, None)
        self._handed_over[state.article_id] = state

    # -- per-thread time limit -------------------------------------------------------------------

    def thread_over_time(self, state) -> bool:
        """True (and the thread marked stopped) once a thread has loaded longer than its limit."""
        limit = self.settings.getfloat("COMMENTS_THREAD_TIME_LIMIT", 0)
        started = self._confirmations().setdefault(state.article_id, Confirmation()).started
        if limit <= 0 or time.monotonic() - started <= limit:
            return False
        if not state.stopped_by:
            state.stopped_by = f"thread time limit reached (COMMENTS_THREAD_TIME_LIMIT={limit:g} s)"
            self.crawler.stats.inc_value("article_spider/thread_time_limit")
        return True

    # -- confirmation ----------------------------------------------------------------------------

    def confirmation_requests(self, state) -> list[scrapy.Request]:
        """Requests asking the site about comments this complete load missed; [] when none are needed
        (then the thread may finish)."""
        confirmation = self._confirmations().setdefault(state.article_id, Confirmation())
        if confirmation.asked or self.confirming_recipe(state) is None or state.reason() is not None:
            return []
        confirmation.asked = True
        live = self._stored_live_ids(state.article_id)
        missing = sorted(live - state.seen)
        if not missing or not state.seen:
            return []
        mass = self.settings.getfloat("MONITOR_MASS_DELETE", 0.3)
        if len(missing) > 5 and len(missing) > len(live) * mass:
            return []  # the store warns about a vanished half-thread; no point asking 600 times
        limit = self.settings.getint("COMMENTS_CONFIRM_MAX", 100)
        self.crawler.stats.inc_value(f"{STATS}/candidates", len(missing))
        confirmation.control = sorted(state.seen)[0]
        return [self._confirm_request(state, cid) for cid in [confirmation.control, *missing[:limit]]]

    def _stored_live_ids(self, article_id: str) -> set[str]:
        path = resolve_db_path(self.settings.get("SQLITE_PATH"))
        if not path.exists():
            return set()
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
        try:
            rows = conn.execute(
                "SELECT comment_id FROM comments WHERE article_id = ? AND status = 'live'", [article_id]
            )
            return {row[0] for row in rows}
        except sqlite3.Error:
            return set()
        finally:
            conn.close()

    def confirming_recipe(self, state) -> dict | None:
        """The recipe with a single-comment request for this thread (crawler/spiders/recipes.py)."""
        return None

    def confirm_tokens(self, state) -> dict | None:
        """The page tokens its single-comment request carries (crawler/spiders/recipes.py)."""
        return None

    def _confirm_request(self, state, comment_id: str) -> scrapy.Request:
        recipe = self.confirming_recipe(state)
        call = confirm_call(recipe, state.url, comment_id, self.confirm_tokens(state))
        state.pending += 1
        self.crawler.stats.inc_value(f"{STATS}/requests")
        headers = {"Content-Type": call.content_type} if call.content_type else {}
        headers.update(call.headers)  # the recipe's headers and the page's header tokens (a CSRF header)
        return scrapy.Request(
            call.url,
            method=call.method,
            body=call.body,
            headers=headers,
            callback=self.parse_confirmation,
            errback=self.confirmation_failed,
            cb_kwargs={"state": state, "call": call, "comment_id": comment_id},
            meta={"handle_httpstatus_list": gone_statuses(recipe)},
            dont_filter=True,
        )

    def parse_confirmation(self, response: Response, state, call, comment_id: str) -> list[Any]:
        state.pending -= 1
        confirmation = self._confirmations()[state.article_id]
        recipe = self.confirming_recipe(state)
        gone, comments = read_confirmation(recipe, call, response.status, response.body, state.url)
        output: list[Any] = []
        if comment_id == confirmation.control:
            confirmation.control_ok = gone is False
        elif gone:
            confirmation.gone[comment_id] = None
            self.crawler.stats.inc_value(f"{STATS}/gone")
        elif gone is False and comments:
            # Still there (a page shift hid it): it is seen, with what the site shows now.
            self.crawler.stats.inc_value(f"{STATS}/present")
            fetched_at = _now()
            for comment in comments:
                comment.article_id = state.article_id
                comment.fetched_at = fetched_at
                state.seen.add(comment.comment_id)
                output.append(comment)
        else:
            self.crawler.stats.inc_value(f"{STATS}/unknown")
        return output + self._finish_if_done(state)

    def confirmation_failed(self, failure) -> list[Any]:
        state = failure.request.cb_kwargs["state"]
        state.pending -= 1
        self.crawler.stats.inc_value(f"{STATS}/unknown")
        self.logger.warning(
            "Confirmation %s failed: %s", failure.request.cb_kwargs["comment_id"], failure.getErrorMessage()
        )
        return self._finish_if_done(state)

    def with_confirmations(self, state, item: ThreadItem) -> ThreadItem:
        """The thread's item with what the site said about the missing comments."""
        self._confirmations()  # (creates the book-keeping of a thread that never got a page)
        self._open_threads.pop(state.article_id, None)
        self._handed_over.pop(state.article_id, None)
        confirmation = self._confirmations().get(state.article_id)
        item.direct_check = self.confirming_recipe(state) is not None
        if confirmation and confirmation.control_ok:
            item.confirmed_gone = dict(confirmation.gone)
        elif confirmation and confirmation.gone:
            self.logger.warning(
                "Comments of %s: the single-comment request says a comment the thread shows is gone; "
                "%d deletion candidates stay live",
                state.url,
                len(confirmation.gone),
            )
        item.loaded = len(state.seen)
        item.seen_ids = sorted(state.seen)
        return item

    # -- threads the crawl did not finish --------------------------------------------------------

    def held_replies(self, state) -> list[CommentItem]:
        """Comments a thread holds back until their parent comes (crawler/spiders/recipes.py)."""
        return []

    def unfinished_thread_items(self, reason: str) -> list[CommentItem | ThreadItem]:
        """For each thread still loading when the spider closed: the comments it fetched but held back
        (replies of a flat list waiting for a parent the crawl no longer gets: at the depth the crawl
        can vouch for, like a parent that never comes), then its ThreadItem, incomplete. The store
        pipeline stores them after the crawl's last callback (crawler/pipelines/store.py). The same
        for a load handed to the browser that never read the article (hand_to_browser)."""
        self._confirmations()
        items: list[CommentItem | ThreadItem] = []
        stopped = f"the crawl stopped before the thread was loaded ({reason})"
        handed = f"the browser a failing recipe handed the thread to did not read it ({reason})"
        threads = [(state, stopped) for state in self._open_threads.values() if not state.finished]
        threads += [(state, handed) for state in self._handed_over.values()]
        for state, why in threads:
            state.stopped_by = state.stopped_by or why
            items += self.held_replies(state)
            state.finished = True
            item = state.item(_now())
            item.complete = False
            items.append(item)
        self._open_threads, self._handed_over = {}, {}
        return items


def _now() -> str:
    from crawler.dates import iso, now_utc

    return iso(now_utc())
