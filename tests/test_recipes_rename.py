"""Must-show 2 on the Bored Panda replica: its comment API moves, then its page parameter is renamed.

Bored Panda's threads are paged by the site's seed recipe (crawler/sites/boredpanda/recipe.json, the
hand-written contract) until a recipe is learned for the site. Between two runs the replica moves its
comment API (`rename_ajax(path=…)`; the pages' own script follows): the seed answers 404, so the run
falls back to the browser for those articles, learns the site's recipe there, stores every comment,
deletes nothing and warns; the next run pages the moved API without a browser. Then the page
parameter is renamed (`rename_ajax(page_param=…)`, the old one ignored: page 1 again): the learned
recipe repeats its first page, and the same fallback, re-learning and warning follow.
"""

from __future__ import annotations

import json
import shutil

import pytest

from crawler.replica import ReplicaServer, build_demo_site
from crawler.replica.ajax import rename_ajax
from crawler.replica.generate import generated_article
from tests.crawling import COMMENT_COLUMNS, FAST, article_url, comments_at, crawl, model_thread

pytestmark = pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian chromium is not installed")

#: 30 top-level comments (the page shows 20), hubs behind "Load More Replies...", cut texts
ARTICLES = [("moved-api-article", 8400401, 3), ("renamed-page-article", 8400402, 4)]
AGAIN = {"CONDITIONAL_GET": "False"}
BROWSER = {**FAST, **AGAIN, "CONCURRENT_REQUESTS_PER_DOMAIN": "4"}


def stored(result, urls: list[str]) -> set[tuple]:
    return comments_at(result, urls, (*COMMENT_COLUMNS, "text_truncated"))


def expected(site) -> set[tuple]:
    return {
        (cid, v["parent_id"], v["text"], v["upvotes"], v["downvotes"], "live", 0)
        for slug, _, _ in ARTICLES
        for cid, v in model_thread(site, slug).items()
    }


def loads(result) -> list[dict]:
    return result.query(
        "SELECT method, complete FROM thread_loads WHERE run_id = ? ORDER BY article_id",
        [result.run["run_id"]],
    )


def no_changes(result) -> bool:
    return result.query("SELECT count(*) AS n FROM changes WHERE run_id = ?", [result.run["run_id"]]) == [
        {"n": 0}
    ]


def assert_fell_back_and_relearned(result, reason: str) -> None:
    assert result.returncode == 0, result.stderr[-3000:]
    stats = result.stats
    assert stats["recipes/fallback_browser"] == 2 and stats["browser/pages_opened"] == 2
    assert stats["recipes/learned/boredpanda"] >= 1
    warnings = json.loads(result.run["warnings"])
    assert any("comment recipe of boredpanda is stale" in w and reason in w for w in warnings), warnings
    assert loads(result) == [{"method": "browser", "complete": 1}] * 2
    assert no_changes(result)  # every comment stored as before, none deleted


def test_bored_panda_api_moved_then_page_parameter_renamed(tmp_path):
    site = build_demo_site()
    for slug, post_id, seed in ARTICLES:
        site.add_article(generated_article(slug, post_id, 70, seed=seed, top_level=30, max_depth=2))
    want = expected(site)
    assert len(want) == 140
    db = tmp_path / "c.db"
    with ReplicaServer(site) as server:
        urls = [article_url(server, slug) for slug, _, _ in ARTICLES]

        seeded = crawl(db, urls, settings=AGAIN)
        assert seeded.returncode == 0, seeded.stderr[-3000:]
        assert seeded.stats["recipes/seed/boredpanda"] == 2
        assert seeded.stats.get("browser/pages_opened", 0) == 0
        assert seeded.stats["article_spider/follow_up/replies"] > 0
        assert seeded.stats["article_spider/follow_up/full_text"] > 0
        assert loads(seeded) == [{"method": "recipe", "complete": 1}] * 2
        assert stored(seeded, urls) == want

        # the endpoint moves: the seed's requests answer 404
        rename_ajax(site, path="/wp-json/comments/v2/thread")
        moved = crawl(db, urls, settings=BROWSER)
        assert_fell_back_and_relearned(moved, "HTTP 404")
        assert moved.stats["recipes/seed/boredpanda"] == 2
        assert stored(moved, urls) == want
        [row] = moved.query("SELECT status, learned_from_url, recipe FROM site_apis")
        recipe = json.loads(row["recipe"])
        assert row["status"] == "active" and row["learned_from_url"] in urls and not recipe.get("seed")
        assert recipe["comments"]["path"] == "/wp-json/comments/v2/thread"

        after_move = crawl(db, urls, settings=AGAIN)
        assert after_move.stats.get("browser/pages_opened", 0) == 0
        assert "recipes/seed/boredpanda" not in after_move.stats
        assert loads(after_move) == [{"method": "recipe", "complete": 1}] * 2
        assert stored(after_move, urls) == want and no_changes(after_move)

        # the page parameter is renamed: the learned recipe's second page comes back as the first
        rename_ajax(site, page_param="pg")
        renamed = crawl(db, urls, settings=BROWSER)
        assert_fell_back_and_relearned(renamed, "repeats")
        assert stored(renamed, urls) == want
        [row] = renamed.query("SELECT status, recipe FROM site_apis")
        assert row["status"] == "active" and json.loads(row["recipe"])["comments"]["paging"]["param"] == "pg"

        after_rename = crawl(db, urls, settings=AGAIN)
        assert after_rename.stats.get("browser/pages_opened", 0) == 0
        assert loads(after_rename) == [{"method": "recipe", "complete": 1}] * 2
        assert stored(after_rename, urls) == want and no_changes(after_rename)
    assert after_rename.query("SELECT count(*) AS n FROM changes WHERE kind = 'deleted'") == [{"n": 0}]
