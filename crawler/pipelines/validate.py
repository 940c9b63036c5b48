"""Validate: an item missing what identifies it or what it is about is dropped, never stored half.

Each reason is its own DropItem subclass, so Scrapy's `item_dropped_reasons_count/<Class>` stat says
why; `validate/missing/<type>/<field>` says which field.
"""

from __future__ import annotations

from scrapy.exceptions import DropItem

from crawler.items import ArticleItem, CommentItem, ListItem, ThreadItem

REQUIRED = {
    ArticleItem: ("article_id", "url", "title"),
    # "" is a comment without words (a photo comment); None means the text was not found at all.
    CommentItem: ("comment_id", "article_id", "text"),
    ListItem: ("article_id", "position"),
    ThreadItem: ("article_id",),
}
#: what names a dropped item in the message, the first one it has
IDENTS = ("comment_id", "article_id", "url")


class MissingField(DropItem):
    """The item lacks a required field."""


class ValidatePipeline:
    def __init__(self, stats):
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.stats)

    def process_item(self, item):
        # REQUIRED names dataclasses only: their fields are attributes (no ItemAdapter per comment)
        for name in REQUIRED.get(type(item), ()):
            value = getattr(item, name)
            if value is None or (isinstance(value, str) and not value.strip() and name != "text"):
                kind = type(item).__name__
                self.stats.inc_value(f"validate/missing/{kind}/{name}")
                ident = next((getattr(item, n, None) for n in IDENTS if getattr(item, n, None)), None)
                raise MissingField(f"{kind} {ident or '(no id)'} has no {name}; not stored")
        return item
