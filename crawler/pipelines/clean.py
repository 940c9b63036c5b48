"""Clean: normalise text (NFC, whitespace, page furniture), dates to UTC, URLs to canonical form.

Everything later (validation, deduplication, change detection) compares what this pipeline produced,
so it must be deterministic: the same page always cleans to the same item.
"""

from __future__ import annotations

from itemadapter import ItemAdapter

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
    def process_item(self, item):
        adapter = ItemAdapter(item)
        if isinstance(item, ArticleItem):
            self._article(adapter)
        elif isinstance(item, CommentItem):
            self._comment(adapter)
        elif isinstance(item, ListItem):
            adapter["title"] = _line(adapter.get("title"))
            adapter["description"] = clean_text(adapter.get("description"))
        return item

    def _article(self, a: ItemAdapter) -> None:
        for name in ("title", "author", "description"):
            a[name] = _line(a.get(name))
        a["body_text"] = clean_text(a.get("body_text"))
        a["canonical_url"] = _url(a.get("canonical_url")) or _url(a.get("url"))
        a["tags"] = list(dict.fromkeys(t for t in (_line(t) for t in a.get("tags") or []) if t))
        a["image_credits"] = list(
            dict.fromkeys(c for c in (_line(c) for c in a.get("image_credits") or []) if c)
        )
        a["published_at"] = parse_absolute(a.get("published_at"))
        a["modified_at"] = parse_absolute(a.get("modified_at"))

    def _comment(self, c: ItemAdapter) -> None:
        for name in ("author", "author_role", "relative_time"):
            c[name] = _line(c.get(name))
        c["text"] = clean_text(c.get("text"))
        exact = parse_absolute(c.get("posted_at"))
        if exact:
            c["posted_at"], c["posted_at_precision"] = exact, "exact"
        elif c.get("fetched_at"):
            c["posted_at"], c["posted_at_precision"] = estimate_relative(
                c.get("relative_time"), c["fetched_at"]
            )
