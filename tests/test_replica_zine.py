"""The Daily Zine over real HTTP: the JavaScript-only page, the JSON comment API, the expanded views,
mutations and what stays out of the Bored Panda pages.

Like test_replica.py, everything goes through urllib against a running ReplicaServer and nothing but
the replica and the standard library is imported, so a crawler bug cannot hide a replica bug.
"""

from __future__ import annotations

import html
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from email.message import Message

import pytest

from crawler.replica import ReplicaServer, Site, zine_of
from crawler.replica.model import Comment
from crawler.replica.render import CUT_OVER
from crawler.replica.thread import thread_index
from crawler.replica.zine import (
    COMMENTS_API_PATH,
    EMPTY_POST_ID,
    QUIET_HARBOUR_POST_ID,
    QUIET_HARBOUR_SLUG,
    REPLIES_PER_PAGE,
    TEXT_API_PATH,
    TOP_PER_PAGE,
    ZINE_SCRIPT,
)

STORY = f"/zine/{QUIET_HARBOUR_SLUG}/"
EMPTY_STORY = "/zine/empty-story/"
#: one comment's own fields, right after its opening tag (the markup is in MARKUP.md)
MESSAGE_RE = re.compile(
    r'<li class="msg" data-msg-id="(?P<id>\d+)"(?: data-reply-to="(?P<reply_to>\d+)")?>'
    r'<span class="who">(?P<author>[^<]*)</span>'
    r'<time(?: datetime="(?P<datetime>[^"]+)")?>(?P<ago>[^<]*)</time>'
    r'<div class="says"(?P<cut> data-cut="true")?>(?P<paragraphs>(?:<p>[^<]*</p>)+)'
    r'(?:<span class="zine-expand" data-msg-id="(?P=id)">…see more</span>)?</div>'
    r'<span class="likes" data-n="(?P<likes>\d+)">(?P=likes) likes</span>'
    r'<span class="dislikes" data-n="(?P<dislikes>\d+)">(?P=dislikes) dislikes</span>'
)
NESTING_RE = re.compile(r'<li class="msg" data-msg-id="(\d+)"|</li>')
REPLIES_BUTTON_RE = re.compile(
    r'<button class="zine-replies" data-msg-id="(\d+)" data-cursor="">View (\d+) repl'
)


def fetch(
    server: ReplicaServer, path: str, headers: dict[str, str] | None = None
) -> tuple[int, Message, bytes]:
    request = urllib.request.Request(server.base_url + path, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def page(server: ReplicaServer, path: str) -> str:
    status, _, body = fetch(server, path)
    assert status == 200, path
    return body.decode()


def api(server: ReplicaServer, path: str = COMMENTS_API_PATH, **params: object) -> tuple[int, dict]:
    status, headers, body = fetch(server, f"{path}?{urllib.parse.urlencode(params)}")
    assert headers["Content-Type"] == "application/json"
    return status, json.loads(body)


def api_ok(server: ReplicaServer, **params: object) -> dict:
    status, answer = api(server, **params)
    assert status == 200, answer
    return answer


def walk_api(server: ReplicaServer, story: int) -> dict[str, tuple[str | None, int]]:
    """Every comment the API delivers, paging top-level comments and then each comment's replies by
    cursor: id -> (reply_to, depth). Fails if a comment comes twice or a batch is too big."""
    found: dict[str, tuple[str | None, int]] = {}

    def walk(parent: str | None, depth: int) -> None:
        cursor, has_next = "", True
        while has_next:
            params = {"story": story, "cursor": cursor} | ({"parent": parent} if parent else {})
            answer = api_ok(server, **params)
            assert 0 < len(answer["items"]) <= (REPLIES_PER_PAGE if parent else TOP_PER_PAGE)
            for item in answer["items"]:
                assert item["id"] not in found, f"comment {item['id']} delivered twice"
                assert item["reply_to"] == parent
                found[item["id"]] = (parent, depth)
                if item["reply_count"]:
                    walk(item["id"], depth + 1)
            cursor, has_next = answer["cursor"]["next"], answer["cursor"]["has_next"]
            assert (answer["remaining"] > 0) == has_next

    walk(None, 0)
    return found


def model_thread(zine: Site, slug: str = QUIET_HARBOUR_SLUG) -> dict[str, tuple[str | None, int]]:
    article = zine.article(slug)
    depths = thread_index(article).depth
    return {c.id: (c.parent_id, depths[c.id]) for c in article.comments if c.id in depths}


def discussion(text: str) -> str:
    start = text.index('<section class="discussion"')
    return text[start : text.index("</section>", start)]


def messages(text: str) -> dict[str, dict]:
    """The comments of a page: their own fields, the enclosing comment and the nesting depth."""
    section = discussion(text)
    found = {m["id"]: m.groupdict() for m in MESSAGE_RE.finditer(section)}
    stack: list[str] = []
    for match in NESTING_RE.finditer(section):
        if match[1]:
            found[match[1]] |= {"enclosing": stack[-1] if stack else None, "depth": len(stack)}
            stack.append(match[1])
        else:
            stack.pop()
    assert len(found) == section.count('<li class="msg"'), "a comment does not match MESSAGE_RE"
    return found


def text_of(fields: dict) -> str:
    return "\n\n".join(html.unescape(p) for p in re.findall(r"<p>([^<]*)</p>", fields["paragraphs"]))


@pytest.fixture
def zine(replica_site: Site) -> Site:
    found = zine_of(replica_site)
    assert found is not None
    return found


# -- pages ------------------------------------------------------------------------------------------


def test_live_page_has_only_the_widget(replica: ReplicaServer, zine: Site) -> None:
    text = page(replica, STORY)
    section = discussion(text)
    assert f'<article class="story" data-story-id="{QUIET_HARBOUR_POST_ID}">' in text
    assert f'<link rel="canonical" href="{replica.base_url}{STORY}">' in text
    assert 'data-total="60" data-cursor=""' in section
    assert '<ol class="msgs"></ol><button class="zine-more">Show more comments</button>' in section
    assert "<script>" in text and COMMENTS_API_PATH in text and TEXT_API_PATH in text
    assert zine.article(QUIET_HARBOUR_SLUG).title in text


def test_empty_story_has_no_button(replica: ReplicaServer) -> None:
    section = discussion(page(replica, EMPTY_STORY))
    assert f'data-story="{EMPTY_POST_ID}" data-total="0"' in section
    assert '<ol class="msgs"></ol>' in section and "<button" not in section
    assert discussion(page(replica, EMPTY_STORY + "?expanded=1")) == section


def test_expanded_view_equals_the_model(replica: ReplicaServer, zine: Site) -> None:
    text = page(replica, STORY + "?expanded=1")
    assert "<button" not in discussion(text) and "zine-expand" not in discussion(text)
    shown = messages(text)
    assert {i: (m["reply_to"], m["depth"]) for i, m in shown.items()} == model_thread(zine)
    assert all(m["enclosing"] == m["reply_to"] for m in shown.values())
    assert max(m["depth"] for m in shown.values()) >= 2
    for comment in zine.article(QUIET_HARBOUR_SLUG).comments:
        fields = shown[comment.id]
        assert text_of(fields) == comment.text and not fields["cut"]
        assert html.unescape(fields["author"]) == comment.author and fields["ago"] == comment.relative_time
        assert fields["datetime"] == (comment.posted_at.isoformat() if comment.posted_at else None)
        assert (int(fields["likes"]), int(fields["dislikes"])) == (comment.upvotes, comment.downvotes)
    top_level = thread_index(zine.article(QUIET_HARBOUR_SLUG)).children[None]
    assert f'data-cursor="{top_level[-1].id}"' in discussion(text)


def test_partial_view_leaves_every_kind_of_button(replica: ReplicaServer, zine: Site) -> None:
    text = page(replica, STORY + "?expanded=partial")
    index = thread_index(zine.article(QUIET_HARBOUR_SLUG))
    first = index.children[None][:TOP_PER_PAGE]
    shown = messages(text)
    assert list(shown) == [c.id for c in first] and all(m["depth"] == 0 for m in shown.values())
    assert f'data-cursor="{first[-1].id}"' in text and '<button class="zine-more">' in text
    buttons = dict(REPLIES_BUTTON_RE.findall(text))
    assert buttons == {c.id: str(len(index.replies(c.id))) for c in first if index.replies(c.id)}
    assert any(int(count) > REPLIES_PER_PAGE for count in buttons.values())
    for comment in first:
        fields = shown[comment.id]
        cut = len(comment.text) > CUT_OVER
        assert bool(fields["cut"]) == cut
        assert comment.text.startswith(text_of(fields)) and (text_of(fields) != comment.text) == cut
    assert any(len(c.text) > CUT_OVER for c in first)


def test_unknown_story_and_view(replica: ReplicaServer) -> None:
    assert fetch(replica, "/zine/no-such-story/")[0] == 404
    assert fetch(replica, STORY + "?expanded=all")[0] == 400
    assert fetch(replica, f"/{QUIET_HARBOUR_SLUG}/")[0] == 404  # not a Bored Panda article


def test_pages_are_cacheable_and_change_with_the_thread(replica: ReplicaServer, zine: Site) -> None:
    _, headers, _ = fetch(replica, STORY)
    etag = headers["ETag"]
    assert etag and headers["Last-Modified"]
    assert fetch(replica, STORY, {"If-None-Match": etag})[0] == 304
    zine.set_votes(thread_index(zine.article(QUIET_HARBOUR_SLUG)).children[None][0].id, 1, 1)
    assert fetch(replica, STORY, {"If-None-Match": etag})[0] == 200


# -- the JSON API -----------------------------------------------------------------------------------


def test_api_paging_reaches_exactly_the_model(replica: ReplicaServer, zine: Site) -> None:
    assert walk_api(replica, QUIET_HARBOUR_POST_ID) == model_thread(zine)
    assert len(model_thread(zine)) == 60


def test_api_first_batch(replica: ReplicaServer, zine: Site) -> None:
    answer = api_ok(replica, story=QUIET_HARBOUR_POST_ID)
    index = thread_index(zine.article(QUIET_HARBOUR_SLUG))
    top_level = index.children[None]
    assert [item["id"] for item in answer["items"]] == [c.id for c in top_level[:TOP_PER_PAGE]]
    assert (
        answer["total"] == 60 and answer["parent"] is None and answer["story"] == str(QUIET_HARBOUR_POST_ID)
    )
    assert answer["cursor"] == {"next": top_level[TOP_PER_PAGE - 1].id, "has_next": True}
    assert answer["remaining"] == len(top_level) - TOP_PER_PAGE
    item, comment = answer["items"][0], top_level[0]
    assert item == {
        "id": comment.id,
        "reply_to": None,
        "author": comment.author,
        "posted_at": comment.posted_at.isoformat(),
        "ago": comment.relative_time,
        "text": comment.text,
        "cut": False,
        "likes": comment.upvotes,
        "dislikes": comment.downvotes,
        "reply_count": len(index.replies(comment.id)),
    }


def test_api_limit_and_empty_story(replica: ReplicaServer) -> None:
    answer = api_ok(replica, story=QUIET_HARBOUR_POST_ID, limit=100)
    assert len(answer["items"]) == 22 and answer["cursor"]["has_next"] is False
    assert len(api_ok(replica, story=QUIET_HARBOUR_POST_ID, limit=3)["items"]) == 3
    empty = api_ok(replica, story=EMPTY_POST_ID)
    assert (empty["items"], empty["total"], empty["cursor"]) == ([], 0, {"next": "", "has_next": False})


def test_cut_texts_and_the_full_text_endpoint(replica: ReplicaServer, zine: Site) -> None:
    long_comment = next(c for c in zine.article(QUIET_HARBOUR_SLUG).comments if len(c.text) > CUT_OVER)
    parent = {"parent": long_comment.parent_id} if long_comment.parent_id else {}
    items = api_ok(replica, story=QUIET_HARBOUR_POST_ID, limit=50, **parent)["items"]
    item = next(i for i in items if i["id"] == long_comment.id)
    assert item["cut"] and long_comment.text.startswith(item["text"]) and item["text"] != long_comment.text
    assert api(replica, TEXT_API_PATH, msg=long_comment.id) == (
        200,
        {"id": long_comment.id, "text": long_comment.text},
    )


@pytest.mark.parametrize(
    ("path", "params", "status", "message"),
    [
        (COMMENTS_API_PATH, {"story": 999}, 404, "no story 999"),
        (COMMENTS_API_PATH, {"story": "abc"}, 400, "story must be an integer, not 'abc'"),
        (COMMENTS_API_PATH, {}, 400, "story must be an integer, not ''"),
        (
            COMMENTS_API_PATH,
            {"story": QUIET_HARBOUR_POST_ID, "cursor": "x"},
            400,
            "cursor must be an integer",
        ),
        (COMMENTS_API_PATH, {"story": QUIET_HARBOUR_POST_ID, "limit": 0}, 400, "limit must be at least 1"),
        (COMMENTS_API_PATH, {"story": QUIET_HARBOUR_POST_ID, "parent": "1"}, 404, "no comment '1'"),
        (COMMENTS_API_PATH, {"story": EMPTY_POST_ID, "parent": "730000100001"}, 404, "no comment"),
        (TEXT_API_PATH, {"msg": "820000100001"}, 404, "no comment '820000100001'"),  # a Bored Panda comment
        ("/zine/api/nothing", {}, 404, "no API 'nothing'"),
    ],
)
def test_api_errors(replica: ReplicaServer, path: str, params: dict, status: int, message: str) -> None:
    got_status, answer = api(replica, path, **params)
    assert got_status == status and message in answer["error"]


def test_a_site_without_zine_serves_none(replica_site: Site) -> None:
    with ReplicaServer(Site()) as bare:
        assert fetch(bare, STORY)[0] == 404
        assert api(bare, story=QUIET_HARBOUR_POST_ID) == (404, {"error": "no zine on this site"})


# -- mutations --------------------------------------------------------------------------------------


def test_mutations_show_up_in_the_api_and_the_views(replica: ReplicaServer, zine: Site) -> None:
    index = thread_index(zine.article(QUIET_HARBOUR_SLUG))
    hub = index.children[None][0]
    doomed = next(c for c in index.children[None] if index.replies(c.id) and c is not hub)
    doomed_replies = set(_subtree(zine, doomed))
    zine.edit_comment(hub.id, "Edited on the zine.")
    zine.set_votes(hub.id, 101, 7)
    zine.delete_comment(doomed.id)
    reply_id = zine.add_comment(
        QUIET_HARBOUR_SLUG, "A late reply & more.", author="Late Reader", parent_id=hub.id
    )

    first = api_ok(replica, story=QUIET_HARBOUR_POST_ID)["items"][0]
    assert (first["id"], first["text"], first["likes"], first["dislikes"]) == (
        hub.id,
        "Edited on the zine.",
        101,
        7,
    )
    assert first["reply_count"] == len(index.replies(hub.id)) + 1
    walked = walk_api(replica, QUIET_HARBOUR_POST_ID)
    assert walked == model_thread(zine)
    assert walked[reply_id] == (hub.id, 1) and not doomed_replies & set(walked)

    shown = messages(page(replica, STORY + "?expanded=1"))
    assert set(shown) == set(walked)
    assert text_of(shown[hub.id]) == "Edited on the zine." and shown[hub.id]["likes"] == "101"
    assert text_of(shown[reply_id]) == "A late reply & more." and shown[reply_id]["enclosing"] == hub.id
    assert f'data-total="{60 - len(doomed_replies) + 1}"' in page(replica, STORY)

    zine.restore_comment(doomed.id)
    assert doomed_replies <= set(walk_api(replica, QUIET_HARBOUR_POST_ID))


def _subtree(zine: Site, comment: Comment) -> list[str]:
    index = thread_index(zine.article(QUIET_HARBOUR_SLUG))
    ids = [comment.id]
    for reply in index.replies(comment.id):
        ids += _subtree(zine, reply)
    return ids


# -- what stays Bored Panda's -----------------------------------------------------------------------


def test_bored_panda_discovery_does_not_list_the_zine(replica: ReplicaServer) -> None:
    for path in ("/", "/page/2/", "/feed/", "/sitemap-posts-1.xml", "/sitemap-posts-2.xml"):
        assert "/zine/" not in page(replica, path), path


def test_the_script_uses_the_markup_classes() -> None:
    for name in (
        "zine-more",
        "zine-replies",
        "zine-expand",
        "msgs",
        "replies",
        "says",
        "who",
        "likes",
        "msg",
    ):
        assert f'"{name}"' in ZINE_SCRIPT or f".{name}" in ZINE_SCRIPT, name
