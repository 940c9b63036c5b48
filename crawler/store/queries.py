"""Read-side queries used by the CLI: changes since a run or a duration, one article's history.

They read the public tables and views defined in `crawler.store.schema`; nothing here writes.
"""

from __future__ import annotations

import re
from datetime import timedelta

import sqlite_utils

from crawler.dates import iso, now_utc
from crawler.urls import BadURL, url_key

_DURATION = re.compile(r"^(\d+)\s*([smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
KINDS = ("added", "edited", "deleted", "restored", "votes")


class QueryError(ValueError):
    """Bad query input (unknown run, bad duration, unknown article); the message is for the user."""


def parse_since(db: sqlite_utils.Database, since: str | None) -> tuple[str, list]:
    """SQL condition + params for --since: a run id (changes after that run) or a duration (2d)."""
    if since is None:
        latest = db.execute("SELECT max(run_id) FROM changes").fetchone()[0]
        return ("run_id = ?", [latest]) if latest is not None else ("0", [])
    since = since.strip().lower()
    if since.isdigit():
        if not db.execute("SELECT 1 FROM runs WHERE run_id = ?", [int(since)]).fetchone():
            raise QueryError(f"no run {since} in this database (see `crawler runs`)")
        return "run_id > ?", [int(since)]
    match = _DURATION.match(since)
    if not match:
        raise QueryError(f"--since takes a run id (12) or a duration (30m, 6h, 2d, 1w), not {since!r}")
    delta = timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    return "at >= ?", [iso(now_utc() - delta)]


def article_id_for(db: sqlite_utils.Database, url_or_id: str) -> str:
    """The article id behind a URL (any form of it) or an id."""
    row = db.execute("SELECT article_id FROM articles WHERE article_id = ?", [url_or_id]).fetchone()
    if row:
        return row[0]
    try:
        key = url_key(url_or_id)
    except BadURL as exc:
        raise QueryError(f"not an article id or URL: {url_or_id!r}") from exc
    for article_id, url, canonical in db.execute("SELECT article_id, url, canonical_url FROM articles"):
        if key in {url_key(u) for u in (url, canonical) if u}:
            return article_id
    raise QueryError(f"no article {url_or_id} in this database")


def changes(
    db: sqlite_utils.Database,
    since: str | None = None,
    article: str | None = None,
    kinds: tuple[str, ...] = (),
) -> list[dict]:
    where, params = parse_since(db, since)
    if article:
        where += " AND article_id = ?"
        params.append(article_id_for(db, article))
    if kinds:
        where += f" AND kind IN ({','.join('?' * len(kinds))})"
        params.extend(kinds)
    sql = f"SELECT * FROM latest_changes WHERE {where} ORDER BY change_id"
    return list(db.query(sql, params))


def history(db: sqlite_utils.Database, url_or_id: str) -> tuple[dict, list[dict]]:
    article_id = article_id_for(db, url_or_id)
    article = next(db.query("SELECT * FROM articles WHERE article_id = ?", [article_id]))
    events = list(db.query("SELECT * FROM article_timeline WHERE article_id = ?", [article_id]))
    return article, events


def summary(rows: list[dict]) -> dict[str, dict[str, int]]:
    """Counts by entity type and kind, e.g. {"comment": {"added": 3, "deleted": 1}}."""
    counts: dict[str, dict[str, int]] = {}
    for row in rows:
        by_kind = counts.setdefault(row["entity_type"], {})
        by_kind[row["kind"]] = by_kind.get(row["kind"], 0) + 1
    return counts


def fetch_state(db: sqlite_utils.Database, keys: list[str]) -> dict[str, dict]:
    """For conditional GETs: per URL key the last validators, the article and its last complete
    comment load."""
    found: dict[str, dict] = {}
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        marks = ",".join("?" * len(chunk))
        sql = (
            "SELECT h.url_key, h.etag, h.last_modified, h.body_hash, h.article_id, a.post_id, "
            "a.comments_complete, (SELECT max(at) FROM thread_loads t WHERE t.article_id = h.article_id "
            "AND t.complete = 1) AS comments_checked_at "
            f"FROM http_cache h LEFT JOIN articles a USING (article_id) WHERE h.url_key IN ({marks})"
        )
        for row in db.query(sql, chunk):
            found[row["url_key"]] = row
    return found


def due_watch_entries(
    db: sqlite_utils.Database, now: str, limit: int, everything: bool = False
) -> list[dict]:
    """Watch-list entries to crawl now (never checked first, then the most overdue), not retired."""
    where = "retired_at IS NULL" + (
        "" if everything else " AND (next_check_at IS NULL OR next_check_at <= ?)"
    )
    params = [] if everything else [now]
    sql = f"SELECT * FROM watchlist WHERE {where} ORDER BY next_check_at IS NOT NULL, next_check_at LIMIT ?"
    return list(db.query(sql, [*params, limit]))


def known_url_keys(db: sqlite_utils.Database) -> set[str]:
    """URL keys already watched or crawled: discovery enrols only what is not among them."""
    keys = {row["url_key"] for row in db.query("SELECT url_key FROM watchlist")}
    for row in db.query("SELECT url, canonical_url FROM articles"):
        keys.update(url_key(u) for u in (row["url"], row["canonical_url"]) if u)
    return keys
