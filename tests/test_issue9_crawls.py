"""Issue 9 end to end: real saved pages served over loopback, crawled into SQLite, read back.

Real pages come from tests/fixtures/real/ (provenance in each folder); where a test needs a page in a
state no saved page is in (its comment list emptied, its HTML nested past libxml2's limit, a thread
over two comment pages), the change is made here, to the real markup, and named.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from crawler.replica.variants import (
    ANCHOR_SLUG,
    BYLINE_DATE_SLUG,
    LABEL_SLUG,
    REL_NEXT_SLUG,
    SCRIPT_SLUG,
    add_variant_articles,
)
from tests.crawling import FAST, ROOT, article_url, crawl, model_thread

REAL = Path(__file__).parent / "fixtures" / "real"


def real(name: str) -> str:
    return (REAL / name / "page.html").read_text(encoding="utf-8")


class Pages:
    """What the loopback server answers: path -> (content type, body); tests change it between crawls."""

    def __init__(self) -> None:
        self.pages: dict[str, tuple[str, str]] = {}

    def set(self, path: str, body: str, content_type: str = "text/html; charset=utf-8") -> None:
        self.pages[path] = (content_type, body)


@pytest.fixture
def site():
    pages = Pages()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            found = pages.pages.get(self.path.split("#")[0])
            if found is None:
                self.send_error(404)
                return
            content_type, body = found
            data = body.encode("utf-8")
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    pages.base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield pages
    finally:
        server.shutdown()
        server.server_close()


def replace_thread(page: str, new: str) -> str:
    """The real page with its WordPress comment list (up to the reply form) replaced by `new`."""
    start, end = page.index('<ol class="comment-list">'), page.index('<div id="respond"')
    return page[:start] + new + page[end:]


def article_row(result, url: str) -> dict:
    [row] = result.query(
        "SELECT article_id, site, comments_complete, comments_loaded, comments_incomplete_reason "
        "FROM articles WHERE url = ?",
        [url],
    )
    return row


def live_comments(result, article_id: str) -> set[str]:
    rows = result.query(
        "SELECT comment_id FROM comments WHERE article_id = ? AND status = 'live'", [article_id]
    )
    return {r["comment_id"] for r in rows}


# -- completeness ---------------------------------------------------------------------------------


def test_static_thread_complete_then_emptied_and_parser_cut_pages_are_incomplete_and_delete_nothing(
    site, tmp_path
):
    db = tmp_path / "c.db"
    url = f"{site.base}/post/"
    page = real("lemire-simdjson")  # WordPress, "5 thoughts on …", five comments in ol.comment-list
    site.set("/post/", page)
    full = crawl(db, [url])
    assert full.returncode == 0, full.stderr[-3000:]
    row = article_row(full, url)
    assert (row["site"], row["comments_complete"], row["comments_loaded"]) == ("generic", 1, 5)
    ids = live_comments(full, row["article_id"])
    assert {i.rsplit(":", 1)[1] for i in ids} == {"421882", "422154", "422230", "422240", "422257"}

    # The same page with its comment list gone (as a page whose comments now load by script): the
    # heading still reports five comments, none were loaded -> 0, and nothing is marked deleted.
    emptied = replace_thread(page, "")
    site.set("/post/", emptied)
    second = crawl(db, [url])
    row = article_row(second, url)
    assert row["comments_complete"] == 0 and row["comments_loaded"] == 0
    assert "reports 5 comments and none were loaded" in row["comments_incomplete_reason"]
    assert live_comments(second, row["article_id"]) == ids
    assert second.query("SELECT count(*) AS n FROM changes WHERE kind = 'deleted'") == [{"n": 0}]

    # Nesting past libxml2's 256 levels before the comment section: the parser stops there and the
    # tree ends without the thread. Detected: 0, reason named, still nothing deleted.
    deep = "<div>" * 300 + "</div>" * 300
    site.set("/post/", page.replace('<div id="comments"', deep + '<div id="comments"', 1))
    third = crawl(db, [url])
    row = article_row(third, url)
    assert row["comments_complete"] == 0 and row["comments_loaded"] == 0
    assert "HTML parser stopped early" in row["comments_incomplete_reason"]
    assert live_comments(third, row["article_id"]) == ids
    assert third.query("SELECT count(*) AS n FROM changes WHERE kind = 'deleted'") == [{"n": 0}]
    assert (
        third.query("SELECT complete, reason FROM thread_loads WHERE run_id = ?", [third.run["run_id"]])[0][
            "complete"
        ]
        == 0
    )


def test_no_comment_section_and_unread_widget_are_null_with_their_reason(site, tmp_path):
    site.set("/no-section/", real("comwrap-patientenakte"))  # no comment section at all
    site.set("/disqus/", real("python-insider-360"))  # a Disqus embed, nothing in the HTML
    site.set("/viafoura/", real("mercurynews-letters"))  # a Viafoura widget
    urls = [f"{site.base}/no-section/", f"{site.base}/disqus/", f"{site.base}/viafoura/"]
    result = crawl(tmp_path / "w.db", urls)
    assert result.returncode == 0, result.stderr[-3000:]
    reasons = {u: article_row(result, u) for u in urls}
    assert reasons[urls[0]]["comments_complete"] is None
    assert reasons[urls[0]]["comments_incomplete_reason"] == "no comment section"
    assert reasons[urls[1]]["comments_complete"] is None
    assert reasons[urls[1]]["comments_incomplete_reason"] == "unread: disqus"
    assert reasons[urls[2]]["comments_incomplete_reason"] == "unread: viafoura"
    assert result.run["threads_unread"] == 3 and result.run["status"] == "ok"
    assert result.stats["article_spider/threads/unread/disqus"] == 1


def _wordpress_comment(number: int, author: str, text: str) -> str:
    """One comment as WordPress's default walker prints it (twenty-* themes)."""
    return (
        f'<li id="comment-{number}" class="comment even thread-even depth-1">'
        f'<article id="div-comment-{number}" class="comment-body"><footer class="comment-meta">'
        f'<div class="comment-author vcard"><b class="fn">{author}</b> <span class="says">says:</span></div>'
        f'<div class="comment-metadata"><a href="#comment-{number}"><time datetime="2019-08-0{number % 9 + 1}'
        f'T10:00:00+00:00">August {number % 9 + 1}, 2019 at 10:00 am</time></a></div></footer>'
        f'<div class="comment-content"><p>{text}</p></div><div class="reply">'
        f'<a rel="nofollow" class="comment-reply-link" href="#">Reply</a></div></article></li>'
    )


def test_paginated_wordpress_comments_are_followed_to_the_last_page(site, tmp_path):
    # lemire's real page with its thread replaced by page 1 of a 2-page thread (WordPress's
    # paginate_comments_links() markup), the second page served at /post/comment-page-2/
    page = real("lemire-simdjson")
    nav = (
        '<nav class="navigation comment-navigation"><div class="nav-links"><div class="nav-next">'
        '<a href="{base}/post/comment-page-2/#comments">Newer Comments</a></div></div></nav>'
    )
    first = "".join(_wordpress_comment(n, f"Reader {n}", f"Comment number {n}.") for n in (1, 2, 3))
    second = "".join(_wordpress_comment(n, f"Reader {n}", f"Comment number {n}.") for n in (4, 5))
    page1 = replace_thread(page, f'<ol class="comment-list">{first}</ol>' + nav.format(base=site.base))
    page2 = replace_thread(page, f'<ol class="comment-list">{second}</ol>')
    site.set("/post/", page1)
    site.set("/post/comment-page-2/", page2)
    result = crawl(tmp_path / "p.db", [f"{site.base}/post/"])
    row = article_row(result, f"{site.base}/post/")
    assert (row["comments_complete"], row["comments_loaded"]) == (1, 5), row["comments_incomplete_reason"]
    rows = result.query(
        "SELECT comment_id, source_id, author, text, posted_at FROM comments ORDER BY source_id"
    )
    assert [r["source_id"] for r in rows] == ["1", "2", "3", "4", "5"]
    assert rows[3]["author"] == "Reader 4" and rows[3]["text"] == "Comment number 4."
    assert rows[3]["comment_id"] == "lemire.me:4" and rows[3]["posted_at"] == "2019-08-05T10:00:00+00:00"
    assert result.stats["article_spider/follow_up/comments_page"] == 1


# -- runs that tell the truth ---------------------------------------------------------------------


def test_five_pages_three_skipped_make_a_partial_run_with_three_warnings(site, tmp_path):
    site.set("/a/", real("lemire-simdjson"))
    site.set("/b/", real("lady50plus-sekre"))
    site.set("/c/", json.dumps({"not": "a page"}), "application/json")
    site.set(
        "/d/", "<!DOCTYPE html><html><head><title>Tag: jam</title></head><body><nav>Home</nav></body></html>"
    )
    page = real("bigbrandsystem-business-focus")
    site.set("/e/", page[: len(page) // 2])  # cut short: no </html>
    urls = [f"{site.base}/{p}/" for p in "abcde"]
    result = crawl(tmp_path / "r.db", urls)
    assert result.returncode == 0, result.stderr[-3000:]
    run = result.run
    assert run["status"] == "partial"
    assert (run["articles_seen"], run["pages_skipped"], run["pages_not_article"]) == (2, 3, 1)
    warnings = json.loads(run["warnings"])
    skipped = [w for w in warnings if "skipped" in w]
    assert len(skipped) == 3
    for path, reason in (("c", "not an HTML page"), ("d", "no article text"), ("e", "truncated")):
        [warning] = [w for w in skipped if w.startswith(f"{site.base}/{path}/")]
        assert reason in warning and "-a site=" in warning and "-a profile=" in warning
    # the summary at the end of `scrapy crawl`
    assert f"Panda Watch run {run['run_id']}: partial" in result.stderr
    assert "skipped: 3" in result.stderr and f"skipped {site.base}/c/" in result.stderr


def test_crawler_crawl_exits_non_zero_when_no_target_was_stored(site, tmp_path):
    site.set("/c/", json.dumps({"not": "a page"}), "application/json")
    site.set("/d/", "<!DOCTYPE html><html><head><title>Tag</title></head><body><p>Nothing.</p></body></html>")
    command = [sys.executable, "-m", "crawler.cli", "crawl", f"{site.base}/c/", f"{site.base}/d/"]
    command += ["--db", str(tmp_path / "n.db")]
    for key, value in FAST.items():
        command += ["-s", f"{key}={value}"]
    env = {**os.environ, "SCRAPY_SETTINGS_MODULE": "crawler.settings"}
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 1, done.stderr[-2000:]
    assert "Error: none of the 2 target page(s) was stored" in done.stderr


# -- Bored Panda variants -------------------------------------------------------------------------


def test_bored_panda_variants_end_to_end(replica, replica_site, tmp_path):
    add_variant_articles(replica_site)
    slugs = [ANCHOR_SLUG, REL_NEXT_SLUG, LABEL_SLUG, BYLINE_DATE_SLUG, SCRIPT_SLUG]
    result = crawl(tmp_path / "v.db", [article_url(replica, s) for s in slugs])
    assert result.returncode == 0, result.stderr[-3000:]
    for slug in (ANCHOR_SLUG, REL_NEXT_SLUG, LABEL_SLUG):  # "PAGE 1/3 >" in three shapes: all 25 items
        rows = result.query(
            "SELECT l.position FROM list_items l JOIN articles a USING (article_id) WHERE a.url = ? "
            "ORDER BY l.position",
            [article_url(replica, slug)],
        )
        assert [r["position"] for r in rows] == list(range(1, 26)), slug
    [dated] = result.query(
        "SELECT published_at FROM articles WHERE url = ?", [article_url(replica, BYLINE_DATE_SLUG)]
    )
    assert dated["published_at"] == "2015-11-03T00:00:00+00:00"  # "By … · November 3, 2015"
    row = article_row(result, article_url(replica, SCRIPT_SLUG))  # empty block reporting 57: API page 1
    assert (row["site"], row["comments_complete"], row["comments_loaded"]) == ("boredpanda", 1, 57)
    assert len(model_thread(replica_site, SCRIPT_SLUG)) == 57


def test_a_profile_reads_a_thread_that_is_wholly_in_the_html_without_a_browser(site, tmp_path):
    profile = tmp_path / "lemire.toml"
    profile.write_text(
        '[site]\nname = "lemire"\nhosts = ["lemire.me"]\n'
        '[comments]\ncontainer = "ol.comment-list"\nitem = "li.comment"\nid = "@id"\n'
        'author = ".fn"\ntext = ".comment-content"\ntime = "time@datetime"\n'
        '[browser]\nload_more = ["button.load-more-comments"]\n'
    )
    site.set("/post/", real("lemire-simdjson"))
    url = f"{site.base}/post/"
    result = crawl(tmp_path / "pr.db", [url], args={"profile": str(profile)})
    assert result.returncode == 0, result.stderr[-3000:]
    row = article_row(result, url)
    assert (row["site"], row["comments_complete"], row["comments_loaded"]) == ("lemire", 1, 5)
    assert "browser/pages_opened" not in result.stats and "article_spider/auto_browser" not in result.stats
    ids = {r["source_id"] for r in result.query("SELECT source_id FROM comments")}
    assert ids == {"comment-421882", "comment-422154", "comment-422230", "comment-422240", "comment-422257"}
