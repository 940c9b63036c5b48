"""Learned comment APIs in the article spider: page a recipe over plain HTTP, learn it in the browser.

- **Use**: an article whose URL matches a stored, active recipe (host and path prefix of the page it
  was learned on) is read by the recipe's reader (the Bored Panda adapter or a profile) and its thread
  paged over plain HTTP with the recipe, through the same ThreadState accounting as the API path.
  A page whose site ships a *seed* recipe (Bored Panda: crawler/sites/boredpanda/recipe.json, the
  hand-written contract) and has no learned one is paged with the seed, the same way; the seed is
  written to site_apis on first use (so `crawler apis` shows it, its uses count and it is re-checked),
  and a recipe learned for the site replaces it. A recipe's `confirm` part (the seed's single-comment
  request) confirms deletions (crawler/spiders/confirm.py).
- **Check**: each use compares the recipe with what the page shows, one rule for seed and learned
  recipes alike, whatever the API's page size and order: once the thread's paging is complete, every
  top-level comment the page showed must be among those the recipe's comment pages listed (a learned
  recipe asks again for the page the article shows, and its answer must hold the same ids; a seed
  starts at the list's first page). An answer of another shape, a request that still fails after
  Scrapy's retries (any request of the thread, whatever answered before it; a rate limit only leaves
  the thread incomplete), ids that disagree or a cursor that repeats marks the recipe `stale`; the
  article then falls back to the browser in the same run (where the recipe is learned again) and
  the run's warnings say so, once per thread. A crawl that may page a seed keeps a browser ready
  too, fresh database included (recipes_want_browser); without one the thread is recorded
  incomplete with the warning. The failed load emits no ThreadItem (or an incomplete one, without a
  browser), so it can never mark a comment deleted. Every RECIPES_RECHECK_EVERY uses, one article
  of the site is re-read in the browser (which stores its thread) while the recipe pages the same
  article in the background (storing nothing); the two sets of comment ids are compared: agreement
  sets verified_at, a disagreement marks the recipe stale with a warning (and re-learns it from that
  browser page).
- **Learn**: a browser page requested with recording on (crawler.browser.record) hands its exchanges,
  the page as served and the expanded DOM to crawler.recipes.learn; the result is stored in site_apis.
- **Safety**: a recipe only calls the article's own host or hosts the learned page itself called, and
  only those the host guard allows; parameters that look like credentials are not stored (setting).
"""

from __future__ import annotations

import math
import time
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy.http import Response

from crawler.dates import iso, now_utc
from crawler.items import ThreadItem
from crawler.politeness import PAUSING_STATUSES
from crawler.recipes import store
from crawler.recipes.execute import (
    Call,
    RecipeFailure,
    article_key,
    first_calls,
    page_values,
    path_pattern,
    read_answer,
    shown_to_list,
)
from crawler.recipes.induce import InductionError
from crawler.recipes.learn import learn, read_comments
from crawler.sites import registry
from crawler.sites.errors import NotAnArticle, NotHTML
from crawler.sites.profile import ProfileError
from crawler.store import resolve_db_path

STATS = "recipes"


def _now() -> str:
    return iso(now_utc())


#: in a stale_reason: the recipe failed because its requests did (not for what it read)
REQUEST_FAILED = "request failed"


class LearnedApis:
    """Mixin for the article spider (see the module docstring)."""

    def _recipes_setup(self, settings) -> None:
        self.recipes_enabled = settings.getbool("RECIPES_ENABLED", True)
        self.recipes_learn = settings.getbool("RECIPES_LEARN", True)
        self.recipes_recheck_every = settings.getint("RECIPES_RECHECK_EVERY", 20)
        self.recipes_allow_credentials = settings.getbool("RECIPES_ALLOW_CREDENTIALS", False)
        self.recipes_db = resolve_db_path(settings.get("SQLITE_PATH"))
        self.recipe_rows: list[dict[str, Any]] = []
        if self.recipes_enabled and self.recipes_db.exists():
            self.recipe_rows = store.load_recipes(self.recipes_db)
        #: a site's shipped seed recipe, as a row (see seed_row); used without SQLite too (workers)
        self.seed_rows: dict[str, dict[str, Any] | None] = {}
        #: the row whose recipe pages each article's thread (deletion confirmation asks its `confirm`)
        self.thread_rows: dict[str, dict[str, Any]] = {}
        #: browser re-checks in flight, by URL: both sides' comment ids, then the verdict
        self.rechecks: dict[str, dict[str, Any]] = {}
        self.served_pages: dict[str, str] = {}
        self.recipe_sites_used: set[str] = set()
        self.recipe_sites_rechecked: set[str] = set()
        self.browser_ready = False

    def recipes_want_browser(self) -> bool:
        """A recipe may fail and send its article to the browser: have one ready (it starts lazily).

        A stored recipe, or a site's seed recipe (Bored Panda's), which pages that site's threads even
        on a fresh database, before site_apis holds anything: its first failure falls back too."""
        if not self.recipes_enabled:
            return False
        if self.recipe_rows:
            return True
        forced = getattr(self, "site", None)
        if forced:
            return registry.seed_recipe(forced) is not None
        return any(adapter.seed_recipe is not None for adapter in registry.ADAPTERS)

    @staticmethod
    def lazy_browser_settings(browser: dict) -> dict:
        """Browser settings for a fallback that may never happen: Playwright starts on first use."""
        from crawler.browser.lazy import HANDLER

        handlers = {**browser["DOWNLOAD_HANDLERS"], "http": HANDLER, "https": HANDLER}
        return {**browser, "DOWNLOAD_HANDLERS": handlers}

    def _warn(self, message: str) -> None:
        warnings = self.crawler.stats.get_value("run/warnings") or []
        self.crawler.stats.set_value("run/warnings", [*warnings, message])
        self.logger.warning(message)

    def record_exchanges(self, url: str) -> bool:
        """Record the page's requests in the browser: to learn a site without an active recipe (or
        whose recipe just failed). A site with a working recipe is not re-learned on every page; its
        re-checks (RECIPES_RECHECK_EVERY) ask for recording themselves."""
        return self.recipes_learn and self.recipe_for(url) is None

    def remember_served(self, response: Response) -> None:
        """Keep the page as plain HTTP served it: learning needs it (what a later crawl starts from)."""
        if self.recipes_learn and hasattr(response, "text"):
            self.served_pages[response.url] = response.text

    # -- use ----------------------------------------------------------------------------------------

    def recipe_for(self, url: str) -> dict[str, Any] | None:
        if not self.recipes_enabled:
            return None
        row = store.matching(self.recipe_rows, url)
        if row is None:
            return None
        if row["status"] == "active" or self._retry_stale(row):
            return row
        return None

    def _retry_stale(self, row: dict) -> bool:
        """A learned recipe made stale only by requests that failed (HTTP errors, the network: the
        site's fault may have passed) is tried again by a later run that has no browser to re-learn it
        (with one, the article goes to the browser and the recipe is re-learned there). Used like any
        recipe, checked against the page like any use: a complete thread with at least one answer
        makes it active again (_reactivate_if_whole), another failure leaves it stale for the rest of
        the run. A recipe stale for what it read (ids that disagree, answers of another shape, a
        browser re-check that saw other comments) is never tried again: it would page a thread as
        complete without comments the site shows, and mark them deleted."""
        return (
            not self.browser_ready
            and not row.get("seed")
            and row["status"] == "stale"
            and not row.get("failed_in_run")
            and REQUEST_FAILED in (row.get("stale_reason") or "")
        )

    def _hosts_allowed(self, row: dict, url: str) -> bool:
        recipe, page_host = row["recipe"], urlsplit(url).netloc
        for role in ("comments", "replies", "full_text"):
            endpoint = recipe.get(role)
            if not endpoint or endpoint.get("same_host"):
                continue
            host = endpoint["host"]
            # only hosts the learned page itself called, and only those the host guard allows
            if host != page_host and (
                host not in recipe.get("hosts", [])
                or not self.host_allowed(f"{endpoint['scheme']}://{host}/")
            ):
                self.crawler.stats.inc_value(f"{STATS}/refused_host")
                return False
        return True

    def recipe_article(self, response: Response) -> list[Any] | None:
        """Everything the article spider yields for this page when a learned recipe pages its thread,
        or None (the page is then read by its adapter, and a seed recipe may page it: seed_thread)."""
        row = self.recipe_for(response.url)
        if row is None or not self._hosts_allowed(row, response.url):
            return None
        recipe, site = row["recipe"], row["site"]
        if self.site and self.site not in (site, recipe.get("reader")):
            return None  # the user forced another adapter for these pages
        body = self._html_or_skip(response)
        if body is None:
            return []
        try:
            page = registry.parse_page(body, response.url, site=recipe.get("reader") or site)
            article_key(recipe, body, response.url)
        except (NotHTML, NotAnArticle, ProfileError, RecipeFailure):
            # not a page of the kind the recipe was learned on (another section of the host, a page
            # without a thread): the registry's own reading applies, and the recipe is not at fault
            self.crawler.stats.inc_value(f"{STATS}/not_applicable/{site}")
            return None
        article = page.article
        fetched_at = _now()
        article.fetched_at = fetched_at
        self.crawler.stats.inc_value("article_spider/articles")
        self.crawler.stats.inc_value(f"article_spider/site/{page.site}")
        output: list[Any] = [self.fetch_item(response, article.article_id), article]
        output += self._list_items(page.list_items, fetched_at)
        if page.next_page_url:
            output.append(self._list_page_request(page.next_page_url, article.article_id))
        return output + self.recipe_thread(response, row, page, body, fetched_at)

    def seed_row(self, site: str) -> dict[str, Any] | None:
        """The row of `site`'s seed recipe (the adapter ships it), or None. Its status and uses are the
        stored seed row's when site_apis holds one; written there on first use (`_count_use`)."""
        if site not in self.seed_rows:
            recipe = registry.seed_recipe(site)
            stored = next((r for r in self.recipe_rows if r["site"] == site), None)
            self.seed_rows[site] = (
                None
                if recipe is None
                else {
                    "site": site,
                    "recipe": recipe,
                    "seed": True,
                    # the stored row is the seed's own (not a learned recipe of the site): it counts
                    "stored": stored is not None and bool(stored["recipe"].get("seed")),
                    "other_row": stored is not None and not stored["recipe"].get("seed"),
                    "status": "active",
                    # the stored seed row's own status: a stale one is made active by a complete thread
                    "stored_status": stored["status"] if stored and stored["recipe"].get("seed") else None,
                    "uses": stored.get("uses") or 0 if stored and stored["recipe"].get("seed") else 0,
                }
            )
        return self.seed_rows[site]

    def seed_thread(self, response: Response, page, fetched_at: str) -> list[Any] | None:
        """The thread of a page its adapter read (`page`), paged with the site's seed recipe, or None
        (no seed, a forced other reader, or a page the seed does not apply to: no article key)."""
        row = self.seed_row(page.site)
        if row is None or not hasattr(response, "text"):
            return None
        try:
            article_key(row["recipe"], response.text)
        except RecipeFailure:
            return None  # no post id: only a browser can load it (the adapter says so)
        return self.recipe_thread(response, row, page, response.text, fetched_at)

    def recipe_thread(self, response: Response, row: dict, page, body: str, fetched_at: str) -> list[Any]:
        """The page's comments and the recipe's first requests (or a browser re-check of the article)."""
        recipe, site = row["recipe"], row["site"]
        article, thread = page.article, page.thread
        state = self._state(article.article_id, response.url, page.site, thread, method="recipe")
        state.reported_total = thread.reported_total
        state.abandoned = False  # type: ignore[attr-defined]
        state.broken = False  # type: ignore[attr-defined]  # the recipe failed this load (_recipe_broken)
        state.shadow = False  # type: ignore[attr-defined]
        state.answers = 0  # type: ignore[attr-defined]
        state.listed = set()  # type: ignore[attr-defined]  # top-level ids the recipe's pages listed
        state.must_list = set()  # type: ignore[attr-defined]  # ...and those of the page they must hold
        state.list_judged = False  # type: ignore[attr-defined]
        self.thread_rows[article.article_id] = row
        self.crawler.stats.inc_value(f"{STATS}/used/{site}")
        if row.get("seed"):
            self.crawler.stats.inc_value(f"{STATS}/seed/{site}")
        self._count_use(row)
        if self._recheck_due(row) and self.browser_ready:
            return self._recheck(response, row, state, thread, body)
        # kept until the thread is done: a recipe that fails sends the page to the browser to re-learn
        self.served_pages[response.url] = body
        try:
            calls = first_calls(recipe, body, response.url, thread.comments, page_ended=thread.end_reached)
            # the article page's tokens, for the deletion confirmations at the thread's end as well
            state.page_values = page_values(recipe, body)  # type: ignore[attr-defined]
        except RecipeFailure as exc:
            return self._recipe_broken(state, row, str(exc))
        state.must_list = shown_to_list(calls)
        if not any(c.role == "comments" for c in calls) and recipe["comments"].get("only_if_more"):
            state.end_reached = True  # the page shows the whole top-level list
        return self._absorb_recipe(
            state, row, thread.comments, calls, end=False, total=None, fetched_at=fetched_at
        )

    def _count_use(self, row: dict) -> None:
        site = row["site"]
        if site in self.recipe_sites_used:
            return
        self.recipe_sites_used.add(site)
        if not self.recipes_enabled or row.get("other_row"):
            return  # no SQLite (workers), or the site's row is a learned recipe (stale or elsewhere)
        if row.get("seed") and not row.get("stored"):
            store.save_seed(self.recipes_db, row["recipe"])
            row["stored"] = True
        store.count_use(self.recipes_db, site)

    # -- the periodic browser re-check --------------------------------------------------------------

    def _recheck(self, response: Response, row: dict, state, thread, body: str) -> list[Any]:
        """The article read in the browser (which stores its thread) while the recipe pages it in the
        background, storing nothing: the two id sets are compared when both are in (_recheck_verdict)."""
        site = row["site"]
        self.recipe_sites_rechecked.add(site)
        self.crawler.stats.inc_value(f"{STATS}/rechecks")
        self.rechecks[response.url] = {"row": row}
        self.served_pages[response.url] = body
        request = self._browser_for(response.url, row["recipe"], with_article=False)
        request.meta["pandawatch_record"] = True
        request.meta["pandawatch_recheck"] = True
        state.shadow = True  # type: ignore[attr-defined]
        state.finished = False
        try:
            calls = first_calls(row["recipe"], body, response.url, thread.comments, thread.end_reached)
        except RecipeFailure as exc:
            return [request, *self._recipe_broken(state, row, str(exc))]
        state.must_list = shown_to_list(calls)
        return [request, *self._absorb_recipe(state, row, thread.comments, calls, False, None, _now())]

    def _recheck_side(self, url: str, side: str, value: Any) -> None:
        check = self.rechecks.get(url)
        if check is None or side in check:
            return
        check[side] = value
        if "recipe" in check and "browser" in check:
            self._recheck_verdict(url, check)

    def _recheck_verdict(self, url: str, check: dict) -> None:
        """Compare the ids the recipe got with the ids the browser showed for the same article."""
        row, site = check["row"], check["row"]["site"]
        recipe_ids, browser_ids = check["recipe"], check["browser"]
        learned = check.get("learned")
        if recipe_ids is None or browser_ids is None:
            # the recipe failed (already stale and warned) or the browser did not get the whole thread
            self.crawler.stats.inc_value(f"{STATS}/recheck_inconclusive")
            if recipe_ids is None and learned is not None:
                self._store_learned(learned, url, check.get("seconds"), previous=None)
            return
        only_recipe, only_browser = recipe_ids - browser_ids, browser_ids - recipe_ids
        allowed = math.floor(len(browser_ids) * self.tolerance)
        if len(only_recipe) + len(only_browser) <= allowed:
            if self.recipes_enabled and (row.get("stored") or not row.get("seed")):
                store.mark_verified(self.recipes_db, site)
            row["uses"] = 0
            self.crawler.stats.inc_value(f"{STATS}/verified/{site}")
            if learned is not None and not _agrees(row["recipe"], learned):
                # the same comments through another request: the browser's way is the site's now
                self._store_learned(learned, url, check.get("seconds"), previous=row)
            return
        reason = (
            f"the browser re-check of {url} disagrees: {len(only_browser)} comment(s) only in the browser, "
            f"{len(only_recipe)} only from the recipe, of {len(browser_ids)}"
        )
        self.crawler.stats.inc_value(f"{STATS}/recheck_disagreed/{site}")
        self._mark_stale(row, reason)
        self._warn(
            f"comment recipe of {site} is stale ({reason}); nothing was deleted, the browser's thread kept"
        )
        if learned is not None:
            self._store_learned(learned, url, check.get("seconds"), previous=None)
            self._warn(f"comment recipe of {site} re-learned from {url}")

    def _mark_stale(self, row: dict, reason: str) -> None:
        site = row["site"]
        row["failed_in_run"] = True  # not made active again by another thread of this run
        if row["status"] == "active":
            row["status"] = "stale"
            self.crawler.stats.inc_value(f"{STATS}/stale")
            if self.recipes_enabled and not row.get("other_row"):
                if row.get("seed") and not row.get("stored"):
                    store.save_seed(self.recipes_db, row["recipe"])
                    row["stored"] = True
                store.mark_stale(self.recipes_db, site, reason)
        if row.get("seed"):
            # the seed is the site's known contract: tried again next time (a learned recipe replaces it)
            row["status"] = "active"

    def _recheck_due(self, row: dict) -> bool:
        every = self.recipes_recheck_every
        return (
            every > 0 and row["site"] not in self.recipe_sites_rechecked and (row.get("uses") or 0) >= every
        )

    def _recipe_request(self, state, row: dict, call: Call) -> scrapy.Request | None:
        if call.key in state.requested or self.thread_over_time(state):
            return None
        if call.role == "full_text" and (
            state.shadow or not self.full_text_needed(state.article_id, _comment_of(call))
        ):
            # a re-check compares ids only; a stored full text that is recent and whose visible part
            # is unchanged is not fetched again (crawler/spiders/comment_state.py)
            state.requested.add(call.key)
            return None
        if not state.admit(call.key, call.role == "comments", self.max_pages):
            self.crawler.stats.inc_value("article_spider/comments_page_cap_reached")
            return None
        self.crawler.stats.inc_value(f"{STATS}/requests/{call.role}")
        if not state.shadow:
            # the same counters as every comment request of a thread (comment pages, replies, full texts)
            self.crawler.stats.inc_value(f"article_spider/follow_up/{FOLLOW_UP_KIND[call.role]}")
        headers = {"Content-Type": call.content_type} if call.content_type else {}
        headers["Accept"] = "application/json, text/html;q=0.9, */*;q=0.8"
        headers.update(call.headers)  # what the page's own script sent (its Accept, X-Requested-With)
        return scrapy.Request(
            call.url,
            method=call.method,
            body=call.body,
            headers=headers,
            callback=self.parse_recipe_answer,
            errback=self.recipe_call_failed,
            cb_kwargs={"state": state, "row": row, "call": call},
            dont_filter=True,
        )

    def _absorb_recipe(self, state, row, comments, calls, end: bool, total, fetched_at: str) -> list[Any]:
        """Like the article spider's _absorb: comments and requests first, the ThreadItem last.

        A re-check's background load (`state.shadow`) keeps the ids it got and emits nothing."""
        if total is not None:
            state.reported_total = total
        state.end_reached |= end
        if not state.shadow:
            self.track_thread(state)
        output: list[Any] = []
        for comment in comments:
            comment.article_id = state.article_id
            comment.fetched_at = fetched_at
            state.seen.add(comment.comment_id)
        if not state.shadow:
            # a flat list's reply before its parent waits for it (ThreadState.place): its depth
            output += state.place(comments)
        for call in calls:
            request = self._recipe_request(state, row, call)
            if request is not None:
                output.append(request)
        if not state.pending and not state.finished:
            broken = self._listing_verdict(state, row)
            if broken is not None:
                return output + broken
        if state.shadow:
            if not state.pending and not state.finished:
                state.finished = True
                # only a load that got to the end says which ids the recipe gets
                whole = state.end_reached and not (state.requests_failed or state.capped or state.stopped_by)
                self._recheck_side(state.url, "recipe", set(state.seen) if whole else None)
            return output
        if not state.pending and not state.finished:
            output += self.held_replies(state)
        done = self._finish_if_done(state)
        if done:
            self.served_pages.pop(state.url, None)
            self._reactivate_if_whole(state, row, done)
        output.extend(done)
        return output

    def held_replies(self, state) -> list[Any]:
        """Replies still waiting for a parent once every answer of the thread is in (nothing pending,
        so no answer order decides it) or the crawl stops (confirm.unfinished_thread_items): the
        parent never came. Emitted before the ThreadItem, at the depth ThreadState.unplaced_rest can
        vouch for, counted and reported."""
        if not state.unplaced:
            return []
        stored = set(self.stored_comment_state(state.article_id))
        orphans = state.unplaced_rest(stored)
        self.crawler.stats.inc_value(f"{STATS}/depth_unknown", len(orphans))
        self._warn(
            f"{len(orphans)} comment(s) of {state.url} reply to a comment the site's answers never held: "
            "the depth stored before is kept, or 1 for one new (the least a reply has)"
        )
        return orphans

    def _reactivate_if_whole(self, state, row: dict, done: list[Any]) -> None:
        """A stale seed (tried again after its failure), or a stale learned recipe tried again without
        a browser (_retry_stale), that paged a complete thread is active again: the site's fault has
        passed, and `crawler apis` should not go on calling it stale."""
        stale_seed = row.get("seed") and row.get("stored_status") == "stale"
        retried = not row.get("seed") and row["status"] == "stale"
        if not ((stale_seed or retried) and self.recipes_enabled):
            return
        if row.get("failed_in_run"):
            return
        if state.method != "recipe" or not getattr(state, "answers", 0):
            return  # a thread the page showed whole says nothing of the API
        if not any(isinstance(i, ThreadItem) and i.complete for i in done):
            return
        store.mark_active(self.recipes_db, row["site"])
        row["stored_status"] = row["status"] = "active"
        self.crawler.stats.inc_value(f"{STATS}/reactivated/{row['site']}")
        self.logger.info("Comment recipe of %s works again (%s): active", row["site"], state.url)

    def _listing_verdict(self, state, row: dict) -> list[Any] | None:
        """Once a thread's paging is complete (nothing pending: judged by the requests answered, not by
        the order items arrive in): every top-level comment the page itself showed must be among those
        the recipe's comment pages listed (execute.shown_to_list). None when that holds or cannot be
        judged (the paging stopped early, the recipe starts after the page's comments); else the recipe
        is broken: stale, the article to the browser (or incomplete without one), nothing deleted."""
        if state.list_judged or not state.must_list:
            return None
        state.list_judged = True
        if not state.end_reached or state.requests_failed or state.capped or state.stopped_by:
            return None
        missing = state.must_list - state.listed
        if not missing:
            return None
        self.crawler.stats.inc_value(f"{STATS}/unlisted_shown/{row['site']}", len(missing))
        reason = (
            f"{len(missing)} of the {len(state.must_list)} comments the page shows are not among the "
            f"{len(state.listed)} its comment pages listed (first: {sorted(missing)[0]})"
        )
        return self._recipe_broken(state, row, reason)

    def parse_recipe_answer(self, response: Response, state, row: dict, call: Call) -> list[Any]:
        state.pending -= 1
        if state.abandoned:
            return []
        try:
            # its headers too: a Link header may name the next page, a count header the total
            answer = read_answer(
                row["recipe"], call, response.body, state.url, state.depths, response.headers
            )
        except RecipeFailure as exc:
            return self._recipe_broken(state, row, f"{call.role} answer: {exc}")
        except Exception as exc:  # a bug of ours must not leave the thread pending
            # read_answer turns every answer that does not fit into RecipeFailure; anything else is a
            # bug here, and the article must still get its comments: the browser reads it
            self.crawler.stats.inc_value(f"{STATS}/answer_crashed")
            self.logger.warning("Reading a %s answer of %s failed", call.role, state.url, exc_info=True)
            return self._recipe_broken(state, row, f"{call.role} answer: {type(exc).__name__}: {exc}")
        if call.role == "comments" and answer.top_ids:
            # every comment of this page came in an earlier page of the recipe: the paging parameter
            # is not honoured (the page's own comments may come again: an API may order differently)
            if set(answer.top_ids) <= state.listed:
                return self._recipe_broken(state, row, "a comment page repeats comments already loaded")
            state.listed.update(answer.top_ids)
        state.answers += 1
        return self._absorb_recipe(
            state, row, answer.comments, answer.calls, answer.end_reached, answer.reported_total, _now()
        )

    def recipe_call_failed(self, failure) -> list[Any]:
        kwargs = failure.request.cb_kwargs
        state, row, call = kwargs["state"], kwargs["row"], kwargs["call"]
        state.pending -= 1
        if state.abandoned:
            return []
        response = getattr(failure.value, "response", None)
        reason = f"HTTP {response.status}" if response is not None else failure.getErrorMessage()
        if not state.shadow:
            self.crawler.stats.inc_value(f"article_spider/request_error/{FOLLOW_UP_KIND[call.role]}")
        self.logger.error("Comment request %s for %s failed: %s", call.key, state.url, reason)
        if response is not None and _asks_to_wait(response):
            # the site asks us to come back later (still so after the retries RETRY_AFTER_MAX allows):
            # nothing says the recipe no longer fits, and the browser would call the same site. One
            # failed request: the thread is incomplete (so nothing is deleted), the recipe stays.
            self.crawler.stats.inc_value(f"{STATS}/asked_to_wait")
            state.requests_failed += 1
            state.failures.append(f"{call.role} {call.url}: {reason}, the site asks to wait")
            return self._absorb_recipe(state, row, [], [], False, None, _now())
        # One rule for every other failure, whichever request it hits (a comment page, replies, a full
        # text) and whatever answered before it: Scrapy interleaves answers, so "after some answers"
        # is evidence of nothing. A 5xx (or a 408) gets here only after RetryMiddleware's retries: the
        # recipe does not work for this run. A 404/410 on one comment's full text may mean that comment
        # was deleted meanwhile; it fails the recipe all the same (the conservative side): the browser
        # re-reads the article, or the thread is incomplete, so no deletion is judged from this load
        # (the next complete load asks the site about that comment).
        return self._recipe_broken(state, row, f"{call.role} {REQUEST_FAILED}: {reason}")

    def _recipe_broken(self, state, row: dict, reason: str) -> list[Any]:
        """The recipe no longer fits the site: stale; the article goes to the browser if one is ready.

        Once per thread: a later failure of the same load (only one without a browser goes on) is
        one more failed request of an incomplete thread, neither a second verdict nor a second
        warning, so the outcome is the same whichever of its failures comes first."""
        site = row["site"]
        if state.broken:
            state.requests_failed += 1
            state.failures.append(f"recipe {site}: {reason}")
            return self._absorb_recipe(state, row, [], [], False, None, _now())
        state.broken = True  # type: ignore[attr-defined]
        self.crawler.stats.inc_value(f"{STATS}/failed/{site}")
        self._mark_stale(row, reason)
        if state.shadow:
            # a re-check: the browser is reading this article already (and re-learns the recipe there)
            state.abandoned = True
            self._warn(
                f"comment recipe of {site} is stale ({reason}): found by the browser re-check of {state.url}"
            )
            self._recheck_side(state.url, "recipe", None)
            return []
        if self.browser_ready:
            state.abandoned = True  # its load emits no ThreadItem: it can mark nothing deleted
            self.crawler.stats.inc_value(f"{STATS}/fallback_browser")
            if self.render == "auto":
                self.crawler.stats.inc_value("article_spider/auto_browser")
            self._warn(
                f"comment recipe of {site} is stale ({reason}): {state.url} re-read in the browser, "
                "recipe re-learned there"
            )
            # not a thread the crawl left unfinished: the browser's load is the article's record
            state.finished = True
            self.hand_to_browser(state)
            return [self._browser_for(state.url, row["recipe"], with_article=False)]
        state.requests_failed += 1
        state.failures.append(f"recipe {site}: {reason}")
        self._warn(
            f"comment recipe of {site} is stale ({reason}); no browser to fall back to for {state.url}"
        )
        # the comments read so far are the thread's record (incomplete): those still waiting for a
        # parent too, once no answer that could bring it is pending
        held = [] if state.pending or state.finished else self.held_replies(state)
        return held + self._finish_if_done(state)

    def _browser_for(self, url: str, recipe: dict, with_article: bool) -> scrapy.Request:
        reader = recipe.get("reader") or recipe["site"]
        return self.browser_request(
            url, self.parse_rendered, {"with_article": with_article, "site": reader}, self._click_plan(reader)
        )

    def confirm_tokens(self, state) -> dict | None:
        """The tokens the article's own page carries for its recipe's requests (confirm included)."""
        return getattr(state, "page_values", None)

    def confirming_recipe(self, state) -> dict | None:
        """The recipe whose single-comment request (`confirm`) confirms this thread's deletions."""
        if state.method != "recipe" or getattr(state, "shadow", False):
            return None
        row = self.thread_rows.get(state.article_id)
        return row["recipe"] if row is not None and row["recipe"].get("confirm") else None

    # -- learn --------------------------------------------------------------------------------------

    def learn_from_browser(
        self, response: Response, html: str | None, expansion, error: str | None, reader: str | None
    ) -> None:
        """After a browser expansion with recording on: learn the site's recipe and store it.

        For a re-check, the ids the browser shows are handed to the verdict with what it learned.
        Never raises: the browser's page is read after this, and its comments must be stored whatever
        learning does (a failure is counted, logged with its traceback and in the run's warnings)."""
        try:
            self._learn_from_browser(response, html, expansion, error, reader)
        except Exception as exc:  # the last line of defence
            self._learning_crashed(response.url, exc)

    def _learn_from_browser(
        self, response: Response, html: str | None, expansion, error: str | None, reader: str | None
    ) -> None:
        recheck = response.meta.get("pandawatch_recheck") and response.url in self.rechecks
        whole = bool(html) and not error and expansion is not None and expansion.exhausted
        if recheck:
            ids = None
            if whole and reader:
                ids = {c.comment_id for c in read_comments(html, response.url, reader)}
            learned = self._learned(response, html, expansion, error, reader)
            if learned is not None:
                self.rechecks[response.url]["learned"], self.rechecks[response.url]["seconds"] = learned
            self._recheck_side(response.url, "browser", ids)
            return
        learned = self._learned(response, html, expansion, error, reader)
        if learned is None:
            return
        recipe, seconds = learned
        previous = next((r for r in self.recipe_rows if r["site"] == recipe["site"]), None)
        if previous is not None and not previous["recipe"].get("seed"):
            recipe = _merged(previous["recipe"], recipe)
        if (
            previous is not None
            and previous["status"] == "active"
            and not previous["recipe"].get("seed")
            and _agrees(previous["recipe"], recipe)
        ):
            # the same API again (a re-learn that changes nothing): the stored recipe stays
            store.mark_verified(self.recipes_db, recipe["site"])
            previous["uses"] = 0
            self.crawler.stats.inc_value(f"{STATS}/verified/{recipe['site']}")
            return
        self._store_learned(recipe, response.url, seconds, previous)

    def _learned(self, response, html, expansion, error, reader) -> tuple[dict, float] | None:
        """(recipe, seconds) learned from a recorded browser expansion, or None."""
        recorder = response.meta.get("pandawatch_recorder")
        served = self.served_pages.pop(response.url, None)
        if recorder is None or not html or error or expansion is None or not expansion.exhausted:
            return None
        if served is None or not recorder.exchanges or not reader:
            return None
        started = time.monotonic()
        try:
            recipe = learn(
                recorder.exchanges, served, html, response.url, reader, self.recipes_allow_credentials
            )
        except (InductionError, RecipeFailure, ProfileError) as exc:
            # the exchanges do not show the API, or the page's reader reads no comments (generic)
            self.crawler.stats.inc_value(f"{STATS}/learn_failed")
            self.logger.info("No comment recipe learned from %s: %s", response.url, exc)
            return None
        except Exception as exc:  # a bug in learning: see _learning_crashed
            self._learning_crashed(response.url, exc)
            return None
        return recipe, round(expansion.seconds + time.monotonic() - started, 3)

    def _learning_crashed(self, url: str, exc: Exception) -> None:
        """A bug in learning (the induction met a page nobody foresaw): the page's comments are the
        browser path's all the same (they are read after learning), the site stays without a recipe,
        and the run says so. Expected refusals (InductionError) are no warning: most pages teach
        nothing."""
        self.crawler.stats.inc_value(f"{STATS}/learn_failed")
        self.crawler.stats.inc_value(f"{STATS}/learn_crashed/{type(exc).__name__}")
        self.logger.warning("Learning the comment API from %s failed", url, exc_info=exc)
        self._warn(
            f"learning the comment API from {url} failed ({type(exc).__name__}: {str(exc)[:200]}); "
            "no recipe learned, the browser's comments stored"
        )

    def _store_learned(self, recipe: dict, url: str, seconds, previous: dict | None) -> None:
        """Store a learned recipe as the site's (replacing a seed or an older one) and say so."""
        if not self.recipes_enabled:
            return
        store.save_recipe(self.recipes_db, recipe, url, seconds=seconds, pages=1)
        self.crawler.stats.inc_value(f"{STATS}/learned/{recipe['site']}")
        row = {"site": recipe["site"], "recipe": recipe, "status": "active", "uses": 0}
        self.recipe_rows = [r for r in self.recipe_rows if r["site"] != recipe["site"]] + [row]
        if previous is None or previous["recipe"].get("seed"):
            if previous is not None and previous["status"] == "stale":
                self._warn(f"comment recipe of {recipe['site']} re-learned from {url}")
            return
        if not _agrees(previous["recipe"], recipe):
            self._warn(f"comment recipe of {recipe['site']} changed; re-learned from {url}")
        elif previous["status"] == "stale":
            self._warn(f"comment recipe of {recipe['site']} re-learned from {url}")


#: the article spider's name for the requests of each recipe role (its stats and thread accounting)
FOLLOW_UP_KIND = {"comments": "comments_page", "replies": "replies", "full_text": "full_text"}


def _asks_to_wait(response: Response) -> bool:
    """A rate limit (429), or a 503 saying when to come back (Retry-After): not a failing recipe."""
    if response.status == 429:
        return True
    return response.status in PAUSING_STATUSES and bool(response.headers.get(b"Retry-After"))


def _comment_of(call: Call):
    from crawler.items import CommentItem

    comment = call.context.get("comment")
    return CommentItem(**comment) if isinstance(comment, dict) else None


ROLES = ("comments", "replies", "full_text")


def _agrees(old: dict, new: dict) -> bool:
    """Two recipes describe one API: same method and path per role, same paging where both know it.

    An article without a second replies page cannot show how replies page; that is no change."""
    for role in ROLES:
        a, b = old.get(role), new.get(role)
        if not a or not b:
            continue
        # a REST path carries the article's key: /api/stories/{}/comments is one endpoint for all
        if (a["method"], path_pattern(a)) != (b["method"], path_pattern(b)):
            return False
        pa, pb = a.get("paging"), b.get("paging")
        if pa and pb and (pa["kind"], pa["param"]) != (pb["kind"], pb["param"]):
            return False
    return True


def _merged(old: dict, new: dict) -> dict:
    """`new`, completed by what only `old` knew of the same endpoints (a role, or how it pages)."""
    merged = dict(new)
    for role in ROLES:
        a, b = old.get(role), new.get(role)
        if a and not b:
            merged[role] = a
        elif (
            a
            and b
            and (a["method"], path_pattern(a)) == (b["method"], path_pattern(b))
            and a.get("paging")
            and not b.get("paging")
        ):
            merged[role] = {**b, "paging": a["paging"], "end": a.get("end") or b.get("end")}
    merged["hosts"] = sorted(set(new.get("hosts", [])) | set(old.get("hosts", [])))
    return merged
