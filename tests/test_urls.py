"""URL canonicalisation: every link form of one article is one identity."""

import pytest

from crawler.urls import BadURL, check_url, fetch_url, url_key

SAME_ARTICLE = [
    "https://www.boredpanda.com/some-article/",
    "https://www.boredpanda.com/some-article",
    "http://www.boredpanda.com/some-article/",
    "https://WWW.BoredPanda.com/some-article/#comments",
    "https://www.boredpanda.com/some-article/?utm_source=facebook&utm_medium=social&fbclid=abc",
    "https://www.boredpanda.com/some-article/?comment_id=2861155",
    "https://www.boredpanda.com/some-article/?media_id=99&utm_campaign=x",
]


@pytest.mark.parametrize("url", SAME_ARTICLE)
def test_link_forms_share_one_identity(url):
    assert url_key(url) == "https://www.boredpanda.com/some-article/"


def test_fetch_url_keeps_scheme_and_meaningful_parameters():
    assert fetch_url("http://example.com/a?page=2&utm_source=x#top") == "http://example.com/a?page=2"


@pytest.mark.parametrize(
    "url",
    ["https://news.example/story/123", "https://news.example/story?x", "https://news.example/a?b=2&a=1&b=1"],
)
def test_the_fetched_url_is_not_rewritten(url):
    assert fetch_url(url) == url


def test_identity_is_canonical_but_the_fetch_is_not():
    assert url_key("https://news.example/story/123") == url_key("https://news.example/story/123/")
    assert url_key("https://news.example/caf%C3%A9?b=1&a=2") == url_key(
        "https://news.example/caf%c3%a9/?a=2&b=1"
    )


def test_parameter_order_does_not_change_identity():
    assert url_key("https://e.com/a/?b=2&a=1") == url_key("https://e.com/a/?a=1&b=2")


def test_file_like_paths_keep_their_form():
    assert fetch_url("https://e.com/feed.xml") == "https://e.com/feed.xml"


@pytest.mark.parametrize(
    "bad", ["file:///etc/passwd", "data:text/html,hi", "ftp://e.com/x", "", "e.com/a", "https://"]
)
def test_non_http_urls_are_refused(bad):
    with pytest.raises(BadURL):
        check_url(bad)
