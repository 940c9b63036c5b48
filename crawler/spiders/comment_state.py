"""Cheaper re-checks of comment threads: a cut comment's full text is fetched only when it can differ.

A comment the page shows cut ("…" + "Read more") costs one request for its full text. On a re-check
that request is needed only when the comment is new, when its visible (cut) text is no longer the
beginning of the full text we stored (a visible edit), when we never stored its full text, or when
the last full text is older than COMMENTS_FULL_TEXT_RECHECK (an edit hidden past the cut shows up
within that time). Everything else a thread shows — new comments, visible edits, deletions, votes —
comes from the comment pages, which are always fetched. The change rules keep a stored full text when
the page shows its cut start (crawler/store/changes.py), so a skipped fetch records nothing.

The state is read per article from the database the crawl writes to, once, when the article page is
parsed (its id is known only then), read-only.
"""

from __future__ import annotations

import sqlite3
import unicodedata
from datetime import datetime, timedelta

from crawler.dates import now_utc
from crawler.items import CommentItem
from crawler.monitor.schedule import parse_duration
from crawler.store import resolve_db_path
from crawler.text import strip_truncation

STATS = "article_spider/full_text"  # .../skipped: fetches a re-check saved


def _words(text: str | None) -> str:
    return " ".join(unicodedata.normalize("NFC", text or "").split())


def visible_text_unchanged(cut: str | None, stored_full: str | None) -> bool:
    """True when the cut text a page shows is the beginning of the full text stored for it."""
    shown = _words(strip_truncation(cut or ""))
    return bool(shown) and _words(stored_full).startswith(shown)


def full_text_due(comment: CommentItem, known: dict | None, now: datetime, max_age: timedelta) -> bool:
    """Must the full text of this cut comment be fetched in this run? (see the module docstring)"""
    if known is None or known.get("text_truncated") or not known.get("full_text_at"):
        return True
    if not visible_text_unchanged(comment.text, known.get("text")):
        return True
    try:
        fetched = datetime.fromisoformat(known["full_text_at"])
    except (TypeError, ValueError):
        return True
    return now - fetched >= max_age


def load_comment_state(db_path, article_id: str) -> dict[str, dict]:
    """Stored text, cut flag and last full-text time of one article's comments ({} without a database)."""
    path = resolve_db_path(db_path)
    if not path.exists():
        return {}
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        columns = {row[1] for row in conn.execute("PRAGMA table_info(comments)")}
        if "full_text_at" not in columns:
            return {}  # a database from before this column: every cut comment is fetched once more
        rows = conn.execute(
            "SELECT comment_id, text, text_truncated, full_text_at FROM comments "
            "WHERE article_id = ? AND status = 'live'",
            [article_id],
        )
        return {row["comment_id"]: dict(row) for row in rows}
    except sqlite3.Error:
        return {}  # no comments table yet, or a locked file: fetch everything, as a first crawl does
    finally:
        conn.close()


class CommentRecheck:
    """Mixin for the article spider: which full-text follow-ups a re-check can skip."""

    _comment_state: dict[str, dict[str, dict]]

    def stored_comment_state(self, article_id: str) -> dict[str, dict]:
        return load_comment_state(self.settings.get("SQLITE_PATH"), article_id)

    def full_text_needed(self, article_id: str, comment: CommentItem | None) -> bool:
        if comment is None:
            return True
        if not hasattr(self, "_comment_state"):
            self._comment_state = {}
            self._full_text_max_age = parse_duration(self.settings.get("COMMENTS_FULL_TEXT_RECHECK", "1d"))
            self._now = now_utc()
        if article_id not in self._comment_state:
            self._comment_state[article_id] = self.stored_comment_state(article_id)
        known = self._comment_state[article_id].get(comment.comment_id)
        due = full_text_due(comment, known, self._now, self._full_text_max_age)
        if not due:  # the ones fetched count as article_spider/follow_up/full_text
            self.crawler.stats.inc_value(f"{STATS}/skipped")
        return due
