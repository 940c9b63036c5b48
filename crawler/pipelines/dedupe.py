"""Dedupe: each article, list item and comment is passed on once per run.

A comment can arrive several times in one run (a page repeating its comment block, a reply shown
inline and again by the replies endpoint). The first copy goes on; a later copy goes on only when it
brings the full text of a comment first seen cut off.
"""

from __future__ import annotations

from scrapy.exceptions import DropItem

from crawler.items import ArticleItem, CommentItem, ListItem


class Duplicate(DropItem):
    """Already passed on in this run."""


class DedupePipeline:
    def __init__(self, stats):
        self.stats = stats
        self.articles: set[str] = set()
        self.list_items: set[tuple[str, int]] = set()
        self.comments: dict[str, bool] = {}  # id -> seen only cut so far

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.stats)

    def _duplicate(self, kind: str, ident) -> None:
        self.stats.inc_value(f"dedupe/duplicate/{kind}")
        raise Duplicate(f"duplicate {kind} {ident}", log_level="DEBUG")

    def process_item(self, item):
        # our items are dataclasses: attributes, no ItemAdapter per item (one per comment of a thread)
        if isinstance(item, CommentItem):
            key, cut = item.comment_id, bool(item.truncated)
            if key in self.comments and not (self.comments[key] and not cut):
                self._duplicate("comment", key)
            self.comments[key] = cut
        elif isinstance(item, ArticleItem):
            key = item.article_id
            if key in self.articles:
                self._duplicate("article", key)
            self.articles.add(key)
        elif isinstance(item, ListItem):
            key = (item.article_id, item.position)
            if key in self.list_items:
                self._duplicate("list_item", key)
            self.list_items.add(key)
        return item
