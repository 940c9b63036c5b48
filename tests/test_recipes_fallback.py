"""Issue 12 point 5 for the seed recipe too: a failing seed falls back like a failing learned recipe.

Bored Panda's threads are paged by the site's seed recipe (crawler/sites/boredpanda/recipe.json) on a
fresh database too, before site_apis holds anything. When it fails there (its endpoint moved: 404), the
run keeps a browser ready all the same: the recipe is marked stale, the article is re-read in the
browser in the same run, the recipe re-learned there, every comment stored, nothing deleted, and the
run's warnings say so. Without a browser the thread stays honestly incomplete, with the warning.

Each use also compares the recipe with what the page itself shows, in one rule for seed and learned
recipes that does not depend on the API's page size or order: once a thread's paging is complete,
every top-level comment the article page showed must be among those the recipe's pages listed. The
replica's `set_faults(api_dropped=…)` makes its API leave out a comment the page shows.

The single-comment request that confirms a deletion carries the article page's tokens like the
thread's other requests (the replica's `require_nonce` makes its API refuse calls without the nonce).
"""

from __future__ import annotations

import copy
import json
import shutil
from urllib.parse import parse_qs, urlsplit

import pytest

from crawler.recipes.execute import confirm_call, first_calls, page_values, shown_to_list
from crawler.recipes.learn import read_comments, source_id
from crawler.recipes.store import save_recipe
from crawler.replica import ReplicaServer, build_demo_site
from crawler.replica.ajax import rename_ajax, require_nonce
from crawler.replica.generate import generated_article
from crawler.sites import boredpanda
from tests.crawling import FAST, article_url, crawl, model_thread
from tests.test_recipes_induce import load, recipe_of

needs_chromium = pytest.mark.skipif(
    shutil.which("chromium") is None, reason="Debian chromium is not installed"
)

#: 30 top-level comments (the page shows the 20 oldest, the seed pages the 50 newest), replies, cut texts
MOVED, DROPPED, KEPT = "first-run-moved-article", "first-run-dropped-article", "first-run-kept-article"
ARTICLES = {MOVED: 8400501, DROPPED: 8400502, KEPT: 8400503}
AGAIN = {"CONDITIONAL_GET": "False"}
BROWSER = {**FAST, **AGAIN, "CONCURRENT_REQUESTS_PER_DOMAIN": "4"}
NO_BROWSER = {**AGAIN, "BROWSER_EXECUTABLE": "/nonexistent/chromium"}


def replica_site():
    site = build_demo_site()
    for n, (slug, post_id) in enumerate(ARTICLES.items()):
        site.add_article(generated_article(slug, post_id, 50, seed=n, top_level=30, max_depth=2))
    return site


def shown_first(site, slug: str) -> str:
    """The id of a top-level comment the article page shows (it shows the oldest first)."""
    return min((c.id for c in site.article(slug).comments if c.parent_id is None), key=int)


def stored(result, slugs: list[str]) -> set[tuple]:
    rows = result.query(
        "SELECT comment_id, parent_id, text, upvotes, status, text_truncated FROM comments "
        f"WHERE article_id IN ({','.join('?' * len(slugs))})",
        [f"boredpanda:{ARTICLES[s]}" for s in slugs],
    )
    return {tuple(r.values()) for r in rows}


def expected(site, slugs: list[str]) -> set[tuple]:
    return {
        (cid, v["parent_id"], v["text"], v["upvotes"], "live", 0)
        for slug in slugs
        for cid, v in model_thread(site, slug).items()
    }


def loads(result) -> dict[str, dict]:
    rows = result.query(
        "SELECT article_id, method, complete, reason FROM thread_loads WHERE run_id = ?",
        [result.run["run_id"]],
    )
    slug_of = {f"boredpanda:{v}": k for k, v in ARTICLES.items()}
    return {slug_of[r.pop("article_id")]: r for r in rows}


def warnings_of(result) -> list[str]:
    return json.loads(result.run["warnings"])


def changes(result) -> int:
    """Change events besides an article's first sighting (`added`): edits, deletions, restorations."""
    return result.query("SELECT count(*) AS n FROM changes WHERE kind != 'added'")[0]["n"]


@needs_chromium
def test_first_run_seed_endpoint_moved_falls_back_to_the_browser_and_relearns(tmp_path):
    site = replica_site()
    db = tmp_path / "c.db"
    with ReplicaServer(site) as server:
        url = article_url(server, MOVED)
        rename_ajax(site, path="/wp-json/comments/v2/thread")  # before the first run: the seed gets 404
        first = crawl(db, [url], settings=BROWSER)
        assert first.returncode == 0, first.stderr[-3000:]
        after = crawl(db, [url], settings=AGAIN)
    stats = first.stats
    assert stats["recipes/seed/boredpanda"] == 1 and stats["recipes/stale"] == 1
    assert stats["recipes/fallback_browser"] == 1 and stats["browser/pages_opened"] == 1
    assert stats["recipes/learned/boredpanda"] == 1
    assert any(
        "comment recipe of boredpanda is stale" in w and "HTTP 404" in w and "re-read in the browser" in w
        for w in warnings_of(first)
    ), warnings_of(first)
    assert loads(first) == {MOVED: {"method": "browser", "complete": 1, "reason": None}}
    assert stored(first, [MOVED]) == expected(site, [MOVED]) and changes(first) == 0
    [row] = first.query("SELECT status, learned_from_url, recipe FROM site_apis")
    assert (row["status"], row["learned_from_url"]) == ("active", url)
    assert json.loads(row["recipe"])["comments"]["path"] == "/wp-json/comments/v2/thread"
    # the recipe learned in that first run pages the moved API, no browser
    assert after.stats.get("browser/pages_opened", 0) == 0
    assert loads(after)[MOVED]["method"] == "recipe" and loads(after)[MOVED]["complete"] == 1
    assert stored(after, [MOVED]) == expected(site, [MOVED]) and changes(after) == 0


def test_without_a_browser_a_failing_seed_is_incomplete_and_warned(tmp_path):
    """No browser in the run (none installed): the failing seed's thread is incomplete, with the warning;
    an API leaving out a comment the page shows is such a failure too (the page shows it: it is stored).
    Once the fault has passed, the seed (tried again) pages complete threads and is active again."""
    site = replica_site()
    dropped = shown_first(site, DROPPED)
    site.set_faults(DROPPED, api_dropped=[dropped])
    with ReplicaServer(site) as server:
        urls = [article_url(server, DROPPED), article_url(server, KEPT)]
        first = crawl(tmp_path / "drop.db", urls, settings=NO_BROWSER)
        first_rows = {
            "stored": stored(first, [DROPPED, KEPT]),
            "changes": changes(first),
            "status": first.query("SELECT status FROM site_apis"),
        }
        site.set_faults(DROPPED, api_dropped=[])  # the site's fault passes
        again = crawl(tmp_path / "drop.db", urls, settings=NO_BROWSER)
        rename_ajax(site, path="/wp-json/comments/v2/thread")
        moved = crawl(tmp_path / "moved.db", [article_url(server, MOVED)], settings=NO_BROWSER)
    assert first.returncode == 0, first.stderr[-3000:]
    got = loads(first)
    assert got[KEPT] == {"method": "recipe", "complete": 1, "reason": None}
    assert got[DROPPED]["complete"] == 0 and "not among" in got[DROPPED]["reason"]
    assert (
        first.stats["recipes/unlisted_shown/boredpanda"] == 1
        and "recipes/fallback_browser" not in first.stats
    )
    assert any(
        "comment recipe of boredpanda is stale" in w
        and "1 of the 20 comments the page shows" in w
        and "no browser to fall back to" in w
        for w in warnings_of(first)
    ), warnings_of(first)
    assert first_rows["stored"] == expected(site, [DROPPED, KEPT]) and first_rows["changes"] == 0
    assert first_rows["status"] == [{"status": "stale"}]
    # the seed is tried again: a complete thread makes it active again (no longer shown stale)
    assert again.returncode == 0, again.stderr[-3000:]
    assert loads(again) == {s: {"method": "recipe", "complete": 1, "reason": None} for s in (DROPPED, KEPT)}
    assert again.stats["recipes/reactivated/boredpanda"] == 1
    assert again.query("SELECT status, stale_reason FROM site_apis") == [
        {"status": "active", "stale_reason": None}
    ]
    assert stored(again, [DROPPED, KEPT]) == expected(site, [DROPPED, KEPT]) and changes(again) == 0

    assert moved.returncode == 0, moved.stderr[-3000:]
    [load] = loads(moved).values()
    assert load["complete"] == 0 and "HTTP 404" in load["reason"]
    assert any("no browser to fall back to" in w and "HTTP 404" in w for w in warnings_of(moved))
    assert moved.query("SELECT status, learned_from_url FROM site_apis") == [
        {"status": "stale", "learned_from_url": "seed"}
    ]


@needs_chromium
def test_recipe_leaving_out_a_comment_the_page_shows_falls_back_to_the_browser(tmp_path):
    site = replica_site()
    db = tmp_path / "c.db"
    slugs = [DROPPED, KEPT]
    with ReplicaServer(site) as server:
        urls = [article_url(server, s) for s in slugs]
        seeded = crawl(db, urls, settings=AGAIN)
        # the API now leaves out one comment the page shows: the total still matches (the page shows
        # it), so only comparing the recipe's ids with the page's tells
        site.set_faults(DROPPED, api_dropped=[shown_first(site, DROPPED)])
        checked = crawl(db, urls, settings=BROWSER)
    assert seeded.returncode == 0 and checked.returncode == 0, checked.stderr[-3000:]
    assert loads(seeded) == {s: {"method": "recipe", "complete": 1, "reason": None} for s in slugs}
    assert loads(checked) == {
        DROPPED: {"method": "browser", "complete": 1, "reason": None},
        KEPT: {"method": "recipe", "complete": 1, "reason": None},
    }
    stats = checked.stats
    assert stats["recipes/unlisted_shown/boredpanda"] == 1 and stats["recipes/stale"] == 1
    assert stats["recipes/fallback_browser"] == 1 and stats["browser/pages_opened"] == 1
    assert any(
        "comment recipe of boredpanda is stale" in w and "not among" in w and "re-read in the browser" in w
        for w in warnings_of(checked)
    ), warnings_of(checked)
    assert stored(checked, slugs) == expected(site, slugs)
    assert changes(checked) == 0  # every comment stored as before, none deleted


def test_each_use_knows_which_shown_comments_the_recipe_must_list():
    """The executor's half of the rule (execute.shown_to_list): the seed starts at the list's first page
    and a learned recipe asks again for the page the article shows, so both must list every top-level
    comment the page shows; a recipe that starts after them (a cursor from the last one shown) cannot."""
    case = load("boredpanda-pages")
    html, url = case["page_html"], case["url"]
    shown = read_comments(html, url, "boredpanda")
    top = {source_id(c.comment_id) for c in shown if not c.parent_id}
    assert len(top) == 20
    assert shown_to_list(first_calls(boredpanda.seed_recipe(), html, url, shown)) == top
    learned = recipe_of(case)
    assert shown_to_list(first_calls(learned, html, url, shown)) == top
    after = copy.deepcopy(learned)
    after["comments"]["paging"] = {**after["comments"]["paging"], "kind": "cursor"}
    after["comments"]["paging"]["start"] = {"kind": "last_shown"}
    assert shown_to_list(first_calls(after, html, url, shown)) == set()
    assert shown_to_list(first_calls(boredpanda.seed_recipe(), html, url, [])) == set()


# -- the single-comment request that confirms deletions carries the article page's tokens -----------

TOKEN_PAGE = (
    '<html><head><meta name="pw-nonce" content="n-123"><meta name="pw-csrf" content="c-456"></head>'
    '<body><div class="post-comments" data-post-id="8400501"></div></body></html>'
)
TOKENS = {
    "nonce": {"kind": "attr", "css": "meta[name=pw-nonce]", "attr": "content"},
    "header:x-csrf-token": {"kind": "attr", "css": "meta[name=pw-csrf]", "attr": "content"},
}


def test_confirm_request_carries_the_tokens_the_article_page_carries():
    url = "https://www.boredpanda.com/first-run-moved-article/"
    seed = boredpanda.seed_recipe()  # no page tokens: the request is the seed's as before
    plain = confirm_call(seed, url, "boredpanda:77", page_values(seed, TOKEN_PAGE))
    assert (plain.body, plain.headers) == (b"action=load_comment&comment_id=77", {})

    # the full-text part (the same endpoint as confirm) reads a nonce and a CSRF header from each page
    tokened = copy.deepcopy(seed)
    tokened["full_text"]["page_params"] = TOKENS
    call = confirm_call(tokened, url, "boredpanda:77", page_values(tokened, TOKEN_PAGE))
    assert parse_qs(call.body.decode()) == {
        "action": ["load_comment"],
        "comment_id": ["77"],
        "nonce": ["n-123"],
    }
    assert call.headers == {"x-csrf-token": "c-456"} and call.key.startswith("confirm:")
    # a confirm part of its own tokens carries those; one on another endpoint inherits none
    own = copy.deepcopy(tokened)
    own["confirm"]["page_params"] = {"_wpnonce": TOKENS["nonce"]}
    assert (
        "_wpnonce=n-123"
        in confirm_call(own, url, "boredpanda:77", page_values(own, TOKEN_PAGE)).body.decode()
    )
    elsewhere = copy.deepcopy(tokened)
    elsewhere["confirm"]["path"] = "/wp-json/comments/v2/comment"
    other = confirm_call(elsewhere, url, "boredpanda:77", page_values(elsewhere, TOKEN_PAGE))
    assert (other.body, other.headers) == (b"action=load_comment&comment_id=77", {})


def test_a_deletion_is_confirmed_through_an_api_that_wants_the_pages_nonce(tmp_path):
    """The replica's admin-ajax asks every call for the nonce its pages carry (require_nonce); the
    site's recipe reads it from each page for its thread requests (the confirm part inherits it): a
    comment gone from a complete load is confirmed gone, and deleted (without the nonce: 403, unknown)."""
    site = replica_site()
    require_nonce(site, "n-7f3a")
    article = site.article(KEPT)
    parents = {c.parent_id for c in article.comments}
    victim = max(
        (c for c in article.comments if c.parent_id is None and c.id not in parents), key=lambda c: int(c.id)
    )
    db = tmp_path / "c.db"
    with ReplicaServer(site) as server:
        url = article_url(server, KEPT)
        recipe = boredpanda.seed_recipe()
        del recipe["seed"]
        recipe["match"] = {"host": urlsplit(url).netloc, "path_prefix": "/"}
        for role in ("comments", "replies", "full_text"):
            recipe[role]["page_params"] = {"nonce": {"kind": "script", "regex": r'"nonce": "([^"]+)"'}}
        save_recipe(db, recipe, url)
        first = crawl(db, [url], settings=AGAIN)
        first_rows = stored(first, [KEPT])
        site.delete_comment(victim.id)
        second = crawl(db, [url], settings=AGAIN)
    assert loads(first)[KEPT] == {"method": "recipe", "complete": 1, "reason": None}
    assert first_rows == expected(site, [KEPT]) | {
        (f"boredpanda:{victim.id}", None, victim.text, victim.upvotes, "live", 0)
    }
    assert loads(second)[KEPT]["complete"] == 1
    assert second.query("SELECT entity_id, reason FROM changes WHERE kind = 'deleted'") == [
        {"entity_id": f"boredpanda:{victim.id}", "reason": "the site's single-comment answer says it is gone"}
    ]
    assert second.stats["article_spider/confirm/gone"] == 1
    assert stored(second, [KEPT]) - expected(site, [KEPT]) == {
        (f"boredpanda:{victim.id}", None, victim.text, victim.upvotes, "deleted", 0)
    }


# -- a recipe failing on a replies answer mid-thread, and learning that crashes in the browser ------


class BreakLearning:
    """A crawl extension for the test below (EXTENSIONS setting): the induction raises TypeError, as a
    bug of ours meeting a page nobody foresaw would. Nothing else of the crawl is touched."""

    def __init__(self) -> None:
        import crawler.recipes.induce as induce

        def broken(*args, **kwargs):
            raise TypeError("'int' object is not subscriptable")

        induce.induce = broken

    @classmethod
    def from_crawler(cls, crawler):
        return cls()


@needs_chromium
def test_a_recipe_failing_on_a_replies_answer_falls_back_and_a_learning_crash_loses_nothing(tmp_path):
    """The site's replies answers change shape (their HTML moves to another field) after a complete
    recipe crawl: comment pages still read, the first replies answer fails the recipe mid-thread. The
    thread is not completed by the recipe; the browser reads the article in the same run and its
    thread is the record: every comment stored, nothing deleted. Learning in that browser page crashes
    (a bug in the induction): the browser's comments are stored all the same, the run warns with the
    exception's type, a stat counts it, and the stale recipe is not replaced."""
    site = replica_site()
    db = tmp_path / "c.db"
    with ReplicaServer(site) as server:
        url = article_url(server, KEPT)
        recipe = boredpanda.seed_recipe()
        del recipe["seed"]  # the site's learned recipe, as site_apis holds one
        recipe["match"] = {"host": urlsplit(url).netloc, "path_prefix": "/"}
        save_recipe(db, recipe, url)
        first = crawl(db, [url], settings=AGAIN)
        # the replies answers now carry their HTML elsewhere: the stored recipe no longer reads them
        recipe["replies"]["answer"]["html"] = ["data", "markup"]
        save_recipe(db, recipe, url)
        extensions = {  # the project's (crawler/settings.py EXTENSIONS) and the fault
            "crawler.extensions.summary.CrawlSummary": 500,
            "crawler.extensions.progress.CrawlProgress": 510,
            "crawler.extensions.gcfreeze.FreezeStartupObjects": 900,
            "tests.test_recipes_fallback.BreakLearning": 600,
        }
        second = crawl(db, [url], settings={**BROWSER, "EXTENSIONS": json.dumps(extensions)})
    assert first.returncode == 0 and second.returncode == 0, second.stderr[-3000:]
    assert loads(first) == {KEPT: {"method": "recipe", "complete": 1, "reason": None}}
    assert first.stats["article_spider/follow_up/replies"] > 0  # the thread has replies to load
    stats = second.stats
    assert stats["recipes/used/boredpanda"] == 1 and stats["recipes/failed/boredpanda"] == 1
    assert stats["recipes/fallback_browser"] == 1 and stats["browser/pages_opened"] == 1
    warnings = warnings_of(second)
    assert any(
        "comment recipe of boredpanda is stale" in w
        and "replies answer" in w
        and "re-read in the browser" in w
        for w in warnings
    ), warnings
    # the recipe's partial load emitted no ThreadItem: the browser's complete one is the only record
    assert loads(second) == {KEPT: {"method": "browser", "complete": 1, "reason": None}}
    assert stored(second, [KEPT]) == expected(site, [KEPT]) and changes(second) == 0
    # learning crashed: counted, warned with the exception's type, the browser's comments kept
    assert stats["recipes/learn_crashed/TypeError"] == 1 and stats["recipes/learn_failed"] == 1
    assert "recipes/learned/boredpanda" not in stats
    assert any("learning the comment API from" in w and "TypeError" in w for w in warnings), warnings
    assert "Traceback" in second.stderr and "'int' object is not subscriptable" in second.stderr
    assert second.query("SELECT status FROM site_apis") == [{"status": "stale"}]
