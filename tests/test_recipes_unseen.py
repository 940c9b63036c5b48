"""Induction on the API shapes of real comment systems (tests/comment_systems.py says where each
shape comes from): the recipe learned from one article's recorded exchanges pages *another* article
of the same site in process (the recipe's own requests answered by the system's contract), and the
comments it reads are the ones that article's widget would show.

Each test asserts what was induced (which requests carried comments, the paging parameter, the
article key's source, field paths, end signals, replies requests) and what paging another article
with it gives: ids, parents, texts, votes.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qsl, urlsplit

import pytest

from crawler.recipes.execute import first_calls, read_answer
from crawler.recipes.induce import InductionError, induce
from crawler.recipes.learn import source_id
from tests.comment_systems import (
    ISSO_PAGE,
    commento_answer,
    commento_dom,
    commento_exchanges,
    coral_answer,
    coral_dom,
    coral_exchanges,
    coral_page,
    isso_after_exchanges,
    isso_answer,
    isso_dom,
    isso_exchanges,
    remark_dom,
    remark_exchanges,
    remark_tree,
    thread,
)

BLOG = "http://blog.example"


def learned(exchanges, page_html, dom, url, site, shown=()):
    recipe = induce(exchanges, page_html, list(shown), dom, None, site=site, page_url=url)
    recipe["reader"] = site
    for role in ("comments", "replies", "full_text"):
        if recipe.get(role):  # as crawler.recipes.learn sets it
            recipe[role]["same_host"] = recipe[role]["host"] == urlsplit(url).netloc
    return recipe


def page_in_process(recipe, page_html, url, serve, totals=None):
    """Every comment the recipe reads for the article at `url`, whether it reached the end, and the
    requests it made; `serve(call)` answers a request as the comment system would: its body, or
    (body, response headers). `totals` collects the totals the answers report."""
    queue, got, end, sent = first_calls(recipe, page_html, url, []), {}, False, []
    while queue:
        call = queue.pop(0)
        sent.append(call)
        assert len(sent) < 200, "the recipe does not stop"
        served = serve(call)
        body, headers = served if isinstance(served, tuple) else (served, None)
        answer = read_answer(recipe, call, body, url, headers=headers)
        if totals is not None:
            totals.append(answer.reported_total)
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
    assert comments["paging"]["counts"] == "level"  # top-level comments, not the replies nested in them
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
    assert replies["paging"] == {"kind": "offset", "param": "offset", "cursor_path": None, "counts": "level",
                                 "start": {"kind": "inline"}}  # fmt: skip
    assert replies["end"]["zero_at"] == ["hidden_replies"]

    def serve(call):
        query = dict(parse_qsl(urlsplit(call.url).query))
        assert query["uri"] == other.key  # this article's thread, never the learned one
        return json.dumps(isso_answer(other, query)).encode()

    url = BLOG + other.key
    got, end, sent = page_in_process(recipe, ISSO_PAGE.format(title="Ferry", body="x"), url, serve)
    assert end
    assert rows(got) == want(isso_dom(other))
    assert len(got) == len(other.notes) >= 30
    assert any("parent=" in c.url for c in sent)  # the hidden replies were asked for


def test_isso_before_offset_pages_by_the_last_comments_time():
    """Isso's older client pages with `after` = the last shown comment's `created` (a Unix float):
    keyset paging by a field of the previous answer's last comment, not a cursor the answer names."""
    learn = thread("/blog/harbour-story/", top=11, seed=1)
    other = thread("/blog/ferry-story/", top=9, seed=2, first_id=500)
    exchanges = isso_after_exchanges(BLOG, learn)
    assert "after=" not in exchanges[0]["url"] and "after=" in exchanges[1]["url"]
    page = ISSO_PAGE.format(title="Harbour", body="A story.")
    recipe = learned(exchanges, page, isso_dom(learn), BLOG + learn.key, "issoblog")
    comments = recipe["comments"]
    assert comments["article_param"] == "uri"
    assert comments["paging"] == {"kind": "cursor", "param": "after", "cursor_path": None,
                                  "cursor_item": ["created"], "start": {"kind": "absent"}}  # fmt: skip
    assert comments["total"] is None  # total_replies counts only the comments after `after`
    replies = recipe["replies"]
    assert replies["paging"]["param"] == "after" and replies["paging"]["cursor_item"] == ["created"]
    # each parent's first `after` was its last inline reply's time: asked from the first instead
    assert replies["paging"]["start"] == {"kind": "absent"}
    sent = []

    def serve(call):
        query = dict(parse_qsl(urlsplit(call.url).query))
        sent.append(query)
        return json.dumps(isso_answer(other, query)).encode()

    url = BLOG + other.key
    got, end, _ = page_in_process(recipe, page, url, serve)
    assert end and rows(got) == want(isso_dom(other)) and len(got) == len(other.notes) >= 30
    assert any("after" in q for q in sent)


# -- Remark42: GET, thread keyed by origin + path, one tree of {comment, replies} nodes --------------

NEWS = "https://news.example"
REMARK = "https://remark.news.example"
#: the page names the Remark42 host and site id; the post URL defaults to origin + pathname
NEWS_PAGE = (
    "<html><head><title>{title}</title></head><body><article><h1>{title}</h1></article>"
    "<div id='remark42'></div><script>var remark_config = {{host: '{remark}', site_id: 'remark'}};"
    "</script></body></html>"
)


def test_remark42_tree_of_wrapped_nodes_keyed_by_the_page_url():
    url = NEWS + "/2025/10/harbour-story/"
    learn = thread(url, top=8, seed=7, max_depth=2)
    page = NEWS_PAGE.format(title="Harbour", remark=REMARK)
    recipe = learned(remark_exchanges(REMARK, url, learn), page, remark_dom(learn), url, "news")
    comments = recipe["comments"]
    assert recipe["ignored"] == ["GET /api/v1/config", "GET /api/v1/user"]
    assert (comments["method"], comments["host"], comments["path"]) == (
        "GET", "remark.news.example", "/api/v1/find",
    )  # fmt: skip
    assert comments["article_param"] == "url" and recipe["article_key"] == {
        "kind": "url",
        "part": "origin_path",
    }
    assert comments["constants"] == {"format": "tree", "site": "remark", "sort": "-active"}
    assert comments["paging"] is None  # one request: the widget's "Show more" reveals what it has
    assert comments["end"]["has_more"] is None  # info.read_only (false) is no end signal
    assert comments["total"] == ["info", "count"]
    assert recipe["id_format"] == {"prefix": "remark42__comment-", "suffix": ""}
    item = recipe["item"]
    assert (item["id"], item["parent"], item["replies"]) == (
        ["comment", "id"],
        ["comment", "pid"],
        ["replies"],
    )
    assert (item["author"], item["text"], item["time"], item["upvotes"]) == (
        ["comment", "user", "name"], ["comment", "text"], ["comment", "time"], ["comment", "score"],
    )  # fmt: skip

    other_url = NEWS + "/2025/11/ferry-story/"
    other = thread(other_url, top=7, seed=8, first_id=400, max_depth=2)

    def serve(call):
        query = dict(parse_qsl(urlsplit(call.url).query))
        assert query["url"] == other_url and call.url.startswith(REMARK + "/api/v1/find?")
        return json.dumps(remark_tree(other, query["url"])).encode()

    got, end, sent = page_in_process(recipe, NEWS_PAGE.format(title="F", remark=REMARK), other_url, serve)
    assert end and len(sent) == 1
    assert rows(got) == want(remark_dom(other)) and len(got) == len(other.notes) >= 20
    assert any(c.parent_id and c.depth == 2 for c in got.values())  # replies of replies, nested
    # Go's nanosecond RFC 3339 times are the moments the widget shows
    by_id = {c["id"]: c for c in remark_dom(other)}
    from crawler.dates import parse_absolute

    assert all(
        parse_absolute(c.posted_at) == by_id[source_id(c.comment_id)]["posted_at"] for c in got.values()
    )


# -- Commento: POST of JSON sent as a form, flat list with parentHex "root", authors in a map ---------

COMMENTO = "https://cdn.commento.example"


def test_commento_flat_list_root_parent_and_authors_joined_from_the_commenters_map():
    url = NEWS + "/2025/10/harbour-story/"
    learn = thread(url, top=8, seed=9, max_depth=2)
    page = NEWS_PAGE.format(title="Harbour", remark=REMARK)
    exchanges = commento_exchanges(COMMENTO, url, learn)
    assert exchanges[0]["request_content_type"] == "application/x-www-form-urlencoded"
    assert exchanges[0]["body_kind"] == "json"  # the recorder reads the body as the JSON it is
    recipe = learned(exchanges, page, commento_dom(learn), url, "news")
    comments = recipe["comments"]
    assert (comments["method"], comments["path"], comments["body"]) == ("POST", "/api/comment/list", "json")
    assert comments["content_type"] == "application/x-www-form-urlencoded"  # sent as the page sent it
    assert comments["article_param"] == "path" and recipe["article_key"] == {"kind": "url", "part": "path"}
    # the logged-out token is a placeholder, kept (the API refuses a request without it)
    assert comments["constants"] == {"commenterToken": "anonymous", "domain": "news.example"}
    item = recipe["item"]
    assert (item["parent"], item["parent_root"], item["replies"]) == (["parentHex"], "root", None)
    assert item["text"] == ["html"]  # not the markdown source: the page shows the HTML's text
    assert item["author"] is None
    assert item["author_join"] == {"map": ["commenters"], "key": ["commenterHex"], "field": ["name"]}

    other_url = NEWS + "/2025/11/ferry-story/"
    other = thread(other_url, top=9, seed=10, first_id=400, max_depth=2)

    def serve(call):
        assert call.content_type == "application/x-www-form-urlencoded"
        body = json.loads(call.body)
        assert body == {
            "commenterToken": "anonymous",
            "domain": "news.example",
            "path": "/2025/11/ferry-story/",
        }
        return json.dumps(commento_answer(other)).encode()

    got, end, _ = page_in_process(recipe, page, other_url, serve)
    assert end
    assert rows(got) == want(commento_dom(other)) and len(got) == len(other.notes) >= 20
    assert sum(1 for c in got.values() if c.parent_id) >= 5  # replies under their parents, not on top
    assert {c.depth for c in got.values() if c.parent_id and got[c.parent_id].parent_id} == {2}


def test_a_flat_list_whose_replies_cannot_be_placed_is_refused_not_stored_flat():
    """Without any field naming the parent the page shows, a recipe would store every reply as a
    top-level comment: the induction refuses instead (the site stays on the browser path)."""
    url = NEWS + "/2025/10/harbour-story/"
    learn = thread(url, top=8, seed=9, max_depth=2)
    exchanges = commento_exchanges(COMMENTO, url, learn)
    answer = json.loads(exchanges[0]["body"])
    for comment in answer["comments"]:
        del comment["parentHex"]
    exchanges[0]["body"] = json.dumps(answer)
    with pytest.raises(InductionError, match="no field of theirs names the parent"):
        learned(exchanges, "<html><body></body></html>", commento_dom(learn), url, "news")


def test_authors_the_answer_does_not_carry_are_left_null_never_guessed():
    url = NEWS + "/2025/10/harbour-story/"
    learn = thread(url, top=8, seed=9, max_depth=2)
    exchanges = commento_exchanges(COMMENTO, url, learn)
    answer = json.loads(exchanges[0]["body"])
    answer["commenters"] = {}  # the map left out
    exchanges[0]["body"] = json.dumps(answer)
    recipe = learned(exchanges, "<html><body></body></html>", commento_dom(learn), url, "news")
    assert recipe["item"]["author"] is None and recipe["item"]["author_join"] is None
    [call] = first_calls(recipe, "<html><body></body></html>", url, [])
    got = read_answer(recipe, call, exchanges[0]["body"].encode(), url).comments
    assert len(got) == len(learn.notes) and all(c.author is None for c in got)


# -- Coral Talk: one GraphQL endpoint, several operations, edges/node, nested reply connections -------

CORAL = "https://coral.news.example"


def test_coral_graphql_operations_edges_and_cursors_from_the_answers():
    url = NEWS + "/2025/10/harbour-story/"
    learn = thread("story-8812", top=11, seed=11)
    exchanges = coral_exchanges(CORAL, url, learn)
    operations = [e["json"]["operationName"] for e in exchanges]
    assert operations[:3] == ["StreamQuery"] + ["AllCommentsTabContainerPaginationQuery"] * 2
    assert operations.count("ReplyListContainer1PaginationQuery") >= 3
    recipe = learned(exchanges, coral_page(learn.key, url, CORAL), coral_dom(learn), url, "news")
    comments = recipe["comments"]
    assert (comments["method"], comments["path"], comments["body"]) == ("POST", "/api/graphql", "json")
    # the "Load more" operation, whole: its name and query text with it (not a mix of two operations)
    assert comments["constants"]["operationName"] == "AllCommentsTabContainerPaginationQuery"
    assert comments["constants"]["query"].startswith("query AllCommentsTabContainerPaginationQuery(")
    assert comments["article_param"] == "variables.storyID" and recipe["article_key"]["kind"] == "script"
    paging = comments["paging"]
    assert (paging["kind"], paging["param"]) == ("cursor", "variables.cursor")
    assert paging["cursor_path"] == ["data", "story", "comments", "pageInfo", "endCursor"]
    # its first cursor came from the StreamQuery's answer: this thread's, so a new thread starts without
    assert paging["start"] == {"kind": "absent"}
    assert comments["end"]["has_more"] == ["data", "story", "comments", "pageInfo", "hasNextPage"]
    assert comments["answer"]["items"] == ["data", "story", "comments", "edges"]
    item = recipe["item"]
    assert (item["id"], item["replies"], item["text"], item["author"], item["time"]) == (
        ["node", "id"], ["node", "replies", "edges"], ["node", "body"], ["node", "author", "username"],
        ["node", "createdAt"],
    )  # fmt: skip
    assert (item["upvotes"], item["reply_count"]) == (["node", "actionCounts", "reaction", "total"],
                                                      ["node", "replyCount"])  # fmt: skip
    replies = recipe["replies"]
    assert replies["parent_param"] == "variables.commentID"
    assert replies["constants"]["operationName"] == "ReplyListContainer1PaginationQuery"
    assert replies["paging"]["param"] == "variables.cursor" and replies["paging"]["start"] == {
        "kind": "absent"
    }
    assert replies["end"]["has_more"] == ["data", "comment", "replies", "pageInfo", "hasNextPage"]

    other_url = NEWS + "/2025/11/ferry-story/"
    other = thread("story-9034", top=16, seed=12, first_id=400)
    sent_bodies = []

    def serve(call):
        body = json.loads(call.body)
        sent_bodies.append(body)
        assert isinstance(body["variables"]["count"], int)  # sent with the JSON type the page used
        return json.dumps(coral_answer(other, body)).encode()

    got, end, _ = page_in_process(recipe, coral_page(other.key, other_url, CORAL), other_url, serve)
    assert end
    assert rows(got) == want(coral_dom(other)) and len(got) == len(other.notes) >= 30
    stories = {b["variables"].get("storyID") for b in sent_bodies} - {None}
    assert stories == {"story-9034"}
    assert any(b["operationName"] == "ReplyListContainer1PaginationQuery" for b in sent_bodies)


def test_answers_holding_only_a_markdown_source_are_refused_not_stored_without_text():
    url = NEWS + "/2025/10/harbour-story/"
    learn = thread(url, top=8, seed=9, max_depth=2)
    exchanges = commento_exchanges(COMMENTO, url, learn)
    answer = json.loads(exchanges[0]["body"])
    for comment in answer["comments"]:
        del comment["html"]  # the widget would render the markdown itself
    exchanges[0]["body"] = json.dumps(answer)
    with pytest.raises(InductionError, match="holds the texts the page shows"):
        learned(exchanges, "<html><body></body></html>", commento_dom(learn), url, "news")


def test_escaped_texts_and_counts_as_strings_read_as_the_page_shows_them():
    """An API may escape texts for the widget's innerHTML without any tag ("Tom &amp; Jerry") and
    give counts as strings ("7"): both are read as the page shows them."""
    url = NEWS + "/2025/10/harbour-story/"
    learn = thread(url, top=8, seed=7, max_depth=2)
    for note in learn.notes[::3]:
        note.text = note.text.replace(" ", " & ", 1)
    exchanges = remark_exchanges(REMARK, url, learn)
    tree = json.loads(exchanges[2]["body"])

    def rewrite(nodes):
        for node in nodes:
            comment = node["comment"]
            comment["text"] = comment["orig"].replace("&", "&amp;")
            comment["score"] = str(comment["score"])
            rewrite(node.get("replies", []))

    rewrite(tree["comments"])
    exchanges[2]["body"] = json.dumps(tree)
    recipe = learned(exchanges, NEWS_PAGE.format(title="H", remark=REMARK), remark_dom(learn), url, "news")
    assert recipe["item"]["text"] == ["comment", "text"] and recipe["item"]["upvotes"] == ["comment", "score"]
    [call] = first_calls(recipe, "<html></html>", url, [])
    got = {c.comment_id: c for c in read_answer(recipe, call, exchanges[2]["body"].encode(), url).comments}
    assert rows(got) == want(remark_dom(learn))
    assert any("&" in c.text and "&amp;" not in c.text for c in got.values())


@pytest.mark.parametrize("suffix", ["/", ".html"])
def test_a_rest_path_keyed_by_the_articles_slug(suffix):
    """A REST API that keys threads by the article's slug, which the page shows nowhere but in its
    own address (/blog/harbour-story.html -> /api/posts/harbour-story/comments): Isso's answers
    and offset paging, the thread in the path."""
    learn = thread("/blog/harbour-story/", top=11, seed=1)
    other = thread("/blog/ferry-story/", top=9, seed=2, first_id=500)
    exchanges = isso_exchanges(BLOG, learn)
    for e in exchanges:
        e["query"].pop("uri")
        e["path"] = "/api/posts/harbour-story/comments"
        e["url"] = BLOG + e["path"] + "?" + "&".join(f"{k}={v}" for k, v in e["query"].items())
    page = ISSO_PAGE.format(title="Harbour", body="A story.").replace("location.pathname", "SLUG")
    learn_url = BLOG + "/blog/harbour-story" + suffix
    recipe = learned(exchanges, page, isso_dom(learn), learn_url, "issoblog")
    assert recipe["comments"]["article_param"] == "path:3"
    assert recipe["article_key"] == {"kind": "url", "part": "slug" if suffix == "/" else "stem"}

    def serve(call):
        path = urlsplit(call.url).path
        assert path == "/api/posts/ferry-story/comments"
        query = {**dict(parse_qsl(urlsplit(call.url).query)), "uri": "/blog/ferry-story/"}
        return json.dumps(isso_answer(other, query)).encode()

    got, end, _ = page_in_process(recipe, page, BLOG + "/blog/ferry-story" + suffix, serve)
    assert end and rows(got) == want(isso_dom(other))


def test_two_ids_the_embed_carries_are_both_read_from_each_page():
    """Cusdis's embed carries the site's data-app-id and the article's data-page-id, both sent with
    every request: one page cannot tell which is the article's key, so neither is kept as the
    learned page's constant; a later article's own values are read from its own page."""
    from tests.comment_systems import CUSDIS_APP, cusdis_answer, cusdis_dom, cusdis_exchanges, cusdis_page

    learn = thread("7d2e0c55-51aa-4e0f-9c1d-0a4b6e1f2c3d", top=6, seed=13, max_depth=2)
    other = thread("c0ffee11-2b3c-4d5e-8f90-123456789abc", top=7, seed=14, first_id=300, max_depth=2)
    url = NEWS + "/2025/10/harbour-story/"
    recipe = learned(cusdis_exchanges(learn), cusdis_page(learn.key), cusdis_dom(learn), url, "news")
    comments = recipe["comments"]
    assert {comments["article_param"], *comments["page_params"]} == {"appId", "pageId"}
    assert learn.key not in json.dumps(recipe)  # the learned article's id is no constant
    assert recipe["item"]["replies"] == ["replies", "data"] and recipe["item"]["author"] == ["by_nickname"]
    assert recipe["item"]["text"] in (["content"], ["parsedContent"])  # the same text here
    assert recipe["item"]["time"] == ["parsedCreatedAt"]

    def serve(call):
        query = dict(parse_qsl(urlsplit(call.url).query))
        assert (query["appId"], query["pageId"]) == (CUSDIS_APP, other.key)
        return json.dumps(cusdis_answer(other, int(query["page"]))).encode()

    got, end, _ = page_in_process(recipe, cusdis_page(other.key), NEWS + "/2025/11/ferry-story/", serve)
    assert end and rows(got) == want(cusdis_dom(other))


def test_wordpress_rest_flat_pages_key_in_a_class_and_a_short_last_page():
    """WordPress's REST API: a bare array of every comment (replies too) paged by page number, the
    post id only inside attribute tokens (post-4521, postid-4521), and an HTTP 400 for the page
    after the last: the recipe must stop at the short page, and count replies as list items."""
    from tests.comment_systems import wp_answer, wp_dom, wp_exchanges, wp_page

    learn = thread("4521", top=12, seed=15, max_depth=2)
    exchanges = wp_exchanges(BLOG, learn)
    assert len(exchanges) >= 3 and len(json.loads(exchanges[-1]["body"])) < 10
    recipe = learned(exchanges, wp_page(4521), wp_dom(learn), BLOG + "/2025/10/harbour-story/", "blog")
    comments = recipe["comments"]
    assert comments["article_param"] == "post" and recipe["article_key"]["attr"] in ("id", "class")
    assert recipe["article_key"]["pattern"]  # a part of the attribute, not all of it
    assert comments["answer"] == {"format": "json", "items": []}  # the answer is the list itself
    assert comments["paging"]["kind"] == "page" and comments["paging"]["param"] == "page"
    assert comments["end"]["page_size"] == "per_page"
    item = recipe["item"]
    assert (item["parent"], item["author"], item["text"]) == (
        ["parent"],
        ["author_name"],
        ["content", "rendered"],
    )
    assert item["time"] in (["date_gmt"], ["date"])  # the page shows UTC; the site's own time is +2 h
    assert item["time"] == ["date_gmt"]

    other = thread("9077", top=14, seed=16, first_id=700, max_depth=2)

    def serve(call):
        query = dict(parse_qsl(urlsplit(call.url).query))
        assert query["post"] == "9077"
        status, answer = wp_answer(other, query)
        assert status == 200, "asked for the page after the last"
        return json.dumps(answer).encode()

    got, end, sent = page_in_process(recipe, wp_page(9077), BLOG + "/2025/11/ferry-story/", serve)
    assert end and rows(got) == want(wp_dom(other)) and len(got) == len(other.notes) >= 30
    assert len(sent) == -(-len(other.notes) // 10)


def test_graphql_over_get_with_persisted_queries_and_json_variables_in_the_url():
    """Coral's operations sent the way Apollo's automatic persisted queries send them
    (apollographql.com/docs/apollo-server/performance/apq): GET with operationName, and
    `variables` and `extensions` (the query's sha256) as JSON in the URL; the cursor pages inside
    the JSON and goes out with the JSON types the page used."""
    import hashlib
    from urllib.parse import urlencode

    url = NEWS + "/2025/10/harbour-story/"
    learn = thread("story-8812", top=11, seed=11)
    exchanges = coral_exchanges(CORAL, url, learn)
    for e in exchanges:
        body = e.pop("json")
        digest = hashlib.sha256(body["query"].encode()).hexdigest()
        extensions = {"persistedQuery": {"version": 1, "sha256Hash": digest}}
        query = {"operationName": body["operationName"], "variables": json.dumps(body["variables"]),
                 "extensions": json.dumps(extensions)}  # fmt: skip
        e.update(method="GET", body_kind="none", query=query, url=f"{CORAL}/api/graphql?{urlencode(query)}")
    recipe = learned(exchanges, coral_page(learn.key, url, CORAL), coral_dom(learn), url, "news")
    comments = recipe["comments"]
    assert (comments["method"], comments["body"], comments["json_query"]) == (
        "GET",
        "query",
        ["extensions", "variables"],
    )
    assert comments["constants"]["operationName"] == "AllCommentsTabContainerPaginationQuery"
    assert (
        comments["article_param"] == "variables.storyID" and comments["paging"]["param"] == "variables.cursor"
    )
    assert recipe["replies"]["parent_param"] == "variables.commentID"

    other_url = NEWS + "/2025/11/ferry-story/"
    other = thread("story-9034", top=16, seed=12, first_id=400)
    seen_ops = set()

    def serve(call):
        query = dict(parse_qsl(urlsplit(call.url).query))
        variables = json.loads(query["variables"])
        assert isinstance(variables["count"], int) and variables.get("storyID", other.key) == other.key
        assert json.loads(query["extensions"])["persistedQuery"]["version"] == 1
        seen_ops.add(query["operationName"])
        body = {"operationName": query["operationName"], "variables": variables}
        return json.dumps(coral_answer(other, body)).encode()

    got, end, _ = page_in_process(recipe, coral_page(other.key, other_url, CORAL), other_url, serve)
    assert end and rows(got) == want(coral_dom(other))
    assert seen_ops == {"AllCommentsTabContainerPaginationQuery", "ReplyListContainer1PaginationQuery"}


def test_a_recipe_that_reads_the_recorded_pages_otherwise_than_the_page_showed_is_refused():
    """The last check of learning: the recorded comment pages read back with the recipe, the way a
    later crawl reads them, must give the parents, texts, authors and votes the page showed."""
    from crawler.recipes.learn import check_fields

    learn = thread("/blog/harbour-story/", top=11, seed=1)
    exchanges = isso_exchanges(BLOG, learn)
    page = ISSO_PAGE.format(title="Harbour", body="A story.")
    recipe = learned(exchanges, page, isso_dom(learn), BLOG + learn.key, "issoblog")
    check_fields(recipe, exchanges, BLOG + learn.key, isso_dom(learn))  # the right recipe passes
    url = NEWS + "/2025/10/harbour-story/"
    talk = thread(url, top=8, seed=9, max_depth=2)
    posted = commento_exchanges(COMMENTO, url, talk)
    recipe_c = learned(posted, "<html><body></body></html>", commento_dom(talk), url, "news")
    check_fields(recipe_c, posted, url, commento_dom(talk))
    flat = {**recipe_c, "item": {**recipe_c["item"], "parent": None, "parent_root": None}}
    with pytest.raises(InductionError, match="would store wrong data"):
        check_fields(flat, posted, url, commento_dom(talk))  # replies read as top-level comments
    swapped = {**recipe, "item": {**recipe["item"], "upvotes": ["dislikes"], "downvotes": ["likes"]}}
    with pytest.raises(InductionError, match="upvotes"):
        check_fields(swapped, exchanges, BLOG + learn.key, isso_dom(learn))
    # one comment of the page shown otherwise is enough: the recipe would store it otherwise than
    # the browser path, and every re-check in the browser would record an edit that never happened
    dom = isso_dom(learn)
    dom[0] = {**dom[0], "text": dom[0]["text"] + " (shown otherwise)"}
    with pytest.raises(InductionError, match="text"):
        check_fields(recipe, exchanges, BLOG + learn.key, dom)


@pytest.mark.parametrize("prefix", ["for (;;);", ")]}'\n"])
def test_answers_behind_an_anti_hijacking_prefix(prefix):
    """Facebook's comments plugin answers `for (;;);{…}`, Google's APIs `)]}'`: the page's script
    strips the prefix before JSON.parse, and so do the induction and the recipe."""
    url = NEWS + "/2025/10/harbour-story/"
    learn = thread(url, top=8, seed=7, max_depth=2)
    exchanges = remark_exchanges(REMARK, url, learn)
    exchanges[2]["body"] = prefix + exchanges[2]["body"]
    recipe = learned(exchanges, NEWS_PAGE.format(title="H", remark=REMARK), remark_dom(learn), url, "news")
    assert recipe["comments"]["path"] == "/api/v1/find"
    [call] = first_calls(recipe, "<html></html>", url, [])
    got = {c.comment_id: c for c in read_answer(recipe, call, exchanges[2]["body"].encode(), url).comments}
    assert rows(got) == want(remark_dom(learn))


def test_replies_answers_are_read_back_under_the_comment_their_request_names():
    from crawler.recipes.learn import check_fields

    url = NEWS + "/2025/10/harbour-story/"
    story = thread("story-8812", top=11, seed=11)
    exchanges = coral_exchanges(CORAL, url, story)
    recipe = learned(exchanges, coral_page(story.key, url, CORAL), coral_dom(story), url, "news")
    check_fields(recipe, exchanges, url, coral_dom(story))
    wrong = {**recipe, "replies": {**recipe["replies"], "parent_param": "variables.count"}}
    with pytest.raises(InductionError, match="parent"):
        check_fields(wrong, exchanges, url, coral_dom(story))


def test_a_formdata_body_is_read_as_the_form_fields_it_carries():
    """A theme's "Load more" posting `new FormData()` to admin-ajax.php (multipart/form-data): the
    recorder reads its fields, the recipe pages by them and sends them as a form."""
    from tests.comment_systems import exchange, wp_answer, wp_dom, wp_exchanges, wp_page

    boundary = "----WebKitFormBoundary7MA4YWxkTrZu0gW"

    def multipart(fields: dict) -> str:
        parts = [
            f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
            for k, v in fields.items()
        ]
        return "".join(parts) + f"--{boundary}--\r\n"

    learn = thread("4521", top=12, seed=15, max_depth=2)
    posted = []
    for e in wp_exchanges(BLOG, learn):
        fields = {"action": "load_comments", **e["query"]}
        kind = f"multipart/form-data; boundary={boundary}"
        ajax = BLOG + "/wp-admin/admin-ajax.php"
        answer = json.loads(e["body"])
        posted.append(exchange(e["seq"], ajax, "POST", multipart(fields), kind, answer))
    assert posted[0]["body_kind"] == "form" and posted[0]["form"]["action"] == "load_comments"
    recipe = learned(posted, wp_page(4521), wp_dom(learn), BLOG + "/2025/10/harbour-story/", "blog")
    comments = recipe["comments"]
    assert (comments["method"], comments["body"], comments["article_param"]) == ("POST", "form", "post")
    assert comments["paging"]["param"] == "page" and comments["constants"]["action"] == "load_comments"

    other = thread("9077", top=14, seed=16, first_id=700, max_depth=2)

    def serve(call):
        assert call.content_type == "application/x-www-form-urlencoded"
        form = dict(parse_qsl(call.body.decode()))
        assert form["action"] == "load_comments" and form["post"] == "9077"
        return json.dumps(wp_answer(other, form)[1]).encode()

    got, end, _ = page_in_process(recipe, wp_page(9077), BLOG + "/2025/11/ferry-story/", serve)
    assert end and rows(got) == want(wp_dom(other))


def test_a_recipe_learned_on_a_dated_or_numbered_address_matches_the_sites_other_articles():
    """WordPress's default permalinks put the date in the path (/2025/10/story/), other sites the id
    (/news/4521/story): the learned page's directory would match no other article."""
    from crawler.recipes.learn import path_prefix
    from crawler.recipes.store import matching

    assert path_prefix("/2025/10/harbour-story/") == "/"
    assert path_prefix("/news/4521/harbour-story") == "/news/"
    assert path_prefix("/zine/quiet-harbour-story/") == "/zine/"
    row = {
        "recipe": {"match": {"host": "blog.example", "path_prefix": path_prefix("/2025/10/harbour-story/")}}
    }
    assert matching([row], "https://blog.example/2025/11/ferry-story/") is row


@pytest.mark.parametrize(
    ("learn_path", "other_path", "part"),
    [("/news/4521/harbour-story", "/news/9077/ferry-story", "segment:1"),
     ("/article.php?id=4521", "/article.php?id=9077", "query:id")],
)  # fmt: skip
def test_an_article_id_only_in_the_pages_own_address(learn_path, other_path, part):
    """The API wants the article's id, which the page shows nowhere but in its address: a path
    segment (/news/4521/story) or a query parameter (/article.php?id=4521)."""
    from tests.comment_systems import wp_answer, wp_dom, wp_exchanges

    learn = thread("4521", top=12, seed=15, max_depth=2)
    page = "<html><body><article><h1>Story</h1></article></body></html>"
    recipe = learned(wp_exchanges(BLOG, learn), page, wp_dom(learn), BLOG + learn_path, "blog")
    assert recipe["comments"]["article_param"] == "post"
    assert recipe["article_key"] == {"kind": "url", "part": part}
    other = thread("9077", top=14, seed=16, first_id=700, max_depth=2)

    def serve(call):
        query = dict(parse_qsl(urlsplit(call.url).query))
        assert query["post"] == "9077"
        return json.dumps(wp_answer(other, query)[1]).encode()

    got, end, _ = page_in_process(recipe, page, BLOG + other_path, serve)
    assert end and rows(got) == want(wp_dom(other))


def test_votes_the_page_shows_otherwise_than_the_api_are_not_learned():
    """The page shows scores otherwise than the API gives them (here without their sign, as the
    profile reader once read "-2"): no vote field agrees with the page, so the recipe reads none
    (NULL: unknown, the stored value stays) rather than store a number the browser path would not."""
    url = NEWS + "/2025/10/harbour-story/"
    learn = thread(url, top=8, seed=9, max_depth=2)
    for note in learn.notes[::2]:
        note.dislikes = note.likes + 2  # a negative score on every other comment
    dom = [{**c, "upvotes": abs(c["upvotes"])} for c in commento_dom(learn)]
    recipe = learned(commento_exchanges(COMMENTO, url, learn), "<html><body></body></html>", dom, url, "news")
    assert recipe["item"]["upvotes"] is None and recipe["item"]["parent"] == ["parentHex"]


# -- offsets that count every comment, or top-level ones only, over nested or flat answers ---------


@pytest.mark.parametrize(
    ("per", "nest"), [("row", True), ("row", False), ("thread", False), ("thread", True)]
)  # fmt: skip
def test_an_offset_counting_every_comment_or_top_level_ones_nested_or_flat(per, nest):
    """Drupal's pager counts every comment, replies included (tests/comment_systems.py `rows_*`):
    the widget asks from `offset` = the comments it rendered, replies nested in the answers counted.
    Other APIs count top-level comments only, whether the answer nests their replies (Isso) or lists
    them flat beside them. The induction tells which from the recorded offsets, and the recipe
    computes the next offset the same way: counted wrong, it would skip comments or repeat pages."""
    from tests.comment_systems import rows_answer, rows_dom, rows_exchanges, rows_page

    learn = thread("4521", top=6, seed=21, max_depth=2)
    limit = 6 if per == "row" else 2
    exchanges = rows_exchanges(BLOG, learn, per, nest, limit)
    assert len(exchanges) >= 3
    if per == "row" and nest:  # the learned offsets tell the two counts apart: replies came before them
        nested = [sum(1 for _ in json.loads(e["body"])["data"]["comments"]) for e in exchanges]
        assert sum(nested[:-1]) < int(exchanges[-1]["query"]["offset"])
    recipe = learned(exchanges, rows_page(4521), rows_dom(learn), BLOG + "/2025/10/harbour", "blog")
    comments = recipe["comments"]
    assert comments["article_param"] == "path:3"
    assert recipe["article_key"] == {"kind": "attr", "css": "article.node.node--type-article"
                                     "[data-history-node-id]", "attr": "data-history-node-id"}  # fmt: skip
    assert comments["paging"]["kind"] == "offset" and comments["paging"]["param"] == "offset"
    assert comments["paging"]["counts"] == ("all" if per == "row" else "level")
    assert comments["answer"] == {"format": "json", "items": ["data", "comments"]}
    assert comments["end"]["has_more"] == ["meta", "has_more"]
    item = recipe["item"]
    assert (item["id"], item["parent"], item["replies"]) == (["cid"], ["pid"], ["children"] if nest else None)
    votes = (["votes", "up"], ["votes", "down"])
    assert (item["time"], item["upvotes"], item["downvotes"]) == (["created"], *votes)

    other = thread("9077", top=7, seed=22, first_id=700, max_depth=2)
    offsets = []

    def serve(call):
        assert urlsplit(call.url).path == "/api/node/9077/comments"
        query = dict(parse_qsl(urlsplit(call.url).query))
        offsets.append(int(query["offset"]))
        return json.dumps(rows_answer(other, query, per, nest)).encode()

    got, end, sent = page_in_process(recipe, rows_page(9077), BLOG + "/2025/11/ferry", serve)
    assert end and rows(got) == want(rows_dom(other)) and len(got) == len(other.notes) >= 30
    # the widget's own offsets, each asked once
    widget = [int(e["query"]["offset"]) for e in rows_exchanges(BLOG, other, per, nest, limit)]
    assert offsets == widget


def test_a_flat_html_page_whose_replies_parents_came_earlier_places_them_by_the_known_depths():
    """An HTML answer of a thread-order pager (Drupal's AJAX pager) lists every comment flat, each
    naming its parent: a page may start with a reply of a reply whose parent came on an earlier page.
    The reader sees one link of its chain only; its depth is its parent's as known across the
    answers, plus one (as for JSON), and a reply whose parent has not come is left unknown (the
    spider places it when its parent comes), never guessed from the fragment."""
    from crawler.recipes.learn import fragment_reader
    from tests.comment_systems import dom_of, rows_fragment, rows_fragment_exchanges, rows_page

    learn, other = thread("4521", top=6, seed=3, max_depth=2), thread("9077", top=9, seed=8, max_depth=2)
    url = BLOG + "/node/4521"
    exchanges = rows_fragment_exchanges(BLOG, learn)
    recipe = induce(exchanges, rows_page(4521), [], dom_of(learn.notes), fragment_reader(url, "zine"),
                    site="zine", page_url=url)  # fmt: skip
    recipe["reader"] = "zine"
    comments = recipe["comments"]
    assert comments["answer"] == {"format": "html"} and comments["paging"]["kind"] == "offset"

    queue, depths, got = first_calls(recipe, rows_page(9077), BLOG + "/node/9077", []), {}, {}
    while queue:
        call = queue.pop(0)
        html, _ = rows_fragment(other, dict(parse_qsl(urlsplit(call.url).query)))
        answer = read_answer(recipe, call, html.encode(), BLOG + "/node/9077", depths)
        for comment in answer.comments:
            got[source_id(comment.comment_id)] = comment.depth
            depths[comment.comment_id] = comment.depth  # as the spider's ThreadState keeps them
        queue += answer.calls

    def depth(note):
        return 0 if note.parent is None else depth(other.by_id(note.parent)) + 1

    assert got == {str(n.id): depth(n) for n in other.notes}
    pages = [other.notes[i : i + 6] for i in range(0, len(other.notes), 6)]
    first = [p[0] for p in pages]
    assert any(depth(n) == 2 and n.parent not in {m.id for m in p} for n, p in zip(first, pages, strict=True))
    # a reply whose parent has not come (asked before it): not known yet, never the fragment's guess
    [call] = first_calls(recipe, rows_page(9077), BLOG + "/node/9077", [])
    late = next(i for i, n in enumerate(other.notes) if depth(n) == 2)
    html, _ = rows_fragment(other, {"offset": str(late), "limit": "1"})
    [alone] = read_answer(recipe, call, html.encode(), BLOG + "/node/9077", {}).comments
    assert alone.depth is None


def test_an_offset_the_learned_pages_cannot_tell_apart_counts_short_never_skips():
    """Learned on a thread whose replies all come on its last page, both counts fit the recorded
    offsets: the recipe counts the paged level. Counted long, a later thread's pages would skip
    comments nobody saw; counted short, they overlap, and a page of replies only cannot move the
    offset: the recipe fails there (the site goes back to the browser), it never stores a hole."""
    from dataclasses import replace

    from crawler.recipes.execute import RecipeFailure
    from tests.comment_systems import rows_answer, rows_dom, rows_exchanges, rows_page

    learn = thread("4521", top=20, seed=23, max_depth=0)
    last = learn.notes[-1]
    for n in range(2):  # replies of the last comment: seen (their parent field too), after every offset
        reply = replace(learn.notes[n], id=100 + n, parent=last.id, children=[])
        learn.notes.append(reply)
        last.children.append(reply)
    exchanges = rows_exchanges(BLOG, learn)
    assert len(exchanges) >= 3
    recipe = learned(exchanges, rows_page(4521), rows_dom(learn), BLOG + "/2025/10/harbour", "blog")
    assert recipe["comments"]["paging"]["counts"] == "level" and recipe["item"]["parent"] == ["pid"]
    other = thread("9077", top=7, seed=22, first_id=700, max_depth=2)

    def serve(call):
        return json.dumps(rows_answer(other, dict(parse_qsl(urlsplit(call.url).query)))).encode()

    with pytest.raises(RecipeFailure, match="does not move"):
        page_in_process(recipe, rows_page(9077), BLOG + "/2025/11/ferry", serve)


# -- Mastodon: a toot's context, replies naming the toot itself at the top level --------------------


def test_mastodon_context_whose_top_level_replies_name_the_articles_own_toot():
    """A direct reply to the blog's toot names the toot (the article's key) as its parent: a constant
    of the learned thread, but another article's toot on the next. Kept as the learned value, every
    comment of every other article would be stored as a reply to a comment that does not exist."""
    from crawler.recipes.learn import check_fields
    from tests.comment_systems import mastodon_context, mastodon_dom, mastodon_exchanges, mastodon_page

    learn = thread("113245678901200001", top=8, seed=31, max_depth=2)
    other = thread("113245678901200777", top=9, seed=32, first_id=400, max_depth=2)
    url = BLOG + "/2025/10/harbour-story/"
    exchanges = mastodon_exchanges(learn)
    recipe = learned(exchanges, mastodon_page(learn.key), mastodon_dom(learn), url, "blog")
    check_fields(recipe, exchanges, url, mastodon_dom(learn))  # the learned answer reads back as shown
    comments = recipe["comments"]
    assert (comments["host"], comments["path"], comments["article_param"]) == (
        "mastodon.example", f"/api/v1/statuses/{learn.key}/context", "path:4",
    )  # fmt: skip
    assert recipe["article_key"]["attr"] == "data-toot" and comments["paging"] is None
    assert comments["answer"]["items"] == ["descendants"]
    item = recipe["item"]
    assert (item["id"], item["parent"], item["parent_root_is"]) == (["id"], ["in_reply_to_id"], "article_key")
    assert (item["author"], item["text"], item["time"], item["upvotes"], item["reply_count"]) == (
        ["account", "display_name"], ["content"], ["created_at"], ["favourites_count"], ["replies_count"],
    )  # fmt: skip

    def serve(call):
        assert call.url == f"https://mastodon.example/api/v1/statuses/{other.key}/context"
        return json.dumps(mastodon_context(other)).encode()

    got, end, sent = page_in_process(recipe, mastodon_page(other.key), BLOG + "/2025/11/ferry/", serve)
    assert end and len(sent) == 1
    assert rows(got) == want(mastodon_dom(other)) and len(got) == len(other.notes) >= 20
    assert {c.depth for c in got.values() if not c.parent_id} == {0}
    assert any(c.depth == 2 for c in got.values())


def test_a_top_level_parent_that_is_one_threads_own_id_but_not_the_articles_key_is_refused():
    """The top level marked by an id of the learned thread the requests never name (a conversation
    id of the API's own): another article's top-level comments would name another value, and be
    stored as replies of a comment that does not exist. Refused; a constant word ("root") is kept."""
    from tests.comment_systems import mastodon_dom, mastodon_exchanges, mastodon_page

    learn = thread("113245678901200001", top=8, seed=31, max_depth=2)
    exchanges = mastodon_exchanges(learn)
    answer = json.loads(exchanges[0]["body"])
    for status in answer["descendants"]:
        if status["in_reply_to_id"] == learn.key:
            status["in_reply_to_id"] = "998877665544"  # the conversation's id, never in a request
    exchanges[0]["body"] = json.dumps(answer)
    with pytest.raises(InductionError, match="top level"):
        learned(exchanges, mastodon_page(learn.key), mastodon_dom(learn), BLOG + "/2025/10/harbour/", "blog")


# -- GitHub issue comments (Utterances): page numbers, nested reaction counts; a Link-header cursor ---


def test_utterances_github_issue_comments_paged_by_number_with_reactions_as_votes():
    from tests.comment_systems import (
        GITHUB_ACCEPT,
        github_answer,
        utterances_dom,
        utterances_exchanges,
        utterances_page,
    )

    learn = thread("12", top=25, seed=41, max_depth=0)
    exchanges = utterances_exchanges(learn)
    assert len(exchanges) == 3 and "link" in exchanges[0]["response_headers"]
    url = BLOG + "/2025/10/harbour-story/"
    recipe = learned(exchanges, utterances_page("12"), utterances_dom(learn), url, "blog")
    comments = recipe["comments"]
    assert (comments["host"], comments["article_param"]) == ("api.github.com", "path:5")
    assert recipe["article_key"]["attr"] == "issue-number"
    assert comments["paging"]["kind"] == "page" and comments["paging"]["param"] == "page"
    assert comments["headers"] == {"accept": GITHUB_ACCEPT}  # the HTML bodies and reactions are asked for
    item = recipe["item"]
    assert (item["id"], item["author"], item["text"], item["time"]) == (
        ["id"], ["user", "login"], ["body_html"], ["created_at"],
    )  # fmt: skip
    assert (item["upvotes"], item["downvotes"]) == (["reactions", "+1"], ["reactions", "-1"])
    other = thread("31", top=30, seed=42, first_id=400, max_depth=0)

    def serve(call):
        assert call.headers.get("accept") == GITHUB_ACCEPT
        assert urlsplit(call.url).path == "/repos/panda/blog-comments/issues/31/comments"
        return json.dumps(github_answer(other, call.url)[0]).encode()

    got, end, sent = page_in_process(recipe, utterances_page("31"), BLOG + "/2025/11/ferry/", serve)
    assert end and rows(got) == want(utterances_dom(other)) and len(got) == 30


def test_utterances_page_numbers_end_where_the_link_header_names_no_next_page():
    """GitHub names the next page in the answer's Link header, which Utterances reads for the
    number of the page it asks next: the page parameter pages, the Link header ends the list. A
    thread of whole pages (30 comments, 10 a page) ends on page 3 without asking an empty page 4,
    and the Link's own address is never asked besides the page's (no double paging)."""
    from tests.comment_systems import github_answer, utterances_dom, utterances_exchanges, utterances_page

    learn = thread("12", top=25, seed=41, max_depth=0)
    url = BLOG + "/2025/10/harbour-story/"
    recipe = learned(utterances_exchanges(learn), utterances_page("12"), utterances_dom(learn), url, "blog")
    comments = recipe["comments"]
    assert comments["paging"]["kind"] == "page" and comments["end"]["link_next"] is True
    other = thread("31", top=30, seed=42, first_id=400, max_depth=0)

    def serve(call):
        return json.dumps(github_answer(other, call.url)[0]).encode(), github_answer(other, call.url)[1]

    got, end, sent = page_in_process(recipe, utterances_page("31"), BLOG + "/2025/11/ferry/", serve)
    assert end and rows(got) == want(utterances_dom(other)) and len(got) == 30
    assert [dict(parse_qsl(urlsplit(c.url).query))["page"] for c in sent] == ["1", "2", "3"]

    def stripped(call):  # answers without a Link header (a proxy drops it) say nothing of the end
        return serve(call)[0], {"Content-Type": "application/json"}

    got, end, sent = page_in_process(recipe, utterances_page("31"), BLOG + "/2025/11/ferry/", stripped)
    assert end and len(got) == 30 and len(sent) == 4  # paged on to the empty page 4


def test_pages_named_only_by_the_link_header_are_followed_on_the_apis_host():
    """GitHub's cursor pagination names the next page only in the answer's Link header (an opaque
    `after` no answer body carries, under another path: /repositories/<id>/…). The recipe follows
    the header from the page's own first request until it names no next page; an address on
    another host is refused like any next-page address, and an answer whose headers the caller
    does not give cannot be paged (never read as the last page)."""
    from crawler.recipes.execute import RecipeFailure
    from tests.comment_systems import github_answer, utterances_dom, utterances_exchanges, utterances_page

    learn = thread("12", top=25, seed=41, max_depth=0)
    exchanges = utterances_exchanges(learn, cursor=True)
    assert len(exchanges) == 3 and "after=" in exchanges[1]["url"]
    recipe = learned(exchanges, utterances_page("12"), utterances_dom(learn), BLOG + "/2025/10/h/", "blog")
    comments = recipe["comments"]
    assert comments["paging"]["kind"] == "link" and comments["paging"]["start"] == {"kind": "absent"}
    assert comments["path"] == "/repos/panda/blog-comments/issues/12/comments"  # the page's own request
    assert recipe["article_key"]["attr"] == "issue-number" and comments["article_param"] == "path:5"
    other = thread("31", top=34, seed=42, first_id=400, max_depth=0)

    def serve(call):
        answer, headers = github_answer(other, call.url, cursor=True)
        return json.dumps(answer).encode(), {"Link": headers["link"]} if headers else {}

    got, end, sent = page_in_process(recipe, utterances_page("31"), BLOG + "/2025/11/ferry/", serve)
    assert end and rows(got) == want(utterances_dom(other)) and len(got) == 34 and len(sent) == 4
    assert [urlsplit(c.url).path for c in sent][1:] == ["/repositories/881/issues/31/comments"] * 3
    first = first_calls(recipe, utterances_page("31"), BLOG + "/2025/11/ferry/", [])[0]
    body = json.dumps(github_answer(other, first.url, cursor=True)[0]).encode()
    elsewhere = {"link": '<https://api.evil.example/x?after=abc>; rel="next"'}
    with pytest.raises(RecipeFailure, match="leaves the API's host"):
        read_answer(recipe, first, body, BLOG + "/2025/11/ferry/", headers=elsewhere)
    with pytest.raises(RecipeFailure, match="headers are unknown"):
        read_answer(recipe, first, body, BLOG + "/2025/11/ferry/")

    for e in exchanges:  # recorded without its headers, the same thread is refused
        e["response_headers"] = {}
    with pytest.raises(InductionError, match="no parameter of theirs pages them"):
        learned(exchanges, utterances_page("12"), utterances_dom(learn), BLOG + "/2025/10/h/", "blog")


def test_wordpress_front_end_following_the_link_header_pages_once_and_reports_x_wp_total():
    """A front end over the WordPress REST API that follows each answer's Link header: the address
    it names is the page parameter's next value, so the recipe pages by number (one request per
    page, never the Link's address besides), ends where the header names no next page (a thread of
    whole pages: the page after the last is an HTTP 400 that would fail the recipe), and reports
    X-WP-Total as the thread's total, the answers' bodies having none."""
    from tests.comment_systems import wp_answer, wp_dom, wp_exchanges, wp_headers, wp_page

    learn = thread("4521", top=12, seed=15, max_depth=2)
    exchanges = wp_exchanges(BLOG, learn, links=True)
    recipe = learned(exchanges, wp_page(4521), wp_dom(learn), BLOG + "/2025/10/harbour-story/", "blog")
    comments = recipe["comments"]
    assert comments["paging"]["kind"] == "page" and comments["paging"]["param"] == "page"
    assert comments["end"]["link_next"] is True and comments["total_header"] == "x-wp-total"
    other = thread("9077", top=12, seed=4, first_id=700, max_depth=2)
    assert len(other.notes) == 80  # 8 whole pages

    def serve(call):
        status, answer = wp_answer(other, dict(parse_qsl(urlsplit(call.url).query)))
        assert status == 200, "asked for the page after the last"
        return json.dumps(answer).encode(), wp_headers(other, call.url)

    totals = []
    got, end, sent = page_in_process(recipe, wp_page(9077), BLOG + "/2025/11/ferry-story/", serve, totals)
    assert end and rows(got) == want(wp_dom(other)) and len(got) == 80
    assert len(sent) == len({c.url for c in sent}) == 8 and set(totals) == {80}


@pytest.mark.parametrize(
    ("header", "want"),
    [
        ('<https://h/c?page=1>; rel="prev", <https://h/c?page=3>; rel="next"', "https://h/c?page=3"),
        ('<https://h/c?page=5>; rel="last"', None),  # the last page names no next
        ("</c?after=Y3Vy>; rel=next", "https://h/c?after=Y3Vy"),  # relative, unquoted
        ('<https://h/q>; title="a, b"; rel="prev next"', "https://h/q"),  # several relation types
        ('<https://h/n>; rel="nextpage", <https://h/m>; title="rel=next"', None),  # no such relation
        ("<a>; rel=" + " " * 5000, None),
    ],
)
def test_the_next_page_a_link_header_names(header, want):
    from crawler.recipes.induce import next_link

    assert next_link({"Link": header}, "https://h/c?page=2") == want


def test_the_recorder_keeps_only_the_paging_response_headers_bounded():
    from crawler.browser.record import MAX_HEADER, paging_headers

    link = '<https://a.example/x?page=2>; rel="next"' + " " * 5000
    kept = paging_headers({"Link": link, "Set-Cookie": "s=secret", "X-Total-Count": "57", "Server": "nginx"})
    assert set(kept) == {"link", "x-total-count"} and len(kept["link"]) == MAX_HEADER


def test_a_jquery_cache_buster_that_goes_up_by_one_is_no_page_number():
    """A theme's `$.ajax({cache: false})` adds `_=<Date.now() at load>` to each GET and adds 1 per
    request (jquery src/ajax.js `nonce.guid++`): it steps like a page number beside the real `page`.
    Taken for the page, the recipe would send page 1 for ever."""
    from urllib.parse import urlencode

    from tests.comment_systems import wp_answer, wp_dom, wp_exchanges, wp_page

    learn = thread("4521", top=12, seed=15, max_depth=2)
    exchanges = wp_exchanges(BLOG, learn)
    for i, e in enumerate(exchanges):
        e["query"]["_"] = str(1_760_000_000_000 + i)
        e["url"] = BLOG + e["path"] + "?" + urlencode(e["query"])
    recipe = learned(exchanges, wp_page(4521), wp_dom(learn), BLOG + "/2025/10/harbour-story/", "blog")
    assert recipe["comments"]["paging"]["param"] == "page" and "_" not in recipe["comments"]["constants"]
    other = thread("9077", top=14, seed=16, first_id=700, max_depth=2)

    def serve(call):
        status, answer = wp_answer(other, dict(parse_qsl(urlsplit(call.url).query)))
        assert status == 200
        return json.dumps(answer).encode()

    got, end, _ = page_in_process(recipe, wp_page(9077), BLOG + "/2025/11/ferry-story/", serve)
    assert end and rows(got) == want(wp_dom(other))


# -- Ghost: page numbers ending where `next` turns null, replies keyset-paged inside an NQL filter ----


def _ghost_thread(key: str, top: int, seed: int, first_id: int, busy: int):
    """A Ghost thread (one level of replies) whose `busy`-th comment has 105 replies: more than one
    "Show more replies" request of 100."""
    from tests.comment_systems import Note

    story = thread(key, top=top, seed=seed, first_id=first_id, max_depth=1)
    parent = story.top()[busy]
    for k in range(105):
        reply = Note(id=first_id + 5000 + k, parent=parent.id, author="Ann Lee", text=f"Reply {k} to it.",
                     created=parent.created + k + 1, likes=k % 5, dislikes=0)  # fmt: skip
        story.notes.append(reply)
        parent.children.append(reply)
    return story


def test_ghost_page_numbers_and_replies_paged_by_the_last_id_inside_a_filter():
    """Ghost's comments app pages top-level comments by number until `meta.pagination.next` (a page
    number) turns null, and asks more replies with `filter=id:>'<the last reply's id>'`: the cursor
    is a field of the previous answer's last reply, inside a filter expression. The first such
    filter names the learned thread's own reply: never sent to another article's comments."""
    from tests.comment_systems import ghost_answer, ghost_dom, ghost_exchanges, ghost_page

    learn = _ghost_thread("6571a1f2e4b0c93d2a8f0b11", top=45, seed=51, first_id=1, busy=5)
    exchanges = ghost_exchanges(BLOG, learn)
    url = BLOG + "/harbour-story/"
    recipe = learned(exchanges, ghost_page(learn.key), ghost_dom(learn), url, "blog")
    comments, replies = recipe["comments"], recipe["replies"]
    assert (comments["article_param"], recipe["article_key"]["attr"]) == ("path:5", "data-post-id")
    assert comments["paging"]["kind"] == "page" and comments["paging"]["param"] == "page"
    assert "filter" not in comments["constants"]  # the learned thread's first time is no constant
    assert comments["end"]["null_at"] == ["meta", "pagination", "next"]
    assert replies["parent_param"] == "path:4"
    keyset = {"cursor_path": None, "cursor_item": ["id"], "template": "id:>'{}'", "start": {"kind": "absent"}}
    assert replies["paging"] == {"kind": "cursor", "param": "filter", **keyset}
    assert replies["end"]["null_at"] == ["meta", "pagination", "next"]
    item = recipe["item"]
    assert (item["id"], item["parent"], item["replies"], item["author"]) == (
        ["id"], ["parent_id"], ["replies"], ["member", "name"],
    )  # fmt: skip
    assert (item["upvotes"], item["reply_count"]) == (["count", "likes"], ["count", "replies"])

    other = _ghost_thread("6571a1f2e4b0c93d2a8f0c77", top=60, seed=52, first_id=20000, busy=30)
    learned_ids = {c["id"] for c in ghost_dom(learn)}

    def serve(call):
        parts = urlsplit(call.url)
        query = dict(parse_qsl(parts.query))
        assert not (set(query.get("filter", "").split("'")) & learned_ids)
        return json.dumps(ghost_answer(other, parts.path, query)).encode()

    got, end, sent = page_in_process(recipe, ghost_page(other.key), BLOG + "/ferry-story/", serve)
    assert end and rows(got) == want(ghost_dom(other)) and len(got) == len(other.notes) > 150
    pages = [c for c in sent if "/post/" in c.url]
    assert len(pages) == 3  # 60 comments, 20 a page: no request for the page after the last
    assert sum("filter=id" in c.url for c in sent) >= 1  # the busy comment's replies paged on


# -- Disqus API: the article key inside a prefix (ident:…), a cursor object, a flat list ----------------


def test_disqus_thread_named_ident_colon_the_pages_identifier_and_paged_by_the_answers_cursor():
    """Disqus names a thread `ident:<the page's disqus_config identifier>`: the article's key inside
    a constant prefix, which the page carries without it. The public api_key is a credential: left
    out unless the setting allows it, then kept as the page sent it."""
    from tests.comment_systems import DISQUS_KEY, disqus_answer, disqus_dom, disqus_exchanges, disqus_page

    learn = thread("post-4521", top=20, seed=61, max_depth=2)
    exchanges = disqus_exchanges(learn)
    assert len(exchanges) >= 3
    url = BLOG + "/2025/10/harbour-story/"
    recipe = learned(exchanges, disqus_page(learn.key), disqus_dom(learn), url, "blog")
    comments = recipe["comments"]
    assert comments["article_param"] == "thread"
    assert recipe["article_key"]["kind"] == "script" and recipe["article_key"]["template"] == "ident:{}"
    assert comments["dropped_credentials"] == ["api_key"] and "api_key" not in comments["constants"]
    assert comments["paging"]["kind"] == "cursor" and comments["paging"]["cursor_path"] == ["cursor", "next"]
    assert comments["end"]["has_more"] == ["cursor", "hasNext"]
    item = recipe["item"]
    assert (item["id"], item["parent"], item["author"], item["text"], item["time"]) == (
        ["id"], ["parent"], ["author", "name"], ["message"], ["createdAt"],
    )  # fmt: skip
    assert learn.key not in json.dumps(recipe)

    allowed = induce(exchanges, disqus_page(learn.key), [], disqus_dom(learn), None, site="blog",
                     allow_credentials=True, page_url=url)  # fmt: skip
    allowed["reader"] = "blog"
    assert allowed["comments"]["constants"]["api_key"] == DISQUS_KEY
    other = thread("post-9077", top=22, seed=62, first_id=400, max_depth=2)

    def serve(call):
        return json.dumps(disqus_answer(other, dict(parse_qsl(urlsplit(call.url).query)))).encode()

    got, end, sent = page_in_process(allowed, disqus_page(other.key), BLOG + "/2025/11/ferry/", serve)
    assert end and rows(got) == want(disqus_dom(other)) and len(got) == len(other.notes) >= 60
    assert len(sent) == len(disqus_exchanges(other))


@pytest.mark.parametrize("name", ["api_key", "key", "site_key", "header:x-api-key"])
def test_a_public_api_key_the_page_carries_is_read_from_each_page_never_stored(name):
    """A widget sends the site's public key with every request (Disqus's `api_key`; APIs name it
    `key` or `site_key` too), and the embed carries it (`data-api-key`). The recipe stores where the
    page carries it, never the value: each article's request sends the key its own page carries (a
    key the site rotated included), and a page without one is no page the recipe can page. The
    key is never taken for the article's key either (the thread parameter would then be stored as
    the learned article's)."""
    from crawler.recipes.execute import RecipeFailure
    from tests.comment_systems import disqus_answer, disqus_dom, disqus_exchanges, disqus_page

    site_key, rotated = "pk_live_7Hq2x9Lm4Rt8Vw3Zb6Nc1", "pk_live_0Jd5s2Kf8Gh1Yp4Xe7Qa9"
    learn = thread("post-4521", top=20, seed=61, max_depth=2)
    exchanges = disqus_exchanges(learn, site_key, name)
    header = name.removeprefix("header:") if name.startswith("header:") else None
    for e in exchanges if header else ():  # sent as a request header instead (Algolia's, say)
        e["headers"] = {header: e["query"].pop(name)}
    url = BLOG + "/2025/10/harbour-story/"
    recipe = learned(exchanges, disqus_page(learn.key, site_key), disqus_dom(learn), url, "blog")
    comments = recipe["comments"]
    assert comments["article_param"] == "thread" and recipe["article_key"]["template"] == "ident:{}"
    assert comments["page_params"] == {
        name: {"kind": "attr", "css": "div[data-api-key]", "attr": "data-api-key"}
    }
    assert site_key not in json.dumps(recipe) and learn.key not in json.dumps(recipe)
    other = thread("post-9077", top=22, seed=62, first_id=400, max_depth=2)

    def serve(call):  # the API answers only the key the page carries (disqus_answer asserts it)
        query = dict(parse_qsl(urlsplit(call.url).query))
        if header:
            query[name] = call.headers[header]
        return json.dumps(disqus_answer(other, query, rotated, name)).encode()

    page = disqus_page(other.key, rotated)
    got, end, _ = page_in_process(recipe, page, BLOG + "/2025/11/ferry/", serve)
    assert end and rows(got) == want(disqus_dom(other)) and len(got) == len(other.notes)
    with pytest.raises(RecipeFailure, match=f"does not carry the '{name}'"):
        first_calls(recipe, disqus_page(other.key), BLOG + "/2025/11/ferry/", [])


def test_a_unix_time_copied_from_the_last_comment_is_still_a_cursor():
    """Old Isso's `after` with whole-second times: a number the size of a Unix time, like a jQuery
    cache-buster, but copied from the previous answer's last comment: keyset paging, kept."""
    learn = thread("/blog/harbour-story/", top=11, seed=1)
    other = thread("/blog/ferry-story/", top=9, seed=2, first_id=500)
    for note in learn.notes + other.notes:
        note.created = int(note.created)
    exchanges = isso_after_exchanges(BLOG, learn)
    assert exchanges[1]["query"]["after"].isdigit()
    page = ISSO_PAGE.format(title="Harbour", body="A story.")
    recipe = learned(exchanges, page, isso_dom(learn), BLOG + learn.key, "issoblog")
    assert recipe["comments"]["paging"]["param"] == "after"
    assert recipe["comments"]["paging"]["cursor_item"] == ["created"]

    def serve(call):
        return json.dumps(isso_answer(other, dict(parse_qsl(urlsplit(call.url).query)))).encode()

    got, end, _ = page_in_process(recipe, page, BLOG + other.key, serve)
    assert end and rows(got) == want(isso_dom(other))


def test_a_first_filter_naming_a_reply_the_page_itself_showed_is_never_sent_to_other_threads():
    """Ghost's first "more replies" filter names the last reply shown. When the page rendered those
    replies itself (no earlier answer carried them), that value is still the learned thread's own:
    sent to another thread's comments it would hide every reply older than it."""
    from tests.comment_systems import ghost_dom, ghost_exchanges, ghost_page

    learn = _ghost_thread("6571a1f2e4b0c93d2a8f0b11", top=45, seed=51, first_id=1, busy=5)
    exchanges = ghost_exchanges(BLOG, learn)
    for e in exchanges:  # the inline replies came with the page, not in the comment pages
        if "/post/" in e["path"]:
            answer = json.loads(e["body"])
            for comment in answer["comments"]:
                comment["replies"] = []
            e["body"] = json.dumps(answer)
    recipe = learned(exchanges, ghost_page(learn.key), ghost_dom(learn), BLOG + "/harbour/", "blog")
    assert recipe["replies"]["paging"]["template"] == "id:>'{}'"
    assert recipe["replies"]["paging"]["start"] == {"kind": "absent"}


def test_times_as_epoch_milliseconds_are_read_as_the_moments_the_page_shows():
    """The same pager answering `created` as epoch milliseconds (JavaScript's Date.now()): the field
    is learned against the page's ISO times and stored as ISO-8601 UTC."""
    from datetime import datetime

    from tests.comment_systems import rows_answer, rows_dom, rows_exchanges, rows_page

    def in_ms(answer: dict) -> dict:
        def walk(items):
            for c in items:
                c["created"] = int(datetime.fromisoformat(c["created"]).timestamp() * 1000) + 375
                walk(c["children"])

        walk(answer["data"]["comments"])
        return answer

    learn = thread("4521", top=6, seed=21, max_depth=2)
    exchanges = rows_exchanges(BLOG, learn)
    for e in exchanges:
        e["body"] = json.dumps(in_ms(json.loads(e["body"])))
    recipe = learned(exchanges, rows_page(4521), rows_dom(learn), BLOG + "/2025/10/harbour", "blog")
    assert recipe["item"]["time"] == ["created"]
    other = thread("9077", top=7, seed=22, first_id=700, max_depth=2)

    def serve(call):
        return json.dumps(in_ms(rows_answer(other, dict(parse_qsl(urlsplit(call.url).query))))).encode()

    got, end, _ = page_in_process(recipe, rows_page(9077), BLOG + "/2025/11/ferry", serve)
    shown = {c["id"]: c["posted_at"] for c in rows_dom(other)}
    assert end and {source_id(k): c.posted_at for k, c in got.items()} == shown


def test_a_page_count_in_the_answers_ends_the_pages_without_asking_past_the_last():
    """Cusdis answers `pageCount` and asks pages by number, with no page size in the request and no
    has-more flag: without that count the recipe could only stop at an empty page, one request past
    the last (an API that answers it 404, as Django's paginator views do, would fail the recipe)."""
    from tests.comment_systems import cusdis_answer, cusdis_dom, cusdis_exchanges, cusdis_page

    learn = thread("7d2e0c55-51aa-4e0f-9c1d-0a4b6e1f2c3d", top=30, seed=13, max_depth=2)
    exchanges = cusdis_exchanges(learn)
    assert len(exchanges) == 3
    recipe = learned(exchanges, cusdis_page(learn.key), cusdis_dom(learn), NEWS + "/2025/10/h/", "news")
    comments = recipe["comments"]
    assert comments["paging"]["kind"] == "page" and comments["end"]["last_page"] == ["data", "pageCount"]
    other = thread("c0ffee11-2b3c-4d5e-8f90-123456789abc", top=40, seed=14, first_id=300, max_depth=2)

    def serve(call):
        page = int(dict(parse_qsl(urlsplit(call.url).query))["page"])
        assert page <= 4, "asked for the page after the last"
        return json.dumps(cusdis_answer(other, page)).encode()

    got, end, sent = page_in_process(recipe, cusdis_page(other.key), NEWS + "/2025/11/f/", serve)
    assert end and rows(got) == want(cusdis_dom(other)) and len(sent) == 4


# -- JSON:API: ids, parents and authors through relationships and the `included` resources -----------


def test_jsonapi_authors_joined_from_the_included_list_and_parents_deep_in_relationships():
    """A JSON:API compound document (Drupal's JSON:API module): the page's comment number is an
    attribute (the resource's id a UUID), the parent four levels down its relationships, and the
    name the page shows only in the `included` user resource the comment's relationship names."""
    from tests.comment_systems import jsonapi_answer, jsonapi_dom, jsonapi_exchanges, rows_page

    learn = thread("4521", top=6, seed=71, max_depth=2)
    exchanges = jsonapi_exchanges(BLOG, learn)
    assert len(exchanges) >= 3
    recipe = learned(exchanges, rows_page(4521), jsonapi_dom(learn), BLOG + "/2025/10/harbour", "blog")
    comments, item = recipe["comments"], recipe["item"]
    assert comments["article_param"] == "filter[entity_id.meta.drupal_internal__target_id]"
    assert comments["paging"]["param"] == "page[offset]" and comments["paging"]["counts"] == "all"
    assert comments["end"]["null_at"] == ["links", "next", "href"]
    assert (
        item["id"] == ["attributes", "drupal_internal__cid"] and recipe["id_format"]["prefix"] == "comment-"
    )
    assert item["parent"] == ["relationships", "pid", "data", "meta", "drupal_internal__target_id"]
    assert item["author"] is None
    uid = ["relationships", "uid", "data", "id"]
    assert item["author_join"] == {
        "map": ["included"],
        "by": ["id"],
        "key": uid,
        "field": ["attributes", "display_name"],
    }
    other = thread("9077", top=9, seed=72, first_id=700, max_depth=2)

    def serve(call):
        return json.dumps(jsonapi_answer(other, BLOG, dict(parse_qsl(urlsplit(call.url).query)))).encode()

    got, end, _ = page_in_process(recipe, rows_page(9077), BLOG + "/2025/11/ferry", serve)
    assert end and rows(got) == want(jsonapi_dom(other)) and len(got) == len(other.notes) >= 30


def test_a_request_naming_a_parameter_twice_is_refused_not_sent_with_one_value():
    """`include[]=author&include[]=votes` (PHP and Rails arrays): the recorded query keeps one value
    per name, so a recipe would ask for something else than the page did (answers without authors,
    say). Refused; the recorder says which names repeated."""
    from urllib.parse import urlencode

    from tests.comment_systems import exchange, wp_dom, wp_exchanges, wp_page

    learn = thread("4521", top=12, seed=15, max_depth=2)
    repeated = []
    for e in wp_exchanges(BLOG, learn):
        url = f"{e['url']}&{urlencode([('include[]', 'author'), ('include[]', 'votes')])}"
        repeated.append(exchange(e["seq"], url, answer=json.loads(e["body"])))
    assert repeated[0]["query_repeated"] == ["include[]"]
    with pytest.raises(InductionError, match=r"more than once \(include\[\]\)"):
        learned(repeated, wp_page(4521), wp_dom(learn), BLOG + "/2025/10/harbour-story/", "blog")
    posted = []  # the same in a form body (jQuery's $.post of {include: [...]})
    for e in wp_exchanges(BLOG, learn):
        form = urlencode([*e["query"].items(), ("include[]", "author"), ("include[]", "votes")])
        kind = "application/x-www-form-urlencoded"
        posted.append(exchange(e["seq"], BLOG + "/comments.php", "POST", form, kind, json.loads(e["body"])))
    assert posted[0]["form_repeated"] == ["include[]"]
    with pytest.raises(InductionError, match="more than once"):
        learned(posted, wp_page(4521), wp_dom(learn), BLOG + "/2025/10/harbour-story/", "blog")
