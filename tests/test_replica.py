"""The replica site over real HTTP: markup contract, comment API paging, mutations, caching, faults.

Everything goes through urllib against a running ReplicaServer, as a crawler would see it; the only
code imported besides the replica is the standard library, so a crawler bug cannot hide a replica bug.
"""

from __future__ import annotations

import html
import json
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from email.message import Message

import pytest

from crawler.replica import ReplicaServer, Site, build_bench_site
from crawler.replica.demo_site import (
    BIG_THREAD_SLUG,
    DEMO_SLUGS,
    ENDLESS_SLUG,
    LAZY_SLUG,
    LIST_SLUG,
    NO_COMMENTS_SLUG,
    NORMAL_SLUG,
    ONE_PAGE_SLUG,
)
from crawler.replica.generate import generated_article
from crawler.replica.seed import IMAGE_CREDIT, SEED_BODY, SEED_SLUG, SEED_TITLE
from crawler.replica.thread import thread_index

COMMENT_RE = re.compile(
    r'<div class="comment" id="comment-(\d+)" data-comment-id="\1" data-parent-id="(\d+)" data-depth="(\d+)">'
)
REPLIES_BUTTON_RE = re.compile(
    r'<button class="load-more-replies" data-comment-id="(\d+)" data-offset="(\d+)">'
)
SITEMAP_NS = {"sm": "http://www.sitemaps.org/schemas/sitemap/0.9"}


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def fetch(
    server: ReplicaServer, path: str, data: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, Message, bytes]:
    request = urllib.request.Request(server.base_url + path, data=data, headers=headers or {})
    try:
        with _opener.open(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def page(server: ReplicaServer, path: str) -> str:
    status, _, body = fetch(server, path)
    assert status == 200, path
    return body.decode()


def ajax(server: ReplicaServer, **fields: object) -> tuple[int, dict]:
    status, _, body = fetch(
        server, "/blog/wp-admin/admin-ajax.php", data=urllib.parse.urlencode(fields).encode()
    )
    return status, json.loads(body)


def ajax_data(server: ReplicaServer, **fields: object) -> dict:
    status, answer = ajax(server, **fields)
    assert status == 200 and answer["success"], answer
    return answer["data"]


def control(server: ReplicaServer, op: str, **args: object) -> tuple[int, dict]:
    status, _, body = fetch(server, "/_replica/control", data=json.dumps({"op": op, "args": args}).encode())
    return status, json.loads(body)


def walk_thread(server: ReplicaServer, post_id: int) -> dict[str, tuple[str, int]]:
    """Every comment the API delivers (all load_comments pages, then every load_replies button,
    recursively): id -> (parent id, depth). Fails if any comment is delivered twice."""
    found: dict[str, tuple[str, int]] = {}
    buttons: list[tuple[str, str]] = []

    def collect(fragment: str) -> None:
        for comment_id, parent_id, depth in COMMENT_RE.findall(fragment):
            assert comment_id not in found, f"comment {comment_id} delivered twice"
            found[comment_id] = (parent_id, int(depth))
        buttons.extend(REPLIES_BUTTON_RE.findall(fragment))

    number, has_more = 1, True
    while has_more:
        data = ajax_data(server, action="load_comments", post_id=post_id, page=number)
        collect(data["html"])
        number, has_more = number + 1, data["has_more"]
    while buttons:
        comment_id, offset = buttons.pop()
        has_more = True
        while has_more:
            data = ajax_data(server, action="load_replies", comment_id=comment_id, offset=offset)
            collect(data["html"])
            offset = int(offset) + data["html"].count(f'data-parent-id="{comment_id}"')
            has_more = data["has_more"]
    return found


def model_thread(site: Site, slug: str) -> dict[str, tuple[str, int]]:
    article = site.article(slug)
    depths = thread_index(article).depth
    return {c.id: (c.parent_id or "0", depths[c.id]) for c in article.comments if c.id in depths}


def comments_count(article_page: str) -> int:
    return int(re.search(r'data-comments-count="(\d+)"', article_page).group(1))


def comment_text(fragment: str, comment_id: str) -> str:
    """The text of one comment in a fragment, paragraphs joined by a blank line."""
    block = re.search(
        rf'id="comment-{comment_id}".*?<div class="comment-text"[^>]*>(.*?)</div>', fragment, re.S
    ).group(1)
    return "\n\n".join(html.unescape(p) for p in re.findall(r"<p>(.*?)</p>", block, re.S))


# -- the article page ------------------------------------------------------------------------------


def test_article_page_follows_the_contract(replica: ReplicaServer, replica_site: Site) -> None:
    article = replica_site.article(NORMAL_SLUG)
    text = page(replica, f"/{NORMAL_SLUG}/")

    assert f'<link rel="canonical" href="{replica.base_url}/{NORMAL_SLUG}/">' in text
    assert f'<article class="post" data-post-id="{article.post_id}">' in text
    assert comments_count(text) == len(article.comments) == 26
    ld = json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', text, re.S).group(1))
    assert ld["@type"] == "NewsArticle" and ld["commentCount"] == 26
    assert len(re.findall(r'class="comment" [^>]*data-depth="0"', text)) == 20
    assert text.count('<button class="load-more-comments">Load More Comments</button>') == 1
    assert "<script>" in text and "load_comments" in text


def test_seed_article_is_built_from_the_real_page(replica: ReplicaServer, replica_site: Site) -> None:
    text = page(replica, f"/{SEED_SLUG}/")

    assert f'<h1 class="post-title">{html.escape(SEED_TITLE)}</h1>' in text
    assert '<div class="points" data-points="42">42</div>' in text
    for kind, *args in SEED_BODY:
        if kind == "p":
            assert f"<p>{html.escape(args[0])}</p>" in text
    assert f'<figcaption class="image-credits">{IMAGE_CREDIT}</figcaption>' in text
    assert "View this post on Instagram" in text and "A post shared by Daily Mail (@dailymail)" in text
    assert text.count("Read more »") == 1 and text.count("Read less »") == 1
    # the comment block is printed twice, only the first one with the id
    assert text.count('class="post-comments"') == 2 and text.count('id="comments"') == 1
    assert text.count("Load More Replies...") == 4
    steve = next(c for c in replica_site.article(SEED_SLUG).comments if c.author == "Steve Sharpe")
    shown = comment_text(text, steve.id)
    assert shown.endswith("…") and steve.text.startswith(shown.removesuffix("…"))
    full = ajax_data(replica, action="load_comment", comment_id=steve.id)["html"]
    assert comment_text(full, steve.id) == steve.text and 'data-truncated="false"' in full


@pytest.mark.parametrize(
    "slug", [NORMAL_SLUG, SEED_SLUG, ONE_PAGE_SLUG, NO_COMMENTS_SLUG, LIST_SLUG, BIG_THREAD_SLUG]
)
def test_the_api_delivers_exactly_the_model_thread(
    replica: ReplicaServer, replica_site: Site, slug: str
) -> None:
    article = replica_site.article(slug)
    assert walk_thread(replica, article.post_id) == model_thread(replica_site, slug)
    assert comments_count(page(replica, f"/{slug}/")) == thread_index(article).total


def test_big_thread_has_the_hard_shapes(replica: ReplicaServer, replica_site: Site) -> None:
    article = replica_site.article(BIG_THREAD_SLUG)
    index = thread_index(article)
    assert index.total >= 1000
    assert max(index.depth.values()) >= 3
    assert max(len(replies) for replies in index.children.values()) > 20
    assert any(len(c.text) > 400 for c in article.comments)
    assert any(c.posted_at is None for c in article.comments)
    text = page(replica, f"/{BIG_THREAD_SLUG}/")
    assert 'data-truncated="true"' in text and '<time class="comment-time">' in text


def test_load_comment_returns_the_full_text_of_a_cut_comment(
    replica: ReplicaServer, replica_site: Site
) -> None:
    article = replica_site.article(BIG_THREAD_SLUG)
    long_one = next(c for c in article.comments if len(c.text) > 400 and c.parent_id is None)
    data = ajax_data(replica, action="load_comment", comment_id=long_one.id)
    assert comment_text(data["html"], long_one.id) == long_one.text
    assert "comment-replies" not in data["html"]


def test_sorting_and_page_size(replica: ReplicaServer, replica_site: Site) -> None:
    post_id = replica_site.article(BIG_THREAD_SLUG).post_id
    top = ajax_data(replica, action="load_comments", post_id=post_id, page=1, per_page=500, sort="top")
    upvotes = [int(n) for n in re.findall(r'class="comment" [^>]*data-depth="0">.*?class="upvotes" '
                                          r'data-count="(\d+)"', top["html"], re.S)]  # fmt: skip
    assert len(upvotes) == 50 and upvotes == sorted(upvotes, reverse=True)
    new = ajax_data(replica, action="load_comments", post_id=post_id, page=1, sort="new")
    ids = [int(i) for i, _, depth in COMMENT_RE.findall(new["html"]) if depth == "0"]
    assert ids == sorted(ids, reverse=True)


# -- mutations and caching -------------------------------------------------------------------------


def test_mutations_show_up_and_change_the_etag(replica: ReplicaServer, replica_site: Site) -> None:
    article = replica_site.article(NORMAL_SLUG)
    second_page = thread_index(article).children[None][20]  # not on the article page itself
    _, headers, _ = fetch(replica, f"/{NORMAL_SLUG}/")
    etag = headers["ETag"]

    replica_site.edit_comment(second_page.id, "Edited <b>text</b> & more")
    data = ajax_data(replica, action="load_comments", post_id=article.post_id, page=2)
    assert "Edited &lt;b&gt;text&lt;/b&gt; &amp; more" in data["html"]
    _, headers, _ = fetch(replica, f"/{NORMAL_SLUG}/")
    assert headers["ETag"] != etag

    replica_site.delete_comment(second_page.id)
    assert second_page.id not in walk_thread(replica, article.post_id)
    assert comments_count(page(replica, f"/{NORMAL_SLUG}/")) == 25
    replica_site.restore_comment(second_page.id)
    assert second_page.id in walk_thread(replica, article.post_id)

    new_id = replica_site.add_comment(NORMAL_SLUG, "A brand new comment")
    reply_id = replica_site.add_comment(NORMAL_SLUG, "A reply to it", author="Replier", parent_id=new_id)
    assert walk_thread(replica, article.post_id)[reply_id] == (new_id, 1)
    replica_site.set_votes(new_id, 99, 3)
    data = ajax_data(replica, action="load_comment", comment_id=new_id)
    assert 'data-count="99"' in data["html"] and 'data-count="3"' in data["html"]

    replica_site.edit_article(NORMAL_SLUG, title="A New Title", body=["Only paragraph now."])
    text = page(replica, f"/{NORMAL_SLUG}/")
    assert '<h1 class="post-title">A New Title</h1>' in text and "<p>Only paragraph now.</p>" in text
    assert "A New Title" in page(replica, "/feed/")


def test_conditional_get_answers_304(replica: ReplicaServer) -> None:
    for path in (f"/{SEED_SLUG}/", "/feed/", "/sitemap.xml", "/sitemap-posts-1.xml"):
        status, headers, _ = fetch(replica, path)
        assert status == 200 and headers["ETag"] and headers["Last-Modified"]
        status, _, body = fetch(replica, path, headers={"If-None-Match": headers["ETag"]})
        assert (status, body) == (304, b"")
        status, _, _ = fetch(replica, path, headers={"If-Modified-Since": headers["Last-Modified"]})
        assert status == 304
        status, _, _ = fetch(replica, path, headers={"If-None-Match": '"other"'})
        assert status == 200
    assert replica.stats["not_modified"] == 8


def test_if_modified_since_sees_a_change_within_the_same_second(
    replica: ReplicaServer, replica_site: Site
) -> None:
    replica_site.edit_comment(replica_site.article(SEED_SLUG).comments[0].id, "first")
    _, headers, _ = fetch(replica, f"/{SEED_SLUG}/")
    replica_site.edit_comment(replica_site.article(SEED_SLUG).comments[0].id, "second")
    status, _, _ = fetch(replica, f"/{SEED_SLUG}/", headers={"If-Modified-Since": headers["Last-Modified"]})
    assert status == 200


def test_control_endpoint_mutates_the_site(replica: ReplicaServer, replica_site: Site) -> None:
    comment = replica_site.article(SEED_SLUG).comments[0]
    status, answer = control(replica, "edit_comment", comment_id=comment.id, text="Changed remotely")
    assert status == 200 and answer["success"]
    assert comment.text == "Changed remotely"
    status, answer = control(replica, "add_comment", slug=SEED_SLUG, text="Remote comment")
    assert status == 200 and answer["data"]["result"] in model_thread(replica_site, SEED_SLUG)
    status, answer = control(replica, "add_article", slug="fresh-article", n_comments=7)
    assert status == 200 and comments_count(page(replica, "/fresh-article/")) == 7
    status, answer = control(replica, "set_faults", slug=SEED_SLUG, comment_pages=[1])
    assert status == 200 and ajax(replica, action="load_comments", post_id=8123456)[0] == 500
    assert control(replica, "no_such_op")[0] == 400
    assert control(replica, "delete_comment", comment_id="404")[0] == 400


def test_hide_fraction_drops_half_the_thread(replica: ReplicaServer, replica_site: Site) -> None:
    article = replica_site.article(BIG_THREAD_SLUG)
    before = thread_index(article).total
    replica_site.set_hide_fraction(BIG_THREAD_SLUG, 0.5)
    assert len(thread_index(article).children[None]) == 210
    assert 0.3 * before < thread_index(article).total < 0.7 * before
    assert walk_thread(replica, article.post_id) == model_thread(replica_site, BIG_THREAD_SLUG)


# -- faults and errors -----------------------------------------------------------------------------


def test_fault_switches_answer_500_json(replica: ReplicaServer, replica_site: Site) -> None:
    article = replica_site.article(NORMAL_SLUG)
    hub = next(c for c, replies in thread_index(article).children.items() if c and len(replies) > 2)
    replica_site.set_faults(NORMAL_SLUG, comment_pages={2}, replies={hub}, full_text={hub})
    for fields in (
        {"action": "load_comments", "post_id": article.post_id, "page": 2},
        {"action": "load_replies", "comment_id": hub, "offset": 2},
        {"action": "load_comment", "comment_id": hub},
    ):
        status, answer = ajax(replica, **fields)
        assert status == 500 and answer["success"] is False and answer["data"]["message"]
    assert ajax(replica, action="load_comments", post_id=article.post_id, page=1)[0] == 200
    replica_site.set_faults(NORMAL_SLUG, comment_pages=())
    assert ajax(replica, action="load_comments", post_id=article.post_id, page=2)[0] == 200


@pytest.mark.parametrize(
    "fields",
    [
        {"action": "no_such_action"},
        {"action": "load_comments", "post_id": "abc"},
        {"action": "load_comments", "post_id": "999"},
        {"action": "load_comments", "post_id": "8123456", "page": "0"},
        {"action": "load_comments", "post_id": "8123456", "sort": "random"},
        {"action": "load_replies", "comment_id": "1"},
        {"action": "load_comment", "comment_id": ""},
    ],
)
def test_bad_ajax_requests_answer_400(replica: ReplicaServer, fields: dict[str, str]) -> None:
    status, answer = ajax(replica, **fields)
    assert status == 400 and answer == {"success": False, "data": {"message": answer["data"]["message"]}}


def test_deleted_comments_cannot_be_loaded(replica: ReplicaServer, replica_site: Site) -> None:
    comment = replica_site.article(SEED_SLUG).comments[0]
    replica_site.delete_comment(comment.id)
    assert ajax(replica, action="load_comment", comment_id=comment.id)[0] == 400


def test_fault_endpoints(replica: ReplicaServer) -> None:
    status, headers, body = fetch(replica, "/fault/malformed/")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert b"</html>" not in body and body.count(b"<div") > body.count(b"</div>")
    with pytest.raises(UnicodeDecodeError):
        body.decode()
    assert fetch(replica, "/fault/empty/")[::2] == (200, b"")
    status, headers, body = fetch(replica, "/fault/binary/")
    assert (status, headers["Content-Type"], len(body)) == (200, "application/octet-stream", 2048)
    status, headers, body = fetch(replica, "/fault/not-html/")
    assert (status, headers["Content-Type"], json.loads(body)) == (
        200,
        "application/json",
        {"hello": "world"},
    )
    assert fetch(replica, "/fault/500/")[0] == 500
    started = time.monotonic()
    assert fetch(replica, "/fault/slow/?seconds=0.3")[0] == 200
    assert time.monotonic() - started >= 0.3
    status, headers, _ = fetch(replica, "/fault/redirect/?to=/feed/")
    assert (status, headers["Location"]) == (302, "/feed/")
    assert fetch(replica, "/no-such-article/")[0] == 404
    assert fetch(replica, "/fault/no-such-fault/")[0] == 404


# -- discovery -------------------------------------------------------------------------------------


def test_feed_lists_the_articles_newest_first(replica: ReplicaServer, replica_site: Site) -> None:
    _, headers, body = fetch(replica, "/feed/")
    assert headers["Content-Type"].startswith("application/rss+xml")
    channel = ET.fromstring(body).find("channel")
    items = channel.findall("item")
    expected = [f"{replica.base_url}/{a.slug}/" for a in replica_site.articles()]
    assert [item.findtext("link") for item in items] == expected
    assert all(item.findtext("guid") and item.findtext("pubDate") for item in items)
    encoded = items[0].findtext("{http://purl.org/rss/1.0/modules/content/}encoded")
    assert "<p>" in encoded


def test_sitemap_index_covers_every_article(replica: ReplicaServer) -> None:
    _, _, body = fetch(replica, "/sitemap.xml")
    locations = [loc.text for loc in ET.fromstring(body).findall("sm:sitemap/sm:loc", SITEMAP_NS)]
    assert locations == [f"{replica.base_url}/sitemap-posts-{n}.xml" for n in (1, 2)]
    urls = []
    for location in locations:
        _, _, part = fetch(replica, urllib.parse.urlsplit(location).path)
        entries = ET.fromstring(part).findall("sm:url", SITEMAP_NS)
        assert entries and all(e.findtext("sm:lastmod", namespaces=SITEMAP_NS) for e in entries)
        urls += [e.findtext("sm:loc", namespaces=SITEMAP_NS) for e in entries]
    assert sorted(urls) == sorted(f"{replica.base_url}/{slug}/" for slug in DEMO_SLUGS)
    assert fetch(replica, "/sitemap-posts-3.xml")[0] == 404


def test_listing_pages(replica: ReplicaServer, replica_site: Site) -> None:
    first, second = page(replica, "/page/1/"), page(replica, "/page/2/")
    cards = re.findall(
        r'<article class="post" data-post-id="(\d+)"><a class="title" href="/([^"]+)/">', first
    )
    assert len(cards) == 10 and 'class="next-page" href="/page/2/"' in first
    cards += re.findall(
        r'<article class="post" data-post-id="\d+"><a class="title" href="/([^"]+)/">', second
    )
    assert [slug for _, slug in cards[:10]] + cards[10:] == [a.slug for a in replica_site.articles()]
    assert "next-page" not in second and fetch(replica, "/page/3/")[0] == 404
    assert page(replica, "/") == first
    assert f'href="/{LIST_SLUG}/"' in page(replica, "/category/animals/")
    assert fetch(replica, "/category/no-such-category/")[0] == 404


def test_robots_and_images(replica: ReplicaServer) -> None:
    robots = page(replica, "/robots.txt")
    assert "User-agent: *" in robots and "Disallow: /private/" in robots
    assert f"Sitemap: {replica.base_url}/sitemap.xml" in robots
    status, headers, body = fetch(replica, "/img/anything.jpg")
    assert (status, headers["Content-Type"], body[:4]) == (200, "image/png", b"\x89PNG")


# -- article variants ------------------------------------------------------------------------------


def test_list_article_pages(replica: ReplicaServer) -> None:
    first, second = page(replica, f"/{LIST_SLUG}/"), page(replica, f"/{LIST_SLUG}/2/")
    assert 'class="single single-post single-open-list-post"' in first
    assert re.findall(r'data-position="(\d+)"', first) == [str(n) for n in range(1, 9)]
    assert re.findall(r'data-position="(\d+)"', second) == [str(n) for n in range(9, 16)]
    assert "PAGE 1/2" in first and f'<a class="next" href="/{LIST_SLUG}/2/">' in first
    assert "PAGE 2/2" in second and 'class="next"' not in second
    assert 'class="post-comments"' in first and 'class="post-comments"' not in second
    for path in (f"/{LIST_SLUG}/3/", f"/{LIST_SLUG}/1/", f"/{NORMAL_SLUG}/2/"):
        assert fetch(replica, path)[0] == 404


def test_lazy_article_has_no_comments_in_its_html(replica: ReplicaServer, replica_site: Site) -> None:
    article = replica_site.article(LAZY_SLUG)
    text = page(replica, f"/{LAZY_SLUG}/")
    assert (
        f'<div class="post-comments" id="comments" data-post-id="{article.post_id}" '
        f'data-comments-count="26" data-lazy="true"></div>'
    ) in text
    assert 'class="comment"' not in text and "load-more-comments</button>" not in text
    assert walk_thread(replica, article.post_id) == model_thread(replica_site, LAZY_SLUG)


def test_endless_article_never_runs_out(replica: ReplicaServer, replica_site: Site) -> None:
    post_id = replica_site.article(ENDLESS_SLUG).post_id
    seen: list[str] = []
    for number in range(1, 11):
        data = ajax_data(replica, action="load_comments", post_id=post_id, page=number)
        assert data["has_more"] is True
        seen += [comment_id for comment_id, _, _ in COMMENT_RE.findall(data["html"])]
    assert len(seen) == len(set(seen)) == 200
    assert "Load More Comments" in page(replica, f"/{ENDLESS_SLUG}/")


# -- server ----------------------------------------------------------------------------------------


def test_stats_count_requests(replica: ReplicaServer) -> None:
    replica.reset_stats()
    fetch(replica, f"/{SEED_SLUG}/")
    fetch(replica, "/missing/")
    ajax(replica, action="load_comments", post_id=8123456)
    stats = replica.stats
    assert stats["total"] == 3 and stats["statuses"] == {200: 2, 404: 1}
    assert stats["requests"][("GET", f"/{SEED_SLUG}/")] == 1
    assert stats["ajax"] == {"load_comments": 1} and stats["bytes_sent"] > 10_000


def test_concurrent_requests_all_succeed(replica: ReplicaServer) -> None:
    statuses: list[int] = []

    def worker() -> None:
        for _ in range(25):
            statuses.append(fetch(replica, f"/{BIG_THREAD_SLUG}/")[0])

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * 200


# -- generators ------------------------------------------------------------------------------------


@pytest.mark.parametrize("n_comments", [0, 1, 2, 3, 5, 50, 333])
def test_generated_threads_have_exactly_n_comments(n_comments: int) -> None:
    article = generated_article("some-article", 8_300_000, n_comments, seed=3)
    assert len(article.comments) == len({c.id for c in article.comments}) == n_comments
    assert thread_index(article).total == n_comments
    assert generated_article("some-article", 8_300_000, n_comments, seed=3) == article


def test_bench_site_builds_fast() -> None:
    started = time.monotonic()
    site = build_bench_site(200, 50)
    assert time.monotonic() - started < 3
    assert len(site.articles()) == 200
    assert all(len(article.comments) == 50 for article in site.articles())
