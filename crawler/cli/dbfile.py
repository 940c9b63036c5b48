"""Checks on the database file before anything opens it: one clear message instead of a traceback.

SQLite reports a corrupt or foreign file only at the first statement ("file is not a database"), a
directory as "unable to open database file", and `open_db` creates missing folders. Checked here, up
front, for `crawler` and `scrapy crawl` alike: a path that is a directory, a file that is not SQLite,
and a folder that does not exist (only the default folder `output/` is created; a typo in `--db` must
not silently create a directory tree).
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from urllib.request import pathname2url

from crawler.store.db import DEFAULT_DB


class DatabaseFileError(Exception):
    """The database path cannot be used; the message says why and what to do."""


def describe(path: Path) -> str:
    """The path as given, with its absolute form when it is relative (where is `output/`?)."""
    return str(path) if path.is_absolute() else f"{path} ({path.resolve()})"


def _check_sqlite_file(path: Path) -> None:
    """Ask SQLite itself whether the file is a database. Never open() the file from Python: closing
    any descriptor of a database file drops every POSIX lock this process holds on it, including
    those of SQLite connections that are open, which can corrupt the database (sqlite.org,
    "How To Corrupt An SQLite Database File", 2.2)."""
    if path.stat().st_size == 0:
        return  # a new, empty database
    uri = f"file:{pathname2url(str(path.resolve()))}?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True)
    except sqlite3.Error as exc:
        raise DatabaseFileError(f"cannot open the database {describe(path)}: {exc}") from exc
    try:
        conn.execute("PRAGMA schema_version").fetchone()
    except sqlite3.OperationalError as exc:
        if "unable to open" in str(exc):
            # A WAL database on a read-only filesystem cannot even be read (no -shm file can be
            # made): not a corrupt file. The write check names the cause ("… is read-only").
            return
        raise DatabaseFileError(f"cannot read the database {describe(path)}: {exc}") from exc
    except sqlite3.DatabaseError as exc:
        raise DatabaseFileError(
            f"{describe(path)} is not a SQLite database (corrupt, or another kind of file: {exc}); "
            "move it away or pass another --db"
        ) from exc
    finally:
        conn.close()


def check_db_path(path: str | os.PathLike, create: bool) -> Path:
    """Raise DatabaseFileError unless `path` is a usable SQLite database (or may become one).

    :param create: a missing file is fine (it will be created); otherwise it is an error.
    """
    path = Path(path)
    if path.is_dir():
        raise DatabaseFileError(f"the database path {describe(path)} is a directory, not a file")
    if path.exists():
        _check_sqlite_file(path)
        return path
    if not create:
        raise FileNotFoundError(
            f"no database at {describe(path)} (crawl something first, or pass --db / set PANDAWATCH_DB)"
        )
    parent = path.parent
    if not parent.exists() and parent != Path(DEFAULT_DB).parent:
        raise DatabaseFileError(f"the folder {describe(parent)} does not exist (create it first)")
    if parent.exists() and not parent.is_dir():
        raise DatabaseFileError(f"{describe(parent)} is not a folder")
    return path
