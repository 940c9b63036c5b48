"""`crawler run`: what cron calls. Lock, discover, crawl what is due, report, exit code.

One run at a time per database: a second `crawler run` started while one holds the lock exits at once
with EXIT_LOCKED and a message naming the holder. The run's outcome comes from the `runs` rows the
crawls wrote, not from their logs.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
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
    rejected: dict[str, int] = field(default_factory=dict)
    articles: int = 0
    unchanged: int = 0
    first_seen: int = 0
    changes: dict[str, int] = field(default_factory=dict)
    vote_movers: int = 0
    errors: int = 0
    failed_urls: dict[str, str] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)
    incomplete: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    failed: bool = False

    def lines(self) -> list[str]:
        kinds = ", ".join(f"{n} {k}" for k, n in sorted(self.changes.items())) or "none"
        runs = ", ".join(f"{r['run_id']} {r['spider']} {r['status']}" for r in self.runs) or "none"
        rejected = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in sorted(self.rejected.items()))
        lines = [
            f"runs: {runs}",
            f"new articles discovered: {self.discovered}" + (f" (rejected: {rejected})" if rejected else ""),
            f"articles checked: {self.articles} ({self.unchanged} unchanged)",
            f"comment changes: {kinds}",
        ]
        if self.first_seen:
            lines.append(
                f"  first-seen comments: {self.first_seen} (stored with their new article: part of the "
                "article's `added` event, not comment changes)"
            )
        lines += [f"vote movers: {self.vote_movers}", f"errors: {self.errors}"]
        lines += [f"  failed: {url}: {why}" for url, why in self.failed_urls.items()]
        lines += [f"  skipped: {n} page(s) {k.replace('_', ' ')}" for k, n in sorted(self.skipped.items())]
        lines.append(f"incomplete threads: {len(self.incomplete)}")
        lines += [f"  incomplete: {reason}" for reason in self.incomplete]
        lines += [f"warning: {w}" for w in self.warnings]
        return lines


def _cli_hint(reason: str) -> str:
    """Reasons are written for `scrapy crawl` (`-a render=browser`); `crawler run` takes --render."""
    return _RENDER_HINT.sub(lambda m: f"--render {m.group(1)}", reason)


_RENDER_HINT = re.compile(r"(?:-a )?\brender=(\w+)")


def report(db_path: Path, crawls: list) -> Report:
    """What this `crawler run`'s own crawls did, read back from the database.

    `crawls` are the CrawlOutcome of each `scrapy crawl` this run started: only their run ids count,
    so a `crawler crawl` running at the same time does not show up in this report.
    """
    run_ids = [c.run_id for c in crawls if c.run_id is not None]
    out = Report()
    for crawl in crawls:
        out.failed_urls.update(crawl.failed_urls)
        out.failed |= crawl.run_id is None
        for key, n in crawl.summary.get("skipped", {}).items():
            if key.startswith("article_spider/skipped/"):
                reason = key.rsplit("/", 1)[1]
                out.skipped[reason] = out.skipped.get(reason, 0) + n
    if not run_ids:
        return out
    marks = ",".join("?" * len(run_ids))
    db = open_db(db_path)
    try:
        out.runs = list(db.query(f"SELECT * FROM runs WHERE run_id IN ({marks}) ORDER BY run_id", run_ids))
        for run in out.runs:
            out.discovered += run["articles_discovered"]
            out.articles += run["articles_seen"] + run["articles_unchanged"]
            out.unchanged += run["articles_unchanged"]
            out.errors += run["requests_failed"]
            out.warnings += json.loads(run["warnings"] or "[]")
            out.failed |= run["status"] in ("failed", "running")
            for key, n in json.loads(run["stats"] or "{}").items():
                if key.startswith("discover/rejected/"):
                    reason = key.rsplit("/", 1)[1]
                    out.rejected[reason] = out.rejected.get(reason, 0) + n
        for row in db.query(
            "SELECT kind, count(*) AS n FROM changes WHERE run_id IN "
            f"({marks}) AND entity_type = 'comment' GROUP BY kind",
            run_ids,
        ):
            out.changes[row["kind"]] = row["n"]
        out.first_seen = db.execute(
            f"SELECT count(*) FROM comments WHERE first_seen_run_id IN ({marks})", run_ids
        ).fetchone()[0] - out.changes.get("added", 0)
        # a vote sample is also taken at first sight; a mover is what has a `votes` event
        out.vote_movers = db.execute(
            f"SELECT count(DISTINCT entity_id) FROM changes WHERE kind = 'votes' AND run_id IN ({marks})",
            run_ids,
        ).fetchone()[0]
        out.incomplete = [
            f"{row['article_url'] or row['article_id']}: {_cli_hint(row['reason'] or '')}"
            for row in db.query(f"SELECT * FROM incomplete_threads WHERE run_id IN ({marks})", run_ids)
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
