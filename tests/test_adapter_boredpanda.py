"""The Bored Panda adapter on saved pages: whole output per case, then one test per field.

Saved pages live in tests/fixtures/boredpanda/<case>/ (regenerate with
`python -m tests.fixtures.regenerate`, then review the diff of expected.json).
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qsl

import pytest

from crawler.recipes.execute import first_calls
from crawler.sites import boredpanda
from crawler.sites.boredpanda.article import NotAnArticle
from crawler.sites.html import NotHTML
from tests.fixtures.expected import adapter_output

CASES = Path(__file__).parent / "fixtures" / "boredpanda"
BASE = "https://www.boredpanda.com"


def load(case: str) -> boredpanda.ArticlePage:
    html = (CASES / case / "input.html").read_text(encoding="utf-8")
    return boredpanda.parse_article_page(html, json.loads((CASES / case / "meta.json").read_text())["url"])


def seed_calls(case: str, path: str) -> list[tuple[str, dict]]:
    """(role, form) of the requests the site's seed recipe makes first on a saved page."""
    html = (CASES / case / "input.html").read_text(encoding="utf-8")
    thread = load(case).thread(BASE + path)
    calls = first_calls(boredpanda.seed_recipe(), html, BASE + path, thread.comments, thread.end_reached)
    assert all(c.url == f"{BASE}/blog/wp-admin/admin-ajax.php" and c.method == "POST" for c in calls)
    return [(c.role, dict(parse_qsl(c.body.decode()))) for c in calls]


@pytest.mark.parametrize("case", sorted(p.name for p in CASES.iterdir() if p.is_dir()))
def test_output_matches_the_reviewed_expectation(case):
    expected = json.loads((CASES / case / "expected.json").read_text(encoding="utf-8"))
    assert adapter_output(CASES / case) == expected


# -- article fields ------------------------------------------------------------------------------


def test_title_author_and_ids():
    article = load("seed-article").article
    assert article.title == (
        "North Korean Troops Sent To Russia Immediately Desert The Frontlines: “First Step To The World War”"
    )
    assert article.author == "Binitha Jacob"
    assert article.author_url == f"{BASE}/author/binitha-jacob/"
    assert article.post_id == "8123456" and article.article_id == "boredpanda:8123456"
    assert article.site == "boredpanda"


def test_canonical_url_and_dates():
    article = load("seed-article").article
    assert article.canonical_url == f"{BASE}/north-korean-troops-desert-frontlines/"
    assert article.published_at == "2024-10-25T08:00:00+00:00"
    assert article.modified_at == "2024-10-26T09:30:00+00:00"


def test_tags_votes_views_shares_description():
    article = load("seed-article").article
    assert article.tags == ["north korea", "russia", "ukraine", "war"]
    assert article.votes == 42
    assert article.views == 12_300 and article.shares == 1_200
    assert article.description.startswith("North Korean troops sent to support Russia")


def test_body_keeps_own_sentences_and_moves_credits():
    article = load("seed-article").article
    assert "Russian officials are reportedly on the hunt for these missing soldiers." in article.body_text
    for junk in (
        "ADVERTISEMENT",
        "RELATED:",
        "Instagram",
        "Share on Facebook",
        "Read more",
        "potrace",
        "Image credits",
        "Author, BoredPanda staff",
    ):
        assert junk not in article.body_text
    assert article.image_credits == ["Art Guzman via Pexels (Representational Image)"]
    assert "<script" not in article.body_html and "ADVERTISEMENT" not in article.body_html


def test_reported_comment_count():
    assert load("seed-article").article.comment_count_reported == 11
    assert load("no-comments-article").article.comment_count_reported == 0


def test_list_items_first_page():
    page = load("list-article-page-1")
    assert page.article.is_list and page.pages == 2 and page.page_number == 1
    assert page.next_page_url == f"{BASE}/funny-cats-list/2/"
    assert [i.position for i in page.list_items] == list(range(1, 9))
    first = page.list_items[0]
    assert first.title == "This Cat Who Fits Perfectly In A Fruit Bowl"  # the "1." number is not the title
    assert first.image_url == f"{BASE}/img/funny-cats-list-1.jpg"
    assert first.points and first.description


def test_list_items_second_page():
    page = load("list-article-page-2")
    assert page.page_number == 2 and page.next_page_url is None
    assert [i.position for i in page.list_items] == list(range(9, 16))
    assert all(i.page == 2 and i.article_id == "boredpanda:8200005" for i in page.list_items)
    assert page.list_items[-1].title == "A Cat Finally Catching The Red Dot"
    assert page.article.title is None  # later pages carry items only; the article comes from page 1


# -- comments ------------------------------------------------------------------------------------


def test_comment_fields():
    thread = load("seed-article").thread(BASE + "/north-korean-troops-desert-frontlines/")
    trillian = thread.comments[0]
    assert trillian.comment_id == "boredpanda:812345600001"
    assert trillian.parent_id is None and trillian.depth == 0
    assert trillian.author == "Trillian" and trillian.author_role == "Community Member"
    assert trillian.relative_time == "2 months ago" and trillian.posted_at == "2024-10-25T10:17:00+00:00"
    assert trillian.text.startswith("Not surprised.") and "potrace" not in trillian.text
    assert (trillian.upvotes, trillian.downvotes) == (12, 1)
    assert trillian.reply_count == 0


def test_repeated_block_yields_each_comment_once():
    thread = load("seed-article").thread(BASE + "/north-korean-troops-desert-frontlines/")
    ids = [c.comment_id for c in thread.comments]
    assert len(ids) == len(set(ids))
    html = (CASES / "seed-article" / "input.html").read_text()
    assert html.count('data-comment-id="812345600001"') == 2


SEED_PATH = "/north-korean-troops-desert-frontlines/"


def test_cut_comment_flagged_and_full_text_requested():
    thread = load("seed-article").thread(BASE + SEED_PATH)
    cut = [c for c in thread.comments if c.truncated]
    assert "Steve Sharpe" in {c.author for c in cut}
    assert all(c.text.endswith("…") and "Read more" not in c.text for c in cut)
    calls = seed_calls("seed-article", SEED_PATH)
    requested = {form["comment_id"] for role, form in calls if role == "full_text"}
    assert requested == {c.comment_id.split(":")[1] for c in cut}
    assert all(form["action"] == "load_comment" for role, form in calls if role == "full_text")


def test_replies_nested_and_more_replies_requested():
    thread = load("seed-article").thread(BASE + SEED_PATH)
    replies = [c for c in thread.comments if c.parent_id]
    assert replies and all(c.depth >= 1 for c in replies)
    more = [form for role, form in seed_calls("seed-article", SEED_PATH) if role == "replies"]
    assert {f["comment_id"] for f in more} == {"812345600002", "812345600004"}
    assert all(f["offset"] == "2" and f["action"] == "load_replies" for f in more)
    # the page shows the whole top-level list: no comment page is asked for
    assert thread.end_reached
    assert "comments" not in {role for role, _ in seed_calls("seed-article", SEED_PATH)}


def test_page_with_more_comments_pages_the_api_from_page_one():
    thread = load("big-thread-article").thread(BASE + "/big-thread-article/")
    assert not thread.end_reached and thread.reported_total == 1200
    role, form = seed_calls("big-thread-article", "/big-thread-article/")[0]
    assert role == "comments"
    assert form == {
        "action": "load_comments",
        "post_id": "8200004",
        "page": "1",
        "per_page": "50",
        "sort": "new",
    }


def test_empty_block_that_reports_comments_loads_page_one_over_the_api():
    # issue 9: no reliance on the replica-only data-lazy attribute; an empty block with a count is
    # loaded from the API's page 1 (render=auto falls back to the browser if that ends incomplete)
    thread = load("lazy-comments-article").thread(BASE + "/lazy-comments-article/")
    assert not thread.needs_browser and not thread.comments and thread.reported_total == 26
    [(role, form)] = seed_calls("lazy-comments-article", "/lazy-comments-article/")
    assert role == "comments" and form["page"] == "1"


def test_no_comments_thread_is_complete_at_once():
    thread = load("no-comments-article").thread(BASE + "/no-comments-article/")
    assert thread.end_reached and thread.reported_total == 0 and not thread.comments


def test_comment_page_answer_asks_for_the_next_page():
    output = adapter_output(CASES / "answer-load-comments")["thread"]
    assert output["reported_total"] == 1200 and not output["end_reached"]
    assert output["calls"][0]["role"] == "comments"
    assert dict(parse_qsl(output["calls"][0]["body"]))["page"] == "3"
    assert len([c for c in output["comments"] if c["depth"] == 0]) == 50


def test_full_text_answer_is_not_cut():
    [comment] = adapter_output(CASES / "answer-load-comment")["thread"]["comments"]
    assert not comment["truncated"] and "distancing themselves from" in comment["text"]
    assert comment["reply_count"] is None  # the answer omits replies: unknown, not zero


def test_failure_answer_raises():
    # {"success": false, "data": {"message": …}}: not the shape the seed recipe reads (a stale recipe)
    assert "no HTML where the recipe says" in adapter_output(CASES / "answer-failure")["error"]


@pytest.mark.parametrize("body", ["", "   ", b"\x89PNG\r\n\x1a\n\x00\x00"])
def test_empty_or_binary_bodies_raise_not_html(body):
    with pytest.raises((NotHTML, NotAnArticle)):
        boredpanda.parse_article_page(body, BASE + "/x/")


def test_html_without_an_article_raises():
    with pytest.raises(NotAnArticle):
        boredpanda.parse_article_page("<html><body><p>Hello</p></body></html>", BASE + "/x/")


def test_comment_fields_follow_their_selectors_in_odd_markup():
    """The one-pass field lookups of _comment_from mean what the selectors `.class` did: class lists
    split on tabs and line breaks, the first match in document order, the element itself included,
    a comment without a header read from the whole comment (its replies too)."""
    from crawler.sites.boredpanda.comments import parse_comments_html
    from crawler.sites.html import parse_fragment

    html = (
        '<div class="comment" data-comment-id="1" data-parent-id="0" data-depth="0"><!-- note -->'
        '<a class="comment-author-name\tx" href="/u/a">A<b>b</b></a>'
        '<span class=" comment-time\n" datetime="2020-01-02T03:04:05Z">1h</span>'
        '<div class="comment-text">T<p>x</p><a class="read-more" href="#">Read more</a></div>'
        '<div class="comment-replies" data-reply-count="2">'
        '<div class="comment" data-comment-id="2" data-parent-id="1">'
        '<span class="comment-author-role">Mod</span>'
        '<div class="comment-header"><a class="comment-author-name">B</a></div>'
        '<div class="comment-text" data-truncated="true"><a class="read-more x">R</a> yy</div></div></div>'
        '<div class="comment-votes"><span class="downvotes" data-count="3">3</span>'
        '<i class="upvotes" data-count="1,2k"></i></div></div>'
    )
    first, reply = parse_comments_html([parse_fragment(html)], "a", "https://www.boredpanda.com/x/").comments
    assert (first.comment_id, first.parent_id, first.author, first.author_url) == (
        "boredpanda:1",
        None,
        "Ab",
        "https://www.boredpanda.com/u/a",
    )
    assert (first.posted_at, first.relative_time, first.text, first.truncated) == (
        "2020-01-02T03:04:05Z",
        "1h",
        "T\n\nx",
        True,
    )
    assert (first.author_role, first.upvotes, first.downvotes, first.reply_count) == ("Mod", 1200, 3, 2)
    assert (reply.parent_id, reply.author, reply.author_role, reply.text, reply.truncated) == (
        "boredpanda:1",
        "B",
        None,
        "yy",
        True,
    )
    assert (reply.upvotes, reply.reply_count, reply.posted_at) == (None, None, None)
