"""Reading what a benchmark wrote: run stats, stored comments and history rows, straight from SQLite.

Read with the standard library's sqlite3, apart from the code under test, so a benchmark cannot be
fooled by the store's own view of the data.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crawler.store.schema import HISTORY_TABLES


@dataclass
class ThreadSummary:
    """How many comments an article crawl stored, and how many articles have a complete thread."""

    comments: int
    articles: int
    complete: int


def query(db_path: Path, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """All rows of one SELECT, on a connection opened and closed for it."""
    conn = sqlite3.connect(db_path)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def last_run(db_path: Path) -> tuple[int, dict[str, Any]]:
    """(run_id, Scrapy stats) of the newest run in the database."""
    rows = query(db_path, "SELECT run_id, stats FROM runs ORDER BY run_id DESC LIMIT 1")
    if not rows:
        raise LookupError(f"no run recorded in {db_path}")
    run_id, stats = rows[0]
    return run_id, json.loads(stats or "{}")


def history_rows(db_path: Path, run_id: int | None = None) -> dict[str, int]:
    """Rows of each history table: all of them, or only those of `run_id`."""
    where, params = ("WHERE run_id = ?", (run_id,)) if run_id is not None else ("", ())
    return {
        table: query(db_path, f"SELECT count(*) FROM {table} {where}", params)[0][0]
        for table in HISTORY_TABLES
    }


def thread_summary(db_path: Path) -> ThreadSummary:
    """Comments stored, articles stored, and articles whose thread was loaded completely."""
    comments = query(db_path, "SELECT count(*) FROM comments")[0][0]
    articles, complete = query(
        db_path, "SELECT count(*), count(*) FILTER (WHERE comments_complete = 1) FROM articles"
    )[0]
    return ThreadSummary(comments, articles, complete)


def stored_comments(db_path: Path) -> set[tuple[Any, ...]]:
    """Every stored comment as it would be compared between two crawls of the same thread.

    All columns of what was read from the site. The time of a comment the page dates relatively
    ("3 days ago") is estimated from the moment it was read, so it differs between two crawls by the
    seconds between them: it is compared only when the page gave the exact time.
    """
    return set(
        query(
            db_path,
            "SELECT comment_id, article_id, parent_id, depth, author, author_role, author_url, "
            "CASE WHEN posted_at_precision = 'exact' THEN posted_at END, posted_at_precision, text, "
            "text_truncated, content_hash, upvotes, downvotes, reply_count, status FROM comments",
        )
    )


def thread_loads_so_far(db_path: Path) -> int | None:
    """Rows of `thread_loads` committed so far, read during a crawl; None when not readable yet.

    Read-only and with a short timeout, so the reader never holds up the crawl writing (the database
    is in WAL mode: a reader sees the last committed transaction and does not block the writer).
    """
    if not db_path.exists():
        return None
    try:
        conn = sqlite3.connect(f"{db_path.as_uri()}?mode=ro", uri=True, timeout=0.05)
        try:
            return conn.execute("SELECT count(*) FROM thread_loads").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error:  # the schema is not created yet, or the database is busy
        return None
