"""Learned comment APIs in the article spider: page a recipe over plain HTTP, learn it in the browser.

- **Use**: an article whose URL matches a stored, active recipe (host and path prefix of the page it
  was learned on) is read by the recipe's reader (the Bored Panda adapter or a profile) and its thread
  paged over plain HTTP with the recipe, through the same ThreadState accounting as the API path.
- **Check**: the first answer is compared with what the page shows (page 1 asked again when the page
  shows comments); an answer of another shape, a 4xx/5xx, ids that disagree or a cursor that repeats
  marks the recipe `stale`; the article then falls back to the browser in the same run (where the
  recipe is learned again) and the run's warnings say so. The failed load emits no ThreadItem, so it
  can never mark a comment deleted. Every RECIPES_RECHECK_EVERY uses, one article of the site is
  re-read in the browser instead and the recipe re-learned from it.
- **Learn**: a browser page requested with recording on (crawler.browser.record) hands its exchanges,
  the page as served and the expanded DOM to crawler.recipes.learn; the result is stored in site_apis.
- **Safety**: a recipe only calls the article's own host or hosts the learned page itself called, and
  only those the host guard allows; parameters that look like credentials are not stored (setting).
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy.http import Response

from crawler.dates import iso, now_utc
from crawler.recipes import store
from crawler.recipes.execute import Call, RecipeFailure, article_key, first_calls, read_answer
from crawler.recipes.induce import InductionError
from crawler.recipes.learn import learn
from crawler.sites import registry
from crawler.sites.errors import NotAnArticle, NotHTML
from crawler.sites.profile import ProfileError
from crawler.store import resolve_db_path

STATS = "recipes"


def _now() -> str:
    return iso(now_utc())


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
        self.served_pages: dict[str, str] = {}
        self.recipe_sites_used: set[str] = set()
        self.recipe_sites_rechecked: set[str] = set()
        self.browser_ready = False

    def recipes_want_browser(self) -> bool:
        """A stored recipe may fail and send its article to the browser: have one ready (it starts lazily)."""
        return self.recipes_enabled and bool(self.recipe_rows)

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
        return row if row is not None and row["status"] == "active" else None

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
        """Everything the article spider yields for this page when a recipe pages its thread, or None."""
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
            article_key(recipe, body)
        except (NotHTML, NotAnArticle, ProfileError, RecipeFailure):
            # not a page of the kind the recipe was learned on (another section of the host, a page
            # without a thread): the registry's own reading applies, and the recipe is not at fault
            self.crawler.stats.inc_value(f"{STATS}/not_applicable/{site}")
            return None
        if self._recheck_due(row) and self.browser_ready:
            # one article of the site per run re-learns in the browser: the recipe's regular check
            self.recipe_sites_rechecked.add(site)
            self.crawler.stats.inc_value(f"{STATS}/rechecks")
            self.remember_served(response)
            request = self._browser_for(response.url, recipe, with_article=True)
            request.meta["pandawatch_record"] = True
            return [request]
        article, thread = page.article, page.thread
        fetched_at = _now()
        article.fetched_at = fetched_at
        self.crawler.stats.inc_value("article_spider/articles")
        self.crawler.stats.inc_value(f"article_spider/site/{page.site}")
        output: list[Any] = [self.fetch_item(response, article.article_id), article]
        output += self._list_items(page.list_items, fetched_at)
        if page.next_page_url:
            output.append(self._list_page_request(page.next_page_url, article.article_id))
        state = self._state(article.article_id, response.url, page.site, thread, method="recipe")
        state.reported_total = thread.reported_total
        state.abandoned = False  # type: ignore[attr-defined]
        # kept until the thread is done: a recipe that fails sends the page to the browser to re-learn
        self.served_pages[response.url] = body
        self.crawler.stats.inc_value(f"{STATS}/used/{site}")
        if site not in self.recipe_sites_used:
            self.recipe_sites_used.add(site)
            store.count_use(self.recipes_db, site)
        try:
            calls = first_calls(recipe, body, response.url, thread.comments)
        except RecipeFailure as exc:
            return output + self._recipe_broken(state, row, str(exc))
        output += self._absorb_recipe(
            state, row, thread.comments, calls, end=False, total=None, fetched_at=fetched_at
        )
        return output

    def _recheck_due(self, row: dict) -> bool:
        every = self.recipes_recheck_every
        return (
            every > 0 and row["site"] not in self.recipe_sites_rechecked and (row.get("uses") or 0) >= every
        )

    def _recipe_request(self, state, row: dict, call: Call) -> scrapy.Request | None:
        if call.key in state.requested:
            return None
        if call.role == "comments" and state.pages_requested >= self.max_pages:
            state.capped = True
            self.crawler.stats.inc_value("article_spider/comments_page_cap_reached")
            return None
        if call.role == "comments":
            state.pages_requested += 1
        state.requested.add(call.key)
        state.requests_total += 1
        state.pending += 1
        self.crawler.stats.inc_value(f"{STATS}/requests/{call.role}")
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
        """Like the article spider's _absorb: comments and requests first, the ThreadItem last."""
        if total is not None:
            state.reported_total = total
        state.end_reached |= end
        output: list[Any] = []
        for comment in comments:
            comment.article_id = state.article_id
            comment.fetched_at = fetched_at
            state.seen.add(comment.comment_id)
            output.append(comment)
        for call in calls:
            request = self._recipe_request(state, row, call)
            if request is not None:
                output.append(request)
        done = self._finish_if_done(state)
        if done:
            self.served_pages.pop(state.url, None)
        output.extend(done)
        return output

    def parse_recipe_answer(self, response: Response, state, row: dict, call: Call) -> list[Any]:
        state.pending -= 1
        if state.abandoned:
            return []
        try:
            answer = read_answer(row["recipe"], call, response.body, state.url)
        except RecipeFailure as exc:
            return self._recipe_broken(state, row, f"{call.role} answer: {exc}")
        if call.role == "comments" and answer.top_ids:
            site = row["site"]
            if all(f"{site}:{i}" in state.seen for i in answer.top_ids) and not call.context.get("verify"):
                return self._recipe_broken(state, row, "a comment page repeats comments already loaded")
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
        return self._recipe_broken(state, row, f"{call.role} request failed: {reason}")

    def _recipe_broken(self, state, row: dict, reason: str) -> list[Any]:
        """The recipe no longer fits the site: stale; the article goes to the browser if one is ready."""
        site = row["site"]
        self.crawler.stats.inc_value(f"{STATS}/failed/{site}")
        if row["status"] == "active":
            row["status"] = "stale"
            store.mark_stale(self.recipes_db, site, reason)
            self.crawler.stats.inc_value(f"{STATS}/stale")
        if self.browser_ready:
            state.abandoned = True  # its load emits no ThreadItem: it can mark nothing deleted
            self.crawler.stats.inc_value(f"{STATS}/fallback_browser")
            self._warn(
                f"comment recipe of {site} is stale ({reason}): {state.url} re-read in the browser, "
                "recipe re-learned there"
            )
            return [self._browser_for(state.url, row["recipe"], with_article=False)]
        state.requests_failed += 1
        state.failures.append(f"recipe {site}: {reason}")
        self._warn(
            f"comment recipe of {site} is stale ({reason}); no browser to fall back to for {state.url}"
        )
        return self._finish_if_done(state)

    def _browser_for(self, url: str, recipe: dict, with_article: bool) -> scrapy.Request:
        reader = recipe.get("reader") or recipe["site"]
        return self.browser_request(
            url, self.parse_rendered, {"with_article": with_article, "site": reader}, self._click_plan(reader)
        )

    # -- learn --------------------------------------------------------------------------------------

    def learn_from_browser(
        self, response: Response, html: str | None, expansion, error: str | None, reader: str | None
    ) -> None:
        """After a browser expansion with recording on: learn the site's recipe and store it."""
        recorder = response.meta.get("pandawatch_recorder")
        served = self.served_pages.pop(response.url, None)
        if recorder is None or not html or error or expansion is None or not expansion.exhausted:
            return
        if served is None or not recorder.exchanges:
            return
        if not reader:
            return
        started = time.monotonic()
        try:
            recipe = learn(
                recorder.exchanges, served, html, response.url, reader, self.recipes_allow_credentials
            )
        except (InductionError, RecipeFailure, KeyError, ValueError) as exc:
            self.crawler.stats.inc_value(f"{STATS}/learn_failed")
            self.logger.info("No comment recipe learned from %s: %s", response.url, exc)
            return
        previous = next((r for r in self.recipe_rows if r["site"] == recipe["site"]), None)
        seconds = round(expansion.seconds + time.monotonic() - started, 3)
        if previous is not None:
            recipe = _merged(previous["recipe"], recipe)
        if previous is not None and previous["status"] == "active" and _agrees(previous["recipe"], recipe):
            # a re-check that agrees (the same API, and the recipe read only ids the page showed)
            store.mark_verified(self.recipes_db, recipe["site"])
            previous["uses"] = 0
            self.crawler.stats.inc_value(f"{STATS}/verified/{recipe['site']}")
            return
        store.save_recipe(self.recipes_db, recipe, response.url, seconds=seconds, pages=1)
        self.crawler.stats.inc_value(f"{STATS}/learned/{recipe['site']}")
        row = {"site": recipe["site"], "recipe": recipe, "status": "active", "uses": 0}
        self.recipe_rows = [r for r in self.recipe_rows if r["site"] != recipe["site"]] + [row]
        if previous is not None and not _agrees(previous["recipe"], recipe):
            self._warn(f"comment recipe of {recipe['site']} changed; re-learned from {response.url}")
        elif previous is not None and previous["status"] == "stale":
            self._warn(f"comment recipe of {recipe['site']} re-learned from {response.url}")


ROLES = ("comments", "replies", "full_text")


def _agrees(old: dict, new: dict) -> bool:
    """Two recipes describe one API: same method and path per role, same paging where both know it.

    An article without a second replies page cannot show how replies page; that is no change."""
    for role in ROLES:
        a, b = old.get(role), new.get(role)
        if not a or not b:
            continue
        if (a["method"], a["path"]) != (b["method"], b["path"]):
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
            and (a["method"], a["path"]) == (b["method"], b["path"])
            and a.get("paging")
            and not b.get("paging")
        ):
            merged[role] = {**b, "paging": a["paging"], "end": a.get("end") or b.get("end")}
    merged["hosts"] = sorted(set(new.get("hosts", [])) | set(old.get("hosts", [])))
    return merged
