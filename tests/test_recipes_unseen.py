"""Induction on the API shapes of real comment systems (tests/comment_systems.py says where each
shape comes from): the recipe learned from one article's recorded exchanges pages *another* article
of the same site in process (the recipe's own requests answered by the system's contract), and the
comments it reads are the ones that article's widget would show.

Each test asserts what was induced (which requests carried comments, the paging parameter, the
article key's source, field paths, end signals, replies requests) and what paging another article
with it gives: ids, parents, texts, votes.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

from crawler.recipes.execute import first_calls, read_answer
from crawler.recipes.induce import induce
from crawler.recipes.learn import source_id
from tests.comment_systems import ISSO_PAGE, isso_answer, isso_dom, isso_exchanges, thread

BLOG = "http://blog.example"


def learned(exchanges, page_html, dom, url, site, shown=()):
    recipe = induce(exchanges, page_html, list(shown), dom, None, site=site, page_url=url)
    recipe["reader"] = site
    for role in ("comments", "replies", "full_text"):
        if recipe.get(role):
            recipe[role]["same_host"] = True
    return recipe


def page_in_process(recipe, page_html, url, serve):
    """Every comment the recipe reads for the article at `url`, whether it reached the end, and the
    requests it made; `serve(call)` answers a request as the comment system would."""
    queue, got, end, sent = first_calls(recipe, page_html, url, []), {}, False, []
    while queue:
        call = queue.pop(0)
        sent.append(call)
        assert len(sent) < 200, "the recipe does not stop"
        answer = read_answer(recipe, call, serve(call), url)
        for comment in answer.comments:
            got.setdefault(comment.comment_id, comment)
        end |= answer.end_reached
        queue += answer.calls
    return got, end, sent


def rows(comments: dict) -> set[tuple]:
    return {(source_id(c.comment_id), source_id(c.parent_id), c.author, c.text, c.upvotes, c.downvotes)
            for c in comments.values()}  # fmt: skip


def want(dom: list[dict]) -> set[tuple]:
    return {(c["id"], c["parent"], c["author"], c["text"], c["upvotes"], c["downvotes"]) for c in dom}


# -- Isso: GET, thread keyed by location.pathname, offset paging, nested replies, hidden_replies ------


def test_isso_offset_paging_thread_keyed_by_the_page_path_and_replies_by_parent():
    learn = thread("/blog/harbour-story/", top=11, seed=1)
    other = thread("/blog/ferry-story/", top=9, seed=2, first_id=500)
    exchanges = isso_exchanges(BLOG, learn)
    assert any(e["query"].get("parent") for e in exchanges)  # "load more" of replies was clicked
    page = ISSO_PAGE.format(title="Harbour", body="A story.")
    recipe = learned(exchanges, page, isso_dom(learn), BLOG + learn.key, "issoblog")
    comments = recipe["comments"]
    assert (comments["method"], comments["path"], comments["body"]) == ("GET", "/isso/", "query")
    # the thread id is the page's own path (the script's `sort: "oldest"` is no article key)
    assert comments["article_param"] == "uri" and recipe["article_key"] == {"kind": "url", "part": "path"}
    assert comments["paging"]["kind"] == "offset" and comments["paging"]["param"] == "offset"
    assert comments["constants"] == {"nested_limit": "2", "sort": "oldest"}  # no learned thread in it
    assert comments["end"]["zero_at"] == ["hidden_replies"]
    assert comments["total"] == ["total_replies"]
    assert recipe["id_format"] == {"prefix": "isso-", "suffix": ""}  # id="isso-12" in the page
    item = recipe["item"]
    assert (item["id"], item["parent"], item["replies"], item["text"], item["author"]) == (
        ["id"], ["parent"], ["replies"], ["text"], ["author"],
    )  # fmt: skip
    assert (item["time"], item["upvotes"], item["downvotes"], item["reply_count"]) == (
        ["created"], ["likes"], ["dislikes"], ["total_replies"],
    )  # fmt: skip
    replies = recipe["replies"]
    assert replies["parent_param"] == "parent" and replies["article_param"] == "uri"
    # "load more" replies start after the replies nested in the comment page (offset = nested_limit)
    assert replies["paging"] == {"kind": "offset", "param": "offset", "cursor_path": None,
                                 "start": {"kind": "inline"}}  # fmt: skip
    assert replies["end"]["zero_at"] == ["hidden_replies"]

    def serve(call):
        query = dict(parse_qsl(urlsplit(call.url).query))
        assert query["uri"] == other.key  # this article's thread, never the learned one
        return __import__("json").dumps(isso_answer(other, query)).encode()

    url = BLOG + other.key
    got, end, sent = page_in_process(recipe, ISSO_PAGE.format(title="Ferry", body="x"), url, serve)
    assert end
    assert rows(got) == want(isso_dom(other))
    assert len(got) == len(other.notes) >= 30
    assert any("parent=" in c.url for c in sent)  # the hidden replies were asked for
