"""The watch list and the discovery sources: what `crawler watch` and `crawler sources` change."""

from __future__ import annotations

import sqlite_utils

from crawler.dates import iso, now_utc
from crawler.urls import check_url, fetch_url, url_key


def add(db: sqlite_utils.Database, urls: list[str], source: str = "manual") -> tuple[list[str], list[str]]:
    """Enrol URLs (due at once); returns (added, already watched). Raises BadURL for a bad URL."""
    cleaned = [fetch_url(check_url(u)) for u in urls]
    added, known = [], []
    with db.atomic():
        for url in cleaned:
            key = url_key(url)
            existing = db.execute("SELECT retired_at FROM watchlist WHERE url_key = ?", [key]).fetchone()
            if existing is None:
                db["watchlist"].insert(
                    {"url_key": key, "url": url, "source": source, "added_at": iso(now_utc())}
                )
                added.append(url)
            elif existing[0] is not None:
                # Adding a retired article by hand brings it back, due at once.
                db.execute(
                    "UPDATE watchlist SET retired_at = NULL, retired_reason = NULL, failures = 0, "
                    "next_check_at = NULL WHERE url_key = ?",
                    [key],
                )
                added.append(url)
            else:
                known.append(url)
    return added, known


def remove(db: sqlite_utils.Database, url: str) -> bool:
    with db.atomic():
        return db.execute("DELETE FROM watchlist WHERE url_key = ?", [url_key(url)]).rowcount > 0


def entries(db: sqlite_utils.Database, include_retired: bool = False) -> list[dict]:
    where = "" if include_retired else "WHERE retired_at IS NULL"
    return list(
        db.query(f"SELECT * FROM watchlist {where} ORDER BY next_check_at IS NOT NULL, next_check_at")
    )


def add_source(db: sqlite_utils.Database, url: str) -> bool:
    with db.atomic():
        return (
            db.execute(
                "INSERT OR IGNORE INTO sources (url, added_at) VALUES (?, ?)",
                [check_url(url), iso(now_utc())],
            ).rowcount
            > 0
        )


def remove_source(db: sqlite_utils.Database, url: str) -> bool:
    with db.atomic():
        return db.execute("DELETE FROM sources WHERE url = ?", [url.strip()]).rowcount > 0
