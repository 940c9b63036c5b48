"""Opening the SQLite database: path resolution, WAL, busy timeout, schema, write transactions.

WAL lets Datasette or sqlite3 read while a crawl writes. Writers take the write lock up front with
`BEGIN IMMEDIATE` (`write_transaction`): a plain `BEGIN` that later writes cannot wait for another
writer (SQLite answers "database is locked" at once to avoid a deadlock, ignoring the busy timeout),
while `BEGIN IMMEDIATE` waits up to the busy timeout. Errors that no waiting cures (disk full, a
read-only file, a directory that cannot be written) become `StoreError`, one line naming the path.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import sqlite_utils

from crawler.store.schema import ensure_schema

DEFAULT_DB = "output/crawl.db"
ENV_DB = "PANDAWATCH_DB"
BUSY_TIMEOUT_MS = 30_000


class StoreError(RuntimeError):
    """The database cannot be written (or opened); the message names the path and the cause."""


def describe(exc: BaseException, path: str | os.PathLike) -> str:
    """One line saying what went wrong with the database at `path`, for people, not for tracebacks."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    message = str(exc)
    if _read_only_filesystem(path):
        return f"{path} is on a read-only filesystem ({message})"
    if name.startswith("SQLITE_READONLY") or "readonly" in message or _read_only_file(path):
        return f"{path} is read-only ({message})"
    if name == "SQLITE_FULL" or "disk is full" in message or getattr(exc, "errno", None) == 28:
        return f"the disk holding {path} is full ({message})"
    if name.startswith("SQLITE_BUSY") or "locked" in message:
        return f"{path} stayed locked by another writer ({message})"
    if name.startswith("SQLITE_CANTOPEN") or "unable to open" in message:
        return f"cannot open {path} ({message})"
    return f"cannot write to {path} ({message})"


def _read_only_filesystem(path: str | os.PathLike) -> bool:
    try:
        return bool(os.statvfs(Path(path).parent).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def _read_only_file(path: str | os.PathLike) -> bool:
    """The database (or its WAL) exists and may not be written (mode, immutable flag, ACL)."""
    files = [Path(path), Path(f"{path}-wal")]
    return any(f.exists() and not os.access(f, os.W_OK) for f in files)


def is_transient(exc: BaseException) -> bool:
    """Errors worth retrying: another writer holds the lock (all else repeats the same way)."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    return name.startswith("SQLITE_BUSY") or name.startswith("SQLITE_LOCKED") or "locked" in str(exc)


def resolve_db_path(setting: str | None = None) -> Path:
    """The database path: an explicit setting, else $PANDAWATCH_DB, else output/crawl.db."""
    return Path(setting or os.environ.get(ENV_DB) or DEFAULT_DB)


def open_db(path: str | os.PathLike, create: bool = True) -> sqlite_utils.Database:
    """Open (and create, with its schema and pending migrations) the database at `path`.

    :raises FileNotFoundError: `create` is False and there is no database at `path`
    :raises StoreError: the database cannot be opened or brought to the current schema
    """
    path = Path(path)
    if not create and not path.exists():
        raise FileNotFoundError(f"no database at {path} (crawl something first, or pass --db)")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite_utils.Database(path)
    except (OSError, sqlite3.Error) as exc:
        raise StoreError(describe(exc, path)) from exc
    try:
        db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            db.enable_wal()
        # NORMAL is durable in WAL mode except for the last transactions before a power loss; a
        # killed process loses nothing committed.
        db.execute("PRAGMA synchronous = NORMAL")
        ensure_schema(db)
    except sqlite3.Error as exc:
        db.close()
        raise StoreError(describe(exc, path)) from exc
    return db


@contextlib.contextmanager
def write_transaction(db: sqlite_utils.Database) -> Iterator[sqlite_utils.Database]:
    """`BEGIN IMMEDIATE` … `COMMIT`, rolled back on any error. Nested sqlite-utils calls
    (`insert_all`, `atomic`) become savepoints inside it."""
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        if db.conn.in_transaction:
            db.conn.execute("ROLLBACK")
        raise
    try:
        db.conn.execute("COMMIT")
    except BaseException:
        if db.conn.in_transaction:
            db.conn.execute("ROLLBACK")
        raise
