"""Why an adapter refused a page: not HTML at all, or HTML that is not an article page.

The spider counts and logs both as skipped pages; they live here so every adapter raises the same
exceptions and the spider catches them without knowing any one site.
"""

from __future__ import annotations

from crawler.sites.html import NotHTML


class NotAnArticle(ValueError):
    """The page is HTML but not an article page; the message says why."""


class BadAnswer(ValueError):
    """A comment-API (or comment page) answer that is not what the adapter expects; says what."""


__all__ = ["BadAnswer", "NotAnArticle", "NotHTML"]
