"""What a user may type to name an article or a comment, and the stored id it means.

The CLI shows ids without their site prefix (`article 8200001`, `comment 820000100003`), so those must
be accepted back, as must the full id (`boredpanda:8200001`), the article's slug
(`north-korean-troops-desert-frontlines`) and its URL in any form (tracking parameters, `#comments`,
http or https, a comment permalink).
"""

from __future__ import annotations

from urllib.parse import urlsplit

import sqlite_utils

from crawler.store.queries import QueryError, article_id_for
from crawler.urls import BadURL, url_key


def _slug(url: str | None) -> str | None:
    if not url:
        return None
    segments = [s for s in urlsplit(url).path.split("/") if s]
    # a list article's page N: /slug/2/
    while segments and segments[-1].isdigit() and len(segments) > 1:
        segments.pop()
    return segments[-1].lower() if segments else None


def _one(kind: str, text: str, found: list[str]) -> str | None:
    found = sorted(set(found))
    if len(found) > 1:
        raise QueryError(f"{text!r} names {len(found)} {kind}s ({', '.join(found[:5])}); give the full id")
    return found[0] if found else None


def find_article(db: sqlite_utils.Database, text: str) -> str | None:
    """The article id `text` names, or None."""
    text = text.strip()
    if db.execute("SELECT 1 FROM articles WHERE article_id = ?", [text]).fetchone():
        return text
    if "://" in text:
        try:
            url_key(text)
        except BadURL:
            return None
        try:
            return article_id_for(db, text)
        except QueryError:
            return None
    by_id = [
        r[0]
        for r in db.execute(
            "SELECT article_id FROM articles WHERE post_id = ? OR article_id LIKE ?", [text, f"%:{text}"]
        )
    ]
    found = _one("article", text, by_id)
    if found:
        return found
    slug = text.strip("/").lower()
    by_slug = [
        article_id
        for article_id, url, canonical in db.execute("SELECT article_id, url, canonical_url FROM articles")
        if slug in {_slug(url), _slug(canonical)}
    ]
    return _one("article", text, by_slug)


def find_comment(db: sqlite_utils.Database, text: str) -> str | None:
    """The comment id `text` names (full id, or the id without its site prefix), or None."""
    text = text.strip()
    if "://" in text:
        # a comment permalink: …/article/#comment-123
        fragment = urlsplit(text).fragment
        text = fragment.removeprefix("comment-") if fragment.startswith("comment-") else ""
        if not text:
            return None
    if db.execute("SELECT 1 FROM comments WHERE comment_id = ?", [text]).fetchone():
        return text
    found = [
        r[0] for r in db.execute("SELECT comment_id FROM comments WHERE comment_id LIKE ?", [f"%:{text}"])
    ]
    return _one("comment", text, found)


def article(db: sqlite_utils.Database, text: str) -> str:
    """The article id `text` names; QueryError (a message for the user) when none."""
    found = find_article(db, text)
    if found is None:
        raise QueryError(
            f"no article {text!r} in this database (give its URL, slug or id as `crawler changes` shows it)"
        )
    return found


def entity(db: sqlite_utils.Database, text: str) -> tuple[str, str]:
    """('article', id) or ('comment', id) for what `text` names; QueryError when neither."""
    if "://" in text and "#comment-" in text:
        # a comment permalink names the comment, not its article
        found = find_comment(db, text)
        if found is not None:
            return "comment", found
    found = find_article(db, text)
    if found is not None:
        return "article", found
    found = find_comment(db, text) if "://" not in text else None
    if found is not None:
        return "comment", found
    raise QueryError(
        f"no article or comment {text!r} in this database "
        "(give a URL, a slug, or an id as `crawler changes` shows it)"
    )
