"""The Town Square: a third replica site, whose comments exist only behind a "Show more comments" button.

Its contract has nothing in common with the other two on purpose, so that learning a comment API
(crawler/recipes) is tested on a third kind of widget:
- the page carries no comment and loads nothing by itself; the first batch and every further one come
  when a reader clicks "Show more comments";
- the thread's key is not in any attribute but in a script value (`window.__SQUARE__.thread`);
- the API is a GET JSON API paged by an opaque cursor: `GET /square/api/v2/comments?thread=&after=&limit=`
  answers `{"thread", "count", "comments": [...], "paging": {"after": <cursor or null>}}`; the cursor of
  the next batch is copied from the previous answer;
- every top-level comment arrives with all its replies nested (`"replies": [...]`, any depth), votes
  as fields of a sub-object (`"score": {"up", "down"}`), the author as `{"name"}`.

The API path and the name of the cursor parameter live in a `SquareConfig` on the square's site, so a
test can rename either between two crawls (`rename_api`) the way a real site redeploys its widget. An
API path with `{thread}` in it (`/square/api/threads/{thread}/comments`) carries the thread's key in
the path instead of the `thread` parameter, the way REST APIs do. With `csrf` on, the page carries a
per-thread token in `<meta name="csrf-token">` and the API answers 403 unless the request sends it
in `X-CSRF-Token` together with `X-Requested-With: XMLHttpRequest` (the Rails / Laravel habit). The
page script reads both from `window.__SQUARE__`, so a browser follows a rename; a client that still
uses the old ones gets a 404 (old path) or the first batch again (old parameter, ignored).
"""

from __future__ import annotations

import base64
import hashlib
import json
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from .generate import REFERENCE_NOW, generated_article
from .model import Article, Comment, Site
from .render import esc, human_date, json_for_script
from .thread import ThreadIndex, thread_index

SQUARE_PREFIX = "/square"
API_PREFIX = "/square/api/"
DEFAULT_API_PATH = "/square/api/v2/comments"
DEFAULT_CURSOR_PARAM = "after"
PRESENCE_PATH = "/square/api/presence"
#: top-level comments per "Show more comments" click (each with all its replies)
PER_PAGE = 8
MAX_LIMIT = 50

#: slug -> (post id, comments, top-level comments)
STORIES = {
    "ferry-timetable-story": (7400001, 46, 14),
    "bakery-queue-story": (7400002, 31, 11),
    "lighthouse-paint-story": (7400003, 27, 9),
}
SQUARE_SLUGS = tuple(STORIES)

_SQUARES: weakref.WeakKeyDictionary[Site, Site] = weakref.WeakKeyDictionary()
_CONFIGS: weakref.WeakKeyDictionary[Site, SquareConfig] = weakref.WeakKeyDictionary()


@dataclass
class SquareConfig:
    """Where the square's comment API lives right now (tests rename it between crawls)."""

    api_path: str = DEFAULT_API_PATH
    cursor_param: str = DEFAULT_CURSOR_PARAM
    csrf: bool = False


class SquareError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def attach_square(site: Site, square: Site) -> None:
    """Serve `square`'s stories under /square/ wherever `site` is served."""
    _SQUARES[site] = square


def square_of(site: Site) -> Site | None:
    return _SQUARES.get(site)


def config_of(square: Site) -> SquareConfig:
    return _CONFIGS.setdefault(square, SquareConfig())


def rename_api(
    square: Site, api_path: str | None = None, cursor_param: str | None = None, csrf: bool | None = None
) -> None:
    """Move the comment API to `api_path` (under /square/api/), rename its cursor parameter, and/or
    make it ask for the page's CSRF token in a header."""
    config = config_of(square)
    if csrf is not None:
        config.csrf = csrf
    if api_path is not None:
        if not api_path.startswith(API_PREFIX):
            raise ValueError(f"the square's API lives under {API_PREFIX}")
        config.api_path = api_path
    if cursor_param is not None:
        config.cursor_param = cursor_param


def build_square_site(seed: int = 0) -> Site:
    """The Town Square's stories (STORIES): threads with replies to depth 3, no cut texts."""
    square = Site()
    for days, (slug, (post_id, comments, top_level)) in enumerate(STORIES.items(), start=1):
        square.add_article(
            generated_article(
                slug,
                post_id,
                comments,
                max_depth=3,
                seed=seed,
                top_level=top_level,
                cut_every=10**6,  # the square never cuts a text
                title=slug.replace("-story", "").replace("-", " ").title() + ": The Square Talks",
                published_at=REFERENCE_NOW - timedelta(days=days, hours=2),
            )
        )
    config_of(square)
    return square


def square_url(base: str, article: Article) -> str:
    return f"{base}{SQUARE_PREFIX}/{article.slug}/"


def thread_key(article: Article) -> str:
    return f"sq-{article.post_id}"


# -- JSON API ---------------------------------------------------------------------------------------


def _cursor(comment_id: str) -> str:
    return base64.urlsafe_b64encode(f"c:{comment_id}".encode()).decode().rstrip("=")


def _after(raw: str) -> int:
    if not raw:
        return 0
    try:
        decoded = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()
        return int(decoded.removeprefix("c:"))
    except ValueError:
        raise SquareError(400, "bad cursor") from None


def node(comment: Comment, thread: ThreadIndex) -> dict[str, Any]:
    """One comment with all its replies nested, as the API sends it."""
    return {
        "id": comment.id,
        "author": {"name": comment.author},
        "created": comment.posted_at.isoformat() if comment.posted_at else None,
        "body": {"text": comment.text},
        "score": {"up": comment.upvotes, "down": comment.downvotes},
        "replies": [node(reply, thread) for reply in thread.replies(comment.id)],
    }


def _thread_of(api_path: str, path: str, query: Mapping[str, str]) -> str | None:
    """The thread a request asks for: from the path where the API path has `{thread}`, else from the
    `thread` parameter; None when the path is not the API's."""
    if "{thread}" not in api_path:
        return query.get("thread", "") if path == api_path else None
    head, tail = api_path.split("{thread}", 1)
    if not (path.startswith(head) and path.endswith(tail)) or len(path) <= len(head) + len(tail):
        return None
    raw = path[len(head) : len(path) - len(tail)]
    return None if "/" in raw else raw


def csrf_token(article: Article) -> str:
    """The token the page of `article` carries (a different one per thread, as per session on a
    real site: a recipe must read it from each page)."""
    return hashlib.sha256(f"square-csrf:{article.post_id}".encode()).hexdigest()[:24]


def api_answer(
    square: Site, path: str, query: Mapping[str, str], headers: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Answer `GET path?query` (the caller holds the square's lock); raises SquareError."""
    config = config_of(square)
    if path == PRESENCE_PATH:
        # the page's "who is reading" ping: an answer without a single comment
        return {"readers": 3 + len(query.get("thread", "")) % 5}
    raw = _thread_of(config.api_path, path, query)
    if raw is None:
        raise SquareError(404, "no such API")
    try:
        article = square.article_by_post_id(int(raw.removeprefix("sq-")))
    except (ValueError, KeyError):
        raise SquareError(404, f"no thread {raw!r}") from None
    try:
        limit = min(max(int(query.get("limit") or PER_PAGE), 1), MAX_LIMIT)
    except ValueError:
        raise SquareError(400, "limit must be an integer") from None
    if config.csrf:
        headers = headers or {}
        if headers.get("x-requested-with") != "XMLHttpRequest":
            raise SquareError(403, "not an XMLHttpRequest")
        if headers.get("x-csrf-token") != csrf_token(article):
            raise SquareError(403, "bad CSRF token")
    thread = thread_index(article)
    after = _after(query.get(config.cursor_param, ""))  # another parameter name is ignored
    rest = [c for c in thread.children.get(None, []) if int(c.id) > after]
    shown = rest[:limit]
    return {
        "thread": thread_key(article),
        "count": thread.total,
        "comments": [node(c, thread) for c in shown],
        "paging": {"after": _cursor(shown[-1].id) if len(rest) > limit else None},
    }


# -- pages ------------------------------------------------------------------------------------------


def render_square_page(article: Article, base: str, square: Site) -> str:
    config = config_of(square)
    total = thread_index(article).total
    settings = {
        "thread": thread_key(article),
        "api": config.api_path,
        "cursorParam": config.cursor_param,
        "limit": PER_PAGE,
    }
    paragraphs = "\n".join(f"<p>{esc(args[0])}</p>" for kind, *args in article.body if kind == "p")
    button = '<button class="talk-more">Show more comments</button>' if total else ""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head>\n<meta charset="utf-8">\n'
        f"<title>{esc(article.title)} | The Town Square</title>\n"
        f'<link rel="canonical" href="{esc(square_url(base, article))}">\n'
        f'<meta property="og:title" content="{esc(article.title)}">\n'
        '<meta property="og:site_name" content="The Town Square">\n'
        + (f'<meta name="csrf-token" content="{csrf_token(article)}">\n' if config.csrf else "")
        + '</head>\n<body class="square">\n'
        f'<main><article class="piece" data-piece="{article.post_id}">\n'
        f'<h1 class="piece-title">{esc(article.title)}</h1>\n'
        f'<p class="piece-meta"><span class="piece-author">{esc(article.author)}</span> · '
        f'<time class="piece-date" datetime="{article.published_at.isoformat()}">'
        f"{human_date(article.published_at)}</time></p>\n"
        f'<div class="piece-body">\n{paragraphs}\n</div>\n</article>\n'
        f'<div class="talk" id="talk"><h2>Talk <span class="talk-count" data-count="{total}">'
        f"{total} comments</span></h2>\n"
        f'<ul class="posts"></ul>{button}</div>\n</main>\n'
        f"<script>window.__SQUARE__ = {json_for_script(settings)};</script>\n"
        f"<script>{SQUARE_SCRIPT}</script>\n</body></html>\n"
    )


#: The reader's browser: "Show more comments" fetches the next batch after the cursor and renders each
#: comment with its nested replies; the button goes when the answer's cursor is null.
SQUARE_SCRIPT = r"""
(function () {
  "use strict";
  var config = window.__SQUARE__;
  var cursor = "";
  function el(tag, cls, text) {
    var n = document.createElement(tag);
    if (cls) { n.className = cls; }
    if (text !== undefined) { n.textContent = text; }
    return n;
  }
  function post(item) {
    var li = el("li", "post");
    li.dataset.post = item.id;
    li.appendChild(el("b", "name", item.author.name));
    var t = el("time", "", item.created ? item.created.slice(0, 10) : "");
    if (item.created) { t.setAttribute("datetime", item.created); }
    li.appendChild(t);
    li.appendChild(el("div", "body", item.body.text));
    var up = el("span", "up", "\u25b2" + item.score.up); up.dataset.v = String(item.score.up);
    var down = el("span", "down", "\u25bc" + item.score.down); down.dataset.v = String(item.score.down);
    li.appendChild(up); li.appendChild(down);
    var children = el("ul", "children");
    item.replies.forEach(function (reply) { children.appendChild(post(reply)); });
    li.appendChild(children);
    return li;
  }
  function more(button) {
    if (button.disabled) { return; }
    button.disabled = true;
    var inPath = config.api.indexOf("{thread}") >= 0;
    var params = inPath ? {} : {thread: config.thread};
    params.limit = String(config.limit);
    params[config.cursorParam] = cursor;
    fetch("/square/api/presence?thread=" + encodeURIComponent(config.thread)).catch(function () {});
    var api = config.api.replace("{thread}", encodeURIComponent(config.thread));
    var url = api + "?" + new URLSearchParams(params).toString();
    var headers = {"Accept": "application/json"};
    var csrf = document.querySelector('meta[name="csrf-token"]');
    if (csrf) { headers["X-CSRF-Token"] = csrf.content; headers["X-Requested-With"] = "XMLHttpRequest"; }
    fetch(url, {headers: headers})
      .then(function (r) { if (!r.ok) { throw new Error("HTTP " + r.status); } return r.json(); })
      .then(function (page) {
        var list = document.querySelector("#talk ul.posts");
        page.comments.forEach(function (item) { list.appendChild(post(item)); });
        if (page.paging.after === null) { button.remove(); } else { cursor = page.paging.after; }
      })
      .catch(function (e) { console.warn("square:", e); })
      .finally(function () { button.disabled = false; });
  }
  document.addEventListener("click", function (event) {
    var b = event.target.closest("button.talk-more");
    if (b) { event.preventDefault(); more(b); }
  });
})();
"""


def api_response_body(
    square: Site, path: str, query: Mapping[str, str], headers: Mapping[str, str] | None = None
) -> tuple[int, bytes]:
    """(status, JSON body) of an API request; errors answer {"error": message}."""
    try:
        with square.lock:
            return 200, json.dumps(api_answer(square, path, query, headers)).encode()
    except SquareError as error:
        return error.status, json.dumps({"error": error.message}).encode()
