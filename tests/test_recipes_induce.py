"""Inducing comment-API recipes from recorded exchanges, and running them over plain HTTP.

The saved exchanges in tests/fixtures/exchanges/ were recorded by the browser path on the three
replica sites (`python -m tests.fixtures.exchanges.record`): Bored Panda (page numbers, HTML fragments
in JSON, offset-paged replies, full texts), The Daily Zine (a cursor equal to the last id, JSON items,
cursor-paged replies, a text API) and The Town Square (an opaque cursor copied from the previous
answer, replies nested in the JSON, a presence ping that carries no comment). A few cases the sites do
not show (offset paging of the top level, a JSON body, a token parameter) are built from those.
"""

from __future__ import annotations

import copy
import json
import urllib.request
from datetime import datetime
from pathlib import Path
from urllib.parse import urlencode

import pytest

from crawler.recipes.execute import RecipeFailure, first_calls, read_answer
from crawler.recipes.induce import InductionError, induce
from crawler.recipes.learn import dom_comments, fragment_reader, read_comments, source_id
from crawler.replica import ReplicaServer, build_demo_site
from crawler.replica.square import rename_api, square_of
from crawler.replica.zine import zine_of

FIXTURES = Path(__file__).parent / "fixtures" / "exchanges"


def load(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def recipe_of(case: dict, exchanges: list | None = None, **kwargs) -> dict:
    shown = dom_comments(case["page_html"], case["url"], case["site"])
    recipe = induce(
        case["exchanges"] if exchanges is None else exchanges,
        case["page_html"],
        shown,
        case["dom_comments"],
        fragment_reader(case["url"], case["site"]),
        site=case["site"],
        **kwargs,
    )
    recipe["reader"] = case["site"]
    for role in ("comments", "replies", "full_text"):
        if recipe.get(role):
            recipe[role]["same_host"] = True
    return recipe


# -- induction on saved exchanges ------------------------------------------------------------------


def test_page_number_paging_of_html_fragments():
    recipe = recipe_of(load("boredpanda-pages"))
    comments = recipe["comments"]
    assert (comments["method"], comments["path"], comments["body"]) == (
        "POST",
        "/blog/wp-admin/admin-ajax.php",
        "form",
    )
    assert comments["constants"] == {"action": "load_comments"}
    assert comments["article_param"] == "post_id"
    assert recipe["article_key"] == {
        "kind": "attr",
        "css": "article.post[data-post-id]",
        "attr": "data-post-id",
    }
    assert comments["paging"]["kind"] == "page" and comments["paging"]["param"] == "page"
    assert comments["paging"]["start"] == {"kind": "value", "value": "2"}  # page 1 is in the article
    assert comments["answer"] == {"format": "json-html", "html": ["data", "html"]}
    assert comments["end"]["has_more"] == ["data", "has_more"]
    assert comments["total"] == ["data", "total"]
    full = recipe["full_text"]
    assert full["constants"] == {"action": "load_comment"} and full["id_param"] == "comment_id"


def test_offset_paging_of_replies():
    replies = recipe_of(load("boredpanda-pages"))["replies"]
    assert replies["constants"] == {"action": "load_replies"}
    assert replies["parent_param"] == "comment_id"
    assert replies["paging"]["kind"] == "offset" and replies["paging"]["param"] == "offset"
    assert replies["end"]["has_more"] == ["data", "has_more"]


def test_cursor_paging_of_json_items_with_field_paths():
    recipe = recipe_of(load("zine-cursor"))
    comments = recipe["comments"]
    assert (comments["method"], comments["path"], comments["body"]) == ("GET", "/zine/api/comments", "query")
    assert comments["article_param"] == "story"
    assert recipe["article_key"]["attr"] == "data-story-id"
    assert comments["paging"] == {
        "kind": "cursor",
        "param": "cursor",
        "cursor_path": ["cursor", "next"],
        "start": {"kind": "value", "value": ""},
    }
    assert comments["end"]["has_more"] == ["cursor", "has_next"]
    assert comments["answer"] == {"format": "json", "items": ["items"]}
    assert recipe["item"] == {
        "id": ["id"],
        "parent": ["reply_to"],
        "author": ["author"],
        "text": ["text"],
        "time": ["posted_at"],
        "upvotes": ["likes"],
        "downvotes": ["dislikes"],
        "reply_count": ["reply_count"],
        "cut": ["cut"],
        "replies": None,
    }
    replies = recipe["replies"]
    assert replies["parent_param"] == "parent" and replies["paging"]["kind"] == "cursor"
    assert recipe["full_text"]["path"] == "/zine/api/text"
    assert recipe["full_text"]["answer"] == {"format": "json", "text": ["text"]}


def test_opaque_cursor_copied_from_previous_answer_and_nested_replies():
    case = load("square-nested")
    recipe = recipe_of(case)
    comments = recipe["comments"]
    assert comments["path"] == "/square/api/v2/comments"
    assert comments["paging"]["kind"] == "cursor" and comments["paging"]["param"] == "after"
    assert comments["paging"]["cursor_path"] == ["paging", "after"]
    assert comments["end"] == {"has_more": None, "cursor_null": True}
    assert comments["constants"] == {"limit": "8"}
    assert comments["total"] == ["count"]
    # the thread key is only in a script value of the page
    assert recipe["article_key"]["kind"] == "script"
    item = recipe["item"]
    assert item["replies"] == ["replies"]
    assert (item["author"], item["text"], item["upvotes"], item["downvotes"]) == (
        ["author", "name"],
        ["body", "text"],
        ["score", "up"],
        ["score", "down"],
    )
    assert recipe["replies"] is None and recipe["full_text"] is None


def test_a_request_without_comments_is_ignored():
    case = load("square-nested")
    assert any(e["path"] == "/square/api/presence" for e in case["exchanges"])
    recipe = recipe_of(case)
    assert recipe["ignored"] == ["GET /square/api/presence"]
    # the same exchanges without the pings give the same recipe
    without = [e for e in case["exchanges"] if e["path"] != "/square/api/presence"]
    again = recipe_of(case, without)
    assert again["comments"] == recipe["comments"] and again["item"] == recipe["item"]
    assert again["ignored"] == []


def test_no_request_with_comments_is_an_error():
    case = load("square-nested")
    pings = [e for e in case["exchanges"] if e["path"] == "/square/api/presence"]
    with pytest.raises(InductionError, match="no recorded request"):
        recipe_of(case, pings)


def _offset_exchanges(case: dict) -> list[dict]:
    """The square's two comment pages re-expressed as an offset API with a JSON body (POST)."""
    pages = [e for e in case["exchanges"] if e["path"].endswith("/comments")]
    out, offset = [], 0
    for seq, exchange in enumerate(pages):
        answer = json.loads(exchange["body"])
        rewritten = copy.deepcopy(exchange)
        rewritten.update(
            seq=seq,
            method="POST",
            query={},
            body_kind="json",
            json={"thread": exchange["query"]["thread"], "offset": offset, "count": 8, "nonce": "s3cr3t"},
            body=json.dumps(
                {"data": {"list": answer["comments"], "more": answer["paging"]["after"] is not None}}
            ),
        )
        offset += len(answer["comments"])
        out.append(rewritten)
    return out


def test_offset_paging_json_body_and_credentials_not_stored():
    case = load("square-nested")
    exchanges = _offset_exchanges(case)
    recipe = recipe_of(case, exchanges)
    comments = recipe["comments"]
    assert comments["body"] == "json"
    assert comments["paging"]["kind"] == "offset" and comments["paging"]["param"] == "offset"
    assert comments["end"]["has_more"] == ["data", "more"]
    assert comments["answer"]["items"] == ["data", "list"]
    assert "nonce" not in comments["constants"] and comments["dropped_credentials"] == ["nonce"]
    assert comments["constants"] == {"count": "8"}
    [first, *_] = first_calls(recipe, case["page_html"], case["url"], [])
    sent = json.loads(first.body)
    assert sent["count"] == 8 and sent["offset"] == 0  # numbers go out as the numbers the page sent
    allowed = recipe_of(case, exchanges, allow_credentials=True)
    assert allowed["comments"]["constants"] == {"count": "8", "nonce": "s3cr3t"}


# -- running recipes over plain HTTP against the replica --------------------------------------------


def _fetch(call) -> bytes:
    headers = {"Content-Type": call.content_type} if call.content_type else {}
    request = urllib.request.Request(call.url, data=call.body, method=call.method, headers=headers)
    with urllib.request.urlopen(request) as answer:  # noqa: S310 - loopback replica
        return answer.read()


def page_recipe(recipe: dict, url: str) -> tuple[dict, bool]:
    """Every comment the recipe loads for `url` (full texts replacing cut ones), and end reached."""
    html = urllib.request.urlopen(url).read().decode()  # noqa: S310
    shown = read_comments(html, url, recipe["reader"])
    got = {c.comment_id: c for c in shown}
    queue, end = first_calls(recipe, html, url, shown), False
    while queue:
        call = queue.pop(0)
        answer = read_answer(recipe, call, _fetch(call), url)
        for comment in answer.comments:
            if comment.comment_id not in got or got[comment.comment_id].truncated:
                got[comment.comment_id] = comment
        end |= answer.end_reached
        queue += answer.calls
    return got, end


def expected(site_model, slug: str, prefix: str) -> dict:
    article = site_model.article(slug)
    return {
        f"{prefix}:{c.id}": (
            f"{prefix}:{c.parent_id}" if c.parent_id else None,
            c.text,
            c.upvotes,
            c.downvotes,
        )
        for c in article.comments
        if not c.deleted
    }


def loaded(got: dict) -> dict:
    return {k: (c.parent_id, c.text, c.upvotes, c.downvotes) for k, c in got.items()}


@pytest.mark.parametrize(
    ("fixture", "path", "slug", "model"),
    [
        ("boredpanda-pages", "/big-thread-article/", "big-thread-article", lambda s: s),
        ("zine-cursor", "/zine/quiet-harbour-story/", "quiet-harbour-story", zine_of),
        ("square-nested", "/square/bakery-queue-story/", "bakery-queue-story", square_of),
    ],
)
def test_recipe_pages_another_article_over_http(fixture, path, slug, model):
    site = build_demo_site()
    recipe = recipe_of(load(fixture))
    with ReplicaServer(site) as server:
        got, end = page_recipe(recipe, server.base_url + path)
    assert end
    want = expected(model(site), slug, recipe["site"])
    assert len(want) >= 31
    assert loaded(got) == want
    assert not any(c.truncated for c in got.values())


def test_renamed_endpoint_or_cursor_parameter_fails_the_recipe():
    site = build_demo_site()
    recipe = recipe_of(load("square-nested"))
    with ReplicaServer(site) as server:
        url = server.base_url + "/square/lighthouse-paint-story/"
        rename_api(square_of(site), cursor_param="from")
        with pytest.raises(RecipeFailure, match="cursor repeats"):
            page_recipe(recipe, url)
        rename_api(square_of(site), api_path="/square/api/v3/talk")
        with pytest.raises(urllib.error.HTTPError) as error:
            page_recipe(recipe, url)
        assert error.value.code == 404


def test_page_one_is_checked_against_what_the_page_shows():
    site = build_demo_site()
    recipe = recipe_of(load("boredpanda-pages"))
    with ReplicaServer(site) as server:
        url = server.base_url + "/two-page-comments-article/"
        html = urllib.request.urlopen(url).read().decode()  # noqa: S310
        shown = read_comments(html, url, "boredpanda")
        [first, *_] = first_calls(recipe, html, url, shown)
        assert "page=1" in first.body.decode()  # asks again for what the page shows
        body = _fetch(first)
        assert read_answer(recipe, first, body, url).top_ids == first.context["verify"]
        first.context["verify"] = [source_id(c.comment_id) for c in shown if not c.parent_id][1:]
        with pytest.raises(RecipeFailure, match="disagrees with the page"):
            read_answer(recipe, first, body, url)


def _next_url_exchanges(case: dict) -> list[dict]:
    """The square's pages as a next-URL API: no cursor parameter, the answer names the next page's
    address; the first request leaves paging out; times as Unix seconds, texts as HTML."""
    from crawler.recipes.paths import as_time

    pages = [e for e in case["exchanges"] if e["path"].endswith("/comments")]
    out = []
    for seq, exchange in enumerate(pages):
        answer = json.loads(exchange["body"])

        def html_items(nodes):
            for node in nodes:
                node["body"]["text"] = "<p>" + node["body"]["text"].replace("\n\n", "</p><p>") + "</p>"
                if node["created"]:
                    node["created"] = int(datetime.fromisoformat(as_time(node["created"])).timestamp())
                html_items(node["replies"])

        html_items(answer["comments"])
        query = {"thread": exchange["query"]["thread"]} | ({"page": str(seq + 1)} if seq else {})
        url = "http://replica/square/api/v1/list?" + urlencode(query)
        nxt = f"/square/api/v1/list?thread={query['thread']}&page={seq + 2}" if seq + 1 < len(pages) else None
        rewritten = copy.deepcopy(exchange)
        rewritten.update(seq=seq, url=url, path="/square/api/v1/list", query=query)
        rewritten["body"] = json.dumps({"results": answer["comments"], "links": {"next": nxt}})
        out.append(rewritten)
    return out


def test_next_url_paging_html_texts_and_unix_times():
    from crawler.recipes.paths import as_time

    case = load("square-nested")
    recipe = recipe_of(case, _next_url_exchanges(case))
    comments = recipe["comments"]
    assert comments["paging"]["kind"] in ("next_url", "page")  # both readings page the same way
    assert comments["paging"]["start"] == {"kind": "absent"}
    assert comments["answer"]["items"] == ["results"]
    assert recipe["item"]["text"] == ["body", "text"] and recipe["item"]["time"] == ["created"]
    pages = _next_url_exchanges(case)
    calls = first_calls(recipe, case["page_html"], case["url"], [])
    assert "page=" not in calls[0].url
    answer = read_answer(recipe, calls[0], pages[0]["body"].encode(), case["url"])
    dom = {c["id"]: c for c in case["dom_comments"]}
    for comment in answer.comments:
        want = dom[source_id(comment.comment_id)]
        assert comment.text == want["text"] and "<p>" not in comment.text
        if want["posted_at"]:
            assert as_time(comment.posted_at) == as_time(want["posted_at"])
    [nxt] = [c for c in answer.calls if c.role == "comments"]
    assert "page=2" in nxt.url
    last = read_answer(recipe, nxt, pages[1]["body"].encode(), case["url"])
    assert last.end_reached


# -- REST paths and GraphQL bodies: the article's key, the cursor and the page where real APIs put them --


def _rest_exchanges(case: dict, shape: str) -> list[dict]:
    """The square's comment pages re-expressed with the thread's key in the path (`shape` has a
    `{thread}` placeholder), the cursor and the limit staying in the query."""
    out = []
    for exchange in case["exchanges"]:
        rewritten = copy.deepcopy(exchange)
        if exchange["path"].endswith("/comments"):
            query = {k: v for k, v in exchange["query"].items() if k != "thread"}
            path = shape.replace("{thread}", exchange["query"]["thread"])
            rewritten.update(path=path, query=query, url=f"http://replica{path}?{urlencode(query)}")
        out.append(rewritten)
    return out


def test_article_key_in_the_path_is_replaced_by_each_articles_own():
    """A REST API (/threads/<key>/comments): a recipe learned on one thread asks for another thread's
    comments with that thread's key in the path, never the learned thread's."""
    from crawler.replica.square import rename_api

    case = load("square-nested")
    shape = "/square/api/threads/{thread}/comments"
    recipe = recipe_of(case, _rest_exchanges(case, shape))
    comments = recipe["comments"]
    assert comments["article_param"] == "path:4"
    assert recipe["article_key"]["kind"] == "script"
    assert comments["paging"]["kind"] == "cursor" and comments["paging"]["param"] == "after"
    assert comments["constants"] == {"limit": "8"}  # path words are not parameters to send
    site = build_demo_site()
    with ReplicaServer(site) as server:
        rename_api(square_of(site), api_path=shape)
        got, end = page_recipe(recipe, server.base_url + "/square/bakery-queue-story/")
    assert end
    want = expected(square_of(site), "bakery-queue-story", recipe["site"])
    assert len(want) == 31 and loaded(got) == want


def _graphql_exchanges(case: dict) -> list[dict]:
    """The square's comment pages as a GraphQL API: one POST endpoint, the thread and the cursor in
    the body's nested `variables`, the answer's cursor and has-more flag five levels deep."""
    out = []
    for seq, exchange in enumerate(e for e in case["exchanges"] if e["path"].endswith("/comments")):
        answer = json.loads(exchange["body"])
        variables = {"thread": exchange["query"]["thread"], "first": 8}
        if exchange["query"]["after"]:
            variables["after"] = exchange["query"]["after"]
        body = {"operationName": "Talk", "query": GRAPHQL_QUERY, "variables": variables}
        rewritten = copy.deepcopy(exchange)
        rewritten.update(
            seq=seq, method="POST", url="http://replica/square/graphql", path="/square/graphql",
            query={}, body_kind="json", json=body, body=json.dumps(_graphql_answer(answer)),
        )  # fmt: skip
        out.append(rewritten)
    return out


GRAPHQL_QUERY = "query Talk($thread: ID!, $after: String) { thread(key: $thread) { comments { nodes } } }"


def _graphql_answer(answer: dict) -> dict:
    after = answer["paging"]["after"]
    page_info = {"endCursor": after, "hasNextPage": after is not None}
    return {"data": {"thread": {"key": answer["thread"], "comments": {"nodes": answer["comments"],
                                                                       "pageInfo": page_info}}}}  # fmt: skip


def test_graphql_nested_variables_and_deep_cursor():
    from crawler.replica.square import DEFAULT_API_PATH, api_answer

    case = load("square-nested")
    recipe = recipe_of(case, _graphql_exchanges(case))
    comments = recipe["comments"]
    assert (comments["method"], comments["path"], comments["body"]) == ("POST", "/square/graphql", "json")
    assert comments["article_param"] == "variables.thread" and comments["json_nested"]
    assert comments["constants"] == {
        "operationName": "Talk",
        "query": GRAPHQL_QUERY,
        "variables.first": "8",
    }
    assert comments["paging"]["param"] == "variables.after"
    assert comments["paging"]["cursor_path"] == ["data", "thread", "comments", "pageInfo", "endCursor"]
    assert comments["end"]["has_more"] == ["data", "thread", "comments", "pageInfo", "hasNextPage"]

    # another thread of the square, paged through the recipe's requests answered by the replica's model
    site = build_demo_site()
    town = square_of(site)
    with ReplicaServer(site) as server:
        url = server.base_url + "/square/lighthouse-paint-story/"
        html = urllib.request.urlopen(url).read().decode()  # noqa: S310
    queue, got, end, sent = first_calls(recipe, html, url, []), {}, False, []
    while queue:
        call = queue.pop(0)
        body = json.loads(call.body)
        sent.append(body)
        variables = body["variables"]
        query = {"thread": variables["thread"], "limit": variables["first"]}
        query["after"] = variables.get("after", "")
        with town.lock:
            answer = _graphql_answer(api_answer(town, DEFAULT_API_PATH, query))
        result = read_answer(recipe, call, json.dumps(answer).encode(), url)
        got.update({c.comment_id: c for c in result.comments})
        end |= result.end_reached
        queue += result.calls
    assert end and len(sent) >= 2
    assert {b["variables"]["thread"] for b in sent} == {"sq-7400003"}  # this thread's key, nested
    assert all(b["query"] == GRAPHQL_QUERY and b["variables"]["first"] == 8 for b in sent)  # an int, as seen
    assert loaded(got) == expected(town, "lighthouse-paint-story", recipe["site"])


@pytest.mark.parametrize(
    "carrier",
    [
        '<meta name="talk-nonce" content="{}">',
        '<form class="reply"><input type="hidden" name="_talk_nonce" value="{}"></form>',
        '<script>window.talkConfig = {{"nonce": "{}", "limit": 8}};</script>',
    ],
)
def test_a_token_the_page_carries_is_read_from_each_page_never_stored(carrier):
    """A nonce the API wants is dropped from the recipe, yet a later crawl sends the one its own
    page carries (a meta, a hidden field, a script value), so the recipe works without storing it."""
    case = load("square-nested")
    learned_token, other_token = "n0nce-7Ab3Lx", "n0nce-Q9zW2k"

    def page(token: str) -> str:
        return case["page_html"].replace("</head>", carrier.format(token) + "</head>", 1)

    exchanges = copy.deepcopy(case["exchanges"])
    for exchange in exchanges:
        if exchange["path"].endswith("/comments"):
            exchange["query"]["security"] = learned_token
    learned = {**case, "page_html": page(learned_token)}
    recipe = recipe_of(learned, exchanges)
    comments = recipe["comments"]
    assert "security" not in comments["constants"] and comments["dropped_credentials"] == ["security"]
    assert set(comments["page_params"]) == {"security"}
    assert learned_token not in json.dumps(recipe)
    [call] = [c for c in first_calls(recipe, page(other_token), case["url"], []) if c.role == "comments"]
    assert f"security={other_token}" in call.url
    answer = read_answer(recipe, call, exchanges[1]["body"].encode(), case["url"])
    [nxt] = [c for c in answer.calls if c.role == "comments"]
    assert f"security={other_token}" in nxt.url and "after=" in nxt.url
    with pytest.raises(RecipeFailure, match="'security'"):
        first_calls(recipe, case["page_html"], case["url"], [])  # a page without it: the recipe fails


def test_headers_the_page_script_sent_are_kept_and_a_csrf_header_read_from_each_page():
    case = load("square-nested")
    learned_token, other_token = "Zk3-learned-csrf-91", "Qp7-other-csrf-22"

    def page(token: str) -> str:
        return case["page_html"].replace("</head>", f'<meta name="csrf-token" content="{token}"></head>', 1)

    exchanges = copy.deepcopy(case["exchanges"])
    for exchange in exchanges:
        exchange["headers"] = {"accept": "application/json", "x-requested-with": "XMLHttpRequest",
                               "x-csrf-token": learned_token}  # fmt: skip
    recipe = recipe_of({**case, "page_html": page(learned_token)}, exchanges)
    comments = recipe["comments"]
    assert comments["headers"] == {"accept": "application/json", "x-requested-with": "XMLHttpRequest"}
    assert comments["dropped_credentials"] == ["header:x-csrf-token"]
    assert comments["page_params"]["header:x-csrf-token"]["css"] == 'meta[name="csrf-token"][content]'
    assert learned_token not in json.dumps(recipe)
    [call] = [c for c in first_calls(recipe, page(other_token), case["url"], []) if c.role == "comments"]
    assert call.headers == {
        "accept": "application/json",
        "x-requested-with": "XMLHttpRequest",
        "x-csrf-token": other_token,
    }
    answer = read_answer(recipe, call, exchanges[1]["body"].encode(), case["url"])
    [nxt] = [c for c in answer.calls if c.role == "comments"]
    assert nxt.headers["x-csrf-token"] == other_token


def test_page_ids_that_wrap_the_apis_bare_ids():
    """The markup says id="comment-123", the API says "id": 123: the recipe learns to wrap, so a
    comment read over the API has the id the browser path stores, and requests send the bare id."""
    from crawler.recipes.induce import id_affix

    assert id_affix(["comment-123", "comment-145", "comment-9"]) == ("comment-", "")
    assert id_affix(["c123-x", "c145-x"]) == ("", "-x")
    assert id_affix(["123", "145"]) == ("", "")
    case = load("square-nested")

    def wrapped(comments):
        return [{**c, "id": f"comment-{c['id']}", "parent": c["parent"] and f"comment-{c['parent']}"}
                for c in comments]  # fmt: skip

    dom = wrapped(case["dom_comments"])
    recipe = induce(case["exchanges"], case["page_html"], [], dom, site="square")
    assert recipe["id_format"] == {"prefix": "comment-", "suffix": ""}
    recipe["reader"] = "square"
    [call] = first_calls(recipe, case["page_html"], case["url"], [])
    answer = read_answer(recipe, call, case["exchanges"][1]["body"].encode(), case["url"])
    by_id = {c["id"]: c for c in dom}
    assert answer.comments and all(source_id(c.comment_id) in by_id for c in answer.comments)
    replies = [c for c in answer.comments if c.parent_id]
    assert replies and all(
        source_id(c.parent_id) == by_id[source_id(c.comment_id)]["parent"] for c in replies
    )
    # without the wrapping the recipe is the plain one: no id_format
    assert "id_format" not in induce(
        case["exchanges"], case["page_html"], [], case["dom_comments"], site="square"
    )


def test_a_replies_answer_that_nests_deeper_replies_is_still_replies():
    """A "Load More Replies" answer carries the replies with their own first replies inline: a reply
    of a reply is no reason to read it as a page of comments."""
    case = copy.deepcopy(load("boredpanda-pages"))
    [exchange] = [e for e in case["exchanges"] if params_of_form(e).get("action") == "load_replies"]
    answer = json.loads(exchange["body"])
    nested = (
        '<div class="comment" id="comment-820000199999" data-comment-id="820000199999" '
        'data-parent-id="820000100025" data-depth="2"><div class="comment-header">'
        '<a class="comment-author-name" href="/author/ann/">Ann</a></div>'
        '<div class="comment-text" data-truncated="false"><p>A reply to the reply.</p></div>'
        '<div class="comment-votes"><span class="upvotes" data-count="1">1</span>'
        '<span class="downvotes" data-count="0">0</span></div>'
        '<div class="comment-replies" data-reply-count="0"></div></div>'
    )
    html = answer["data"]["html"].replace(
        '<div class="comment-replies" data-reply-count="0"></div>',
        f'<div class="comment-replies" data-reply-count="1">{nested}</div>',
        1,
    )
    answer["data"]["html"] = html
    exchange["body"] = json.dumps(answer)
    case["dom_comments"].append(
        {"id": "820000199999", "parent": "820000100025", "author": "Ann", "text": "A reply to the reply.",
         "posted_at": None, "upvotes": 1, "downvotes": 0, "truncated": False}
    )  # fmt: skip
    recipe = recipe_of(case)
    assert recipe["replies"] is not None and recipe["replies"]["parent_param"] == "comment_id"
    assert recipe["comments"]["article_param"] == "post_id"


def params_of_form(exchange: dict) -> dict:
    return exchange.get("form") or {}
