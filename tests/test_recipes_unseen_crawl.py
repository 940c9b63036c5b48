"""Comment systems we did not design, end to end: Isso's, Commento's and a Drupal-style pager's API
shapes (tests/comment_systems.py).

A loopback blog embeds an Isso-style widget: the page carries no comment and no thread id (the
widget keys the thread by `location.pathname`), renders comments client-side from `GET /isso/?uri=…
&offset=…&limit=…&nested_limit=…` and shows "Load more" links for hidden top-level comments and
hidden replies. One article is crawled in the browser with a site profile and the recipe learned;
two *other* articles are then crawled with the default command: no browser page, and the same
comments (ids, parents, texts, votes) as a browser crawl of those two articles stores.
"""

from __future__ import annotations

import json
import shutil

import pytest

from tests.comment_systems import COMMENTO_PROFILE, ISSO_PROFILE, CommentSystemsServer, thread
from tests.crawling import COMMENT_COLUMNS, comments_at, crawl, learn_beside_reference

pytestmark = pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian chromium is not installed")

LEARN = "/blog/harbour-lights/"
OTHERS = ["/blog/ferry-strike/", "/blog/market-day/"]


def stored(result, urls: list[str]) -> set[tuple]:
    """The stored comments' columns the recipe must store as the browser does, depth included."""
    return comments_at(result, urls, (*COMMENT_COLUMNS, "depth"))


def test_isso_shape_learned_in_browser_then_paged_without_browser(tmp_path):
    threads = {
        LEARN: thread(LEARN, top=9, seed=3, first_id=1),
        OTHERS[0]: thread(OTHERS[0], top=8, seed=4, first_id=300),
        OTHERS[1]: thread(OTHERS[1], top=10, seed=5, first_id=600),
    }
    profile = tmp_path / "issoblog.toml"
    profile.write_text(ISSO_PROFILE)
    in_browser = {"profile": str(profile), "render": "browser"}
    with CommentSystemsServer(threads) as server:
        others = [server.base_url + p for p in OTHERS]
        learned, reference = learn_beside_reference(tmp_path, server.base_url + LEARN, others, in_browser)
        assert learned.returncode == 0, learned.stderr[-3000:]
        assert learned.stats["recipes/learned/issoblog"] == 1, learned.stats
        [row] = learned.query("SELECT site, status, recipe FROM site_apis")
        recipe = json.loads(row["recipe"])
        assert (row["site"], row["status"]) == ("issoblog", "active")
        assert recipe["article_key"] == {"kind": "url", "part": "path"}
        assert (
            recipe["comments"]["paging"]["param"] == "offset"
            and recipe["replies"]["parent_param"] == "parent"
        )
        assert LEARN not in row["recipe"]  # the learned thread's key is not a constant of the recipe
        served_before = len(server.requests)
        paged = crawl(tmp_path / "recipe.db", others)
        api_calls = server.requests[served_before:]
    assert reference.returncode == 0, reference.stderr[-3000:]
    assert reference.stats["browser/pages_opened"] == 2
    assert paged.returncode == 0, paged.stderr[-3000:]
    assert paged.stats.get("browser/pages_opened", 0) == 0
    assert paged.stats["recipes/used/issoblog"] == 2
    assert all(any(f"uri=%2Fblog%2F{p.split('/')[2]}%2F" in c for c in api_calls) for p in OTHERS)
    assert any("parent=" in c for c in api_calls)  # hidden replies asked for over plain HTTP
    loads = paged.query("SELECT method, complete FROM thread_loads WHERE run_id = ?", [paged.run["run_id"]])
    assert loads == [{"method": "recipe", "complete": 1}] * 2
    browser_rows = stored(reference, others)
    assert len(browser_rows) == sum(len(threads[p].notes) for p in OTHERS) >= 40
    assert stored(paged, others) == browser_rows
    assert json.loads(paged.run["warnings"]) == []


TALK_LEARN = "/talk/harbour-lights/"
TALK_OTHERS = ["/talk/ferry-strike/", "/talk/market-day/"]


def test_commento_shape_json_sent_as_a_form_flat_list_and_joined_authors(tmp_path):
    """Commento's widget (tests/comment_systems.py): one POST whose JSON body goes as a form, every
    comment in one flat list (parentHex "root" at the top), authors only in a separate map. The
    recipe learned in Chromium pages two other articles without a browser and stores what a browser
    crawl stores: parents from the flat list, authors from the map, scores as votes."""
    threads = {
        TALK_LEARN: thread(TALK_LEARN, top=7, seed=6, first_id=1, max_depth=2),
        TALK_OTHERS[0]: thread(TALK_OTHERS[0], top=6, seed=7, first_id=300, max_depth=2),
        TALK_OTHERS[1]: thread(TALK_OTHERS[1], top=8, seed=8, first_id=600, max_depth=2),
    }
    for talk in threads.values():
        for note in talk.notes[::3]:
            # a score below zero ("-2 points"): read with its sign on both paths (the profile reader's
            # upvotes are signed), so the recipe learns the score field and both store -2
            note.dislikes = note.likes + 2
    profile = tmp_path / "talkblog.toml"
    profile.write_text(COMMENTO_PROFILE)
    in_browser = {"profile": str(profile), "render": "browser"}
    with CommentSystemsServer(threads) as server:
        others = [server.base_url + p for p in TALK_OTHERS]
        learn_url = server.base_url + TALK_LEARN
        learned, reference = learn_beside_reference(tmp_path, learn_url, others, in_browser)
        assert learned.returncode == 0, learned.stderr[-3000:]
        assert learned.stats["recipes/learned/talkblog"] == 1, learned.stats
        [row] = learned.query("SELECT recipe FROM site_apis")
        recipe = json.loads(row["recipe"])
        comments = recipe["comments"]
        assert (comments["method"], comments["body"]) == ("POST", "json")
        assert comments["content_type"] == "application/x-www-form-urlencoded"
        assert recipe["item"]["parent_root"] == "root" and recipe["item"]["author_join"]["map"] == [
            "commenters"
        ]
        paged = crawl(tmp_path / "recipe.db", others)
    assert reference.returncode == 0 and paged.returncode == 0, paged.stderr[-3000:]
    assert paged.stats.get("browser/pages_opened", 0) == 0 and paged.stats["recipes/used/talkblog"] == 2
    columns = "c.comment_id, c.parent_id, c.author, c.text, c.upvotes, c.depth"
    marks = ",".join("?" * len(others))
    sql = f"SELECT {columns} FROM comments c JOIN articles a USING (article_id) WHERE a.url IN ({marks})"
    browser_rows = {tuple(r.values()) for r in reference.query(sql, others)}
    assert len(browser_rows) == sum(len(threads[p].notes) for p in TALK_OTHERS) >= 30
    assert {tuple(r.values()) for r in paged.query(sql, others)} == browser_rows
    assert recipe["item"]["upvotes"] is not None  # the score, learned as the page shows it
    want = {n.likes - n.dislikes for p in TALK_OTHERS for n in threads[p].notes}
    assert {r[4] for r in browser_rows} == want and min(want) < 0  # signed on both paths
    assert json.loads(paged.run["warnings"]) == []


FORUM_LEARN = "/forum/harbour-lights/"
FORUM_OTHERS = ["/forum/ferry-strike/", "/forum/market-day/"]


def test_an_offset_over_every_rendered_comment_learned_in_browser_then_paged_without_browser(tmp_path):
    """A Drupal-style pager over every comment in thread order (tests/comment_systems.py `rows_*`):
    the widget asks from `offset` = the comments it rendered, replies included, and a page may start
    inside a thread. Learned in Chromium, the recipe counts the same way over plain HTTP: the two
    other articles store what a browser crawl stores, replies under their parents across pages."""
    from tests.comment_systems import ROWS_PROFILE

    threads = {
        FORUM_LEARN: thread("4521", top=5, seed=21, first_id=1, max_depth=2),
        FORUM_OTHERS[0]: thread("9077", top=5, seed=22, first_id=300, max_depth=2),
        FORUM_OTHERS[1]: thread("9078", top=6, seed=24, first_id=600, max_depth=2),
    }
    profile = tmp_path / "forum.toml"
    profile.write_text(ROWS_PROFILE)
    in_browser = {"profile": str(profile), "render": "browser"}
    with CommentSystemsServer(threads) as server:
        others = [server.base_url + p for p in FORUM_OTHERS]
        learn_url = server.base_url + FORUM_LEARN
        learned, reference = learn_beside_reference(tmp_path, learn_url, others, in_browser)
        assert learned.returncode == 0, learned.stderr[-3000:]
        assert learned.stats["recipes/learned/forum"] == 1, learned.stats
        [row] = learned.query("SELECT recipe FROM site_apis")
        paging = json.loads(row["recipe"])["comments"]["paging"]
        assert (paging["kind"], paging["param"], paging["counts"]) == ("offset", "offset", "all")
        served_before = len(server.requests)
        paged = crawl(tmp_path / "recipe.db", others)
        api_calls = server.requests[served_before:]
    assert reference.returncode == 0 and paged.returncode == 0, paged.stderr[-3000:]
    assert paged.stats.get("browser/pages_opened", 0) == 0 and paged.stats["recipes/used/forum"] == 2
    assert reference.stats["browser/pages_opened"] == 2
    browser_rows = stored(reference, others)
    assert len(browser_rows) == sum(len(threads[p].notes) for p in FORUM_OTHERS) >= 40
    assert stored(paged, others) == browser_rows
    assert len(api_calls) == len(set(api_calls))  # each offset asked once: no page read twice
    loads = paged.query("SELECT method, complete FROM thread_loads WHERE run_id = ?", [paged.run["run_id"]])
    assert loads == [{"method": "recipe", "complete": 1}] * 2
    assert json.loads(paged.run["warnings"]) == []


def test_a_link_paged_api_is_paged_over_plain_http_with_each_answers_headers(tmp_path):
    """WordPress's REST API answers each page with a Link header and X-WP-Total (tests/comment_systems.py
    `wp_headers`); a front end that follows the Link header teaches a recipe that pages by number and
    ends where the header names no next page. In a plain-HTTP crawl the spider hands each answer's
    headers to the recipe: a thread of whole pages ends on its last page (the page after it is an
    HTTP 400, which would fail the recipe), every page asked once, every comment stored at its depth,
    and X-WP-Total stored as the reported total. No browser."""
    from urllib.parse import urlsplit

    from crawler.recipes import store
    from crawler.recipes.induce import induce
    from tests.comment_systems import wp_dom, wp_exchanges, wp_page

    threads = {
        "/wp/harbour/": thread("4521", top=12, seed=15, max_depth=2),
        "/wp/ferry/": thread("9077", top=12, seed=4, first_id=700, max_depth=2),  # 80: 8 whole pages
        "/wp/market/": thread("9078", top=9, seed=2, first_id=2000, max_depth=2),  # 43
    }
    others = ["/wp/ferry/", "/wp/market/"]
    with CommentSystemsServer(threads) as server:
        learn_url = server.base_url + "/wp/harbour/"
        learn = threads["/wp/harbour/"]
        exchanges = wp_exchanges(server.base_url, learn, links=True)
        recipe = induce(exchanges, wp_page(4521), [], wp_dom(learn), None, site="blog", page_url=learn_url)
        recipe.update(
            reader="generic", match={"host": urlsplit(server.base_url).netloc, "path_prefix": "/wp/"}
        )
        recipe["comments"]["same_host"] = True
        assert recipe["comments"]["end"]["link_next"] and recipe["comments"]["total_header"] == "x-wp-total"
        db = tmp_path / "wp.db"
        store.save_recipe(db, recipe, learn_url)
        urls = [server.base_url + p for p in others]
        paged = crawl(db, urls)
        api_calls = [c for c in server.requests if c.startswith("/wp-json/")]
    assert paged.returncode == 0, paged.stderr[-3000:]
    assert paged.stats.get("browser/pages_opened", 0) == 0 and paged.stats["recipes/used/blog"] == 2
    assert len(api_calls) == len(set(api_calls)) == 8 + 5  # no page after the last, none twice
    loads = paged.query(
        "SELECT a.url, t.method, t.complete, t.reported_total FROM thread_loads t JOIN articles a "
        "USING (article_id) WHERE t.run_id = ? ORDER BY a.url",
        [paged.run["run_id"]],
    )
    want_loads = [
        {
            "url": server.base_url + p,
            "method": "recipe",
            "complete": 1,
            "reported_total": len(threads[p].notes),
        }
        for p in others
    ]
    assert loads == sorted(want_loads, key=lambda r: r["url"])

    def depth(story, note):
        return 0 if note.parent is None else depth(story, story.by_id(note.parent)) + 1

    want = {
        (
            f"blog:comment-{n.id}",
            f"blog:comment-{n.parent}" if n.parent else None,
            n.text,
            depth(threads[p], n),
        )
        for p in others
        for n in threads[p].notes
    }
    rows = paged.query("SELECT comment_id, parent_id, text, depth FROM comments")
    assert {tuple(r.values()) for r in rows} == want and len(want) == 80 + 43
    assert json.loads(paged.run["warnings"]) == []
