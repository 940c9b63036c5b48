"""Learned comment APIs end to end: learn in Chromium once, then page other articles over plain HTTP.

For each replica site (Bored Panda, The Daily Zine, The Town Square): one article is crawled with the
browser (its profile) and the site's recipe learned from what the page requested; two *other*
articles are then crawled with the default command: no browser page, the thread paged with the
recipe, the same comments (ids, parents, texts, votes) as a browser crawl of those articles. On the
Town Square the API is then renamed between runs, first its path, then its cursor parameter: each
time the run falls back to the browser, re-learns, stores every comment, deletes nothing, and warns,
and the run after it pages the renamed API without a browser.
"""

from __future__ import annotations

import json
import shutil

import pytest

from crawler.replica import ReplicaServer, build_demo_site
from crawler.replica.demo_site import add_zine_stories
from crawler.replica.square import csrf_token, rename_api, square_of
from crawler.replica.zine import zine_of
from tests.crawling import FAST, comments_at, crawl

pytestmark = pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian chromium is not installed")

BROWSER = {**FAST, "CONCURRENT_REQUESTS_PER_DOMAIN": "4"}
#: re-crawls of the same articles must page the thread again, not stop at an unchanged page
AGAIN = {"CONDITIONAL_GET": "False"}


SITES = {
    # profile: (article to learn from, two other articles)
    "boredpanda": ("/two-page-comments-article/", ["/one-page-article/", "/plain-article-3/"]),
    "zine": ("/zine/quiet-harbour-story/", ["/zine/harbour-fair-story/", "/zine/night-ferry-story/"]),
    "square": (
        "/square/ferry-timetable-story/",
        ["/square/bakery-queue-story/", "/square/lighthouse-paint-story/"],
    ),
}


def comments_of(result, urls: list[str]) -> set[tuple]:
    return comments_at(result, urls)


def thread_loads(result) -> list[dict]:
    return result.query(
        "SELECT method, complete FROM thread_loads WHERE run_id = ? ORDER BY article_id",
        [result.run["run_id"]],
    )


def model_comments(site_model, slugs: list[str], prefix: str) -> set[tuple]:
    """What the replica's model says is live in these articles: (id, parent, text, up, down, status)."""
    rows = set()
    for slug in slugs:
        for c in site_model.article(slug).comments:
            if not c.deleted:
                parent = f"{prefix}:{c.parent_id}" if c.parent_id else None
                rows.add((f"{prefix}:{c.id}", parent, c.text, c.upvotes, c.downvotes, "live"))
    return rows


MODELS = {"boredpanda": lambda site: site, "zine": zine_of, "square": square_of}


@pytest.mark.parametrize("profile", ["boredpanda", "zine"])
def test_learned_in_browser_then_paged_without_browser(profile, tmp_path):
    site = add_zine_stories(build_demo_site())
    learn_path, other_paths = SITES[profile]
    with ReplicaServer(site) as server:
        learn_url = server.base_url + learn_path
        others = [server.base_url + p for p in other_paths]
        learned = crawl(
            tmp_path / "recipe.db",
            [learn_url],
            args={"profile": profile, "render": "browser"},
            settings=BROWSER,
        )
        assert learned.returncode == 0, learned.stderr[-3000:]
        assert learned.stats[f"recipes/learned/{profile}"] == 1
        [row] = learned.query("SELECT site, status, learned_from_url FROM site_apis")
        assert (row["site"], row["status"], row["learned_from_url"]) == (profile, "active", learn_url)
        paged = crawl(tmp_path / "recipe.db", others)
        if profile == "zine":
            # the recipe was used once: with RECIPES_RECHECK_EVERY=1 one article goes to the browser
            checked = crawl(
                tmp_path / "recipe.db", others, settings={**BROWSER, **AGAIN, "RECIPES_RECHECK_EVERY": "1"}
            )
            assert checked.returncode == 0, checked.stderr[-3000:]
            assert checked.stats["recipes/rechecks"] == 1
            assert checked.stats["browser/pages_opened"] == 1
            assert checked.stats.get("recipes/verified/zine") == 1, (
                checked.stats,
                checked.run["warnings"],
            )  # the browser taught the same API
            assert sorted(r["method"] for r in thread_loads(checked)) == ["browser", "recipe"]
            [row] = checked.query("SELECT uses, verified_at > learned_at AS later FROM site_apis")
            assert row == {"uses": 0, "later": 1}
            assert checked.query(
                "SELECT count(*) AS n FROM changes WHERE run_id = ?", [checked.run["run_id"]]
            ) == [{"n": 0}]
    assert paged.returncode == 0, paged.stderr[-3000:]
    assert paged.stats.get("browser/pages_opened", 0) == 0
    assert paged.stats[f"recipes/used/{profile}"] == 2
    assert paged.stats["recipes/requests/comments"] >= 2
    assert thread_loads(paged) == [{"method": "recipe", "complete": 1}] * 2
    # the browser path stores the replica's model exactly (tests/test_browser.py, test_replica_zine.py)
    slugs = [p.strip("/").split("/")[-1] for p in other_paths]
    expected = model_comments(MODELS[profile](site), slugs, profile)
    assert len(expected) >= 20
    assert comments_of(paged, others) == expected
    assert json.loads(paged.run["warnings"]) == []


def test_square_learned_paged_renamed_relearned(tmp_path):
    """Learn, page without a browser, rename the API: fall back, re-learn, warn, then page again.

    The fallback run re-reads the same two articles in the browser right after the recipe run stored
    them: that it records no change at all shows both paths stored the same comments."""
    site = build_demo_site()
    learn_path, other_paths = SITES["square"]
    db = tmp_path / "recipe.db"
    with ReplicaServer(site) as server:
        others = [server.base_url + p for p in other_paths]
        learned = crawl(
            db,
            [server.base_url + learn_path],
            args={"profile": "square", "render": "browser"},
            settings=BROWSER,
        )
        assert learned.stats["recipes/learned/square"] == 1
        paged = crawl(db, others, settings=AGAIN)
        # the API moves, and to a REST shape (the thread's key now in the path, no `thread`
        # parameter), and asks for the page's per-thread CSRF token in a header
        rename_api(square_of(site), api_path="/square/api/threads/{thread}/comments", csrf=True)
        fallback = crawl(db, others, settings={**BROWSER, **AGAIN})
        again = crawl(db, others, settings=AGAIN)
        [row] = again.query("SELECT status, recipe FROM site_apis")
        # then the paging parameter: the old one is ignored, so the cursor comes back the same
        rename_api(square_of(site), cursor_param="from")
        param_fallback = crawl(db, others, settings={**BROWSER, **AGAIN})
        param_again = crawl(db, others, settings=AGAIN)
    assert paged.stats.get("browser/pages_opened", 0) == 0
    assert thread_loads(paged) == [{"method": "recipe", "complete": 1}] * 2
    expected = model_comments(square_of(site), [p.strip("/").split("/")[-1] for p in other_paths], "square")
    assert len(expected) == 31 + 27
    assert comments_of(paged, others) == expected

    assert fallback.returncode == 0, fallback.stderr[-3000:]
    stats = fallback.stats
    assert stats["recipes/stale"] == 1
    assert stats["recipes/fallback_browser"] == 2
    assert stats["browser/pages_opened"] == 2
    assert stats["recipes/learned/square"] >= 1
    warnings = json.loads(fallback.run["warnings"])
    assert any("comment recipe of square is stale" in w and "HTTP 404" in w for w in warnings), warnings
    assert thread_loads(fallback) == [{"method": "browser", "complete": 1}] * 2
    assert comments_of(fallback, others) == expected  # every comment stored, none deleted
    run_id = fallback.run["run_id"]
    assert fallback.query("SELECT count(*) AS n FROM changes WHERE run_id = ?", [run_id]) == [{"n": 0}]

    recipe = json.loads(row["recipe"])
    assert row["status"] == "active" and recipe["comments"]["path"].startswith("/square/api/threads/sq-")
    assert recipe["comments"]["article_param"] == "path:4"  # each article's key goes into the path
    assert recipe["comments"]["headers"] == {
        "accept": "application/json",
        "x-requested-with": "XMLHttpRequest",
    }
    assert set(recipe["comments"]["page_params"]) == {"header:x-csrf-token"}  # read from each page
    assert not any(csrf_token(a) in row["recipe"] for a in square_of(site).articles())
    # re-learned: the next run pages the renamed API without a browser again
    assert again.stats.get("browser/pages_opened", 0) == 0
    assert thread_loads(again) == [{"method": "recipe", "complete": 1}] * 2
    assert comments_of(again, others) == expected

    # the cursor parameter renamed between two runs: the same fallback, re-learn, warning, no deletion
    assert param_fallback.returncode == 0, param_fallback.stderr[-3000:]
    stats = param_fallback.stats
    assert stats["recipes/stale"] == 1 and stats["recipes/fallback_browser"] == 2
    assert stats["browser/pages_opened"] == 2 and stats["recipes/learned/square"] >= 1
    warnings = json.loads(param_fallback.run["warnings"])
    assert any(
        "comment recipe of square is stale" in w and ("repeat" in w or "not honoured" in w) for w in warnings
    ), warnings
    assert thread_loads(param_fallback) == [{"method": "browser", "complete": 1}] * 2
    assert comments_of(param_fallback, others) == expected
    run_id = param_fallback.run["run_id"]
    assert param_fallback.query("SELECT count(*) AS n FROM changes WHERE run_id = ?", [run_id]) == [{"n": 0}]
    [row] = param_again.query("SELECT status, recipe FROM site_apis")
    recipe = json.loads(row["recipe"])
    assert row["status"] == "active" and recipe["comments"]["paging"]["param"] == "from"
    assert param_again.stats.get("browser/pages_opened", 0) == 0
    assert thread_loads(param_again) == [{"method": "recipe", "complete": 1}] * 2
    assert comments_of(param_again, others) == expected
    assert param_again.query("SELECT count(*) AS n FROM changes WHERE kind = 'deleted'") == [{"n": 0}]
    assert param_again.query("SELECT count(*) AS n FROM comments WHERE status != 'live'") == [{"n": 0}]
