"""The Bored Panda seed recipe (crawler/sites/boredpanda/recipe.json) run by the recipe executor alone.

Pure executor over plain HTTP against the replica (no crawl): it loads the 1,200-comment thread the way
the hand-written contract did (50 top-level comments a page, newest first, replies, full texts), asks
no comment page where the article shows the whole list, and its single-comment request tells a
deleted comment from a live one. Crawls with it are in test_crawl_article.py, test_deletions.py,
test_recheck.py and test_recipes_rename.py.
"""

from __future__ import annotations

import urllib.error
import urllib.request

from crawler.recipes.execute import confirm_call, first_calls, gone_statuses, read_confirmation
from crawler.recipes.learn import read_comments
from crawler.replica import ReplicaServer, build_demo_site
from crawler.replica.demo_site import BIG_THREAD_SLUG, ONE_PAGE_SLUG
from crawler.sites import boredpanda, registry
from tests.test_recipes_induce import expected, loaded, page_recipe


def test_the_seed_is_what_the_adapter_ships_in_the_induced_shape():
    seed = registry.seed_recipe("boredpanda")
    assert seed == boredpanda.seed_recipe() and seed is not boredpanda.seed_recipe()
    assert registry.seed_recipe("zine") is None
    for role in ("comments", "replies", "full_text", "confirm"):
        endpoint = seed[role]
        assert (endpoint["method"], endpoint["path"], endpoint["body"]) == (
            "POST", "/blog/wp-admin/admin-ajax.php", "form",
        )  # fmt: skip
        assert endpoint["same_host"] is True
    assert seed["comments"]["paging"]["kind"] == "page" and seed["replies"]["paging"]["kind"] == "offset"


def test_seed_pages_the_big_thread_like_the_hand_written_contract():
    site = build_demo_site()
    with ReplicaServer(site) as server:
        got, end = page_recipe(boredpanda.seed_recipe(), f"{server.base_url}/{BIG_THREAD_SLUG}/")
        ajax = server.stats["ajax"]
    assert end
    assert loaded(got) == expected(site, BIG_THREAD_SLUG, "boredpanda")
    assert not any(c.truncated for c in got.values())
    # 420 top-level comments at 50 a page, newest first
    assert ajax["load_comments"] == 9


def test_seed_asks_no_comment_page_when_the_article_shows_the_whole_list():
    site = build_demo_site()
    with ReplicaServer(site) as server:
        url = f"{server.base_url}/{ONE_PAGE_SLUG}/"
        html = urllib.request.urlopen(url).read().decode()  # noqa: S310 - loopback replica
        shown = read_comments(html, url, "boredpanda")
        thread = registry.parse_page(html, url).thread
        calls = first_calls(boredpanda.seed_recipe(), html, url, shown, page_ended=thread.end_reached)
        assert thread.end_reached and "comments" not in {c.role for c in calls}
        asked = first_calls(boredpanda.seed_recipe(), html, url, shown, page_ended=False)
        assert "comments" in {c.role for c in asked}


def _answer(call):
    request = urllib.request.Request(
        call.url, data=call.body, method=call.method, headers={"Content-Type": call.content_type}
    )
    try:
        with urllib.request.urlopen(request) as answer:  # noqa: S310 - loopback replica
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_seed_confirm_request_tells_deleted_from_live():
    site = build_demo_site()
    article = site.article(ONE_PAGE_SLUG)
    live, victim = article.comments[0], article.comments[-1]
    site.delete_comment(victim.id)
    seed = boredpanda.seed_recipe()
    assert gone_statuses(seed) == [400, 404, 410]
    with ReplicaServer(site) as server:
        url = f"{server.base_url}/{ONE_PAGE_SLUG}/"
        results = {}
        for comment in (live, victim):
            call = confirm_call(seed, url, f"boredpanda:{comment.id}")
            assert "action=load_comment&comment_id=" in call.body.decode() and call.key.startswith("confirm:")
            status, body = _answer(call)
            results[comment.id] = read_confirmation(seed, call, status, body, url)
        site.set_faults(ONE_PAGE_SLUG, full_text=[live.id])  # the request fails: says nothing
        call = confirm_call(seed, url, f"boredpanda:{live.id}")
        unknown = read_confirmation(seed, call, *_answer(call), url)
    gone, comments = results[live.id]
    assert gone is False and [c.comment_id for c in comments][:1] == [f"boredpanda:{live.id}"]
    assert results[victim.id] == (True, [])
    assert unknown == (None, [])
