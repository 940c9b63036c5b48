"""`crawler run`: what cron calls. Lock, discover, crawl what is due, report, exit code.

One run at a time per database: a second `crawler run` started while one holds the lock exits at once
with EXIT_LOCKED and a message naming the holder. The run's outcome comes from the `runs` rows the
crawls wrote, not from their logs.
"""

from __future__ import annotations

import fcntl
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from crawler.dates import iso, now_utc
from crawler.store import open_db

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_LOCKED = 75  # EX_TEMPFAIL: try again later


class Locked(RuntimeError):
    """Another run holds the database's lock; the message says which."""


class RunLock:
    """An exclusive, non-blocking flock on `<db>.lock`; released when the process exits, even killed."""

    def __init__(self, db_path: Path):
        self.path = Path(str(db_path) + ".lock")
        self.handle = None

    def __enter__(self) -> RunLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+")  # noqa: SIM115 - held for the lock's lifetime
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            handle.close()
            raise Locked(f"another `crawler run` holds {self.path} ({holder}); exiting") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} since {iso(now_utc())}")
        handle.flush()
        self.handle = handle
        return self

    def __exit__(self, *exc) -> None:
        if self.handle:
            self.handle.truncate(0)
            fcntl.flock(self.handle, fcntl.LOCK_UN)
            self.handle.close()


@dataclass
class Report:
    runs: list[dict] = field(default_factory=list)
    discovered: int = 0
    articles: int = 0
    unchanged: int = 0
    changes: dict[str, int] = field(default_factory=dict)
    vote_movers: int = 0
    errors: int = 0
    incomplete: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    failed: bool = False

    def lines(self) -> list[str]:
        kinds = ", ".join(f"{n} {k}" for k, n in sorted(self.changes.items())) or "none"
        runs = ", ".join(f"{r['run_id']} {r['spider']} {r['status']}" for r in self.runs) or "none"
        lines = [
            f"runs: {runs}",
            f"new articles discovered: {self.discovered}",
            f"articles checked: {self.articles} ({self.unchanged} unchanged)",
            f"comment changes: {kinds}",
            f"vote movers: {self.vote_movers}",
            f"errors: {self.errors}",
            f"incomplete threads: {len(self.incomplete)}",
        ]
        lines += [f"  incomplete: {reason}" for reason in self.incomplete]
        lines += [f"warning: {w}" for w in self.warnings]
        return lines


def report(db_path: Path, first_run_id: int) -> Report:
    """What the runs from `first_run_id` on did, read back from the database."""
    db = open_db(db_path)
    try:
        out = Report(
            runs=list(db.query("SELECT * FROM runs WHERE run_id >= ? ORDER BY run_id", [first_run_id]))
        )
        for run in out.runs:
            out.discovered += run["articles_discovered"]
            out.articles += run["articles_seen"] + run["articles_unchanged"]
            out.unchanged += run["articles_unchanged"]
            out.errors += run["requests_failed"]
            out.warnings += json.loads(run["warnings"] or "[]")
            out.failed |= run["status"] in ("failed", "running")
        for row in db.query(
            "SELECT kind, count(*) AS n FROM changes WHERE run_id >= ? AND entity_type = 'comment' "
            "GROUP BY kind",
            [first_run_id],
        ):
            out.changes[row["kind"]] = row["n"]
        # a vote sample is also taken at first sight; a mover is what has a `votes` event
        out.vote_movers = db.execute(
            "SELECT count(DISTINCT entity_id) FROM changes WHERE kind = 'votes' AND run_id >= ?",
            [first_run_id],
        ).fetchone()[0]
        out.incomplete = [
            f"{row['article_url'] or row['article_id']}: {row['reason']}"
            for row in db.query("SELECT * FROM incomplete_threads WHERE run_id >= ?", [first_run_id])
        ]
    finally:
        db.close()
    return out


def next_run_id(db_path: Path) -> int:
    db = open_db(db_path)
    try:
        return (db.execute("SELECT max(run_id) FROM runs").fetchone()[0] or 0) + 1
    finally:
        db.close()


def has_sources(db_path: Path) -> bool:
    db = open_db(db_path)
    try:
        return db.execute("SELECT count(*) FROM sources").fetchone()[0] > 0
    finally:
        db.close()
