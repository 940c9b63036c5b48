"""A recipe request that fails, and a crawl that stops mid-thread (issue 12 point 5).

One rule for every failed recipe request, whatever answered before it (Scrapy interleaves answers, so
"after some answers" must decide nothing): a request that still fails once Scrapy's retries are done
(a 5xx, a 4xx such as the answer for a comment deleted meanwhile) marks the recipe `stale`, the article
falls back to the browser in the same run where one is ready (the recipe is re-learned there), and the
run warns; without a browser the thread is recorded incomplete with the reason. A stale recipe never
deletes a comment. The replica is changed in this process (its server runs here): a fault that fails
one request once stands for an error the browser's own request no longer meets.

A crawl that stops mid-thread (CLOSESPIDER_PAGECOUNT here, a time limit or SIGTERM alike) stores the
replies it fetched and held back for a parent that had not come yet (a flat list, newest first), at the
depth the crawl can vouch for, with the thread's incomplete ThreadItem.
"""

from __future__ import annotations

import json
import shutil

import pytest

from crawler.recipes import store
from crawler.replica import ReplicaServer, build_demo_site
from crawler.replica import ajax as replica_ajax
from crawler.replica.generate import generated_article
from tests.comment_systems import thread
from tests.crawling import FAST, article_url, crawl, model_thread
from tests.test_recipes_depth import WordPress, cid, stored, wp_recipe

needs_chromium = pytest.mark.skipif(
    shutil.which("chromium") is None, reason="Debian chromium is not installed"
)

#: three comment pages for the seed (50 a page); replies loaded by their own calls; texts shown cut
PAGED, REPLIES, FULL = "failing-page-three-article", "failing-replies-article", "failing-full-text-article"
ARTICLES = {PAGED: 8500601, REPLIES: 8500602, FULL: 8500603}
TWO_PAGES, TWO_PAGES_ID = "failing-page-two-article", 8500604  # the browser's: 60 top-level only, none cut
AGAIN = {"CONDITIONAL_GET": "False"}
NO_BROWSER = {**AGAIN, "BROWSER_EXECUTABLE": "/nonexistent/chromium"}


def replica_site():
    site = build_demo_site()
    site.add_article(generated_article(PAGED, ARTICLES[PAGED], 130, seed=1, top_level=110, max_depth=1))
    site.add_article(generated_article(REPLIES, ARTICLES[REPLIES], 90, seed=2, top_level=12, max_depth=2))
    site.add_article(generated_article(FULL, ARTICLES[FULL], 40, seed=3, top_level=30, max_depth=1))
    site.add_article(
        generated_article(TWO_PAGES, TWO_PAGES_ID, 60, seed=4, top_level=60, max_depth=0, cut_every=0)
    )
    return site


def loads(result) -> dict[str, dict]:
    rows = result.query(
        "SELECT article_id, method, complete, reason FROM thread_loads WHERE run_id = ?",
        [result.run["run_id"]],
    )
    slug_of = {f"boredpanda:{v}": k for k, v in {**ARTICLES, TWO_PAGES: TWO_PAGES_ID}.items()}
    return {slug_of[r.pop("article_id")]: r for r in rows}


def comments(result, slug: str) -> dict[str, str]:
    rows = result.query(
        "SELECT c.comment_id, c.status FROM comments c JOIN articles a USING (article_id) WHERE a.url LIKE ?",
        [f"%/{slug}/"],
    )
    return {r["comment_id"]: r["status"] for r in rows}


def deletions(result) -> list[str]:
    rows = result.query(
        "SELECT entity_id FROM changes WHERE kind = 'deleted' AND run_id = ?", [result.run["run_id"]]
    )
    return [r["entity_id"] for r in rows]


def once(action: str, when, before=None):
    """The replica's `action`, failing once: the first request for which `when(form)` holds answers
    500 (or, given `before`, runs `before(site, form)` first, then answers as the site does). Returns
    the wrapper and the forms it fired on."""
    real = replica_ajax._ACTIONS[action]
    fired = []

    def answer(site, form):
        if not fired and when(form):
            fired.append(dict(form))
            if before is None:
                raise replica_ajax.AjaxError(500, "internal error (once)")
            before(site, form)
        return real(site, form)

    return answer, fired


def test_a_failing_request_makes_the_recipe_stale_whichever_request_and_whenever_it_fails(
    tmp_path, monkeypatch
):
    """Without a browser: page 3 of the comments (after two answers), every replies call, and the
    full text of a comment deleted just before its request (the site's 400 "no such comment") each
    fail the seed recipe the same way: stale, warned, the thread incomplete with the reason. Nothing is
    deleted from those loads; the next complete load confirms the deletion through the site."""
    site = replica_site()
    db = tmp_path / "c.db"
    full = site.article(FULL)
    victim = next(c for c in full.comments if "\n\n" in c.text and c.parent_id is None)  # shown cut
    gone_too = max((c for c in site.article(PAGED).comments if c.parent_id is None), key=lambda c: int(c.id))
    with ReplicaServer(site) as server:
        urls = [article_url(server, slug) for slug in ARTICLES]
        first = crawl(db, urls, settings=NO_BROWSER)
        site.set_faults(PAGED, comment_pages=[3])
        site.set_faults(REPLIES, replies=[c.id for c in site.article(REPLIES).comments])
        site.delete_comment(gone_too.id)  # newest first: on page 1, which still answers
        answer, fired = once(
            "load_comment",
            lambda form: form.get("comment_id") == victim.id,
            before=lambda s, form: s.delete_comment(victim.id),
        )
        monkeypatch.setitem(replica_ajax._ACTIONS, "load_comment", answer)
        # every cut comment's full text is asked again (not skipped as fetched recently)
        failing = crawl(db, urls, settings={**NO_BROWSER, "COMMENTS_FULL_TEXT_RECHECK": "0s"})
        between = {  # the database as that run left it (the next run changes it)
            "status": failing.query("SELECT status FROM site_apis"),
            "gone_too": comments(failing, PAGED).get(f"boredpanda:{gone_too.id}"),
            "victim": comments(failing, FULL).get(f"boredpanda:{victim.id}"),
        }
        site.set_faults(PAGED, comment_pages=[])
        site.set_faults(REPLIES, replies=[])
        after = crawl(db, urls, settings=NO_BROWSER)
    assert first.returncode == 0 and failing.returncode == 0 and after.returncode == 0, failing.stderr[-3000:]
    assert loads(first) == {s: {"method": "recipe", "complete": 1, "reason": None} for s in ARTICLES}
    assert first.stats["recipes/requests/replies"] > 0 and first.stats["recipes/requests/full_text"] > 0
    assert fired, "the victim's full text was not requested"

    got, stats = loads(failing), failing.stats
    why = {PAGED: "comments request failed: HTTP 500", REPLIES: "replies request failed: HTTP 500"}
    why[FULL] = "full_text request failed: HTTP 400"
    for slug, failure in why.items():
        assert got[slug]["method"] == "recipe" and got[slug]["complete"] == 0, (slug, got[slug])
        assert failure in got[slug]["reason"], (slug, got[slug])
    warnings = json.loads(failing.run["warnings"])
    for slug, failure in why.items():
        stale = [w for w in warnings if "is stale" in w and f"/{slug}/" in w]
        # one verdict per thread, however many of its requests failed (REPLIES: several calls)
        assert len(stale) == 1 and failure in stale[0] and "no browser to fall back to" in stale[0], warnings
    assert stats["recipes/failed/boredpanda"] == 3
    assert stats["article_spider/request_error/replies"] > 1  # each failed call counted, one warning
    # the stale recipe's loads delete nothing: the comment gone from page 1 and the victim stay live
    assert between == {"status": [{"status": "stale"}], "gone_too": "live", "victim": "live"}
    assert deletions(failing) == []
    # the faults passed: complete loads, the two deletions confirmed by the site's single-comment answer
    assert loads(after) == {s: {"method": "recipe", "complete": 1, "reason": None} for s in ARTICLES}
    gone = {f"boredpanda:{gone_too.id}", f"boredpanda:{victim.id}"}
    everything = {key for slug in ARTICLES for key in comments(after, slug)}
    live = {key for slug in ARTICLES for key in model_thread(site, slug)}
    assert gone <= everything - live  # (with their replies, which vanished with them)
    assert sorted(deletions(after)) == sorted(everything - live)
    assert after.query("SELECT status FROM site_apis") == [{"status": "active"}]
    assert set(comments(after, REPLIES)) == set(model_thread(site, REPLIES))


@needs_chromium
def test_a_5xx_after_answers_falls_back_to_the_browser_in_the_same_run(tmp_path, monkeypatch):
    """Fresh database, the site's seed recipe: comment page 2 answers 500 (once, after page 1 did).
    The recipe is stale, the article is re-read in the browser in the same run (whose own page-2
    request works), the recipe is learned there, every comment stored, nothing else changed."""
    site = replica_site()
    db = tmp_path / "c.db"
    answer, fired = once("load_comments", lambda form: form.get("page") == "2")
    monkeypatch.setitem(replica_ajax._ACTIONS, "load_comments", answer)
    with ReplicaServer(site) as server:
        url = article_url(server, TWO_PAGES)
        result = crawl(db, [url], settings={**FAST, **AGAIN, "CONCURRENT_REQUESTS_PER_DOMAIN": "4"})
    assert result.returncode == 0, result.stderr[-3000:]
    assert fired and fired[0]["post_id"] == str(TWO_PAGES_ID)
    stats = result.stats
    assert stats["recipes/stale"] == 1 and stats["recipes/fallback_browser"] == 1
    assert stats["browser/pages_opened"] == 1 and stats["recipes/learned/boredpanda"] == 1
    warnings = json.loads(result.run["warnings"])
    assert any(
        "is stale (comments request failed: HTTP 500)" in w and "re-read in the browser" in w
        for w in warnings
    ), warnings
    assert loads(result) == {TWO_PAGES: {"method": "browser", "complete": 1, "reason": None}}
    assert set(comments(result, TWO_PAGES)) == set(model_thread(site, TWO_PAGES))
    assert result.query("SELECT count(*) AS n FROM changes WHERE kind != 'added'") == [{"n": 0}]
    [row] = result.query("SELECT status, learned_from_url FROM site_apis")
    assert row == {"status": "active", "learned_from_url": url}


# -- a crawl that stops mid-thread keeps the replies it held for a parent ------------------------------


def test_a_crawl_stopped_mid_thread_stores_the_replies_it_held_for_their_parents(tmp_path):
    """A flat list newest first (replies before their parents, on earlier pages); the crawl stops after
    its first comment pages (CLOSESPIDER_PAGECOUNT). Every comment those pages held is stored: a reply
    whose parent came at the model's depth, one whose parent never came (a later page) at 1 (new to
    the database: the least a reply has) and its replies one level below, counted and warned; the
    thread is incomplete, saying the crawl stopped. They are stored as a whole crawl stores them
    (cleaned like every comment: text, author, time)."""
    story = thread("9079", top=30, seed=32, first_id=1000, max_depth=2)
    site = WordPress({"9079": story}, hidden={})
    try:
        recipe, url = wp_recipe(site.base_url, "desc"), f"{site.base_url}/9079/"
        for name in ("stopped.db", "whole.db"):
            store.save_recipe(tmp_path / name, recipe, site.base_url + "/4521/")
        whole = crawl(tmp_path / "whole.db", [url])
        site.served.clear()
        # robots.txt, the article, then comment pages: the crawl closes after the second of them
        result = crawl(tmp_path / "stopped.db", [url], settings={"CLOSESPIDER_PAGECOUNT": "4"})
    finally:
        site.close()
    assert whole.returncode == 0 and result.returncode == 0, result.stderr[-3000:]
    assert result.stats["finish_reason"] == "closespider_pagecount"
    served = {note_id for page in site.served for note_id in page}
    assert 0 < len(site.served) < -(-len(story.notes) // 10), site.served  # stopped mid-thread

    def climb(note_id: int) -> tuple[int, bool]:
        """(levels up the chain of served parents, whether it ends at a parent never served)."""
        note, steps = story.by_id(note_id), 0
        while note.parent is not None and note.parent in served:
            note, steps = story.by_id(note.parent), steps + 1
        return steps, note.parent is not None

    # the model's depth below a served chain of parents; below one that never came: 1, then one more
    want = {cid(n): climb(n)[0] + climb(n)[1] for n in served}
    held = [n for n in served if climb(n)[1]]
    placed = [n for n in served if not climb(n)[1] and climb(n)[0] == 2]  # a reply's reply, all served
    assert held and placed and any(climb(n) == (1, True) for n in held), "not the mix this test is for"
    assert stored(result, url) == want
    assert result.stats["recipes/depth_unknown"] == len(held)
    [load] = result.query("SELECT method, complete, reason FROM thread_loads")
    assert load["method"] == "recipe" and load["complete"] == 0
    assert "crawl stopped before the thread was loaded (closespider_pagecount)" in load["reason"]
    warnings = json.loads(result.run["warnings"])
    assert [w for w in warnings if "never held" in w and "/9079/" in w], warnings
    columns = "comment_id, parent_id, author, text, posted_at, upvotes, downvotes"
    sql = f"SELECT {columns} FROM comments ORDER BY comment_id"
    assert result.query(sql) == [r for r in whole.query(sql) if int(r["comment_id"].split("-")[1]) in served]


def test_a_site_asking_to_wait_leaves_the_thread_incomplete_and_the_recipe_active(tmp_path):
    """Comment page 2 answers 429 with a Retry-After of an hour (over RETRY_AFTER_MAX: not retried in
    this run). A rate limit says nothing against the recipe, and the browser would call the same
    site: the thread is incomplete with the reason, the recipe stays active, nothing is deleted."""
    story = thread("9080", top=25, seed=19, first_id=3000, max_depth=1)
    site = WordPress({"9080": story}, hidden={})
    try:
        db, url = tmp_path / "wp.db", f"{site.base_url}/9080/"
        store.save_recipe(db, wp_recipe(site.base_url, "asc"), site.base_url + "/4521/")
        site.faults[2] = (429, {"Retry-After": "3600"})  # a rate limit for an hour
        result = crawl(db, [url], settings=NO_BROWSER)
    finally:
        site.close()
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stats["recipes/asked_to_wait"] == 1 and "recipes/failed/blog" not in result.stats
    assert result.stats["retry_after/too_long"] == 1
    [load] = result.query("SELECT method, complete, reason FROM thread_loads")
    assert load["method"] == "recipe" and load["complete"] == 0
    assert "HTTP 429, the site asks to wait" in load["reason"]
    assert result.query("SELECT status FROM site_apis") == [{"status": "active"}]
    assert not [w for w in json.loads(result.run["warnings"]) if "is stale" in w]
    assert len(stored(result, url)) == 10  # page 1's comments, stored


def test_a_recipe_stale_from_failed_requests_is_tried_again_by_a_run_without_browser(tmp_path):
    """Run 1 (no browser): comment page 2 answers 500, the learned recipe goes stale, the thread is
    incomplete. Run 2 (no browser to re-learn it; the fault has passed): the recipe is tried again,
    pages the whole thread and is active again. A recipe stale for what it read (here: ids that
    disagree with the page, written as its stale_reason) is not tried again: run 3 leaves it stale and
    the thread to the page alone."""
    story = thread("9081", top=25, seed=21, first_id=4000, max_depth=1)
    site = WordPress({"9081": story}, hidden={})
    try:
        db, url = tmp_path / "wp.db", f"{site.base_url}/9081/"
        store.save_recipe(db, wp_recipe(site.base_url, "asc"), site.base_url + "/4521/")
        site.faults[2] = (500, {})
        failed = crawl(db, [url], settings=NO_BROWSER)
        [row] = failed.query("SELECT status, stale_reason FROM site_apis")
        assert row["status"] == "stale" and "request failed: HTTP 500" in row["stale_reason"], row
        site.faults.clear()
        again = crawl(db, [url], settings=NO_BROWSER)
        store.mark_stale(db, "blog", "comments answer: page 1 of the recipe disagrees with the page")
        site.served.clear()
        refused = crawl(db, [url], settings=NO_BROWSER)
    finally:
        site.close()
    assert failed.returncode == 0 and again.returncode == 0 and refused.returncode == 0, again.stderr[-3000:]
    assert again.stats["recipes/used/blog"] == 1 and again.stats["recipes/reactivated/blog"] == 1
    [load] = again.query("SELECT method, complete FROM thread_loads WHERE run_id = ?", [again.run["run_id"]])
    assert load == {"method": "recipe", "complete": 1}
    assert len(stored(again, url)) == len(story.notes)
    assert refused.query("SELECT status FROM site_apis") == [{"status": "stale"}]
    assert "recipes/used/blog" not in refused.stats and site.served == []


@needs_chromium
def test_replies_held_by_a_load_handed_to_the_browser_are_stored_if_the_browser_never_reads_it(tmp_path):
    """Comment page 2 answers 500: the recipe is stale and the article handed to the browser, but the
    crawl stops (CLOSESPIDER_PAGECOUNT) before the browser opens it. The replies page 1 held for
    their parents are stored all the same (at the depth the crawl can vouch for), and the thread is
    recorded incomplete, saying why. No browser page is opened: Chromium never starts."""
    story = thread("9079", top=30, seed=32, first_id=1000, max_depth=2)
    site = WordPress({"9079": story}, hidden={})
    try:
        db, url = tmp_path / "wp.db", f"{site.base_url}/9079/"
        store.save_recipe(db, wp_recipe(site.base_url, "desc"), site.base_url + "/4521/")
        site.faults[2] = (500, {})
        # robots.txt, the article, page 1, page 2 (the 500): the crawl closes there
        result = crawl(db, [url], settings={**AGAIN, "CLOSESPIDER_PAGECOUNT": "4"})
    finally:
        site.close()
    assert result.returncode == 0, result.stderr[-3000:]
    stats = result.stats
    assert stats["recipes/fallback_browser"] == 1 and stats.get("browser/pages_opened", 0) == 0
    [page] = site.served
    held = [n for n in page if story.by_id(n).parent is not None and story.by_id(n).parent not in page]
    assert held and stats["recipes/depth_unknown"] >= len(held)
    assert set(stored(result, url)) == {cid(n) for n in page}
    [load] = result.query("SELECT method, complete, reason FROM thread_loads")
    assert load["method"] == "recipe" and load["complete"] == 0
    assert "did not read it (closespider_pagecount)" in load["reason"]
