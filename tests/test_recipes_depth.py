"""Depths of a flat list's replies (WordPress REST, Commento, Disqus: each item names its parent).

A reply may come on another page than its parent: after it (oldest first, the parent near the end of
page 1) or before it (newest first: replies are newer than their parents). Either way it is stored
one level below its parent, as the browser path shows it; a reply whose parent has not come yet
waits for it (crawler.spiders.thread_state.ThreadState.place), whatever order the answers arrive
in; one whose parent never comes is stored at a depth the crawl can vouch for and the run says so.
"""

from __future__ import annotations

import json
import random
import sqlite3
from urllib.parse import parse_qsl, urlencode, urlsplit

from crawler.items import CommentItem
from crawler.recipes import store
from crawler.recipes.execute import first_calls, read_answer
from crawler.recipes.induce import induce
from crawler.spiders.thread_state import ThreadState
from tests.comment_systems import Thread, exchange, thread, wp_comment, wp_dom, wp_page
from tests.crawling import crawl
from tests.loopback import LoopbackServer, QuietHandler

PER_PAGE = 10


def model_depth(story: Thread, note_id: int) -> int:
    depth, note = 0, story.by_id(note_id)
    while note.parent is not None:
        depth, note = depth + 1, story.by_id(note.parent)
    return depth


def wp_answer(story: Thread, query: dict[str, str], hidden=frozenset()) -> tuple[int, list | dict]:
    """GET /wp-json/wp/v2/comments with `order` honoured (desc: newest first, replies before their
    parents); `hidden`: ids the API leaves out (a parent in the trash: WordPress REST lists the
    replies all the same)."""
    size, page = int(query.get("per_page") or PER_PAGE), int(query.get("page") or 1)
    notes = [n for n in story.notes if n.id not in hidden]
    if query.get("order") == "desc":
        notes = notes[::-1]
    if page > -(-len(notes) // size) and notes:
        return 400, {"code": "rest_comment_invalid_page_number", "data": {"status": 400}}
    return 200, [wp_comment(n, int(story.key)) for n in notes[(page - 1) * size : page * size]]


def wp_recipe(base: str, order: str) -> dict:
    """The recipe learned from one article's recorded pages (as crawler.recipes.learn sets it up)."""
    learn = thread("4521", top=12, seed=15, max_depth=2)
    exchanges, page = [], 1
    while True:
        query = {"post": learn.key, "per_page": PER_PAGE, "page": page, "order": order}
        status, answer = wp_answer(learn, {k: str(v) for k, v in query.items()})
        url = f"{base}/wp-json/wp/v2/comments?{urlencode(query)}"
        exchanges.append(exchange(len(exchanges), url, answer=answer, trigger="button.load-more-comments"))
        if len(answer) < PER_PAGE:
            break
        page += 1
    recipe = induce(exchanges, wp_page(4521), [], wp_dom(learn), None, site="blog", page_url=base + "/a/")
    recipe["reader"] = "generic"
    recipe["comments"]["same_host"] = True
    recipe["match"] = {"host": urlsplit(base).netloc, "path_prefix": "/"}
    assert recipe["comments"]["paging"]["kind"] == "page" and recipe["item"]["parent"] == ["parent"]
    assert recipe["comments"]["constants"]["order"] == order
    return recipe


def answers_of(recipe: dict, story: Thread, url: str) -> list[tuple]:
    """Every (call, body) of the recipe's paging of `story`, in paging order."""
    queue, out = first_calls(recipe, wp_page(int(story.key)), url, []), []
    while queue:
        call = queue.pop(0)
        status, answer = wp_answer(story, dict(parse_qsl(urlsplit(call.url).query)))
        assert status == 200, "asked for the page after the last"
        body = json.dumps(answer).encode()
        out.append((call, body))
        queue += read_answer(recipe, call, body, url).calls
    return out


def depths_read(recipe: dict, answers: list[tuple], url: str) -> tuple[dict[str, int], int]:
    """Depths of every comment when the answers are read in this order (each with the depths known
    at that moment, as the spider reads them), and how many replies had to wait for their parent."""
    state, emitted, waited = ThreadState("blog:a", url), {}, 0
    for call, body in answers:
        answer = read_answer(recipe, call, body, url, state.depths)
        waited += sum(1 for c in answer.comments if c.depth is None)
        for comment in state.place(answer.comments):
            emitted[comment.comment_id] = comment.depth
    assert not state.unplaced and not state.unplaced_rest(set())
    return emitted, waited


def want(story: Thread) -> dict[str, int]:
    return {cid(n.id): model_depth(story, n.id) for n in story.notes}


def cid(note_id: int) -> str:
    return f"blog:comment-{note_id}"  # the page's li#comment-<id>, as the recipe stores it


def test_a_reply_on_a_later_page_than_its_parent_sits_one_level_below_it():
    """Oldest first: a reply on page 2 whose parent was on page 1 (it kept depth 0 before)."""
    recipe = wp_recipe("http://blog.example", "asc")
    story = thread("9077", top=14, seed=16, first_id=700, max_depth=2)
    answers = answers_of(recipe, story, "http://blog.example/a/")
    assert len(answers) >= 3
    pages = [{c["id"]: c["parent"] for c in json.loads(body)} for _, body in answers]
    across = [i for n, page in enumerate(pages) for i, p in page.items() if p and p not in pages[n]]
    assert across, "no reply of the model thread comes on another page than its parent"
    got, waited = depths_read(recipe, answers, "http://blog.example/a/")
    assert got == want(story) and max(got.values()) == 2
    assert waited == 0  # every parent came first


def test_replies_before_their_parents_wait_for_them_in_any_order_the_answers_arrive():
    """Newest first: replies come before their parents, on earlier pages. Read in paging order or
    in any other order (Scrapy interleaves answers), the depths are the same: the model's."""
    recipe = wp_recipe("http://blog.example", "desc")
    story = thread("9077", top=14, seed=16, first_id=700, max_depth=2)
    answers = answers_of(recipe, story, "http://blog.example/a/")
    got, waited = depths_read(recipe, answers, "http://blog.example/a/")
    assert got == want(story) and waited > 0
    rng = random.Random(3)
    for _ in range(5):
        shuffled = rng.sample(answers, len(answers))
        assert depths_read(recipe, shuffled, "http://blog.example/a/")[0] == want(story)
    # read without the thread's depths (the executor alone), a reply whose parent is elsewhere is
    # not known yet: None, never a made-up 0
    orphans = []
    for call, body in answers:
        alone = read_answer(recipe, call, body, "http://blog.example/a/").comments
        here = {c.comment_id for c in alone}
        orphans += [c for c in alone if c.parent_id and c.parent_id not in here]
    assert orphans and all(c.depth is None for c in orphans)


def test_a_reply_whose_parent_never_comes_keeps_its_stored_depth_or_gets_the_least_a_reply_has():
    state = ThreadState("blog:a", "u")
    lost = [
        CommentItem("blog:5", parent_id="blog:1", depth=None),  # type: ignore[arg-type]
        CommentItem("blog:6", parent_id="blog:5", depth=None),  # type: ignore[arg-type]
        CommentItem("blog:7", parent_id="blog:2", depth=None),  # type: ignore[arg-type]
    ]
    assert state.place([CommentItem("blog:3", depth=0), *lost]) == [CommentItem("blog:3", depth=0)]
    rest = {c.comment_id: c.depth for c in state.unplaced_rest(stored={"blog:7"})}
    # blog:5 is new to the database: 1, its reply one below; blog:7 was stored: the store keeps its
    # depth (None is "not shown this time" to crawler.store.changes)
    assert rest == {"blog:5": 1, "blog:6": 2, "blog:7": None}
    assert not state.unplaced


# -- a real crawl: the recipe pages a WordPress-shaped API newest first over plain HTTP ---------------


def stored(result, url: str) -> dict[str, int]:
    sql = "SELECT c.comment_id, c.depth FROM comments c JOIN articles a USING (article_id) WHERE url = ?"
    return {r["comment_id"]: r["depth"] for r in result.query(sql, [url])}


class WordPress:
    """A loopback WordPress: article pages (wp_page) at /<post>/ and the REST comments API.

    `served`: the comment ids of every comments page it answered, in order (what a crawl fetched);
    `faults`: comment pages it answers with another status (and headers), by page number."""

    def __init__(self, threads: dict[str, Thread], hidden: dict[str, frozenset]) -> None:
        server = self
        self.served: list[list[int]] = []
        self.faults: dict[int, tuple[int, dict[str, str]]] = {}

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                if parts.path == "/robots.txt":
                    return self.answer(200, "text/plain", b"User-agent: *\nAllow: /\n")
                if parts.path == "/wp-json/wp/v2/comments":
                    query = dict(parse_qsl(parts.query))
                    fault = server.faults.get(int(query.get("page") or 1))
                    if fault is not None:
                        return self.answer(fault[0], "application/json", b"{}", fault[1])
                    story = threads[query["post"]]
                    status, answer = wp_answer(story, query, hidden.get(story.key, frozenset()))
                    if status == 200:
                        server.served.append([c["id"] for c in answer])
                    return self.answer(status, "application/json", json.dumps(answer).encode())
                post = parts.path.strip("/")
                if post not in threads:
                    return self.answer(404, "text/html", b"<html><body>Not found</body></html>")
                text = "<p>" + "The harbour story, told at length. " * 20 + "</p>"
                page = wp_page(int(post)).replace("<h1>Story</h1>", "<h1>Story</h1>" + text)
                return self.answer(200, "text/html; charset=utf-8", page.encode())

        self._server = LoopbackServer(Handler).start()
        self.base_url = self._server.base_url

    def close(self) -> None:
        self._server.close()


def test_crawl_stores_each_reply_at_its_parents_depth_plus_one_and_says_which_parents_never_came(tmp_path):
    """Two articles paged newest first with a learned recipe, no browser: every comment stored at the
    model's depth. In the second, one parent is in the trash (the API leaves it out, its replies
    stay): they are stored at depth 1 (new to the database), counted, and the run warns."""
    whole = thread("9077", top=14, seed=16, first_id=700, max_depth=2)
    trashed = thread("9078", top=9, seed=17, first_id=900, max_depth=2)
    gone = next(n for n in trashed.notes if n.parent is not None and n.children)  # a reply with replies
    site = WordPress({"9077": whole, "9078": trashed}, hidden={"9078": frozenset({gone.id})})
    try:
        db = tmp_path / "wp.db"
        store.save_recipe(db, wp_recipe(site.base_url, "desc"), site.base_url + "/4521/")
        urls = [f"{site.base_url}/9077/", f"{site.base_url}/9078/"]
        result = crawl(db, urls)
        first = {url: stored(result, url) for url in urls}
        # an earlier run knew where one of those replies sits (its parent was not in the trash then)
        known = cid(gone.children[0].id)
        with sqlite3.connect(db) as conn:
            conn.execute("UPDATE comments SET depth = 2 WHERE comment_id = ?", [known])
        again = crawl(db, urls[1:], settings={"CONDITIONAL_GET": "False"})  # the thread read again
    finally:
        site.close()
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stats["recipes/used/blog"] == 2 and result.stats.get("browser/pages_opened", 0) == 0

    assert first[urls[0]] == want(whole)
    expected = {k: v for k, v in want(trashed).items() if k != cid(gone.id)}
    for child in gone.children:  # one below the parent that never came: 1 for its replies
        expected[cid(child.id)] = 1
    assert first[urls[1]] == expected
    assert result.stats["recipes/depth_unknown"] == len(gone.children)
    warnings = json.loads(result.run["warnings"])
    assert [w for w in warnings if "never held" in w and "/9078/" in w], warnings
    loads = result.query("SELECT method, complete FROM thread_loads WHERE run_id = ?", [result.run["run_id"]])
    assert loads == [{"method": "recipe", "complete": 1}] * 2
    # stored before: the depth the database has stays (not overwritten by the least a reply has)
    assert again.returncode == 0 and again.run["status"] == "ok", again.stderr[-3000:]
    assert stored(again, urls[1]) == {**expected, known: 2}
    assert again.stats["recipes/depth_unknown"] == len(gone.children)
