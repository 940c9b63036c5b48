"""A comment widget inside an <iframe> served from another origin (crawler/browser/frames.py).

Disqus, Remark42, Coral and Giscus render their comments in a frame of their own host: the top
document shows an empty <iframe>. Here a loopback news site embeds such a widget from a second server
(another origin): the widget's document fetches `GET /api/threads/<thread>/comments?page=N` from its
own host and renders nested comments, with a "Show more comments" button. The browser path must
click inside the frame and read the frame's comments; the recipe it learns there pages two other
articles over plain HTTP, calling the widget's host, and stores what a browser crawl stores.
"""

from __future__ import annotations

import json
import shutil
from urllib.parse import parse_qsl, unquote, urlsplit

import pytest

from crawler.browser.frames import HOLDER, MARK, inline_frames
from tests.crawling import FAST, comments_at, crawl, learn_beside_reference
from tests.loopback import LoopbackServer, QuietHandler

PAGE_SIZE = 4

ARTICLE = """<!DOCTYPE html><html><head><title>{title}</title></head><body>
<article><h1>{title}</h1><p>{body}</p><iframe src="{widget}/video/"></iframe></article>
<div class="embed-comments" data-thread="{thread}"></div>
<script>
  const holder = document.querySelector(".embed-comments");
  const frame = document.createElement("iframe");
  frame.src = "{widget}/embed/?thread=" + encodeURIComponent(holder.dataset.thread);
  frame.style = "width: 100%; height: 800px; border: 0";
  holder.appendChild(frame);
</script></body></html>"""

WIDGET = """<!DOCTYPE html><html><body><div class="cw"><div class="cw-list"></div>
<button class="cw-more" hidden>Show more comments</button></div>
<script>
const thread = new URLSearchParams(location.search).get("thread");
const list = document.querySelector(".cw-list"), more = document.querySelector(".cw-more");
let page = 1;
function render(c, into) {
  const el = document.createElement("div");
  el.className = "cw-comment"; el.dataset.cid = c.id;
  el.innerHTML = '<a class="cw-author"></a><p class="cw-body"></p><time></time>' +
                 '<span class="cw-likes"></span><div class="cw-replies"></div>';
  const author = el.querySelector(".cw-author");
  author.textContent = c.author.name; author.href = "/u/" + c.author.id;
  el.querySelector(".cw-body").textContent = c.body;
  const time = el.querySelector("time");
  time.setAttribute("datetime", c.created); time.textContent = c.created;
  const likes = el.querySelector(".cw-likes");
  likes.dataset.n = c.likes; likes.textContent = c.likes + " likes";
  into.appendChild(el);
  for (const reply of c.replies) render(reply, el.querySelector(".cw-replies"));
}
async function load() {
  more.disabled = true;
  const answer = await fetch("/api/threads/" + encodeURIComponent(thread) + "/comments?page=" + page);
  const data = await answer.json();
  for (const c of data.comments) render(c, list);
  page += 1;
  more.disabled = false;
  more.hidden = !data.has_more;
}
more.addEventListener("click", load);
load();
</script></body></html>"""

#: an embedded video: a frame without comments whose button happens to match the profile's load_more
VIDEO = b"""<html><body><p>An embedded video player</p>
<button class="cw-more" onclick="fetch('/more-videos')">More videos</button></body></html>"""

PROFILE = """
[site]
name = "framesite"
hosts = ["framesite.example"]

[comments]
container = "div.cw"
item = "div.cw-comment"
id = "@data-cid"
author = ".cw-author"
text = ".cw-body"
time = "time@datetime"
upvotes = ".cw-likes@data-n"

[browser]
load_more = ["button.cw-more:not([hidden])"]
"""


def make_thread(prefix: str, top: int) -> list[dict]:
    """Top-level comments, every third with two replies and the first reply with one of its own."""
    thread = []
    for i in range(top):
        replies = []
        if i % 3 == 0:
            replies = [_comment(f"{prefix}{i}r{j}", f"reply {j} to {i} in {prefix}", 2 + j) for j in range(2)]
            replies[0]["replies"] = [_comment(f"{prefix}{i}r0r", f"a reply's reply in {prefix}", 1)]
        thread.append(
            {**_comment(f"{prefix}{i}", f"comment {i} of {prefix}: it said a thing", i), "replies": replies}
        )
    return thread


def _comment(cid: str, body: str, likes: int) -> dict:
    return {"id": cid, "author": {"id": f"u-{cid}", "name": f"Reader {cid}"}, "body": body,
            "created": "2026-11-30T10:00:00+00:00", "likes": likes, "replies": []}  # fmt: skip


def flatten(thread: list[dict], parent: str | None = None) -> list[tuple]:
    rows = []
    for c in thread:
        rows.append(
            (f"framesite:{c['id']}", f"framesite:{parent}" if parent else None, c["body"], c["likes"])
        )
        rows += flatten(c["replies"], c["id"])
    return rows


class TwoOrigins:
    """The news site and, on another port (another origin), the comment widget and its API."""

    def __init__(self, threads: dict[str, list[dict]]) -> None:
        self.threads = threads  # article slug -> thread
        self.api_calls: list[str] = []
        self.video_clicks = 0  # requests of the embedded video's own "more" button
        self._servers = [LoopbackServer(self._handler(site)) for site in (True, False)]
        self.site_url, self.widget_url = (s.base_url for s in self._servers)

    def _handler(self, is_site: bool):
        origins = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                if parts.path == "/robots.txt":
                    return self.answer(200, "text/plain", b"User-agent: *\nAllow: /\n")
                if is_site and parts.path.startswith("/news/"):
                    slug = parts.path.strip("/").split("/")[-1]
                    title = slug.replace("-", " ").title()
                    body = f"The story of {title}. " * 30
                    page = ARTICLE.format(
                        title=title, body=body, thread=f"t-{slug}", widget=origins.widget_url
                    )
                    return self.answer(200, "text/html; charset=utf-8", page.encode())
                if not is_site and parts.path == "/video/":  # an embedded post: a frame without comments
                    return self.answer(200, "text/html", VIDEO)
                if not is_site and parts.path == "/more-videos":
                    origins.video_clicks += 1
                    return self.answer(200, "application/json", b"{}")
                if not is_site and parts.path == "/embed/":
                    widget = WIDGET
                    if dict(parse_qsl(parts.query)).get("thread") == f"t-{DEEP}":
                        # below the comments, markup nested deeper than libxml2 reads (256 levels)
                        widget = widget.replace(
                            "</body>", "<div>" * 300 + "deep" + "</div>" * 300 + "</body>"
                        )
                    return self.answer(200, "text/html; charset=utf-8", widget.encode())
                segments = parts.path.split("/")
                if not is_site and parts.path.startswith("/api/threads/") and len(segments) == 5:
                    origins.api_calls.append(self.path)
                    thread = origins.threads.get(unquote(segments[3]).removeprefix("t-"), [])
                    page = int(dict(parse_qsl(parts.query)).get("page", "1"))
                    chunk = thread[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
                    more = page * PAGE_SIZE < len(thread)
                    return self.answer(
                        200, "application/json", json.dumps({"comments": chunk, "has_more": more}).encode()
                    )
                self.send_error(404)

        return Handler

    def __enter__(self) -> TwoOrigins:
        for server in self._servers:
            server.start()
        return self

    def __exit__(self, *exc) -> None:
        for server in self._servers:
            server.close()


def test_frame_documents_are_put_in_place_of_their_iframes():
    page = (
        f'<html><body><p>story</p><iframe {MARK}="0" src="/ad"></iframe>'
        f'<div><iframe {MARK}="1" src="https://w.example/e"></iframe> after</div></body></html>'
    )
    widget = '<html><body>top <div class="c"><a href="/u/7">Ann</a><img src="a.png"></div></body></html>'
    html, unreadable = inline_frames(
        page, {"1": ("https://w.example/e?t=1", widget), "0": ("about:blank", "")}
    )
    assert unreadable == ["about:blank"]  # an empty document is not claimed read
    assert f'<div {HOLDER}="about:blank"></div>' in html
    # the widget's body in place of its iframe, links absolute against the frame's own address
    assert (f'<div {HOLDER}="https://w.example/e?t=1">top <div class="c"><a href="https://w.example/u/7">'
            'Ann</a><img src="https://w.example/a.png"></div></div> after') in html  # fmt: skip
    assert "<iframe" not in html
    # a parent document libxml2 cannot read whole is left as it was (never cut to add a frame)
    deep = (
        "<html><body>" + "<div>" * 300 + f"<iframe {MARK}='0'></iframe>" + "</div>" * 300 + "</body></html>"
    )
    assert inline_frames(deep, {"0": ("https://w.example/e", widget)}) == (None, [])


@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian chromium is not installed")
def test_widget_in_a_cross_origin_frame_is_read_learned_and_paged_without_browser(tmp_path):
    threads = {"harbour-lights": make_thread("h", 9), "ferry-strike": make_thread("f", 7),
               "market-day": make_thread("m", 10)}  # fmt: skip
    profile = tmp_path / "framesite.toml"
    profile.write_text(PROFILE)
    # the widget's host is another port of 127.0.0.1: a host the user did not name (hostguard.py)
    settings = {**FAST, "CONCURRENT_REQUESTS_PER_DOMAIN": "4", "ALLOW_PRIVATE_HOSTS": "True"}
    in_browser = {"profile": str(profile), "render": "browser"}
    with TwoOrigins(threads) as origins:
        learn = f"{origins.site_url}/news/harbour-lights/"
        others = [f"{origins.site_url}/news/{slug}/" for slug in ("ferry-strike", "market-day")]
        learned, reference = learn_beside_reference(tmp_path, learn, others, in_browser, settings)
        assert learned.returncode == 0, learned.stderr[-3000:]
        # the comment widget's frame only: the embedded video's text is no part of the article (plain
        # HTTP sees an empty <iframe> there too)
        assert learned.stats["browser/frames_read"] == 1
        [article] = learned.query("SELECT body_text FROM articles")
        assert "Harbour Lights" in article["body_text"] and "video player" not in article["body_text"]
        assert origins.video_clicks == 0  # nothing is clicked in a frame that holds no comments
        # every comment of the learned thread, read inside the frame (3 pages: two clicks in it)
        assert {r[:4] for r in _rows(learned, [learn])} == set(flatten(threads["harbour-lights"]))
        assert learned.stats["recipes/learned/framesite"] == 1, learned.stats
        [row] = learned.query("SELECT recipe, status FROM site_apis")
        recipe = json.loads(row["recipe"])
        assert row["status"] == "active" and recipe["comments"]["host"] == origins.widget_url.split("//")[1]
        assert reference.returncode == 0, reference.stderr[-3000:]
        assert {r[:4] for r in _rows(reference, others)} == set(
            flatten(threads["ferry-strike"]) + flatten(threads["market-day"])
        )
        calls_before = len(origins.api_calls)
        paged = crawl(tmp_path / "recipe.db", others, settings=settings)
        api_calls = origins.api_calls[calls_before:]
    assert paged.returncode == 0, paged.stderr[-3000:]
    assert paged.stats.get("browser/pages_opened", 0) == 0
    assert paged.stats["recipes/used/framesite"] == 2
    assert {c.split("?")[0] for c in api_calls} == {"/api/threads/t-ferry-strike/comments",
                                                    "/api/threads/t-market-day/comments"}  # fmt: skip
    loads = paged.query("SELECT method, complete FROM thread_loads WHERE run_id = ?", [paged.run["run_id"]])
    assert loads == [{"method": "recipe", "complete": 1}] * 2
    assert _rows(paged, others) == _rows(reference, others)


DEEP = "deep-story"


@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian chromium is not installed")
def test_a_comment_frame_that_cannot_be_read_whole_leaves_the_thread_incomplete(tmp_path):
    """The widget's document holds the comments, then markup nested deeper than libxml2 reads: the
    frame cannot be put in place whole, so the page's thread was not read; it is recorded incomplete,
    saying why (nothing can be judged gone from it), not as a complete thread of no comments."""
    profile = tmp_path / "framesite.toml"
    profile.write_text(PROFILE)
    settings = {**FAST, "ALLOW_PRIVATE_HOSTS": "True", "RECIPES_LEARN": "False"}
    with TwoOrigins({DEEP: make_thread("d", 3)}) as origins:
        result = crawl(tmp_path / "c.db", [f"{origins.site_url}/news/{DEEP}/"],
                       args={"profile": str(profile), "render": "browser"}, settings=settings)  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stats["browser/frames_unreadable"] == 1 and "browser/frames_read" not in result.stats
    loads = result.query("SELECT method, complete, reason FROM thread_loads")
    assert len(loads) == 1, (loads, result.stats, result.stderr[-2000:])
    [load] = loads
    assert (load["method"], load["complete"]) == ("browser", 0)
    assert "a frame holding comments could not be read" in load["reason"], load
    assert "the comment block may be cut" in load["reason"]


def _rows(result, urls: list[str]) -> set[tuple]:
    """(comment_id, parent_id, text, upvotes, author, depth) of the comments of the articles at `urls`."""
    return comments_at(result, urls, ("comment_id", "parent_id", "text", "upvotes", "author", "depth"))
