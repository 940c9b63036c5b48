"""End-to-end crawls of the replica with the article spider, asserted on the SQLite file and stats."""

from __future__ import annotations

import json

import pytest

from crawler.replica.demo_site import BIG_THREAD_SLUG, NO_COMMENTS_SLUG, ONE_PAGE_SLUG
from crawler.replica.seed import SEED_SLUG
from crawler.text import clean_text
from tests.crawling import article_url, crawl, model_thread

FORBIDDEN_IN_BODY = (
    "ADVERTISEMENT",
    "potrace",
    "View this post on Instagram",
    "Share on Facebook",
    "Read more »",
    "Image credits",
    "RELATED:",
    "A post shared by",
)


def test_seed_article_body_is_the_articles_own_text(replica, tmp_path):
    result = crawl(tmp_path / "crawl.db", [article_url(replica, SEED_SLUG)])
    assert result.returncode == 0, result.stderr[-2000:]
    [article] = result.query("SELECT * FROM articles")
    body = article["body_text"]
    assert body.startswith("North Korean troops, sent to support Russia‘s war efforts in Ukraine")
    assert "“Here we see the first step to the world war,” he said" in body
    assert body.endswith("assistance from the Kremlin through this allegiance.")
    for junk in FORBIDDEN_IN_BODY:
        assert junk not in body, junk
    assert "Binitha Jacob" not in body  # the author box, shown twice on the page
    assert "Working as a writer for Bored Panda" not in body
    assert json.loads(article["image_credits"]) == ["Art Guzman via Pexels (Representational Image)"]
    assert article["title"].startswith("North Korean Troops Sent To Russia Immediately Desert")
    assert article["author"] == "Binitha Jacob"
    assert article["votes"] == 42


def test_seed_article_comments_stored_once_with_full_text(replica, replica_site, tmp_path):
    result = crawl(tmp_path / "crawl.db", [article_url(replica, SEED_SLUG)])
    expected = model_thread(replica_site, SEED_SLUG)
    rows = result.query("SELECT * FROM comments")
    assert len(rows) == len(expected) == len({r["comment_id"] for r in rows})
    assert {r["comment_id"]: (r["parent_id"], r["depth"]) for r in rows} == {
        k: (v["parent_id"], v["depth"]) for k, v in expected.items()
    }
    # The page carries its comment block twice; the second copy is recognised, not stored again.
    assert result.stats["article_spider/comments_loaded"] == len(expected)
    [cut] = [r for r in rows if r["text"].startswith("[1/2] As a (now retired) warfighter")]
    full = next(v["text"] for v in expected.values() if v["text"].startswith("[1/2] As a"))
    assert cut["text"] == clean_text(full) and "distancing themselves from" in cut["text"]
    assert len(cut["text"]) > len("… distancing themselves from") + 400
    assert cut["text_truncated"] == 0
    for row in rows:
        assert "potrace" not in row["text"] and "Dots" not in (row["author"] or "")
    [thread] = result.query("SELECT * FROM thread_loads")
    assert thread["complete"] == 1 and thread["loaded"] == len(expected)


@pytest.mark.parametrize(
    "slug, minimum", [(NO_COMMENTS_SLUG, 0), (ONE_PAGE_SLUG, 1), (BIG_THREAD_SLUG, 1000)]
)
def test_every_comment_with_parent_and_depth(replica, replica_site, tmp_path, slug, minimum):
    result = crawl(tmp_path / "crawl.db", [article_url(replica, slug)])
    assert result.returncode == 0
    expected = model_thread(replica_site, slug)
    assert len(expected) >= minimum
    rows = result.query(
        "SELECT comment_id, parent_id, depth, text, upvotes, downvotes, text_truncated FROM comments"
    )
    assert {r["comment_id"]: (r["parent_id"], r["depth"]) for r in rows} == {
        k: (v["parent_id"], v["depth"]) for k, v in expected.items()
    }
    assert {r["comment_id"]: r["text"] for r in rows} == {
        k: clean_text(v["text"]) for k, v in expected.items()
    }
    assert {r["comment_id"]: (r["upvotes"], r["downvotes"]) for r in rows} == {
        k: (v["upvotes"], v["downvotes"]) for k, v in expected.items()
    }
    assert not any(r["text_truncated"] for r in rows)
    [article] = result.query(
        "SELECT comments_complete, comments_loaded, comment_count_reported FROM articles"
    )
    assert article == {
        "comments_complete": 1,
        "comments_loaded": len(expected),
        "comment_count_reported": len(expected),
    }
    if slug == BIG_THREAD_SLUG:
        assert max(r["depth"] for r in rows) >= 3
        assert result.stats["article_spider/follow_up/replies"] > 0
        assert result.stats["article_spider/follow_up/full_text"] > 0
    if slug == ONE_PAGE_SLUG:
        assert "article_spider/follow_up/comments_page" not in result.stats  # one page: no API paging


def test_comment_page_failing_keeps_what_loaded(replica, replica_site, tmp_path):
    replica_site.set_faults(BIG_THREAD_SLUG, comment_pages=[3])
    # no browser to fall back to (a failing recipe request re-reads the article in one where there is)
    no_browser = {"BROWSER_EXECUTABLE": "/nonexistent/chromium"}
    result = crawl(tmp_path / "crawl.db", [article_url(replica, BIG_THREAD_SLUG)], settings=no_browser)
    assert result.returncode == 0
    stats = result.stats
    assert stats["finish_reason"] == "finished"
    assert stats["article_spider/request_error/comments_page"] == 1
    assert stats["downloader/response_status_count/500"] == 1
    [article] = result.query("SELECT * FROM articles")
    assert article["comments_complete"] == 0
    assert (
        "1 of" in article["comments_incomplete_reason"] and "failed" in article["comments_incomplete_reason"]
    )
    # Pages 1 and 2 (50 top-level comments each, newest first) are stored with their replies.
    top_level = sorted(
        (
            int(k.split(":")[1])
            for k, v in model_thread(replica_site, BIG_THREAD_SLUG).items()
            if v["parent_id"] is None
        ),
        reverse=True,
    )
    stored = {r["comment_id"] for r in result.query("SELECT comment_id FROM comments WHERE depth = 0")}
    assert {f"boredpanda:{i}" for i in top_level[:100]} <= stored
    assert not {f"boredpanda:{i}" for i in top_level[100:150]} & stored
    assert result.run["status"] == "incomplete" and result.run["threads_incomplete"] == 1


def test_odd_pages_skipped_with_a_reason(replica, tmp_path):
    odd = {name: f"{replica.base_url}/fault/{name}/" for name in ("malformed", "empty", "binary", "not-html")}
    result = crawl(tmp_path / "crawl.db", [*odd.values(), article_url(replica, ONE_PAGE_SLUG)])
    assert result.returncode == 0, result.stderr[-2000:]
    assert [a["url"] for a in result.query("SELECT url FROM articles")] == [
        article_url(replica, ONE_PAGE_SLUG)
    ]
    assert result.query("SELECT DISTINCT article_id FROM comments") == [
        {"article_id": result.query("SELECT article_id FROM articles")[0]["article_id"]}
    ]
    stats = result.stats
    assert stats["article_spider/skipped/truncated_html"] == 1
    assert stats["article_spider/skipped/not_article"] == 1  # the empty body
    assert stats["article_spider/skipped/not_html"] == 2
    for name, url in odd.items():
        assert f"Skipped {url}" in result.stderr, name
    assert "Traceback" not in result.stderr


def test_same_crawl_twice_leaves_identical_rows(replica, tmp_path):
    urls = [article_url(replica, s) for s in (SEED_SLUG, ONE_PAGE_SLUG, "funny-cats-list")]
    db = tmp_path / "crawl.db"
    # Re-check the comments although the pages are unchanged (304): nothing may change anyway.
    recheck = {"COMMENTS_RECHECK_AFTER": "0"}
    first = crawl(db, urls, settings=recheck)
    # operational times: when a row, or a comment's whole text, was last seen
    volatile = {
        "last_seen_at",
        "last_seen_run_id",
        "comments_incomplete_reason",
        "next_check_at",
        "full_text_at",
    }

    def snapshot(table, key):
        return {
            r[key]: {k: v for k, v in r.items() if k not in volatile}
            for r in first.query(f"SELECT * FROM {table}")
        }

    before = (
        snapshot("articles", "article_id"),
        snapshot("comments", "comment_id"),
        first.query("SELECT count(*) AS n FROM list_items"),
    )
    second = crawl(db, urls, settings=recheck)
    assert second.returncode == 0
    after = (
        snapshot("articles", "article_id"),
        snapshot("comments", "comment_id"),
        second.query("SELECT count(*) AS n FROM list_items"),
    )
    assert before == after
    run_id = second.run["run_id"]
    for table in ("changes", "comment_versions", "article_versions", "vote_samples"):
        assert second.query(f"SELECT count(*) AS n FROM {table} WHERE run_id = ?", [run_id]) == [{"n": 0}]
    assert second.query("SELECT count(*) AS n FROM comments WHERE last_seen_run_id = ?", [run_id])[0][
        "n"
    ] == len(before[1])


def test_list_article_items_across_pages(replica, replica_site, tmp_path):
    result = crawl(tmp_path / "crawl.db", [article_url(replica, "funny-cats-list")])
    model = replica_site.article("funny-cats-list")
    rows = result.query("SELECT * FROM list_items ORDER BY position")
    assert [r["position"] for r in rows] == list(range(1, len(model.list_items) + 1))
    assert [r["title"] for r in rows] == [i.title for i in model.list_items]
    assert {r["page"] for r in rows} == {1, 2}
    assert all(r["image_url"] and r["image_url"].startswith(replica.base_url) for r in rows)
    assert [r["points"] for r in rows] == [i.points for i in model.list_items]
    [article] = result.query("SELECT is_list, list_pages FROM articles")
    assert article == {"is_list": 1, "list_pages": 2}
    assert result.stats["article_spider/list_pages"] == 1


@pytest.mark.parametrize(
    "args, message",
    [
        ({"url": "ftp://example.com/a"}, "not an http(s) URL"),
        ({"url": " , "}, "url is empty"),
        ({"urls_file": "/nonexistent/urls.txt"}, "does not exist"),
    ],
)
def test_bad_arguments_end_with_one_error_line(tmp_path, args, message):
    result = crawl(tmp_path / "crawl.db", args=args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert len([line for line in result.stderr.splitlines() if "error" in line.lower()]) == 1


def test_empty_urls_file_is_refused(tmp_path):
    empty = tmp_path / "urls.txt"
    empty.write_text("# nothing yet\n\n")
    result = crawl(tmp_path / "crawl.db", args={"urls_file": str(empty)})
    assert result.returncode == 2 and "holds no URL" in result.stderr and "Traceback" not in result.stderr


def test_urls_file_with_duplicate_links_crawls_each_article_once(replica, tmp_path):
    url = article_url(replica, ONE_PAGE_SLUG)
    urls = tmp_path / "urls.txt"
    urls.write_text(f"{url}\n{url}#comments\n{url}?utm_source=x&comment_id=1\n{url.rstrip('/')}\n")
    result = crawl(tmp_path / "crawl.db", args={"urls_file": str(urls)})
    assert result.stats["article_spider/articles"] == 1
    assert result.query("SELECT url FROM articles") == [{"url": url}]


def test_redirect_to_an_unnamed_private_host_is_refused(replica, tmp_path):
    target = article_url(replica, ONE_PAGE_SLUG).replace("127.0.0.1", "localhost")
    start = f"{replica.base_url}/fault/redirect/?to={target}"
    refused = crawl(tmp_path / "refused.db", [start])
    assert refused.stats["hostguard/refused/private_host"] == 1
    assert refused.query("SELECT count(*) AS n FROM articles") == [{"n": 0}]
    allowed = crawl(tmp_path / "allowed.db", [start], settings={"ALLOW_PRIVATE_HOSTS": "True"})
    assert allowed.query("SELECT count(*) AS n FROM articles") == [{"n": 1}]


def test_endless_comment_list_stops_at_the_page_cap(replica, tmp_path):
    result = crawl(
        tmp_path / "crawl.db",
        [article_url(replica, "endless-comments-article")],
        settings={"COMMENTS_MAX_PAGES": "5"},
    )
    assert result.returncode == 0
    assert result.stats["article_spider/follow_up/comments_page"] == 5
    assert result.stats["article_spider/comments_page_cap_reached"] == 1
    [article] = result.query("SELECT comments_complete, comments_incomplete_reason FROM articles")
    assert article["comments_complete"] == 0 and "COMMENTS_MAX_PAGES" in article["comments_incomplete_reason"]


def test_thread_accounting_holds_when_scrapy_interleaves_callbacks(replica, replica_site, tmp_path):
    # Few concurrent items make Scrapy consume callback outputs lazily and interleaved; a thread must
    # still finish only after its last follow-up, and a re-crawl must record nothing.
    settings = {"CONCURRENT_ITEMS": "2", "COMMENTS_RECHECK_AFTER": "0", "STORE_BATCH_SIZE": "7"}
    url = article_url(replica, BIG_THREAD_SLUG)
    first = crawl(tmp_path / "c.db", [url], settings=settings)
    expected = len(model_thread(replica_site, BIG_THREAD_SLUG))
    assert first.query("SELECT comments_complete, comments_loaded FROM articles") == [
        {"comments_complete": 1, "comments_loaded": expected}
    ]
    second = crawl(tmp_path / "c.db", [url], settings=settings)
    assert second.query("SELECT count(*) AS n FROM changes WHERE run_id = 2") == [{"n": 0}]
    assert second.query("SELECT count(*) AS n FROM comments WHERE status = 'live'") == [{"n": expected}]
