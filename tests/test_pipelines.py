"""Clean, validate and dedupe pipelines, each built by Scrapy's own get_crawler."""

from __future__ import annotations

import pytest
from scrapy.exceptions import DropItem
from scrapy.utils.test import get_crawler

from crawler.items import ArticleItem, CommentItem, ListItem
from crawler.pipelines.clean import CleanPipeline
from crawler.pipelines.dedupe import DedupePipeline, Duplicate
from crawler.pipelines.validate import MissingField, ValidatePipeline


def build(cls):
    crawler = get_crawler()
    crawler.stats.open_spider()
    return cls.from_crawler(crawler) if hasattr(cls, "from_crawler") else cls(), crawler.stats


def test_clean_article_fields():
    pipeline, _ = build(CleanPipeline)
    item = ArticleItem(
        url="https://www.boredpanda.com/a/",
        article_id="boredpanda:1",
        title="  Cafe\u0301   title \n",
        canonical_url="http://www.boredpanda.com/a?utm_source=x#c",
        body_text="One.\n\nADVERTISEMENT\n\nShare on Facebook\n\nTwo.",
        tags=[" cats", "cats", "dogs "],
        published_at="2024-10-25T10:00:00+02:00",
    )
    pipeline.process_item(item)
    assert item.title == "Café title"
    assert (
        item.canonical_url == "http://www.boredpanda.com/a"
    )  # tracking and fragment gone, nothing rewritten
    assert item.body_text == "One.\n\nTwo."
    assert item.tags == ["cats", "dogs"]
    assert item.published_at == "2024-10-25T08:00:00+00:00"


def test_clean_comment_relative_time_becomes_an_estimate():
    pipeline, _ = build(CleanPipeline)
    item = CommentItem(
        comment_id="boredpanda:1",
        text="Hi  there DotsCreated by potrace 1.15, written by Peter Selinger 2001-2017",
        relative_time="3 hours ago",
        fetched_at="2026-11-26T10:00:00+00:00",
    )
    pipeline.process_item(item)
    assert item.text == "Hi there"
    assert (item.posted_at, item.posted_at_precision) == ("2026-11-26T07:00:00+00:00", "hour")


def test_clean_comment_exact_time_wins():
    pipeline, _ = build(CleanPipeline)
    item = CommentItem(
        comment_id="x:1",
        text="a",
        posted_at="2024-09-01T10:00:00Z",
        relative_time="2 months ago",
        fetched_at="2026-11-26T10:00:00+00:00",
    )
    pipeline.process_item(item)
    assert (item.posted_at, item.posted_at_precision) == ("2024-09-01T10:00:00+00:00", "exact")


@pytest.mark.parametrize(
    "item, field",
    [
        (CommentItem(comment_id="x:1", article_id="x:a", text=None), "text"),
        (CommentItem(comment_id="", article_id="x:a", text="hi"), "comment_id"),
        (ArticleItem(url="https://e.com/a/", article_id="x:a", title=None), "title"),
        (ListItem(article_id="x:a", position=None), "position"),
    ],
)
def test_validate_drops_items_missing_a_required_field(item, field):
    pipeline, stats = build(ValidatePipeline)
    with pytest.raises(MissingField, match=field):
        pipeline.process_item(item)
    assert stats.get_value(f"validate/missing/{type(item).__name__}/{field}") == 1


def test_validate_keeps_a_comment_without_words():
    pipeline, _ = build(ValidatePipeline)
    item = CommentItem(comment_id="x:1", article_id="x:a", text="")  # a photo comment
    assert pipeline.process_item(item) is item


def test_dedupe_comments_within_a_run():
    pipeline, stats = build(DedupePipeline)
    pipeline.process_item(CommentItem(comment_id="x:1", text="cut…", truncated=True))
    pipeline.process_item(CommentItem(comment_id="x:1", text="full text", truncated=False))  # upgrade passes
    with pytest.raises(Duplicate):
        pipeline.process_item(CommentItem(comment_id="x:1", text="full text", truncated=False))
    with pytest.raises(Duplicate):
        pipeline.process_item(CommentItem(comment_id="x:1", text="cut…", truncated=True))
    pipeline.process_item(CommentItem(comment_id="x:2", text="other"))
    assert stats.get_value("dedupe/duplicate/comment") == 2
    assert issubclass(Duplicate, DropItem)


def test_dedupe_articles_and_list_items():
    pipeline, stats = build(DedupePipeline)
    pipeline.process_item(ArticleItem(url="https://e.com/a/", article_id="x:a"))
    with pytest.raises(Duplicate):
        pipeline.process_item(ArticleItem(url="https://e.com/a/?utm_source=x", article_id="x:a"))
    pipeline.process_item(ListItem(article_id="x:a", position=1))
    with pytest.raises(Duplicate):
        pipeline.process_item(ListItem(article_id="x:a", position=1))
    assert stats.get_value("dedupe/duplicate/article") == 1
