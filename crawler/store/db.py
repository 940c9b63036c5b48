"""Opening the SQLite database: path resolution, WAL, busy timeout, schema.

WAL lets Datasette or sqlite3 read while a crawl writes; the busy timeout makes a second writer wait
instead of failing at once with "database is locked".
"""

from __future__ import annotations

import os
from pathlib import Path

import sqlite_utils

from crawler.store.schema import ensure_schema

DEFAULT_DB = "output/crawl.db"
ENV_DB = "PANDAWATCH_DB"
BUSY_TIMEOUT_MS = 30_000


def resolve_db_path(setting: str | None = None) -> Path:
    """The database path: an explicit setting, else $PANDAWATCH_DB, else output/crawl.db."""
    return Path(setting or os.environ.get(ENV_DB) or DEFAULT_DB)


def open_db(path: str | os.PathLike, create: bool = True) -> sqlite_utils.Database:
    """Open (and create, with its schema) the database at `path`."""
    path = Path(path)
    if not create and not path.exists():
        raise FileNotFoundError(f"no database at {path} (crawl something first, or pass --db)")
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite_utils.Database(path)
    db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    db.enable_wal()
    # NORMAL is durable in WAL mode except for the last transactions before a power loss; a
    # killed process loses nothing committed.
    db.execute("PRAGMA synchronous = NORMAL")
    ensure_schema(db)
    return db
