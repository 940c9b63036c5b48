"""Test-only models of real, publicly documented comment systems: their API contracts and widgets.

Panda Watch learns a comment API it has never seen from what the page requested in the browser
(crawler.recipes.induce). Our own replicas define their own contracts; this module models the
contracts of open-source comment systems as their public source or docs define them, so the
induction is tested on shapes we did not design:

- **Isso** (github.com/isso-comments/isso @ 9c24f9b3: isso/views/comments.py `fetch`, isso/js/app/api.js
  `fetch`/`qs`, isso/js/embed.js, isso/js/app/isso.js `insert_loader`): `GET <endpoint>/?uri=<thread>
  &sort=…&parent=<id>&offset=N&limit=L&nested_limit=M` (a null parent is left out), the thread id is
  `data-isso-id` or else `location.pathname`; the answer `{id, total_replies, hidden_replies, replies:
  [...], config}`, each top-level comment with `total_replies`, `hidden_replies` and its first
  `nested_limit` replies nested in `replies` (one level: replies of replies hang under the top-level
  comment, isso/db/comments.py `_find`); comments `{id, parent, text (HTML), author, website, mode,
  created (Unix float), modified, likes, dislikes, hash}`. "Load more" asks `offset` = comments shown.
- **Remark42** (github.com/umputun/remark42: frontend/apps/remark42/app/common/api.ts `getPostComments`,
  common/types.ts `Tree`/`Node`/`Comment`; remark42.com/docs/contributing/api): `GET /api/v1/find?site=
  <id>&url=<page url>&sort=…&format=tree`, the page URL defaulting to origin + pathname; the answer
  `{comments: [{comment: {id, pid, text (HTML), orig, user: {name, id, …}, locator, score, vote, time
  (RFC 3339, nanoseconds)}, replies: [Node…]}], info: {url, count, …}}`. One request: "Show more"
  reveals already loaded comments.
- **Commento** (commento.js of gitlab.com/commento/commento, read through the code index: `post` sends
  `JSON.stringify(data)` with `Content-type: application/x-www-form-urlencoded`; `commentsGet` posts
  `{session, domain: location.host, path: location.pathname}` to `/api/comment/list`;
  `commentsRecurse(parentMap, "root")` renders `commenters[comment.commenterHex].name`, `comment.html`,
  `comment.score`, `comment.creationDate`): a flat list, top-level comments have `parentHex: "root"`,
  authors only in the separate `commenters` map.
- **Coral Talk** (github.com/coralproject/talk: client/src/core/client/stream/tabs/Comments/Stream/
  AllCommentsTab/AllCommentsTabContainer.tsx, the Relay pagination query with `$count`, `$cursor`,
  `$orderBy`, `$storyID`, `$flattenReplies`): one GraphQL endpoint `POST /api/graphql`, JSON
  `{operationName, query, variables}`; the first page comes from another operation (the stream query)
  than "Load more"; answers `data.story.comments{edges[{cursor, node{id, body, createdAt, author
  {username}, actionCounts{reaction{total}}, replyCount, replies{edges[{node}]}}}], pageInfo
  {endCursor, hasNextPage}}`; more replies through `data.comment.replies` with `$commentID`.

- **Cusdis** and the **WordPress REST API** (further down, with their sources): an embed carrying two
  ids (the site's and the article's), and a bare array of every comment paged by page number whose
  page after the last is an HTTP 400.
- Further down, each with its sources: **Drupal**'s comment pager over thread order (`rows_*`: an
  offset that counts every comment, replies nested in the answer included, or top-level ones only;
  nested or flat answers under `data.comments`, `meta.has_more`, votes in an object, times with an
  offset), **Mastodon**'s status context (`descendants` flat, the top level naming the article's own
  toot), **GitHub issue comments** as Utterances asks them (page numbers, reactions as votes, the
  `Link` response header; or pages named only by a Link cursor), and **Ghost**'s comments app (page
  numbers ending where `next` turns null, replies keyset-paged inside an NQL filter).

Each system has: `answer(...)` (the server's side of the contract, over a `Thread`), `exchanges(...)`
(what the widget requests while a reader clicks through it, as crawler.browser.record records it) and
`dom(...)` (the comments the expanded widget shows, as the site's profile reads them). Isso also has a
widget page for the browser (`isso_page`) served by `CommentSystemsServer` on loopback.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import parse_qsl, urlencode, urlsplit

from crawler.browser.record import _body_fields, repeated_names
from tests.loopback import LoopbackServer, QuietHandler

#: the thread's comments start at this Unix time, one every 97.25 s (fractions as Isso stores them)
EPOCH = 1_760_000_000.0
AUTHORS = ["Ann Lee", "Bo Chen", "Cara Diaz", "Dev Patel", "Eli Moss", "Fay Wong", "Gus Ode"]
WORDS = ["harbour", "ferry", "lantern", "quiet", "market", "bridge", "tide", "rope", "gull", "pier"]


@dataclass
class Note:
    """One comment of a thread, in the systems' common terms."""

    id: int
    parent: int | None
    author: str
    text: str
    created: float
    likes: int
    dislikes: int
    children: list[Note] = field(default_factory=list)

    @property
    def iso(self) -> str:
        return datetime.fromtimestamp(int(self.created), tz=UTC).isoformat()


@dataclass
class Thread:
    key: str
    notes: list[Note]

    def top(self) -> list[Note]:
        return [n for n in self.notes if n.parent is None]

    def replies(self, parent: int) -> list[Note]:
        return [n for n in self.notes if n.parent == parent]

    def by_id(self, note_id: int) -> Note:
        return next(n for n in self.notes if n.id == note_id)


def thread(key: str, top: int, seed: int, first_id: int = 1, max_depth: int = 1) -> Thread:
    """A deterministic thread: `top` top-level comments, replies up to `max_depth` levels deep."""
    rng = random.Random(f"{key}:{seed}")
    notes: list[Note] = []
    next_id = first_id

    def add(parent: Note | None, depth: int) -> None:
        nonlocal next_id
        words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 12)))
        note = Note(
            id=next_id, parent=parent.id if parent else None, author=rng.choice(AUTHORS),
            text=f"{words.capitalize()} (#{next_id}).", created=EPOCH + 97.25 * next_id + 0.125,
            likes=rng.randint(0, 9), dislikes=rng.randint(0, 3),
        )  # fmt: skip
        next_id += 1
        notes.append(note)
        if parent:
            parent.children.append(note)
        if depth < max_depth:
            for _ in range(rng.choice([0, 0, 1, 3, 7])):
                add(note, depth + 1)

    for _ in range(top):
        add(None, 0)
    return Thread(key, notes)


def exchange(
    seq: int,
    url: str,
    method: str = "GET",
    body: str | None = None,
    content_type: str = "",
    answer: dict | None = None,
    trigger: str = "load",
    headers: dict | None = None,
    response_headers: dict | None = None,
) -> dict:
    """One recorded exchange, as crawler.browser.record.Recorder keeps it (the request body parsed by
    the recorder's own code, so a JSON body sent with a form content type is read as it would be)."""
    parts = urlsplit(url)
    return {
        "seq": seq, "step": seq, "trigger": trigger, "method": method, "url": url,
        "scheme": parts.scheme, "host": parts.netloc, "path": parts.path,
        "query": dict(parse_qsl(parts.query, keep_blank_values=True)),
        "query_repeated": repeated_names(parts.query),
        "request_content_type": content_type, "headers": headers or {},
        **_body_fields(body, content_type),
        "status": 200, "content_type": "application/json", "response_headers": response_headers or {},
        "body": json.dumps(answer), "body_truncated": False,
    }  # fmt: skip


def dom_of(notes: list[Note], *, id_format: str = "{}", up=lambda n: n.likes, down=lambda n: n.dislikes):
    """The comments a widget shows, as the induction receives them (ids in the page's own form)."""
    return [
        {"id": id_format.format(n.id), "parent": id_format.format(n.parent) if n.parent else None,
         "author": n.author, "text": n.text, "posted_at": n.iso, "upvotes": up(n), "downvotes": down(n),
         "truncated": False}
        for n in notes
    ]  # fmt: skip


# -- Isso ---------------------------------------------------------------------------------------------


def isso_comment(note: Note) -> dict:
    return {"id": note.id, "parent": note.parent, "text": f"<p>{note.text}</p>", "author": note.author,
            "website": None, "mode": 1, "created": note.created, "modified": None, "likes": note.likes,
            "dislikes": note.dislikes, "hash": hashlib.sha1(note.author.encode()).hexdigest()[:12],
            "notification": 0}  # fmt: skip


def isso_answer(thread: Thread, query: dict[str, str]) -> dict:
    """isso/views/comments.py `fetch`: a page of one level, with nested replies for the top level.
    `after` (a Unix time; what Isso's client sent before it paged by `offset`, commit 00fc383a^)
    keeps only comments created after it, counts included."""
    parent = int(query["parent"]) if query.get("parent") not in (None, "") else None
    offset = int(query.get("offset") or 0)
    after = float(query.get("after") or 0)
    limit = int(query["limit"]) if query.get("limit") not in (None, "") else None
    nested = int(query["nested_limit"]) if query.get("nested_limit") not in (None, "") else None
    notes = [n for n in thread.notes if n.created > after]
    level = [n for n in notes if n.parent == parent]
    page = level[offset : offset + limit if limit is not None else None]
    rv = {"id": parent, "total_replies": len(notes) if parent is None else len(level),
          "hidden_replies": len(level) - len(page) - offset, "replies": [isso_comment(n) for n in page],
          "config": {"reply-to-self": False, "require-author": False, "vote": True}}  # fmt: skip
    if parent is None:
        for item, note in zip(rv["replies"], page, strict=True):
            replies = [n for n in notes if n.parent == note.id]
            shown = replies if nested is None else replies[:nested]
            item.update(total_replies=len(replies), hidden_replies=len(replies) - len(shown),
                        replies=[isso_comment(r) for r in shown])  # fmt: skip
    return rv


def _isso_url(base: str, query: dict) -> str:
    # api.js `qs`: keys in the order the widget sets them, null values left out
    return f"{base}/isso/?" + urlencode({k: v for k, v in query.items() if v is not None})


def isso_exchanges(base: str, thread: Thread, top: int = 4, reveal: int = 3, nested: int = 2) -> list[dict]:
    """What Isso's widget requests while every "load more" link is clicked: the first page, then top-level
    pages (`offset` = shown), then each comment's hidden replies (`parent`, `offset` = replies shown)."""
    out: list[dict] = []

    def ask(query: dict, trigger: str) -> dict:
        answer = isso_answer(thread, {k: str(v) for k, v in query.items() if v is not None})
        out.append(exchange(len(out), _isso_url(base, query), answer=answer, trigger=trigger))
        return answer

    def thread_query(parent, offset, limit):
        return {"uri": thread.key, "sort": "oldest", "parent": parent, "offset": offset, "limit": limit,
                "nested_limit": nested}  # fmt: skip

    rv = ask(thread_query(None, 0, top), "load")
    shown_top = list(rv["replies"])
    while rv["hidden_replies"] > 0:
        rv = ask(thread_query(None, len(shown_top), reveal), "a.isso-load-hidden")
        shown_top += rv["replies"]
    for item in shown_top:
        shown = len(item["replies"])
        hidden = item["hidden_replies"]
        while hidden > 0:
            rv = ask(thread_query(item["id"], shown, reveal), "a.isso-load-hidden")
            shown += len(rv["replies"])
            hidden = rv["hidden_replies"]
    return out


def isso_after_exchanges(
    base: str, thread: Thread, top: int = 4, reveal: int = 3, nested: int = 2
) -> list[dict]:
    """The same clicks with Isso's client before `offset` (js/app/api.js at 00fc383a^): `after` =
    the largest `created` among the comments shown at that level (left out on the first request)."""
    out: list[dict] = []

    def ask(query: dict, trigger: str) -> dict:
        answer = isso_answer(thread, {k: str(v) for k, v in query.items() if v is not None})
        out.append(exchange(len(out), _isso_url(base, query), answer=answer, trigger=trigger))
        return answer

    def query(after, parent, limit):
        return {"uri": thread.key, "after": after, "parent": parent, "limit": limit, "nested_limit": nested}

    rv = ask(query(None, None, top), "load")
    shown_top = list(rv["replies"])
    while rv["hidden_replies"] > 0:
        rv = ask(query(max(c["created"] for c in rv["replies"]), None, reveal), "a.isso-load-hidden")
        shown_top += rv["replies"]
    for item in shown_top:
        replies, hidden = item["replies"], item["hidden_replies"]
        while hidden > 0:
            rv = ask(query(max(c["created"] for c in replies), item["id"], reveal), "a.isso-load-hidden")
            replies, hidden = rv["replies"], rv["hidden_replies"]
    return out


def isso_dom(thread: Thread) -> list[dict]:
    return dom_of(thread.notes, id_format="isso-{}")


ISSO_PROFILE = """
[site]
name = "issoblog"

[article]
title = "h1"

[comments]
container = "section#isso-thread"
item = "div.isso-comment"
id = "@id"
# no parent key: a reply sits inside its parent's div.isso-follow-up
author = ".isso-author"
text = ".isso-text"
time = "time@datetime"
upvotes = ".isso-likes@data-n"
downvotes = ".isso-dislikes@data-n"

[browser]
load_more = ["a.isso-load-hidden"]
"""

#: the blog's article page: Isso's embed reads the thread id from `location.pathname` (no
#: data-isso-id), renders comments client-side and adds a "load hidden" link where Isso's does
ISSO_PAGE = """<!doctype html>
<html><head><title>{title}</title></head><body>
<article><h1>{title}</h1><p>{body}</p></article>
<section id="isso-thread"><div id="isso-root"></div></section>
<script>
(function () {{
  var endpoint = "/isso", TOP = 4, REVEAL = 3, NESTED = 2;
  function qs(params) {{
    var rv = [];
    for (var key in params) {{
      if (params[key] !== null && typeof params[key] !== "undefined") {{
        rv.push(key + "=" + encodeURIComponent(params[key]));
      }}
    }}
    return rv.join("&");
  }}
  function fetchPage(parent, offset, limit) {{
    var query = {{uri: location.pathname, sort: "oldest", parent: parent, offset: offset, limit: limit,
                 nested_limit: NESTED}};
    return fetch(endpoint + "/?" + qs(query)).then(function (r) {{ return r.json(); }});
  }}
  function el(tag, cls, text) {{
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }}
  function insert(comment, into) {{
    var card = el("div", "isso-comment");
    card.id = "isso-" + comment.id;
    var head = el("div", "isso-comment-header");
    head.appendChild(el("span", "isso-author", comment.author || "Anonymous"));
    var time = el("time", "", "");
    time.setAttribute("datetime", new Date(comment.created * 1000).toISOString());
    head.appendChild(time);
    card.appendChild(head);
    var text = el("div", "isso-text");
    text.innerHTML = comment.text;
    card.appendChild(text);
    var likes = el("span", "isso-likes", String(comment.likes));
    likes.setAttribute("data-n", comment.likes);
    var dislikes = el("span", "isso-dislikes", String(comment.dislikes));
    dislikes.setAttribute("data-n", comment.dislikes);
    card.appendChild(likes);
    card.appendChild(dislikes);
    var follow = el("div", "isso-follow-up");
    card.appendChild(follow);
    into.appendChild(card);
    (comment.replies || []).forEach(function (r) {{ insert(r, follow); }});
    if (comment.hidden_replies > 0) loader(comment.id, follow, comment.replies.length);
  }}
  function loader(parent, into, offset) {{
    var link = el("a", "isso-load-hidden", "Load more");
    link.href = "#";
    into.appendChild(link);
    link.addEventListener("click", function (event) {{
      event.preventDefault();
      link.remove();
      fetchPage(parent, offset, REVEAL).then(function (rv) {{
        rv.replies.forEach(function (c) {{ insert(c, into); }});
        if (rv.hidden_replies > 0) loader(parent, into, offset + rv.replies.length);
      }});
    }});
  }}
  var root = document.getElementById("isso-root");
  fetchPage(null, 0, TOP).then(function (rv) {{
    rv.replies.forEach(function (c) {{ insert(c, root); }});
    if (rv.hidden_replies > 0) loader(null, root, rv.replies.length);
  }});
}})();
</script>
</body></html>
"""


COMMENTO_PROFILE = """
[site]
name = "talkblog"

[article]
title = "h1"

[comments]
container = "div#commento"
item = "div.commento-card"
id = "@id"
# no parent key: a reply's card sits inside its parent's div.commento-children
author = ".commento-name"
text = ".commento-body"
upvotes = ".commento-score@data-n"

[browser]
load_more = ["button.commento-load-more"]
"""

#: a blog page with Commento's widget behaviour (commento.js: `post` sends JSON.stringify(data) as a
#: form, `commentsGet` asks for {commenterToken, domain: location.host, path: location.pathname},
#: `commentsRecurse(parentMap, "root")` renders commenters[commenterHex].name, html and score)
COMMENTO_PAGE = """<!doctype html>
<html><head><title>{title}</title></head><body>
<article><h1>{title}</h1><p>{body}</p></article>
<div id="commento"></div>
<script>
(function () {{
  function post(url, data, callback) {{
    var xmlDoc = new XMLHttpRequest();
    xmlDoc.open("POST", url, true);
    xmlDoc.setRequestHeader("Content-type", "application/x-www-form-urlencoded");
    xmlDoc.onload = function () {{ callback(JSON.parse(xmlDoc.response)); }};
    xmlDoc.send(JSON.stringify(data));
  }}
  function el(tag, cls, text) {{
    var e = document.createElement(tag);
    e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }}
  function recurse(parentMap, commenters, parentHex, into) {{
    (parentMap[parentHex] || []).forEach(function (comment) {{
      var card = el("div", "commento-card");
      card.id = "commento-comment-card-" + comment.commentHex;
      card.appendChild(el("div", "commento-name", commenters[comment.commenterHex].name));
      var body = el("div", "commento-body");
      body.innerHTML = comment.html;
      card.appendChild(body);
      var score = el("div", "commento-score", comment.score + " points");
      score.setAttribute("data-n", comment.score);
      card.appendChild(score);
      var children = el("div", "commento-children");
      card.appendChild(children);
      into.appendChild(card);
      recurse(parentMap, commenters, comment.commentHex, children);
    }});
  }}
  post("/commento/api/comment/list",
       {{commenterToken: "anonymous", domain: location.host, path: location.pathname}},
       function (resp) {{
    if (!resp.success) return;
    var parentMap = {{}};
    resp.comments.forEach(function (c) {{
      (parentMap[c.parentHex] = parentMap[c.parentHex] || []).push(c);
    }});
    recurse(parentMap, resp.commenters, "root", document.getElementById("commento"));
  }});
}})();
</script>
</body></html>
"""


class CommentSystemsServer:
    """A loopback blog whose articles carry an Isso widget (under /blog/), a Commento widget (under
    /talk/), a widget over Drupal-style thread-ordered rows (under /forum/, the thread keyed by its
    `key` as the node id) or a WordPress post (under /wp/, its `key` the post id), and the APIs
    behind them (`GET /isso/`, `POST /commento/api/comment/list`, `GET /api/node/<nid>/comments`,
    `GET /wp-json/wp/v2/comments` with its paging headers: wp_headers).

    `threads` maps an article path ("/blog/<slug>/") to its Thread (keyed by that path, as both
    embeds key it); `requests` counts the API requests served."""

    def __init__(self, threads: dict[str, Thread]) -> None:
        self.threads = threads
        self.requests: list[str] = []
        server = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                if parts.path == "/robots.txt":
                    return self.answer(200, "text/plain", b"User-agent: *\nAllow: /\n")
                if parts.path == "/isso/":
                    query = dict(parse_qsl(parts.query, keep_blank_values=True))
                    server.requests.append(self.path)
                    found = server.threads.get(query.get("uri", ""))
                    if found is None:
                        return self.answer(404, "application/json", b"{}")
                    body = json.dumps(isso_answer(found, query)).encode()
                    return self.answer(200, "application/json", body)
                if parts.path.startswith("/api/node/"):  # the thread-ordered rows (ROWS_PAGE)
                    server.requests.append(self.path)
                    nid = parts.path.split("/")[3]
                    found = next((t for t in server.threads.values() if t.key == nid), None)
                    if found is None:
                        return self.answer(404, "application/json", b"{}")
                    query = dict(parse_qsl(parts.query, keep_blank_values=True))
                    return self.answer(
                        200, "application/json", json.dumps(rows_answer(found, query)).encode()
                    )
                if parts.path == "/wp-json/wp/v2/comments":
                    server.requests.append(self.path)
                    query = dict(parse_qsl(parts.query))
                    found = next((t for t in server.threads.values() if t.key == query.get("post")), None)
                    if found is None:
                        return self.answer(400, "application/json", b'{"code": "rest_invalid_param"}')
                    status, answer = wp_answer(found, query)
                    headers = wp_headers(found, server.base_url + self.path) if status == 200 else {}
                    return self.answer(status, "application/json", json.dumps(answer).encode(), headers)
                found = server.threads.get(parts.path)
                if found is None:
                    return self.answer(404, "text/html", b"<html><body>Not found</body></html>")
                if parts.path.startswith("/wp/"):
                    text = "<p>" + "The harbour story, told at length. " * 20 + "</p>"
                    page = wp_page(int(found.key)).replace("<h1>Story</h1>", "<h1>Story</h1>" + text)
                    return self.answer(200, "text/html; charset=utf-8", page.encode())
                slug = parts.path.strip("/").split("/")[-1]
                title = slug.replace("-", " ").title()
                widget = COMMENTO_PAGE if parts.path.startswith("/talk/") else ISSO_PAGE
                if parts.path.startswith("/forum/"):
                    widget = ROWS_PAGE.replace("{nid}", found.key)
                page = widget.format(title=title, body=f"The story of {title.lower()}. " * 20)
                return self.answer(200, "text/html; charset=utf-8", page.encode())

            def do_POST(self) -> None:
                if urlsplit(self.path).path != "/commento/api/comment/list":
                    return self.answer(404, "application/json", b"{}")
                length = int(self.headers.get("Content-Length") or 0)
                server.requests.append(self.path)
                try:  # the body is JSON whatever its content type says, as Commento's server reads it
                    data = json.loads(self.rfile.read(length) or b"{}")
                except ValueError:
                    data = {}
                found = server.threads.get(data.get("path", ""))
                if data.get("commenterToken") is None or data.get("domain") != self.headers.get("Host"):
                    body = {"success": False, "message": "Some required fields are missing."}
                    return self.answer(200, "application/json", json.dumps(body).encode())
                if found is None:
                    return self.answer(
                        200, "application/json", b'{"success": true, "comments": [], "commenters": {}}'
                    )
                return self.answer(200, "application/json", json.dumps(commento_answer(found)).encode())

        self._server = LoopbackServer(Handler)
        self.base_url = self._server.base_url

    def __enter__(self) -> CommentSystemsServer:
        self._server.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.close()


# -- Remark42 -----------------------------------------------------------------------------------------


def remark_id(note_id: int | None) -> str:
    """Remark42's comment ids are UUIDs."""
    if note_id is None:
        return ""
    h = hashlib.md5(str(note_id).encode()).hexdigest()  # noqa: S324 - an id, not a secret
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


def remark_time(note: Note) -> str:
    # Go's time.Time in JSON: RFC 3339 with nanoseconds, in the server's zone
    local = datetime.fromtimestamp(note.created, tz=UTC).astimezone(timezone(timedelta(hours=-5)))
    return local.strftime("%Y-%m-%dT%H:%M:%S.") + f"{int((note.created % 1) * 1e9):09d}" + "-05:00"


def remark_comment(note: Note, url: str) -> dict:
    user = "anonymous_" + hashlib.sha1(note.author.encode()).hexdigest()  # noqa: S324
    return {"id": remark_id(note.id), "pid": remark_id(note.parent), "text": f"<p>{note.text}</p>\n",
            "orig": note.text, "user": {"name": note.author, "id": user, "picture": "", "admin": False,
                                        "site_id": "remark"},
            "locator": {"site": "remark", "url": url}, "score": note.likes - note.dislikes, "vote": 0,
            "time": remark_time(note), "title": "A story"}  # fmt: skip


def remark_tree(thread: Thread, url: str) -> dict:
    """GET /api/v1/find?format=tree: every comment of the post, replies nested as Nodes."""

    def node(note: Note) -> dict:
        out = {"comment": remark_comment(note, url)}
        if note.children:
            out["replies"] = [node(c) for c in note.children]
        return out

    times = [remark_time(n) for n in thread.notes]
    return {"comments": [node(n) for n in thread.top()],
            "info": {"url": url, "count": len(thread.notes), "read_only": False,
                     "first_time": min(times), "last_time": max(times)}}  # fmt: skip


def remark_exchanges(remark: str, url: str, thread: Thread) -> list[dict]:
    """The widget's requests: its config, the user (none: 401), then the whole tree at once."""
    site = {"site": "remark"}
    config = exchange(
        0,
        f"{remark}/api/v1/config?{urlencode(site)}",
        answer={"version": "1.12", "simple_view": False, "anon_vote": False},
    )
    user = exchange(1, f"{remark}/api/v1/user?{urlencode(site)}", answer={"code": 0, "error": "Unauthorized"})
    user["status"] = 401
    query = urlencode({"site": "remark", "url": url, "sort": "-active", "format": "tree"})
    find = exchange(2, f"{remark}/api/v1/find?{query}", answer=remark_tree(thread, url))
    return [config, user, find]


def remark_dom(thread: Thread) -> list[dict]:
    """The widget shows one score per comment (read as upvotes), its ids as remark42__comment-<id>."""
    return [
        {**c, "id": f"remark42__comment-{remark_id(n.id)}",
         "parent": f"remark42__comment-{remark_id(n.parent)}" if n.parent else None, "downvotes": None}
        for c, n in zip(dom_of(thread.notes, up=lambda n: n.likes - n.dislikes), thread.notes, strict=True)
    ]  # fmt: skip


# -- Commento -----------------------------------------------------------------------------------------


def commento_hex(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def commento_answer(thread: Thread) -> dict:
    """POST /api/comment/list: a flat list (parentHex "root" at the top level), authors in a map."""
    commenters = {}
    comments = []
    for note in thread.notes:
        author = commento_hex(note.author)
        commenters[author] = {"commenterHex": author, "name": note.author, "link": "undefined",
                              "photo": "undefined", "provider": "anon", "joinDate": "2025-01-01T00:00:00Z",
                              "isModerator": False}  # fmt: skip
        # the markdown source marks a word up; the page shows the HTML's text
        first, _, rest = note.text.partition(" ")
        comments.append({"commentHex": commento_hex(f"c{note.id}"), "commenterHex": author,
                         "markdown": f"**{first}** {rest}",
                         "html": f"<p><strong>{first}</strong> {rest}</p>\n",
                         "parentHex": commento_hex(f"c{note.parent}") if note.parent else "root",
                         "score": note.likes - note.dislikes, "state": "approved",
                         "creationDate": datetime.fromtimestamp(note.created, tz=UTC).isoformat(
                             timespec="milliseconds").replace("+00:00", "Z"),
                         "direction": 0, "deleted": False})  # fmt: skip
    return {"success": True, "requireIdentification": False, "isModerator": False, "isFrozen": False,
            "attributes": {"commentsLocked": False, "stickyCommentHex": "none"},
            "comments": comments, "commenters": commenters}  # fmt: skip


def commento_exchanges(origin: str, page_url: str, thread: Thread) -> list[dict]:
    """commentsGet: JSON text in a body sent as a form (the widget's `post` sets that content type)."""
    page = urlsplit(page_url)
    body = json.dumps({"commenterToken": "anonymous", "domain": page.netloc, "path": page.path})
    form = "application/x-www-form-urlencoded"
    url = f"{origin}/api/comment/list"
    return [exchange(0, url, method="POST", body=body, content_type=form, answer=commento_answer(thread))]


def commento_dom(thread: Thread) -> list[dict]:
    """Cards `commento-comment-card-<hex>`, one score each (read as upvotes)."""
    wrap = "commento-comment-card-{}"
    return [
        {**c, "id": wrap.format(commento_hex(f"c{n.id}")),
         "parent": wrap.format(commento_hex(f"c{n.parent}")) if n.parent else None, "downvotes": None}
        for c, n in zip(dom_of(thread.notes, up=lambda n: n.likes - n.dislikes), thread.notes, strict=True)
    ]  # fmt: skip


# -- Coral Talk ---------------------------------------------------------------------------------------

CORAL_STREAM = "query StreamQuery($storyID: ID, $storyURL: String, $flattenReplies: Boolean!) { story(id: $storyID, url: $storyURL) { id comments(first: 5) { edges { node { id } } pageInfo { endCursor hasNextPage } } } }"  # noqa: E501
CORAL_MORE = "query AllCommentsTabContainerPaginationQuery($count: Int!, $cursor: Cursor, $orderBy: COMMENT_SORT!, $storyID: ID, $flattenReplies: Boolean!) { story(id: $storyID) { comments(first: $count, after: $cursor, orderBy: $orderBy) { edges { node { id } } pageInfo { endCursor hasNextPage } } } }"  # noqa: E501
CORAL_REPLIES = "query ReplyListContainer1PaginationQuery($count: Int!, $cursor: Cursor, $orderBy: COMMENT_SORT!, $commentID: ID!, $flattenReplies: Boolean!) { comment(id: $commentID) { replies(first: $count, after: $cursor, orderBy: $orderBy) { edges { node { id } } pageInfo { endCursor hasNextPage } } } }"  # noqa: E501
#: the stream shows this many top-level comments, then "Load more"; replies: 2 inline, then 3 a click
CORAL_FIRST, CORAL_MORE_COUNT, CORAL_INLINE_REPLIES, CORAL_REPLIES_COUNT = 5, 5, 2, 3


def coral_id(note_id: int) -> str:
    return remark_id(note_id + 10_000)


def coral_cursor(note: Note) -> str:
    # Coral's cursor of a time-ordered connection is the last edge's createdAt
    return (
        datetime.fromtimestamp(note.created, tz=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )


def _coral_connection(notes: list[Note], after: str | None, count: int, thread: Thread, nested: bool) -> dict:
    start = 0 if after is None else next(i + 1 for i, n in enumerate(notes) if coral_cursor(n) == after)
    page = notes[start : start + count]
    edges = [{"cursor": coral_cursor(n), "node": _coral_node(n, thread, nested)} for n in page]
    return {
        "edges": edges,
        "pageInfo": {
            "endCursor": coral_cursor(page[-1]) if page else None,
            "hasNextPage": start + count < len(notes),
        },
    }


def _coral_node(note: Note, thread: Thread, nested: bool) -> dict:
    node = {
        "id": coral_id(note.id),
        "body": f"<p>{note.text}</p>",
        "createdAt": coral_cursor(note),
        "author": {"id": commento_hex(note.author)[:12], "username": note.author},
        "actionCounts": {"reaction": {"total": note.likes}},
        "status": "APPROVED",
        "replyCount": len(thread.replies(note.id)),
    }
    if nested:
        node["replies"] = _coral_connection(
            thread.replies(note.id), None, CORAL_INLINE_REPLIES, thread, False
        )
    return node


def coral_answer(thread: Thread, body: dict) -> dict:
    """The three operations of the stream over one Thread (story id = thread.key)."""
    variables = body["variables"]
    if body["operationName"] in ("StreamQuery", "AllCommentsTabContainerPaginationQuery"):
        assert variables["storyID"] == thread.key
        count = variables.get("count", CORAL_FIRST)
        comments = _coral_connection(thread.top(), variables.get("cursor"), count, thread, True)
        return {"data": {"story": {"id": thread.key, "comments": comments}}}
    parent = next(n for n in thread.notes if coral_id(n.id) == variables["commentID"])
    replies = _coral_connection(
        thread.replies(parent.id), variables.get("cursor"), variables["count"], thread, False
    )
    return {"data": {"comment": {"id": variables["commentID"], "replies": replies}}}


def coral_exchanges(coral: str, page_url: str, thread: Thread) -> list[dict]:
    """The stream's requests: its first page (StreamQuery), "Load more" until done, then "Show all
    replies" of every comment with more replies than it shows."""
    out: list[dict] = []

    def ask(operation: str, query: str, variables: dict, trigger: str) -> dict:
        body = {"operationName": operation, "query": query, "variables": variables}
        answer = coral_answer(thread, body)
        out.append(
            exchange(
                len(out),
                f"{coral}/api/graphql",
                method="POST",
                body=json.dumps(body),
                content_type="application/json",
                answer=answer,
                trigger=trigger,
            )
        )
        return answer

    first = ask(
        "StreamQuery",
        CORAL_STREAM,
        {"storyID": thread.key, "storyURL": page_url, "flattenReplies": False},
        "load",
    )
    connection = first["data"]["story"]["comments"]
    edges = list(connection["edges"])
    while connection["pageInfo"]["hasNextPage"]:
        variables = {
            "count": CORAL_MORE_COUNT,
            "cursor": connection["pageInfo"]["endCursor"],
            "orderBy": "CREATED_AT_ASC",
            "storyID": thread.key,
            "tag": None,
            "flattenReplies": False,
        }
        connection = ask(
            "AllCommentsTabContainerPaginationQuery", CORAL_MORE, variables, "button.coral-load-more"
        )["data"]["story"]["comments"]
        edges += connection["edges"]
    for edge in edges:
        replies = edge["node"]["replies"]
        while replies["pageInfo"]["hasNextPage"]:
            variables = {
                "count": CORAL_REPLIES_COUNT,
                "cursor": replies["pageInfo"]["endCursor"],
                "orderBy": "CREATED_AT_ASC",
                "commentID": edge["node"]["id"],
                "flattenReplies": False,
            }
            replies = ask(
                "ReplyListContainer1PaginationQuery",
                CORAL_REPLIES,
                variables,
                "button.coral-show-all-replies",
            )["data"]["comment"]["replies"]
    return out


def coral_page(story_id: str, page_url: str, coral: str) -> str:
    """An article embedding the stream (Coral's documented embed: Coral.createStreamEmbed)."""
    return (
        f"<html><head><title>Story</title></head><body><article><h1>Story</h1></article>"
        f'<div id="coral_thread"></div><script>Coral.createStreamEmbed({{id: "coral_thread", '
        f"autoRender: true, rootURL: '{coral}', storyID: '{story_id}', storyURL: '{page_url}'}});</script>"
        "</body></html>"
    )


def coral_dom(thread: Thread) -> list[dict]:
    """Stream comments `comment-<id>`, one reaction count each (read as upvotes)."""
    return [
        {
            **c,
            "id": f"comment-{coral_id(n.id)}",
            "parent": f"comment-{coral_id(n.parent)}" if n.parent else None,
            "downvotes": None,
        }
        for c, n in zip(dom_of(thread.notes), thread.notes, strict=True)
    ]


# -- Cusdis -------------------------------------------------------------------------------------------
# github.com/djyde/cusdis: widget/Widget.svelte `getComments` asks GET {host}/api/open/comments with
# {page, appId, pageId} (both from the embed's data-app-id / data-page-id) and renders
# `res.data.data.data`; widget/components/Comment.svelte shows by_nickname, parsedCreatedAt,
# parsedContent (HTML) and nests `comment.replies.data`.


def cusdis_comment(note: Note, thread: Thread) -> dict:
    created = datetime.fromtimestamp(note.created, tz=UTC)
    return {"id": remark_id(note.id), "by_nickname": note.author, "content": note.text,
            "parsedContent": f"<p>{note.text}</p>", "createdAt": created.isoformat(),
            "parsedCreatedAt": created.strftime("%Y-%m-%d %H:%M"), "moderatorId": None,
            "replies": {"data": [cusdis_comment(r, thread) for r in thread.replies(note.id)],
                        "commentCount": len(thread.replies(note.id)), "pageSize": 10, "pageCount": 1,
                        "page": 1}}  # fmt: skip


def cusdis_answer(thread: Thread, page: int = 1, size: int = 10) -> dict:
    top = thread.top()
    shown = top[(page - 1) * size : page * size]
    return {"data": {"data": [cusdis_comment(n, thread) for n in shown], "commentCount": len(top),
                     "pageSize": size, "pageCount": -(-len(top) // size), "page": page}}  # fmt: skip


CUSDIS_APP = "9a3c41f2-77d0-4c8e-b1a6-2f5de0c81b47"


def cusdis_page(page_id: str) -> str:
    """Cusdis's documented embed: the app id is the site's, the page id the article's."""
    return (
        "<html><head><title>Story</title></head><body><article><h1>Story</h1></article>"
        f'<div id="cusdis_thread" data-host="https://cusdis.example" data-app-id="{CUSDIS_APP}" '
        f'data-page-id="{page_id}" data-page-title="Story"></div></body></html>'
    )


def cusdis_exchanges(thread: Thread) -> list[dict]:
    """Page 1, then each page the widget's pagination offers (Widget.svelte: a button for each of
    `pageCount` pages): the answers say how many pages there are, and nothing else ends the list."""
    out: list[dict] = []
    page, pages = 1, 1
    while page <= pages:
        query = urlencode({"page": page, "appId": CUSDIS_APP, "pageId": thread.key})
        answer = cusdis_answer(thread, page)
        url = f"https://cusdis.example/api/open/comments?{query}"
        out.append(exchange(len(out), url, answer=answer, trigger="load" if page == 1 else "button.page"))
        page, pages = page + 1, answer["data"]["pageCount"]
    return out


def cusdis_dom(thread: Thread) -> list[dict]:
    """Cusdis renders no id; a site's own widget over its API shows data-comment-id (and no votes)."""
    return [
        {**c, "id": remark_id(n.id), "parent": remark_id(n.parent) if n.parent else None, "upvotes": None,
         "downvotes": None, "posted_at": datetime.fromtimestamp(n.created, tz=UTC).strftime("%Y-%m-%d %H:%M")}
        for c, n in zip(dom_of(thread.notes), thread.notes, strict=True)
    ]  # fmt: skip


# -- WordPress REST API -------------------------------------------------------------------------------
# developer.wordpress.org/rest-api/reference/comments/: GET /wp-json/wp/v2/comments?post=<id>
# &per_page=N&page=P&order=asc lists every comment of the post (replies too, `parent` 0 at the top
# level) as a bare JSON array: id, post, parent, author_name, date (site time), date_gmt,
# content.rendered (HTML), link, status, type; the page after the last is an HTTP 400
# (rest_comment_invalid_page_number). A theme marks the post <article id="post-<id>"
# class="post-<id> …"> and <body class="… postid-<id> …">, and names the id nowhere alone.


def wp_comment(note: Note, post: int) -> dict:
    gmt = datetime.fromtimestamp(int(note.created), tz=UTC)
    return {"id": note.id, "post": post, "parent": note.parent or 0, "author": 0, "author_name": note.author,
            "author_url": "", "date": (gmt + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%S"),
            "date_gmt": gmt.strftime("%Y-%m-%dT%H:%M:%S"), "content": {"rendered": f"<p>{note.text}</p>\n"},
            "link": f"https://blog.example/?p={post}#comment-{note.id}", "status": "approved",
            "type": "comment", "author_avatar_urls": {"24": "https://secure.gravatar.example/a?s=24"},
            "meta": []}  # fmt: skip


def wp_answer(thread: Thread, query: dict[str, str]) -> tuple[int, list | dict]:
    """(status, answer) of GET /wp-json/wp/v2/comments for the thread of post int(thread.key)."""
    size, page = int(query.get("per_page") or 10), int(query.get("page") or 1)
    notes = thread.notes
    pages = -(-len(notes) // size)
    if page > pages and notes:
        return 400, {
            "code": "rest_comment_invalid_page_number",
            "message": "The page number requested is larger than the number of pages available.",
            "data": {"status": 400},
        }  # noqa: E501
    return 200, [wp_comment(n, int(thread.key)) for n in notes[(page - 1) * size : page * size]]


def wp_page(post: int) -> str:
    return (
        f'<html><head><title>Story</title></head><body class="post-template-default single single-post '
        f'postid-{post} single-format-standard"><article id="post-{post}" class="post-{post} post '
        f'type-post status-publish"><h1>Story</h1></article><ol class="comment-list"></ol>'
        '<button class="load-more-comments">Load more</button></body></html>'
    )


def wp_headers(thread: Thread, url: str) -> dict[str, str]:
    """The paging headers WordPress sends with a collection (WP_REST_Comments_Controller::get_items):
    X-WP-Total, X-WP-TotalPages and a Link with rel="prev" / rel="next", the request's own address
    with its `page` changed."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    size, page = int(query.get("per_page") or 10), int(query.get("page") or 1)
    pages = -(-len(thread.notes) // size)

    def at(number: int) -> str:
        return parts._replace(query=urlencode({**query, "page": number})).geturl()

    links = [f'<{at(page - 1)}>; rel="prev"'] if page > 1 else []
    links += [f'<{at(page + 1)}>; rel="next"'] if page < pages else []
    headers = {"x-wp-total": str(len(thread.notes)), "x-wp-totalpages": str(pages)}
    return {**headers, "link": ", ".join(links)} if links else headers


def wp_exchanges(base: str, thread: Thread, size: int = 10, links: bool = False) -> list[dict]:
    """The theme's script asks page after page until a short one; with `links`, a front end that
    follows the answers' Link header instead (with their paging headers recorded)."""
    out: list[dict] = []

    def at(page: int) -> str:
        query = {"post": thread.key, "per_page": size, "page": page, "order": "asc"}
        return f"{base}/wp-json/wp/v2/comments?{urlencode(query)}"

    url: str | None = at(1)
    while url:
        _status, answer = wp_answer(thread, dict(parse_qsl(urlsplit(url).query)))
        headers = wp_headers(thread, url) if links else {}
        out.append(exchange(len(out), url, answer=answer, response_headers=headers,
                            trigger="load" if not out else "button.load-more-comments"))  # fmt: skip
        if links:
            found = re.search(r'<([^>]*)>; rel="next"', headers.get("link", ""))
            url = found.group(1) if found else None
        elif len(answer) < size:  # the theme's script stops at a short page
            url = None
        else:
            url = at(len(out) + 1)
    return out


def wp_dom(thread: Thread) -> list[dict]:
    """<li id="comment-129">; WordPress shows no votes."""
    return [{**c, "upvotes": None, "downvotes": None} for c in dom_of(thread.notes, id_format="comment-{}")]


# -- Thread-ordered rows (Drupal's comment pager) -----------------------------------------------------
# github.com/drupal/drupal core/modules/comment/src/CommentStorage.php `loadThread`: a node's
# comments are ordered by their materialised `thread` path ("01.00/", the vancode of each level)
# and paged with a PagerSelectExtender `limit($comments_per_page)` over *every* comment, replies
# included: a page may start inside a thread, its first replies hanging under a parent shown on an
# earlier page. Drupal themes mark the article <article data-history-node-id="<nid>">. The JSON
# shape is a decoupled front end's over that pager (a `data.comments` list, `meta.has_more`, votes
# in a `votes` object, times ISO-8601 with the site's offset), asked with `offset` = the comments
# the widget has rendered (`document.querySelectorAll('.comment').length`): every comment, nested
# replies included. `per="thread"` pages top-level comments instead (each with all its replies),
# `nest=False` lists every comment of a page flat, each naming its `pid`.

ROWS_LIMIT = 6
ROWS_ZONE = timezone(timedelta(hours=2))


def _vancode(index: int) -> str:
    return f"{index:02d}"


def rows_order(thread: Thread) -> list[Note]:
    """The thread in Drupal's `thread` order: each comment, then its replies (thread() builds it so)."""
    return list(thread.notes)


def rows_comment(note: Note, path: str) -> dict:
    created = datetime.fromtimestamp(int(note.created), tz=ROWS_ZONE).isoformat()
    return {"cid": note.id, "pid": note.parent, "thread": path, "name": note.author,
            "comment_body": {"value": note.text, "format": "basic_html", "processed": f"<p>{note.text}</p>"},
            "created": created, "status": 1, "votes": {"up": note.likes, "down": note.dislikes},
            "children": []}  # fmt: skip


def _thread_paths(thread: Thread) -> dict[int, str]:
    paths: dict[int, str] = {}
    counters: dict[int | None, int] = {}
    for note in rows_order(thread):
        index = counters[note.parent] = counters.get(note.parent, 0) + 1
        stem = paths[note.parent][:-1] + "." if note.parent else ""
        paths[note.id] = f"{stem}{_vancode(index)}/"
    return paths


def rows_answer(thread: Thread, query: dict[str, str], per: str = "row", nest: bool = True) -> dict:
    """A page of the thread from `offset` (rows of the thread order, or top-level comments with
    `per="thread"`), replies nested under a parent on the same page (`nest`) or all listed flat."""
    offset, limit = int(query.get("offset") or 0), int(query.get("limit") or ROWS_LIMIT)
    order = rows_order(thread)
    if per == "row":
        page = order[offset : offset + limit]
        more = offset + len(page) < len(order)
    else:
        tops = {n.id for n in thread.top()[offset : offset + limit]}
        top_of = {}
        for note in order:
            top_of[note.id] = note.id if note.parent is None else top_of[note.parent]
        page = [n for n in order if top_of[n.id] in tops]
        more = offset + len(tops) < len(thread.top())
    paths = _thread_paths(thread)
    nodes = {n.id: rows_comment(n, paths[n.id]) for n in page}
    items = []
    for note in page:
        if nest and note.parent in nodes:
            nodes[note.parent]["children"].append(nodes[note.id])
        else:
            items.append(nodes[note.id])
    return {"data": {"comments": items, "count": len(order)},
            "meta": {"offset": offset, "limit": limit, "has_more": more}}  # fmt: skip


def rows_page(nid: int) -> str:
    return (
        f'<html><head><title>Story</title></head><body class="path-node page-node-type-article">'
        f'<article data-history-node-id="{nid}" class="node node--type-article"><h1>Story</h1></article>'
        '<section class="comments"></section><button class="comments-more">More comments</button>'
        "</body></html>"
    )


def rows_exchanges(
    base: str, thread: Thread, per: str = "row", nest: bool = True, limit: int = ROWS_LIMIT
) -> list[dict]:
    """The widget's requests: the first page, then "More comments" until `meta.has_more` is false,
    each asked from `offset` = the comments rendered so far (top-level ones with `per="thread"`)."""
    out: list[dict] = []
    offset = 0
    while True:
        query = {"_format": "json", "offset": offset, "limit": limit}
        answer = rows_answer(thread, {k: str(v) for k, v in query.items()}, per, nest)
        url = f"{base}/api/node/{thread.key}/comments?{urlencode(query)}"
        trigger = "load" if not out else "button.comments-more"
        out.append(exchange(len(out), url, answer=answer, trigger=trigger))
        if not answer["meta"]["has_more"]:
            return out
        rendered = _rendered(answer["data"]["comments"])
        offset += rendered if per == "row" else sum(1 for c in answer["data"]["comments"] if c["pid"] is None)


def rows_fragment(thread: Thread, query: dict[str, str]) -> tuple[str, bool]:
    """(HTML, more) of the same pager answering HTML, as Drupal's AJAX pagers do: a page of the
    thread order, every comment flat naming the comment it replies to (marked up as the Daily Zine's
    items, crawler/replica/MARKUP.md, so its profile reads it): a page may start with replies whose
    parent, even whose grandparent, came on an earlier page."""
    offset, limit = int(query.get("offset") or 0), int(query.get("limit") or ROWS_LIMIT)
    order = rows_order(thread)
    page = order[offset : offset + limit]
    items = []
    for n in page:
        reply_to = f' data-reply-to="{n.parent}"' if n.parent else ""
        items.append(
            f'<li class="msg" data-msg-id="{n.id}"{reply_to}><span class="who">{n.author}</span>'
            f'<time datetime="{n.iso}">a while ago</time><div class="says"><p>{n.text}</p></div>'
            f'<span class="likes" data-n="{n.likes}">{n.likes} likes</span><span class="dislikes" '
            f'data-n="{n.dislikes}">{n.dislikes} dislikes</span><ol class="replies"></ol></li>'
        )
    return f'<ol class="msgs">{"".join(items)}</ol>', offset + len(page) < len(order)


def rows_fragment_exchanges(base: str, thread: Thread, limit: int = ROWS_LIMIT) -> list[dict]:
    """ "More comments" asked with `offset` = every comment rendered so far, until a short page."""
    out: list[dict] = []
    more = True
    while more:
        query = {"offset": len(out) * limit, "limit": limit}
        html, more = rows_fragment(thread, {k: str(v) for k, v in query.items()})
        url = f"{base}/comments/ajax/{thread.key}?{urlencode(query)}"
        out.append(
            exchange(len(out), url, answer=None, trigger="load" if not out else "button.comments-more")
        )
        out[-1].update(body=html, content_type="text/html; charset=utf-8")
    return out


def _rendered(items: list[dict]) -> int:
    return sum(1 + _rendered(i["children"]) for i in items)


def rows_dom(thread: Thread) -> list[dict]:
    """Drupal's <article id="comment-<cid>">; the widget shows up and down votes."""
    return dom_of(thread.notes, id_format="comment-{}")


# -- Mastodon: a toot's replies as an article's comments ----------------------------------------------
# docs.joinmastodon.org/methods/statuses/#context and /entities/Context/, /entities/Status/: GET
# /api/v1/statuses/:id/context answers {ancestors: [Status], descendants: [Status]}, descendants flat
# in thread order, each naming its parent in `in_reply_to_id` (string ids): a direct reply to the toot
# names the toot itself, the article's own key, so no constant marks the top level. Status: id,
# created_at (ISO 8601 with milliseconds, Z), in_reply_to_id, in_reply_to_account_id, content (HTML),
# account {id, username, acct, display_name}, replies_count, reblogs_count, favourites_count,
# mentions [...]. Blogs that show a toot's replies as their comments (e.g. carlschwan.eu, "Adding
# comments to your static blog with Mastodon", 2020) name the toot in the page and fetch its context
# once: one request, no paging.


def toot_id(note_id: int) -> str:
    return str(113_245_678_901_230_000 + note_id)  # snowflake ids, sent as strings


def toot(note: Note, post: str, thread: Thread) -> dict:
    account = hashlib.sha1(note.author.encode()).hexdigest()[:6]  # noqa: S324 - an id, not a secret
    created = datetime.fromtimestamp(note.created, tz=UTC).isoformat(timespec="milliseconds")
    parent = toot_id(note.parent) if note.parent else post
    return {"id": toot_id(note.id), "created_at": created.replace("+00:00", "Z"), "in_reply_to_id": parent,
            "in_reply_to_account_id": "1", "sensitive": False, "spoiler_text": "", "visibility": "public",
            "language": "en", "uri": f"https://mastodon.example/users/u{account}/statuses/{toot_id(note.id)}",
            "replies_count": len(thread.replies(note.id)), "reblogs_count": 0,
            "favourites_count": note.likes, "content": f"<p>{note.text}</p>",
            "account": {"id": str(int(account, 16)), "username": f"u{account}", "acct": f"u{account}",
                        "display_name": note.author},
            "mentions": [{"id": "1", "username": "blog", "acct": "blog", "url": "https://mastodon.example/@blog"}],
            "media_attachments": [], "tags": [], "emojis": [], "card": None, "poll": None}  # fmt: skip


def mastodon_context(thread: Thread) -> dict:
    """The context of the toot `thread.key`: no ancestors (the blog's toot starts the conversation)."""
    return {"ancestors": [], "descendants": [toot(n, thread.key, thread) for n in thread.notes]}


def mastodon_page(post: str) -> str:
    return (
        "<html><head><title>Story</title></head><body><article><h1>Story</h1></article>"
        f'<section id="comments" data-host="mastodon.example" data-toot="{post}"></section>'
        "<button class='load-comments'>Load comments</button></body></html>"
    )


def mastodon_exchanges(thread: Thread) -> list[dict]:
    url = f"https://mastodon.example/api/v1/statuses/{thread.key}/context"
    return [exchange(0, url, answer=mastodon_context(thread), trigger="button.load-comments")]


def mastodon_dom(thread: Thread) -> list[dict]:
    """Each reply shown under the toot's id; favourites as upvotes."""
    return [
        {**c, "id": toot_id(n.id), "parent": toot_id(n.parent) if n.parent else None, "downvotes": None}
        for c, n in zip(dom_of(thread.notes), thread.notes, strict=True)
    ]


# -- GitHub issue comments (Utterances) ---------------------------------------------------------------
# github.com/utterance/utterances src/github.ts `commentsRequest`/`loadCommentsPage`: GET
# repos/<owner>/<repo>/issues/<n>/comments?page=<p>&per_page=<PAGE_SIZE> with `Accept:
# application/vnd.github.VERSION.html+json,application/vnd.github.squirrel-girl-preview`, the next page
# read from the Link header (`readRelNext`); the issue named by the embed's `issue-number` attribute.
# docs.github.com/en/rest/issues/comments: a bare array of {id (number), node_id, html_url, user
# {login, id, type}, created_at (ISO 8601, Z), body, body_html, author_association, reactions
# {total_count, "+1", "-1", laugh, hooray, confused, heart, rocket, eyes}}; no replies. GitHub's
# cursor-paginated endpoints (docs.github.com/en/rest/using-the-rest-api/using-pagination-in-the-rest-api)
# name the next page only in the Link header, by an opaque `after` cursor (`cursor=True` here).

GITHUB = "https://api.github.com"
GITHUB_ACCEPT = "application/vnd.github.VERSION.html+json,application/vnd.github.squirrel-girl-preview"


def github_comment(note: Note) -> dict:
    created = datetime.fromtimestamp(int(note.created), tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    heart = note.id % 2
    first, _, rest = note.text.partition(" ")  # the markdown source marks a word up
    number = 1_700_000_000 + note.id
    reactions = {"+1": note.likes, "-1": note.dislikes, "laugh": 0, "hooray": 0, "confused": 0,
                 "heart": heart, "rocket": 0, "eyes": 0}  # fmt: skip
    return {
        "id": number,
        "node_id": f"IC_kwDO{note.id:08d}",
        "html_url": f"https://github.com/panda/blog-comments/issues/12#issuecomment-{number}",
        "user": {
            "login": note.author.replace(" ", "-").lower(),
            "id": 1000 + len(note.author),
            "type": "User",
        },
        "created_at": created,
        "updated_at": created,
        "author_association": "NONE",
        "body": f"**{first}** {rest}",
        "body_html": f'<p dir="auto"><strong>{first}</strong> {rest}</p>',
        "reactions": {"url": f"{GITHUB}/reactions", "total_count": sum(reactions.values()), **reactions},
    }


def _github_cursor(index: int) -> str:
    return base64.b64encode(f"cursor:v2:{index * 7919}".encode()).decode().rstrip("=")


def github_answer(thread: Thread, url: str, cursor: bool = False, size: int = 10) -> tuple[list, dict]:
    """(comments, response headers) of GET …/issues/<n>/comments: pages by `page`, or by the opaque
    `after` of the Link header with `cursor`."""
    query = dict(parse_qsl(urlsplit(url).query))
    if cursor:
        starts = {_github_cursor(i // size): i for i in range(0, len(thread.notes), size)}
        start = starts[query["after"]] if "after" in query else 0
    else:
        start = (int(query.get("page") or 1) - 1) * size
    page = thread.notes[start : start + size]
    base = f"{GITHUB}/repositories/881/issues/{thread.key}/comments?per_page={size}"
    links = []
    if start + size < len(thread.notes):
        after = f"&after={_github_cursor(start // size + 1)}" if cursor else f"&page={start // size + 2}"
        links.append(f'<{base}{after}>; rel="next"')
    if not cursor:
        links.append(f'<{base}&page={-(-len(thread.notes) // size)}>; rel="last"')
    return [github_comment(n) for n in page], {"link": ", ".join(links)} if links else {}


def utterances_page(issue: str) -> str:
    return (
        "<html><head><title>Story</title></head><body><article><h1>Story</h1></article>"
        '<script src="https://utteranc.es/client.js" repo="panda/blog-comments" '
        f'issue-number="{issue}" theme="github-light" crossorigin="anonymous" async></script></body></html>'
    )


def utterances_exchanges(thread: Thread, cursor: bool = False, size: int = 10) -> list[dict]:
    """Page 1, then each next page until the Link header names none (Utterances' `readRelNext` reads
    the next page's number and asks it itself; a cursor's next address is followed as it is)."""
    out: list[dict] = []
    issue = f"{GITHUB}/repos/panda/blog-comments/issues/{thread.key}/comments"
    url = f"{issue}?per_page={size}" if cursor else f"{issue}?page=1&per_page={size}"
    while url:
        answer, headers = github_answer(thread, url, cursor, size)
        trigger = "load" if not out else "button.load-more"
        sent = {"accept": GITHUB_ACCEPT}
        out.append(
            exchange(len(out), url, answer=answer, headers=sent, response_headers=headers, trigger=trigger)
        )
        found = re.search(r'<([^>]*)>; rel="next"', headers.get("link", ""))
        if found and not cursor:
            url = f"{issue}?page={dict(parse_qsl(urlsplit(found.group(1)).query))['page']}&per_page={size}"
        else:
            url = found.group(1) if found else None
    return out


def utterances_dom(thread: Thread) -> list[dict]:
    """Utterances' <article id="<comment id>">, its 👍 and 👎 reaction counts."""
    return [{**c, "id": str(1_700_000_000 + n.id), "author": n.author.replace(" ", "-").lower()}
            for c, n in zip(dom_of(thread.notes), thread.notes, strict=True)]  # fmt: skip


# -- Ghost native comments ----------------------------------------------------------------------------
# github.com/TryGhost/Ghost apps/comments-ui src/utils/api.ts: `comments.browse` asks GET
# /members/api/comments/post/<postId>/?limit=…&order=created_at%20DESC&page=N, adding from page 2
# `filter=created_at:<=<the first page's first created_at>` (the "firstCommentCreatedAt" hack);
# `comments.replies` asks GET /members/api/comments/<commentId>/replies/?limit=…&filter=id:>'<last
# reply id>' (an NQL filter holding the last reply's id: keyset paging inside a filter string), and
# src/actions.ts `loadMoreReplies` with limit 'all' loops 100 at a time while `meta.pagination.next`.
# Answers {comments: [...], meta: {pagination: {page, limit, pages, total, next, prev}}} (`next` a
# page number or null); a comment {id (ObjectId hex), parent_id, in_reply_to_id, html, created_at,
# member {id, uuid, name}, count {likes, replies}, replies: its first 3, status}; one level of replies.
# The theme's {{comments}} helper embeds the app with `data-post-id`.

GHOST_PAGE, GHOST_INLINE, GHOST_ALL = 20, 3, 100


def ghost_id(note_id: int) -> str:
    return f"{0x65A1B2C3 + note_id:08x}9f3c2a1b{note_id:08x}"  # ObjectIds grow with time


def ghost_comment(note: Note, thread: Thread) -> dict:
    created = datetime.fromtimestamp(note.created, tz=UTC).isoformat(timespec="milliseconds")
    replies = thread.replies(note.id)
    member = hashlib.sha1(note.author.encode()).hexdigest()  # noqa: S324 - an id, not a secret
    comment = {"id": ghost_id(note.id), "parent_id": ghost_id(note.parent) if note.parent else None,
               "in_reply_to_id": None, "in_reply_to_snippet": None, "status": "published",
               "html": f"<p>{note.text}</p>", "created_at": created.replace("+00:00", "Z"), "edited_at": None,
               "member": {"id": member[:24], "uuid": member[:32], "name": note.author, "expertise": None,
                          "avatar_image": None},
               "count": {"likes": note.likes, "replies": len(replies)}, "liked": False}  # fmt: skip
    if note.parent is None:
        comment["replies"] = [ghost_comment(r, thread) for r in replies[:GHOST_INLINE]]
    return comment


def _ghost_meta(page: int, limit: int, total: int) -> dict:
    pages = max(1, -(-total // limit))
    following, previous = page + 1 if page < pages else None, page - 1 if page > 1 else None
    return {"pagination": {"page": page, "limit": limit, "pages": pages, "total": total,
                           "next": following, "prev": previous}}  # fmt: skip


def ghost_answer(thread: Thread, path: str, query: dict[str, str]) -> dict:
    """GET /members/api/comments/post/<post>/ (newest first) or /members/api/comments/<id>/replies/."""
    limit = int(query.get("limit") or GHOST_PAGE)
    segments = [s for s in path.split("/") if s]
    if segments[3] == "post":
        assert segments[4] == thread.key
        tops = sorted(thread.top(), key=lambda n: n.created, reverse=True)
        cut = (query.get("filter") or "").removeprefix("created_at:<=")
        if cut:
            tops = [n for n in tops if ghost_comment(n, thread)["created_at"] <= cut]
        page = int(query.get("page") or 1)
        shown = tops[(page - 1) * limit : page * limit]
        return {
            "comments": [ghost_comment(n, thread) for n in shown],
            "meta": _ghost_meta(page, limit, len(tops)),
        }
    parent = next(n for n in thread.notes if ghost_id(n.id) == segments[3])
    after = (query.get("filter") or "").removeprefix("id:>").strip("'")
    replies = [n for n in thread.replies(parent.id) if ghost_id(n.id) > after]
    return {
        "comments": [ghost_comment(n, thread) for n in replies[:limit]],
        "meta": _ghost_meta(1, limit, len(replies)),
    }


def ghost_page(post: str) -> str:
    return (
        "<html><head><title>Story</title></head><body class='post-template'><article class='gh-article'>"
        "<h1>Story</h1></article><script defer src='https://cdn.example/comments-ui.min.js' "
        f"data-ghost-comments='https://blog.example/' data-api='https://blog.example/ghost/api/content/' "
        f"data-post-id='{post}' data-count='true' data-color-scheme='auto'></script></body></html>"
    )


def ghost_exchanges(base: str, thread: Thread) -> list[dict]:
    """Page 1, "Load more comments" while `next`, then each comment's "Show more replies" (limit
    'all': 100 a request after the last reply shown, while `next`)."""
    out: list[dict] = []

    def ask(path: str, query: dict, trigger: str) -> dict:
        answer = ghost_answer(thread, path, query)
        out.append(exchange(len(out), f"{base}{path}?{urlencode(query)}", answer=answer, trigger=trigger))
        return answer

    post = f"/members/api/comments/post/{thread.key}/"
    query = {"limit": GHOST_PAGE, "order": "created_at DESC", "page": 1}
    answer = ask(post, query, "load")
    first = answer["comments"][0]["created_at"]
    comments = list(answer["comments"])
    while answer["meta"]["pagination"]["next"]:
        query = {"limit": GHOST_PAGE, "order": "created_at DESC", "filter": f"created_at:<={first}",
                 "page": answer["meta"]["pagination"]["next"]}  # fmt: skip
        answer = ask(post, query, "button.gh-comments-load-more")
        comments += answer["comments"]
    for comment in comments:
        replies = list(comment["replies"])
        more = comment["count"]["replies"] > len(replies)
        while more:
            query = {"limit": GHOST_ALL, "filter": f"id:>'{replies[-1]['id']}'"}
            answer = ask(
                f"/members/api/comments/{comment['id']}/replies/", query, "button.gh-comments-replies"
            )
            replies += answer["comments"]
            more = bool(answer["meta"]["pagination"]["next"])
    return out


def ghost_dom(thread: Thread) -> list[dict]:
    """The app's comments under their ids; likes as upvotes."""
    return [
        {**c, "id": ghost_id(n.id), "parent": ghost_id(n.parent) if n.parent else None, "downvotes": None}
        for c, n in zip(dom_of(thread.notes), thread.notes, strict=True)
    ]


ROWS_PROFILE = """
[site]
name = "forum"

[article]
title = "h1"

[comments]
container = "section#comments"
item = "article.comment"
id = "@id"
# no parent key: a reply sits inside its parent's div.indented
author = ".comment-author"
text = ".comment-body"
time = "time@datetime"
upvotes = ".votes-up@data-n"
downvotes = ".votes-down@data-n"

[browser]
load_more = ["button.comments-more"]
"""

#: an article whose widget asks the rows API from `offset` = the comments it has rendered (replies
#: included), nests each reply in its parent's card (one from an earlier page under that card) and
#: adds "More comments" while `meta.has_more`; the node id is in <article data-history-node-id>
ROWS_PAGE = """<!doctype html>
<html><head><title>{title}</title></head><body class="path-node page-node-type-article">
<article data-history-node-id="{nid}" class="node node--type-article"><h1>{title}</h1><p>{body}</p></article>
<section id="comments"></section>
<script>
(function () {{
  var nid = document.querySelector("article[data-history-node-id]").getAttribute("data-history-node-id");
  var root = document.getElementById("comments");
  function el(tag, cls, text) {{
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }}
  function render(c, into) {{
    var card = el("article", "comment");
    card.id = "comment-" + c.cid;
    card.appendChild(el("span", "comment-author", c.name));
    var time = el("time", "", "");
    time.setAttribute("datetime", c.created);
    card.appendChild(time);
    var body = el("div", "comment-body");
    body.innerHTML = c.comment_body.processed;
    card.appendChild(body);
    var up = el("span", "votes-up", String(c.votes.up));
    up.setAttribute("data-n", c.votes.up);
    card.appendChild(up);
    var down = el("span", "votes-down", String(c.votes.down));
    down.setAttribute("data-n", c.votes.down);
    card.appendChild(down);
    var kids = el("div", "indented");
    card.appendChild(kids);
    into.appendChild(card);
    c.children.forEach(function (r) {{ render(r, kids); }});
  }}
  function place(c) {{
    var parent = c.pid ? document.querySelector("#comment-" + c.pid + " > .indented") : null;
    render(c, parent || root);
  }}
  function load() {{
    var offset = document.querySelectorAll("article.comment").length;
    fetch("/api/node/" + nid + "/comments?_format=json&offset=" + offset + "&limit=6")
      .then(function (r) {{ return r.json(); }})
      .then(function (rv) {{
        rv.data.comments.forEach(place);
        if (rv.meta.has_more) {{
          var more = el("button", "comments-more", "More comments");
          root.parentNode.insertBefore(more, root.nextSibling);
          more.addEventListener("click", function () {{ more.remove(); load(); }});
        }}
      }});
  }}
  load();
}})();
</script>
</body></html>
"""


# -- Disqus API -----------------------------------------------------------------------------------------
# disqus.com/api/docs/threads/listPosts/ (and the client libraries over it, e.g. disqus-node,
# JanMarvin/disqusR): GET https://disqus.com/api/3.0/threads/listPosts.json?forum=<shortname>
# &thread=ident:<identifier> (a thread named by the page's `disqus_config` identifier, `link:<url>`
# by its address) &limit=…&order=asc&cursor=<cursor.next>&api_key=<public key>; answers {cursor:
# {prev, hasNext, next, hasPrev, total, id, more}, code: 0, response: [Post]}, Post {id (a string),
# parent (a number, or null at the top), thread, forum, message (HTML), raw_message, createdAt (UTC
# without a zone), likes, dislikes, points, author {name, username, isAnonymous}}: flat, every
# comment of the thread, replies beside their parents. `cursor.next` is still a string on the last
# page: the end is `hasNext` false. The model is a site's own widget over that API (Disqus's own embed
# pages by a numeric thread id only its own iframe document carries).

DISQUS_KEY = "E8Uh5l5fHZ6gD8U3KycjAIAk46f68Zw7C6eW8WSjZvCLXebZ7p0r1yrYDrLilk2F"
DISQUS_LIMIT = 25


def disqus_post(note: Note, thread: Thread) -> dict:
    created = datetime.fromtimestamp(int(note.created), tz=UTC).strftime("%Y-%m-%dT%H:%M:%S")
    parent = 5_012_300_000 + note.parent if note.parent else None  # a number, where the id is a string
    return {"id": str(5_012_300_000 + note.id), "parent": parent,
            "thread": "9876543210", "forum": "blog-example", "message": f"<p>{note.text}</p>",
            "raw_message": note.text, "createdAt": created, "likes": note.likes, "dislikes": note.dislikes,
            "points": note.likes - note.dislikes, "isApproved": True, "isDeleted": False,
            "author": {"name": note.author, "username": note.author.replace(" ", "").lower(),
                       "isAnonymous": False}}  # fmt: skip


def _disqus_cursor(index: int) -> str:
    return f"{1_760_000_000_000_000 + index * 97}:0:0"


def disqus_answer(
    thread: Thread, query: dict[str, str], key: str = DISQUS_KEY, key_param: str = "api_key"
) -> dict:
    """The answer to listPosts; `key`, `key_param`: the public key the site's widget sends, and its
    parameter's name (a widget over another API names it `key`, `site_key` …)."""
    assert query["thread"] == f"ident:{thread.key}" and query[key_param] == key
    limit = int(query.get("limit") or DISQUS_LIMIT)
    starts = {_disqus_cursor(i): i for i in range(0, len(thread.notes) + limit, limit)}
    start = starts[query["cursor"]] if query.get("cursor") else 0
    page = thread.notes[start : start + limit]
    more = start + limit < len(thread.notes)
    cursor = {"prev": _disqus_cursor(start - limit) if start else None, "hasNext": more,
              "next": _disqus_cursor(start + limit), "hasPrev": start > 0, "total": None,
              "id": _disqus_cursor(start), "more": more}  # fmt: skip
    return {"cursor": cursor, "code": 0, "response": [disqus_post(n, thread) for n in page]}


def disqus_page(identifier: str, key: str | None = None) -> str:
    """Disqus's documented configuration variables, which a site's own widget reads too; with `key`,
    the embed also carries the site's public key, as widgets keep theirs (`data-api-key`)."""
    attr = f" data-api-key='{key}'" if key else ""
    return (
        "<html><head><title>Story</title></head><body><article><h1>Story</h1></article>"
        f"<div id='disqus_thread'{attr}></div><script>var disqus_config = function () {{\n"
        f"  this.page.url = 'https://blog.example/story/';\n  this.page.identifier = '{identifier}';\n}};"
        "</script></body></html>"
    )


def disqus_exchanges(thread: Thread, key: str = DISQUS_KEY, key_param: str = "api_key") -> list[dict]:
    out: list[dict] = []
    cursor = None
    while True:
        query = {"forum": "blog-example", "thread": f"ident:{thread.key}", "limit": DISQUS_LIMIT,
                 "order": "asc", key_param: key, **({"cursor": cursor} if cursor else {})}  # fmt: skip
        answer = disqus_answer(thread, {k: str(v) for k, v in query.items()}, key, key_param)
        url = f"https://disqus.com/api/3.0/threads/listPosts.json?{urlencode(query)}"
        out.append(exchange(len(out), url, answer=answer, trigger="load" if not out else "a.load-more"))
        if not answer["cursor"]["hasNext"]:
            return out
        cursor = answer["cursor"]["next"]


def disqus_dom(thread: Thread) -> list[dict]:
    """The widget's <li id="post-<id>">, likes and dislikes."""
    return [
        {**c, "id": str(5_012_300_000 + n.id), "parent": str(5_012_300_000 + n.parent) if n.parent else None}
        for c, n in zip(dom_of(thread.notes), thread.notes, strict=True)
    ]


# -- JSON:API compound documents (Drupal's JSON:API module) -------------------------------------------
# jsonapi.org/format (resource objects {type, id, attributes, relationships}, compound documents'
# `included`, `links.next`) as Drupal core's JSON:API module answers GET /jsonapi/comment/comment
# ?filter[entity_id.meta.drupal_internal__target_id]=<nid>&include=uid&sort=thread&page[offset]=N
# &page[limit]=L (drupal.org/docs/core-modules-and-themes/core-modules/jsonapi-module: filtering,
# includes, pagination): comments flat in thread order, `attributes.drupal_internal__cid` (the number
# the page's <article id="comment-<cid>"> shows; `id` is a UUID), `attributes.name` the username, the
# parent under `relationships.pid.data.meta.drupal_internal__target_id`, the author's display name
# only in the `included` user--user resource its `relationships.uid.data.id` names; `links.next`
# until the last page. A decoupled front end follows `links.next.href`.

JSONAPI_LIMIT = 10


def _jsonapi_user(author: str) -> tuple[str, str]:
    return remark_id(int(hashlib.sha1(author.encode()).hexdigest()[:6], 16)), author.lower().replace(" ", ".")  # noqa: S324


def jsonapi_comment(note: Note, thread: Thread, paths: dict[int, str]) -> dict:
    created = datetime.fromtimestamp(int(note.created), tz=UTC).isoformat()
    user, username = _jsonapi_user(note.author)
    pid = None
    if note.parent:
        pid = {"type": "comment--comment", "id": remark_id(note.parent + 50_000),
               "meta": {"drupal_internal__target_id": note.parent}}  # fmt: skip
    node = {"type": "node--article", "id": remark_id(int(thread.key)),
            "meta": {"drupal_internal__target_id": int(thread.key)}}  # fmt: skip
    body = {"value": note.text, "format": "basic_html", "processed": f"<p>{note.text}</p>"}
    attributes = {"drupal_internal__cid": note.id, "langcode": "en", "status": True,
                  "subject": note.text[:20], "name": username, "created": created, "changed": created,
                  "thread": paths[note.id], "comment_body": body}  # fmt: skip
    return {"type": "comment--comment", "id": remark_id(note.id + 50_000), "attributes": attributes,
            "relationships": {"entity_id": {"data": node}, "pid": {"data": pid},
                              "uid": {"data": {"type": "user--user", "id": user}}}}  # fmt: skip


def jsonapi_answer(thread: Thread, base: str, query: dict[str, str]) -> dict:
    assert query["filter[entity_id.meta.drupal_internal__target_id]"] == thread.key
    offset, limit = int(query.get("page[offset]") or 0), int(query.get("page[limit]") or JSONAPI_LIMIT)
    order, paths = rows_order(thread), _thread_paths(thread)
    page = order[offset : offset + limit]
    users = {}
    for note in page:
        user, username = _jsonapi_user(note.author)
        users[user] = {"type": "user--user", "id": user,
                       "attributes": {"display_name": note.author, "name": username}}  # fmt: skip
    links = {"self": {"href": _jsonapi_url(base, thread.key, offset, limit)}}
    if offset + limit < len(order):
        links["next"] = {"href": _jsonapi_url(base, thread.key, offset + limit, limit)}
    return {"jsonapi": {"version": "1.0"}, "data": [jsonapi_comment(n, thread, paths) for n in page],
            "included": list(users.values()), "meta": {"count": len(order)}, "links": links}  # fmt: skip


def _jsonapi_url(base: str, nid: str, offset: int, limit: int) -> str:
    query = {"filter[entity_id.meta.drupal_internal__target_id]": nid, "include": "uid", "sort": "thread",
             "page[offset]": offset, "page[limit]": limit}  # fmt: skip
    return f"{base}/jsonapi/comment/comment?{urlencode(query)}"


def jsonapi_exchanges(base: str, thread: Thread) -> list[dict]:
    out: list[dict] = []
    url: str | None = _jsonapi_url(base, thread.key, 0, JSONAPI_LIMIT)
    while url:
        answer = jsonapi_answer(thread, base, dict(parse_qsl(urlsplit(url).query)))
        out.append(
            exchange(len(out), url, answer=answer, trigger="load" if not out else "button.comments-more")
        )
        url = (answer["links"].get("next") or {}).get("href")
    return out


def jsonapi_dom(thread: Thread) -> list[dict]:
    """Drupal's <article id="comment-<cid>">, the author's display name; core comments have no votes."""
    return [{**c, "upvotes": None, "downvotes": None} for c in dom_of(thread.notes, id_format="comment-{}")]
