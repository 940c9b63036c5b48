"""Checks on the database file before anything opens it: one clear message instead of a traceback.

SQLite reports a corrupt or foreign file only at the first statement ("file is not a database"), a
directory as "unable to open database file", and `open_db` creates missing folders. Checked here, up
front, for `crawler` and `scrapy crawl` alike: a path that is a directory, a file that is not SQLite,
and a folder that does not exist (only the default folder `output/` is created; a typo in `--db` must
not silently create a directory tree).
"""

from __future__ import annotations

import os
from pathlib import Path

from crawler.store.db import DEFAULT_DB

SQLITE_HEADER = b"SQLite format 3\x00"


class DatabaseFileError(Exception):
    """The database path cannot be used; the message says why and what to do."""


def describe(path: Path) -> str:
    """The path as given, with its absolute form when it is relative (where is `output/`?)."""
    return str(path) if path.is_absolute() else f"{path} ({path.resolve()})"


def check_db_path(path: str | os.PathLike, create: bool) -> Path:
    """Raise DatabaseFileError unless `path` is a usable SQLite database (or may become one).

    :param create: a missing file is fine (it will be created); otherwise it is an error.
    """
    path = Path(path)
    if path.is_dir():
        raise DatabaseFileError(f"the database path {describe(path)} is a directory, not a file")
    if path.exists():
        try:
            with open(path, "rb") as handle:
                header = handle.read(len(SQLITE_HEADER))
        except OSError as exc:
            raise DatabaseFileError(f"cannot read the database {describe(path)}: {exc.strerror}") from exc
        if header and header != SQLITE_HEADER:
            raise DatabaseFileError(
                f"{describe(path)} is not a SQLite database (corrupt, or another kind of file); "
                "move it away or pass another --db"
            )
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
