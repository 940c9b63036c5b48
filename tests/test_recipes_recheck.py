"""The periodic browser re-check of a recipe compares comment ids (issue 12 point 5), end to end.

Every RECIPES_RECHECK_EVERY crawls that used a site's recipe, one article is read in the browser (its
thread stored from there) while the recipe pages the same article in the background, storing nothing;
the two sets of comment ids are compared. On the Bored Panda replica with its seed recipe: first they
agree (verified_at set), then the replica's comment API silently answers fewer comments per page than
the recipe asks for (`set_api_page_cap`: the page's own script, asking the default page size, still
sees them all): the ids disagree, the recipe is marked stale with a warning, nothing is deleted, and
the recipe is re-learned from that browser page, so the next run pages the whole thread again.
"""

from __future__ import annotations

import json
import shutil

import pytest

from crawler.replica import ReplicaServer, build_demo_site
from crawler.replica.generate import generated_article
from tests.crawling import FAST, article_url, crawl, model_thread

pytestmark = pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian chromium is not installed")

SLUG = "sixty-voices-article"
AGAIN = {"CONDITIONAL_GET": "False"}
RECHECK = {**FAST, **AGAIN, "CONCURRENT_REQUESTS_PER_DOMAIN": "4", "RECIPES_RECHECK_EVERY": "1"}


def site_api(result) -> dict:
    [row] = result.query("SELECT * FROM site_apis")
    row["recipe"] = json.loads(row["recipe"])
    return row


def thread_load(result) -> dict:
    [row] = result.query(
        "SELECT method, complete, loaded FROM thread_loads WHERE run_id = ?", [result.run["run_id"]]
    )
    return row


def live_ids(result) -> set[str]:
    return {r["comment_id"] for r in result.query("SELECT comment_id FROM comments WHERE status = 'live'")}


def test_browser_recheck_agrees_then_disagrees_and_never_deletes(tmp_path):
    site = build_demo_site()
    # 70 top-level comments: the page shows the 20 oldest, the seed recipe pages 50 at a time, newest
    # first; capped at 20 a page (below), its pages miss 30 comments the page does not show: only the
    # browser re-check can tell (each use's own check compares what the page shows: test_recipes_fallback)
    site.add_article(generated_article(SLUG, 8400300, 85, seed=3, cut_every=0, top_level=70))
    db = tmp_path / "c.db"
    with ReplicaServer(site) as server:
        url = article_url(server, SLUG)
        expected = set(model_thread(site, SLUG))

        # the seed recipe pages the thread over plain HTTP and is written to site_apis on first use
        seeded = crawl(db, [url], settings=AGAIN)
        assert seeded.returncode == 0, seeded.stderr[-3000:]
        assert seeded.stats["recipes/seed/boredpanda"] == 1
        assert seeded.stats.get("browser/pages_opened", 0) == 0
        assert thread_load(seeded) == {"method": "recipe", "complete": 1, "loaded": len(expected)}
        row = site_api(seeded)
        assert (row["learned_from_url"], row["status"], row["uses"]) == ("seed", "active", 1)
        assert row["verified_at"] is None
        assert row["recipe"]["seed"] is True and row["recipe"]["comments"]["constants"]["per_page"] == "50"

        # re-check: the browser's ids and the recipe's agree; verified, the browser's thread is the record
        agreed = crawl(db, [url], settings=RECHECK)
        assert agreed.returncode == 0, agreed.stderr[-3000:]
        stats = agreed.stats
        assert (stats["recipes/rechecks"], stats["browser/pages_opened"]) == (1, 1)
        assert stats["recipes/verified/boredpanda"] == 1, (stats, agreed.run["warnings"])
        assert stats["recipes/requests/comments"] >= 2  # the recipe paged the article in the background
        assert "recipes/stale" not in stats and json.loads(agreed.run["warnings"]) == []
        assert thread_load(agreed) == {"method": "browser", "complete": 1, "loaded": len(expected)}
        row = site_api(agreed)
        assert row["status"] == "active" and row["verified_at"] is not None and row["uses"] == 0
        assert row["recipe"]["seed"] is True  # the browser taught the same API: the seed stays

        # the API now skips comments for our page size: the plain run is honest about it (incomplete)
        site.set_api_page_cap(SLUG, 20)
        capped = crawl(db, [url], settings=AGAIN)
        assert thread_load(capped)["complete"] == 0 and thread_load(capped)["loaded"] < len(expected)

        # re-check: ids disagree -> stale, warned, nothing deleted, re-learned from the browser page
        disagreed = crawl(db, [url], settings=RECHECK)
        assert disagreed.returncode == 0, disagreed.stderr[-3000:]
        stats = disagreed.stats
        assert stats["recipes/rechecks"] == 1 and stats["recipes/recheck_disagreed/boredpanda"] == 1
        assert stats["recipes/stale"] == 1 and "recipes/verified/boredpanda" not in stats
        warnings = json.loads(disagreed.run["warnings"])
        assert any(
            "comment recipe of boredpanda is stale" in w and "disagrees" in w and "only in the browser" in w
            for w in warnings
        ), warnings
        assert any("comment recipe of boredpanda re-learned from" in w for w in warnings), warnings
        assert thread_load(disagreed) == {"method": "browser", "complete": 1, "loaded": len(expected)}
        row = site_api(disagreed)
        assert row["learned_from_url"] == url and row["status"] == "active"
        assert not row["recipe"].get("seed")

        # the re-learned recipe (the page's own page size) pages the whole thread again, no browser
        relearned = crawl(db, [url], settings=AGAIN)
        assert relearned.stats.get("browser/pages_opened", 0) == 0
        assert "recipes/seed/boredpanda" not in relearned.stats
        assert thread_load(relearned) == {"method": "recipe", "complete": 1, "loaded": len(expected)}

    # five runs, one stale recipe, one incomplete load: every comment is live, none was ever deleted
    assert live_ids(relearned) == expected
    assert relearned.query("SELECT count(*) AS n FROM changes WHERE kind = 'deleted'") == [{"n": 0}]
    assert relearned.query("SELECT count(*) AS n FROM comments WHERE status != 'live'") == [{"n": 0}]
