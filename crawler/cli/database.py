"""The `--db` option and how every `crawler` command opens its database.

One option and one opener for all commands, so that `crawler --db x feed` and `crawler feed --db x`
mean the same, and a missing file, a directory or a file that is not SQLite gives the same one-line
error and exit code in every command (the checks themselves are in crawler.cli.dbfile).
"""

from __future__ import annotations

from pathlib import Path

import click

from crawler.cli.dbfile import DatabaseFileError, check_db_path
from crawler.cli.errors import EnvironmentFault
from crawler.store import open_db, resolve_db_path
from crawler.store.db import StoreError

DB_HELP = "SQLite database (default: $PANDAWATCH_DB, else output/crawl.db in the current directory)."


def db_option(func):
    return click.option("--db", "db_path", type=click.Path(path_type=Path), default=None, help=DB_HELP)(func)


def db_path_of(db_path: Path | None) -> Path:
    """--db of the command, else --db given before the command (`crawler --db x changes`), else the
    environment / default."""
    if db_path is None:
        ctx = click.get_current_context(silent=True)
        root = ctx.find_root() if ctx else None
        db_path = root.params.get("db_path") if root else None
    path = resolve_db_path(str(db_path) if db_path else None)
    ctx = click.get_current_context(silent=True)
    if ctx is not None:
        ctx.meta["pandawatch.db"] = path
    return path


def current_db_path() -> Path | None:
    """The database the running command opened (for error messages)."""
    ctx = click.get_current_context(silent=True)
    return ctx.meta.get("pandawatch.db") if ctx else None


def checked_path(db_path: Path | None, create: bool) -> Path:
    path = db_path_of(db_path)
    try:
        return check_db_path(path, create=create)
    except (FileNotFoundError, StoreError) as exc:
        raise click.ClickException(str(exc)) from exc
    except DatabaseFileError as exc:
        raise EnvironmentFault(str(exc)) from exc


def open_database(db_path: Path | None, must_exist: bool = True):
    path = checked_path(db_path, create=not must_exist)
    try:
        db = open_db(path, create=True)
    except StoreError as exc:  # e.g. read-only, or on a full disk: one line naming the path
        raise click.ClickException(str(exc)) from exc
    ctx = click.get_current_context(silent=True)
    if ctx is not None:
        ctx.call_on_close(db.close)  # no connection outlives its command (CliRunner, --every loops)
    return db
