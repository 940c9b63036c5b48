"""An infinite comment list: more comments load as the reader scrolls, no button (ClickPlan.scroll).

The loopback site's widget watches a sentinel after its last comment (IntersectionObserver) and
fetches `GET /api/talk?thread=<key>&page=N` when it comes into view, until the answer says no more.
The comments are tall, so each page's sentinel is below the fold: only scrolling loads the next one.
A profile with `scroll = true` (and no load_more) reads the whole list in the browser, the thread is
complete because the last scroll made the page ask for nothing more, and the recipe learned from
those scroll-caused requests pages two other articles without a browser.
"""

from __future__ import annotations

import json
import shutil
from urllib.parse import parse_qsl, urlsplit

import pytest

from tests.crawling import FAST, comments_at, crawl, learn_beside_reference
from tests.loopback import LoopbackServer, QuietHandler

pytestmark = pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian chromium is not installed")

PAGE_SIZE = 5

PAGE = """<!DOCTYPE html><html><head><title>{title}</title>
<style>.talk-c {{ min-height: 260px; border-top: 1px solid #ccc; }}</style></head><body>
<article><h1>{title}</h1><p>{body}</p></article>
<section class="talk" data-thread="{thread}">
<div class="talk-list"></div><div class="talk-end"></div></section>
<script>
const talk = document.querySelector(".talk"), list = talk.querySelector(".talk-list");
const end = talk.querySelector(".talk-end");
let page = 1, loading = false, done = false;
const observer = new IntersectionObserver(async (entries) => {{
  if (!entries.some(e => e.isIntersecting) || loading || done) return;
  loading = true;
  const answer = await fetch("/api/talk?thread=" + encodeURIComponent(talk.dataset.thread) + "&page=" + page);
  const data = await answer.json();
  for (const c of data.items) {{
    const el = document.createElement("div");
    el.className = "talk-c"; el.dataset.id = c.id; el.dataset.parent = c.parent || "";
    el.innerHTML = '<b class="who"></b><p class="says"></p><span class="likes"></span>';
    el.querySelector(".who").textContent = c.user;
    el.querySelector(".says").textContent = c.body;
    const likes = el.querySelector(".likes"); likes.dataset.n = c.likes; likes.textContent = c.likes;
    list.appendChild(el);
  }}
  page += 1; loading = false; done = !data.more;
  if (done) observer.disconnect();
  else {{ observer.unobserve(end); observer.observe(end); }}  // still in view: the next page at once
}});
observer.observe(end);
</script></body></html>"""

PROFILE = """
[site]
name = "scrolltalk"
hosts = ["scrolltalk.example"]

[comments]
container = "section.talk"
item = "div.talk-c"
id = "@data-id"
parent = "@data-parent"
author = ".who"
text = ".says"
upvotes = ".likes@data-n"

[browser]
scroll = true
"""


def make_thread(prefix: str, top: int) -> list[dict]:
    """A flat list in page order: each third comment followed by a reply to it."""
    items = []
    for i in range(top):
        items.append(_item(f"{prefix}{i}", None, f"Reader {i}", f"{prefix} comment {i}", i))
        if i % 3 == 0:
            items.append(
                _item(f"{prefix}{i}r", f"{prefix}{i}", "Replier", f"a reply to {prefix} comment {i}", 1)
            )
    return items


def _item(cid: str, parent: str | None, user: str, body: str, likes: int) -> dict:
    return {"id": cid, "parent": parent, "user": user, "body": body, "likes": likes}


class Site:
    def __init__(self, threads: dict[str, list[dict]]) -> None:
        self.api_calls: list[str] = []
        site = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                if parts.path == "/robots.txt":
                    return self.answer(200, "text/plain", b"User-agent: *\nAllow: /\n")
                if parts.path == "/api/talk":
                    site.api_calls.append(self.path)
                    query = dict(parse_qsl(parts.query))
                    items = threads.get(query.get("thread", "").removeprefix("t-"), [])
                    page = int(query.get("page", "1"))
                    chunk = items[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
                    body = {"items": chunk, "more": page * PAGE_SIZE < len(items)}
                    return self.answer(200, "application/json", json.dumps(body).encode())
                slug = parts.path.strip("/").split("/")[-1]
                if not parts.path.startswith("/talk/") or slug not in threads:
                    return self.answer(404, "text/html", b"<html><body>Not found</body></html>")
                title = slug.replace("-", " ").title()
                page = PAGE.format(title=title, body=f"The story of {title}. " * 40, thread=f"t-{slug}")
                return self.answer(200, "text/html; charset=utf-8", page.encode())

        self._server = LoopbackServer(Handler)
        self.base_url = self._server.base_url

    def __enter__(self) -> Site:
        self._server.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.close()


def rows(items: list[dict]) -> set[tuple]:
    def key(cid: str | None) -> str | None:
        return f"scrolltalk:{cid}" if cid else None

    return {(key(c["id"]), key(c["parent"]), c["body"], c["likes"]) for c in items}


def stored(result, urls: list[str]) -> set[tuple]:
    return comments_at(result, urls, ("comment_id", "parent_id", "text", "upvotes"))


def test_infinite_list_read_by_scrolling_learned_and_paged_without_browser(tmp_path):
    threads = {"harbour-lights": make_thread("h", 13), "ferry-strike": make_thread("f", 11),
               "market-day": make_thread("m", 9)}  # fmt: skip
    profile = tmp_path / "scrolltalk.toml"
    profile.write_text(PROFILE)
    settings = {**FAST, "CONCURRENT_REQUESTS_PER_DOMAIN": "4"}
    in_browser = {"profile": str(profile), "render": "browser"}
    with Site(threads) as site:
        learn = f"{site.base_url}/talk/harbour-lights/"
        others = [f"{site.base_url}/talk/{slug}/" for slug in ("ferry-strike", "market-day")]
        learned, reference = learn_beside_reference(tmp_path, learn, others, in_browser, settings)
        assert learned.returncode == 0, learned.stderr[-3000:]
        # 18 comments in 4 pages: the first as the list came into view, the rest one scroll each
        assert stored(learned, [learn]) == rows(threads["harbour-lights"]), (
            {k: v for k, v in learned.stats.items() if k.startswith("browser")},
            site.api_calls,
        )
        assert learned.stats["browser/stopped_by/done"] == 1 and learned.stats["browser/clicks"] >= 3
        assert learned.query("SELECT method, complete FROM thread_loads") == [
            {"method": "browser", "complete": 1}
        ]
        assert learned.stats["recipes/learned/scrolltalk"] == 1, learned.stats
        assert reference.returncode == 0, reference.stderr[-3000:]
        assert stored(reference, others) == rows(threads["ferry-strike"]) | rows(threads["market-day"])
        calls_before = len(site.api_calls)
        paged = crawl(tmp_path / "recipe.db", others, settings=settings)
        api_calls = site.api_calls[calls_before:]
    assert paged.returncode == 0, paged.stderr[-3000:]
    assert paged.stats.get("browser/pages_opened", 0) == 0 and paged.stats["recipes/used/scrolltalk"] == 2
    assert len(api_calls) == 3 + 3  # 15 and 12 comments, 5 a page: the last page says no more
    assert stored(paged, others) == stored(reference, others)
