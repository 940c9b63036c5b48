"""Clean: normalise text (NFC, whitespace, page furniture), dates to UTC, URLs to canonical form.

Everything later (validation, deduplication, change detection) compares what this pipeline produced,
so it must be deterministic: the same page always cleans to the same item.
"""

from __future__ import annotations

from crawler.dates import estimate_relative, parse_absolute
from crawler.items import ArticleItem, CommentItem, ListItem
from crawler.text import clean_text, normalise_whitespace
from crawler.urls import BadURL, fetch_url


def _line(value: str | None) -> str | None:
    """A one-line field (title, author): whitespace collapsed, None when nothing is left."""
    if value is None:
        return None
    value = " ".join(normalise_whitespace(value).split())
    return value or None


def _url(value: str | None) -> str | None:
    try:
        return fetch_url(value) if value else None
    except BadURL:
        return None


class CleanPipeline:
    """Our items are dataclasses: their fields are read and set as attributes (building an ItemAdapter
    per item and field costs more than the cleaning itself, once per comment of every thread)."""

    def process_item(self, item):
        if isinstance(item, CommentItem):
            self._comment(item)
        elif isinstance(item, ArticleItem):
            self._article(item)
        elif isinstance(item, ListItem):
            item.title = _line(item.title)
            item.description = clean_text(item.description)
        return item

    def _article(self, a: ArticleItem) -> None:
        a.title, a.author, a.description = _line(a.title), _line(a.author), _line(a.description)
        a.body_text = clean_text(a.body_text)
        a.canonical_url = _url(a.canonical_url) or _url(a.url)
        a.tags = list(dict.fromkeys(t for t in (_line(t) for t in a.tags or []) if t))
        a.image_credits = list(dict.fromkeys(c for c in (_line(c) for c in a.image_credits or []) if c))
        a.published_at = parse_absolute(a.published_at)
        a.modified_at = parse_absolute(a.modified_at)

    def _comment(self, c: CommentItem) -> None:
        c.author, c.author_role = _line(c.author), _line(c.author_role)
        c.relative_time = _line(c.relative_time)
        c.text = clean_text(c.text)
        exact = parse_absolute(c.posted_at)
        if exact:
            c.posted_at, c.posted_at_precision = exact, "exact"
        elif c.fetched_at:
            c.posted_at, c.posted_at_precision = estimate_relative(c.relative_time, c.fetched_at)
