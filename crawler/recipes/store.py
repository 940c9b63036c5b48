"""The `site_apis` table: one learned recipe per site, with its status (`active` / `stale`).

Written from the crawl process itself (a learned or failed recipe matters to the next article of the
same run), each write its own short BEGIN IMMEDIATE transaction, so it waits behind the store's batch
writer instead of failing.
"""

from __future__ import annotations

import json
import os
from typing import Any
from urllib.parse import urlsplit

import sqlite_utils

from crawler.dates import iso, now_utc
from crawler.store import open_db

TABLE = "site_apis"


def _now() -> str:
    return iso(now_utc())


def load_recipes(path: str | os.PathLike) -> list[dict[str, Any]]:
    """Every row of site_apis, recipe decoded (an unreadable recipe is left out)."""
    db = open_db(path)
    try:
        rows = []
        for row in db.query(f"SELECT * FROM {TABLE} ORDER BY site"):
            try:
                row["recipe"] = json.loads(row["recipe"])
            except (TypeError, ValueError):
                continue
            rows.append(row)
        return rows
    finally:
        db.close()


def _write(path: str | os.PathLike, sql: str, params: list) -> None:
    db: sqlite_utils.Database = open_db(path)
    try:
        db.conn.execute("BEGIN IMMEDIATE")
        db.conn.execute(sql, params)
        db.conn.execute("COMMIT")
    finally:
        db.close()


def save_recipe(
    path: str | os.PathLike, recipe: dict, url: str, seconds: float | None = None, pages: int | None = None
) -> None:
    """Store a freshly learned (or re-checked) recipe as the site's active one."""
    now = _now()
    _write(
        path,
        f"INSERT INTO {TABLE} (site, recipe, learned_from_url, learned_at, verified_at, status, stale_reason,"
        " uses, learn_seconds, learn_browser_pages) VALUES (?, ?, ?, ?, ?, 'active', NULL, 0, ?, ?)"
        " ON CONFLICT(site) DO UPDATE SET recipe = excluded.recipe,"
        " learned_from_url = excluded.learned_from_url, learned_at = excluded.learned_at,"
        " verified_at = excluded.verified_at, status = 'active', stale_reason = NULL, uses = 0,"
        " learn_seconds = excluded.learn_seconds, learn_browser_pages = excluded.learn_browser_pages",
        [recipe["site"], json.dumps(recipe, sort_keys=True), url, now, now, seconds, pages],
    )


def mark_verified(path: str | os.PathLike, site: str) -> None:
    _write(path, f"UPDATE {TABLE} SET verified_at = ?, uses = 0 WHERE site = ?", [_now(), site])


def mark_stale(path: str | os.PathLike, site: str, reason: str) -> None:
    _write(
        path, f"UPDATE {TABLE} SET status = 'stale', stale_reason = ? WHERE site = ?", [reason[:500], site]
    )


def mark_active(path: str | os.PathLike, site: str) -> None:
    """A stale recipe that served a complete thread again (a seed, which is tried again after a
    failure: the site's fault was passing) is active again, verified now."""
    _write(
        path,
        f"UPDATE {TABLE} SET status = 'active', stale_reason = NULL, verified_at = ? WHERE site = ?",
        [_now(), site],
    )


def count_use(path: str | os.PathLike, site: str) -> None:
    _write(path, f"UPDATE {TABLE} SET uses = uses + 1 WHERE site = ?", [site])


def matching(rows: list[dict[str, Any]], url: str) -> dict[str, Any] | None:
    """The row whose recipe was learned on this URL's host and path prefix (the longest prefix)."""
    parts = urlsplit(url)
    best = None
    for row in rows:
        match = row["recipe"].get("match") or {}
        if match.get("host") != parts.netloc or not parts.path.startswith(match.get("path_prefix") or "/"):
            continue
        if best is None or len(match["path_prefix"]) > len(best["recipe"]["match"]["path_prefix"]):
            best = row
    return best


#: learned_from_url of a site's seed recipe (shipped with its adapter, never learned from a page)
SEED_SOURCE = "seed"


def save_seed(path: str | os.PathLike, recipe: dict) -> None:
    """Write a site's seed recipe as its row, unless the site has one (a learned recipe replaces the
    seed; the seed never replaces a learned recipe)."""
    _write(
        path,
        f"INSERT INTO {TABLE} (site, recipe, learned_from_url, learned_at, verified_at, status, stale_reason,"
        " uses) VALUES (?, ?, ?, ?, NULL, 'active', NULL, 0) ON CONFLICT(site) DO NOTHING",
        [recipe["site"], json.dumps(recipe, sort_keys=True), SEED_SOURCE, _now()],
    )
