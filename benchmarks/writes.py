"""Timed writes for the store benchmark: the Store (with change tracking) against raw sqlite-utils.

Each function times only the writing: databases are opened (and the Store's schema created) before the
clock starts. The raw baseline gets its rows as plain dicts, built before the clock starts, and writes
them in one transaction with the pragmas of `crawler.store.db.open_db`, into tables sqlite-utils
creates from the rows (so without the Store's indexes).
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any

import sqlite_utils

from crawler.items import ArticleItem, CommentItem
from crawler.settings import STORE_BATCH_SIZE
from crawler.store import Store
from crawler.store.db import BUSY_TIMEOUT_MS


def time_store(items: list[Any], db_path: Path) -> float:
    """Seconds for one Store run writing `items`: start_run, add each, finish_run."""
    store = Store.open(db_path, batch_size=STORE_BATCH_SIZE)
    try:
        started = time.perf_counter()
        store.start_run("benchmark")
        for item in items:
            store.add(item)
        store.finish_run("finished")
        return time.perf_counter() - started
    finally:
        store.close()


def raw_rows(items: list[Any]) -> dict[str, list[dict[str, Any]]]:
    """The items as plain rows for the raw baseline: {"articles": […], "comments": […]}."""
    return {
        "articles": [dataclasses.asdict(i) for i in items if isinstance(i, ArticleItem)],
        "comments": [dataclasses.asdict(i) for i in items if isinstance(i, CommentItem)],
    }


def time_raw(rows: dict[str, list[dict[str, Any]]], db_path: Path) -> float:
    """Seconds for sqlite-utils to upsert `rows` into a fresh database in one transaction."""
    db = sqlite_utils.Database(db_path)
    try:
        db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        db.enable_wal()
        db.execute("PRAGMA synchronous = NORMAL")
        started = time.perf_counter()
        with db.atomic():
            db["articles"].upsert_all(rows["articles"], pk="article_id")
            db["comments"].upsert_all(rows["comments"], pk="comment_id")
        return time.perf_counter() - started
    finally:
        db.close()
