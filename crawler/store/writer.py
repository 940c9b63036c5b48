"""Batched, transactional writes of crawled items, with change tracking.

Items are buffered and written in batches, one transaction per batch (never one per item). Inside a
batch each item is compared once with its stored row by the rules in `crawler.store.changes`, and the
current row, its versions, its change events and vote samples are written in that same transaction:
a crawl killed half-way leaves whole batches or nothing, never an event without its row.

Nothing is lost on the way: a batch leaves the buffer, and the run's counters move, only after its
COMMIT. A batch that fails is retried (another writer holding the lock is waited for, a bounded number
of times); when it still fails the store is *failed*: that batch and every later item go to a JSON-lines
spill file beside the database (else in the temp directory) for `crawler ingest`, and the run ends
`failed`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import random
import socket
import sqlite3
import tempfile
import time
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import sqlite_utils
from sqlite_utils.db import jsonify_if_needed

from crawler.dates import iso, now_utc
from crawler.items import ArticleItem, CommentItem, DiscoveredItem, FetchItem, ListItem, ThreadItem
from crawler.monitor import checks
from crawler.monitor.checks import DEFAULT_THRESHOLDS, Thresholds
from crawler.monitor.schedule import DEFAULT_POLICY, Policy
from crawler.store import changes as rules
from crawler.store.db import StoreError, describe, is_transient, open_db, write_transaction
from crawler.urls import url_key

logger = logging.getLogger(__name__)
SQLITE_MAX_PARAMS = 500
#: item types a spill file may hold, by name (what `crawler ingest` rebuilds)
ITEM_TYPES = {
    cls.__name__: cls for cls in (ArticleItem, CommentItem, DiscoveredItem, FetchItem, ListItem, ThreadItem)
}
#: a 'running' run without a pid (written before runs had one) is reaped once this old
REAP_UNOWNED_AFTER = timedelta(days=1)
#: Scrapy finish reasons that mean "stopped by a limit": what was stored is right, but not all of it
LIMIT_REASONS = (
    "closespider_timeout",
    "closespider_itemcount",
    "closespider_pagecount",
    "closespider_errorcount",
)
#: finish reasons of a run stopped by Ctrl+C / SIGTERM
INTERRUPT_REASONS = ("shutdown", "interrupted")


def process_alive(pid: int) -> bool:
    """Whether a process with this pid exists on this host and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def item_to_json(item: Any) -> str:
    """One spill-file line: the item's type and fields."""
    return json.dumps({"type": type(item).__name__, "item": _as_dict(item)}, ensure_ascii=False, default=str)


def item_from_json(line: str) -> Any:
    """The item a spill-file line holds. :raises ValueError: not a line `item_to_json` wrote"""
    record = json.loads(line)
    if not isinstance(record, dict) or record.get("type") not in ITEM_TYPES:
        raise ValueError(f"not a spilled item: {line[:80]!r}")
    cls = ITEM_TYPES[record["type"]]
    names = {f.name for f in dataclasses.fields(cls)}
    item = cls(**{k: v for k, v in record["item"].items() if k in names})
    for name, value in record["item"].items():
        if name not in names:
            setattr(item, name, value)  # stamps outside the fields (an evidence record)
    return item


#: Values SQLite takes as they are (sqlite-utils converts the rest: JSON for dicts and lists, …).
_PLAIN = frozenset({str, int, float, bool, bytes, type(None)})


def _sql_value(value: Any) -> Any:
    """A value as sqlite-utils' insert_all would write it."""
    return value if type(value) in _PLAIN else jsonify_if_needed(value)


def _chunks(values: list, size: int = SQLITE_MAX_PARAMS) -> Iterable[list]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _as_dict(item: Any) -> dict:
    """A shallow dict of an item. Our items are flat dataclasses: copying their __dict__ is ~50x
    cheaper than ItemAdapter.asdict (which recurses into every value), the store's largest cost."""
    if dataclasses.is_dataclass(item):
        return dict(vars(item))
    # imported here: itemadapter imports Scrapy, which the `crawler` commands that only read the
    # database (and `crawler ingest`) would otherwise load on every start (~0.5 s)
    from itemadapter import ItemAdapter

    return ItemAdapter(item).asdict()


class Store:
    """The crawl's connection to the database: one run, buffered items, batched transactions."""

    def __init__(
        self,
        db: sqlite_utils.Database,
        batch_size: int = 500,
        policy: Policy = DEFAULT_POLICY,
        thresholds: Thresholds = DEFAULT_THRESHOLDS,
        mass_delete: float = 0.3,
        max_failures: int = 5,
        rng: random.Random | None = None,
        retries: int = 4,
        retry_delay: float = 1.0,
        spill_dir: str | os.PathLike | None = None,
    ):
        self.db = db
        self.batch_size = batch_size
        self.policy = policy
        self.thresholds = thresholds
        #: a complete load missing more than this share of an article's live comments deletes nothing
        self.mass_delete = mass_delete
        self.rng = rng or random.Random()
        #: consecutive failed fetches after which a watch-list entry retires
        self.max_failures = max_failures
        self.warnings: list[str] = []
        self.buffer: list[Any] = []
        #: comment ids counted in committed batches, and in the batch being written
        self._counted_comment_ids: set[str] = set()
        self._batch_comment_ids: set[str] = set()
        self._column_cache: dict[str, list[str]] = {}
        self.run_id: int | None = None
        self.status: str | None = None
        self.counts = {
            "articles": 0,
            "comments": 0,
            "list_items": 0,
            "threads_complete": 0,
            "threads_incomplete": 0,
            "threads_unread": 0,
            "changes": 0,
            "unchanged": 0,
            "discovered": 0,
        }
        self.notes: list[str] = []
        #: a failed write is retried this many times (waiting retry_delay, doubling) before the store fails
        self.retries = retries
        self.retry_delay = retry_delay
        self.path = Path(db.conn.execute("PRAGMA database_list").fetchone()[2] or "database")
        self.spill_dir = Path(spill_dir) if spill_dir else None
        #: set when a write failed for good: the one-line reason; later items go to the spill file
        self.error: str | None = None
        self.spill_path: Path | None = None
        self.spilled = 0
        self._spill_handle = None
        #: seconds the slowest batch transaction took (lock waits included)
        self.slowest_batch = 0.0
        self.costliest_batch = 0.0

    @classmethod
    def open(cls, path, batch_size: int = 500, **options: Any) -> Store:
        return cls(open_db(path), batch_size=batch_size, **options)

    # -- transactions ----------------------------------------------------------------------------

    def _transaction(self, work, *args) -> None:
        """Run `work(*args)` in one BEGIN IMMEDIATE transaction; retry a bounded number of times.

        When the connection is already inside a transaction (the distributed ingester commits a
        whole batch of results, its run rows and its Redis bookkeeping as one), the work joins that
        transaction: the owner commits, rolls back and retries, so an error propagates unchanged
        and nothing is counted, spilled or committed here.

        :raises StoreError: still failing after the retries (the message names the path)
        """
        if self.db.conn.in_transaction:
            work(*args)
            return
        delay = self.retry_delay
        for attempt in range(self.retries + 1):
            try:
                with write_transaction(self.db):
                    work(*args)
                return
            except sqlite3.Error as exc:
                last = exc
                if attempt == self.retries:
                    break
                logger.warning(
                    "Write to %s failed (%s), retry %d of %d in %.1f s",
                    self.path,
                    exc,
                    attempt + 1,
                    self.retries,
                    delay,
                )
                # a locked database is worth the full wait; disk full or read-only rarely heal
                time.sleep(delay if is_transient(exc) else min(delay, 0.2))
                delay *= 2
        raise StoreError(describe(last, self.path)) from last

    # -- runs --------------------------------------------------------------------------------

    def start_run(self, spider: str, args: dict | None = None) -> int:
        """Record a new run (owned by this process) and reap runs whose process is gone.

        :raises StoreError: the database cannot be written (nothing was crawled yet)
        """
        row = {
            "spider": spider,
            "started_at": iso(now_utc()),
            "status": "running",
            "args": json.dumps(args or {}, default=str),
            "pid": os.getpid(),
            "host": socket.gethostname(),
        }

        def insert() -> None:
            self.run_id = self.db["runs"].insert(row).last_pk
            self._reap_runs()

        self._transaction(insert)
        return self.run_id

    def resume_run(self, run_id: int, counts: dict | None = None, notes=(), warnings=()) -> None:
        """Continue run `run_id` (a run that spilled its items): what it committed is in `counts`.

        :raises StoreError: the database cannot be written
        :raises KeyError: there is no such run
        """
        if not self.db.execute("SELECT 1 FROM runs WHERE run_id = ?", [run_id]).fetchone():
            raise KeyError(f"no run {run_id}")
        self.run_id = run_id
        self.counts.update({k: v for k, v in (counts or {}).items() if k in self.counts})
        self.notes, self.warnings = list(notes), list(warnings)
        self._transaction(
            lambda: self.db.execute(
                "UPDATE runs SET status = 'running', pid = ?, host = ? WHERE run_id = ?",
                [os.getpid(), socket.gethostname(), run_id],
            )
        )

    def _reap_runs(self) -> None:
        """Finish as `interrupted` the runs still 'running' whose process is gone (killed, crashed)."""
        now = now_utc()
        host = socket.gethostname()
        for run in list(
            self.db.query(
                "SELECT run_id, pid, host, started_at FROM runs WHERE status = 'running' AND run_id != ?",
                [self.run_id],
            )
        ):
            if run["pid"] is not None:
                gone = run["host"] == host and not process_alive(run["pid"])
            else:
                gone = now - datetime.fromisoformat(run["started_at"]) > REAP_UNOWNED_AFTER
            if not gone:
                continue
            self.db.execute(
                "UPDATE runs SET status = 'interrupted', finish_reason = 'process gone', "
                "finished_at = coalesce(finished_at, ?), notes = json_insert(coalesce(notes, '[]'), "
                "'$[#]', ?) WHERE run_id = ? AND status = 'running'",
                [
                    iso(now),
                    f"its process ({run['pid']}) was gone; reaped by run {self.run_id}",
                    run["run_id"],
                ],
            )
            logger.warning(
                "Run %s was left running by a process that is gone: marked interrupted", run["run_id"]
            )

    def finish_run(self, finish_reason: str | None, stats: dict | None = None) -> str:
        """Flush, schedule the next checks, run the run-over-run checks, record the run's outcome.

        Returns the run's status. When the store has failed, the outcome is still recorded if the
        database takes it (best effort); the spill file holds what it did not take.
        """
        self.flush()
        stats = stats or {}
        if self._spill_handle is not None:
            # what the run knew at its end, so a replay finishes it as it would have finished
            trailer = {
                "spill_end": 1,
                "finish_reason": finish_reason,
                "counts": self.counts,
                "notes": self.notes,
                "warnings": self.warnings,
                "stats": stats,
            }
            try:
                self._spill_handle.write(json.dumps(trailer, default=str) + "\n")
                self._spill_handle.flush()
            except OSError as exc:
                logger.warning("Cannot finish the spill file %s: %s", self.spill_path, exc)
        self._close_spill()
        if self.error is None:
            try:
                self._transaction(self._finish, finish_reason, stats)
                return self.status
            except StoreError as exc:
                self._fail(str(exc))
        self.status = "failed"
        try:
            self._transaction(self._record_run, finish_reason, stats)
        except StoreError:
            # (one Error: line per failure: this is the same cause again)
            logger.warning("Run %s could not be recorded as failed either: it stays 'running'", self.run_id)
        return self.status

    def _finish(self, finish_reason: str | None, stats: dict) -> None:
        warnings_before = len(self.warnings)
        try:
            self._schedule_seen_articles()
            self._run_over_run_checks(stats)
            self._record_run(finish_reason, stats)
        except BaseException:
            del self.warnings[warnings_before:]  # a retried transaction must not repeat them
            raise

    def _record_run(self, finish_reason: str | None, stats: dict) -> None:
        failed = checks.failed_requests(stats)
        # issue 9: pages the spider could not store are named in the warnings, and make the run partial
        skipped = stats.get("article_spider/skipped_pages") or []
        self.warnings.extend(w for w in skipped if w not in self.warnings)  # idempotent when retried
        missed = len(skipped) + int(stats.get("article_spider/targets_failed") or 0)
        if self.error is not None:
            status = "failed"
        elif finish_reason in INTERRUPT_REASONS:
            status = "interrupted"
        elif finish_reason in LIMIT_REASONS:
            status = "incomplete"  # a time or item limit stopped it: what it stored is right, not all
        elif finish_reason not in (None, "finished"):
            status = "failed"
        elif missed:
            status = "partial"
        elif self.counts["threads_incomplete"] or failed:
            status = "incomplete"
        else:
            status = "ok"
        self.status = status
        notes = list(self.notes)
        if self.error is not None:
            notes.append(f"store failed: {self.error}")
        if self.spilled:
            notes.append(f"{self.spilled} items not stored, spilled to {self.spill_path}")
        self.db["runs"].update(
            self.run_id,
            {
                "finished_at": iso(now_utc()),
                "status": status,
                "finish_reason": finish_reason,
                "articles_seen": self.counts["articles"],
                "articles_unchanged": self.counts["unchanged"],
                "articles_discovered": self.counts["discovered"],
                "comments_seen": self.counts["comments"],
                "threads_complete": self.counts["threads_complete"],
                "threads_incomplete": self.counts["threads_incomplete"],
                "threads_unread": self.counts["threads_unread"],
                "pages_skipped": len(skipped),
                "pages_not_article": int(stats.get("article_spider/skipped/not_article") or 0),
                "changes_recorded": self.counts["changes"],
                "requests_failed": failed,
                "notes": json.dumps(notes),
                "warnings": json.dumps(self.warnings),
                "stats": json.dumps(stats, default=str),
                "spill_path": str(self.spill_path) if self.spill_path else None,
            },
            alter=True,  # databases created before the issue-9 columns
        )

    def _schedule_seen_articles(self) -> None:
        """next_check_at of every article seen in this run, and of its watch-list entry."""
        now = now_utc()
        rows = self.db.query(
            "SELECT a.article_id, a.url, a.canonical_url, a.published_at, a.first_seen_at, "
            "(SELECT max(at) FROM changes c WHERE c.article_id = a.article_id) AS last_activity "
            "FROM articles a WHERE a.last_seen_run_id = ?",
            [self.run_id],
        )
        for row in list(rows):
            last_activity = datetime.fromisoformat(row["last_activity"] or row["first_seen_at"])
            published = datetime.fromisoformat(row["published_at"]) if row["published_at"] else None
            next_check = self.policy.next_check(now, published, last_activity, self.rng)
            self.db.execute(
                "UPDATE articles SET next_check_at = ? WHERE article_id = ?",
                [iso(next_check), row["article_id"]],
            )
            keys = {url_key(u) for u in (row["url"], row["canonical_url"]) if u}
            for key in keys:
                self.db.execute(
                    "UPDATE watchlist SET article_id = ?, next_check_at = ?, last_checked_at = ?, "
                    "failures = 0, "
                    "retired_at = CASE WHEN ? IS NULL THEN ? END, "
                    "retired_reason = CASE WHEN ? IS NULL THEN 'old and quiet' END WHERE url_key = ?",
                    [
                        row["article_id"],
                        iso(next_check),
                        iso(now),
                        iso(next_check),
                        iso(now),
                        iso(next_check),
                        key,
                    ],
                )

    def _run_over_run_checks(self, stats: dict) -> None:
        loads = self.db.query(
            "SELECT t.*, a.url AS article_url FROM thread_loads t LEFT JOIN articles a USING (article_id) "
            "WHERE t.run_id = ?",
            [self.run_id],
        )
        for current in list(loads):
            previous = next(
                self.db.query(
                    "SELECT * FROM thread_loads WHERE article_id = ? AND run_id < ? "
                    "ORDER BY run_id DESC LIMIT 1",
                    [current["article_id"], self.run_id],
                ),
                None,
            )
            self.warnings.extend(checks.thread_warnings(current, previous, self.thresholds))
        rate = checks.error_rate_warning(stats, self.thresholds)
        # warnings a spider component raised during the crawl (e.g. a stale learned comment API)
        self.warnings.extend(str(w) for w in stats.get("run/warnings") or [])
        if rate:
            self.warnings.append(rate)
        for warning in self.warnings:
            logger.warning("Run %s: %s", self.run_id, warning)

    def close(self) -> None:
        self._close_spill()
        self.db.close()

    # -- items -------------------------------------------------------------------------------

    def add(self, item: Any) -> None:
        if self.error is not None:
            self._spill([item])
            return
        self.buffer.append(item)
        if len(self.buffer) >= self.batch_size:
            self.flush()

    def flush(self) -> None:
        """Write everything buffered in one transaction, in the order the items came.

        The buffer is emptied, and the counters, notes and warnings move, only once the COMMIT
        succeeded. After the retries the batch is spilled and the store is failed (`error`).
        """
        if not self.buffer:
            return
        if self.error is not None:
            self._spill(self.buffer)
            self.buffer = []
            return
        saved = (dict(self.counts), len(self.notes), len(self.warnings))
        items = list(self.buffer)

        def write() -> None:
            # a retried attempt starts again from the counters of before the batch
            self.counts.update(saved[0])
            del self.notes[saved[1] :], self.warnings[saved[2] :]
            self._batch_comment_ids = set()
            self._write_batch(items)

        started, cpu = time.perf_counter(), time.process_time()
        try:
            self._transaction(write)
            self._counted_comment_ids |= self._batch_comment_ids
            # the slowest batch, for the stats: a write must never stall the crawl (wall time
            # includes lock waits and a busy machine; CPU time is what the write itself costs)
            self.slowest_batch = max(self.slowest_batch, time.perf_counter() - started)
            self.costliest_batch = max(self.costliest_batch, time.process_time() - cpu)
        except StoreError as exc:
            self.counts.update(saved[0])
            del self.notes[saved[1] :], self.warnings[saved[2] :]
            self._fail(str(exc))
            self._spill(self.buffer)
        self.buffer = []

    def _fail(self, message: str) -> None:
        if self.error is None:
            self.error = message
            logger.error("Error: %s", message)

    def _spill(self, items: list[Any]) -> None:
        """Append items to the run's spill file (beside the database, else in the temp directory)."""
        if not items:
            return
        if self._spill_handle is None:
            name = f"{self.path.name}.spill-run{self.run_id}-{os.getpid()}.jsonl"
            places = [self.spill_dir] if self.spill_dir else []
            places += [self.path.parent, Path(tempfile.gettempdir())]
            for place in places:
                try:
                    self._spill_handle = open(place / name, "a", encoding="utf-8")  # noqa: SIM115
                    # a header line, so `crawler ingest` knows the run and why it was spilled
                    self._spill_handle.write(
                        json.dumps(
                            {
                                "spill": 1,
                                "run_id": self.run_id,
                                "database": str(self.path),
                                "error": self.error,
                            }
                        )
                        + "\n"
                    )
                    self._spill_handle.flush()
                    self.spill_path = place / name
                    break
                except OSError as exc:
                    if self._spill_handle is not None:
                        with contextlib.suppress(OSError):
                            self._spill_handle.close()
                        self._spill_handle = None
                        with contextlib.suppress(OSError):
                            (place / name).unlink()  # a full disk took the file but not its lines
                    logger.warning("Cannot spill to %s: %s", place, exc)
            else:
                logger.error("Error: %d items lost: no place to spill them (%s)", len(items), self.error)
                return
            logger.warning("Items not stored go to %s", self.spill_path)
        try:
            for item in items:
                self._spill_handle.write(item_to_json(item) + "\n")
            self._spill_handle.flush()
            os.fsync(self._spill_handle.fileno())
            self.spilled += len(items)
        except OSError as exc:
            logger.error("Error: %d items could not be spilled to %s: %s", len(items), self.spill_path, exc)

    def _close_spill(self) -> None:
        if self._spill_handle is not None:
            self._spill_handle.close()
            self._spill_handle = None

    def _write_batch(self, items: list[Any]) -> None:
        segment: list[Any] = []
        for item in items:
            if isinstance(item, FetchItem):
                self._write_fetch(item)
            elif isinstance(item, DiscoveredItem):
                self._write_discovered(item)
            elif isinstance(item, ThreadItem):
                self._write_segment(segment)
                segment = []
                self._write_thread(item)
            else:
                segment.append(item)
        self._write_segment(segment)

    def _write_segment(self, items: list[Any]) -> None:
        articles = [_as_dict(i) for i in items if isinstance(i, ArticleItem)]
        list_items = [_as_dict(i) for i in items if isinstance(i, ListItem)]
        comments = [_as_dict(i) for i in items if isinstance(i, CommentItem)]
        if articles:
            self._write_articles(articles)
        if list_items:
            self._write_list_items(list_items)
        if comments:
            self._write_comments(comments)

    def _existing(self, table: str, key: str, ids: list[str]) -> dict[str, dict]:
        found: dict[str, dict] = {}
        for chunk in _chunks(sorted(set(ids))):
            marks = ",".join("?" * len(chunk))
            for row in self.db.query(f"SELECT * FROM {table} WHERE {key} IN ({marks})", chunk):
                found[row[key]] = row
        return found

    def _new_articles(self, article_ids: Iterable[str]) -> set[str]:
        """Articles first stored by this run: their comments are part of the article's `added`."""
        rows = self._existing("articles", "article_id", list(article_ids))
        return {a for a, row in rows.items() if row.get("first_seen_run_id") == self.run_id}

    def _without_baseline(self, article_ids: Iterable[str]) -> set[str]:
        """Articles whose comment thread no earlier run loaded completely (a first crawl, or one that
        was interrupted or cut short): comments new to us there are the thread's first record, not
        `added` events. The first complete load records one event for the thread (`_write_thread`)."""
        ids = sorted(set(article_ids))
        found: set[str] = set()
        for chunk in _chunks(ids):
            marks = ",".join("?" * len(chunk))
            found.update(
                row["article_id"]
                for row in self.db.query(
                    f"SELECT DISTINCT article_id FROM thread_loads WHERE complete = 1 AND run_id != ? "
                    f"AND article_id IN ({marks})",
                    [self.run_id, *chunk],
                )
            )
        return set(ids) - found

    def _upsert(self, table: str, pk, rows: list[dict]) -> None:
        """INSERT … ON CONFLICT DO UPDATE of full rows with one executemany.

        sqlite-utils' upsert_all re-derives the columns and JSON-encodes value by value for every
        chunk; our rows are complete and flat, so one prepared statement does the same for a
        fraction of the cost (the store's hot path).
        """
        if not rows:
            return
        columns = self._columns(table)
        keys = [pk] if isinstance(pk, str) else list(pk)
        updates = ", ".join(f"[{c}] = excluded.[{c}]" for c in columns if c not in keys)
        sql = (
            f"INSERT INTO [{table}] ({', '.join(f'[{c}]' for c in columns)}) "
            f"VALUES ({', '.join('?' * len(columns))}) "
            f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {updates}"
        )
        self.db.conn.executemany(sql, ([row.get(c) for c in columns] for row in rows))

    def _columns(self, table: str) -> list[str]:
        if table not in self._column_cache:
            self._column_cache[table] = [c.name for c in self.db[table].columns]
        return self._column_cache[table]

    def _stamp(self, outcome: rules.Outcome, item: dict) -> None:
        """Carry the item's evidence record (crawler.evidence) onto its row and its change events."""
        record = item.get("evidence_id")
        if record is None:
            return  # evidence off: the row keeps the record that showed it last
        outcome.row["evidence_id"] = record
        if "evidence_id" in self._columns("changes"):
            for event in outcome.changes:
                event["evidence_id"] = record

    def _apply(
        self, table: str, pk, rows: list[dict], outcomes: list[rules.Outcome], versions_table: str | None
    ):
        """Write full current rows (every column, so one upsert shape fits all) and the history."""
        self._upsert(table, pk, rows)
        versions = [v for o in outcomes for v in o.versions]
        events = [c for o in outcomes for c in o.changes]
        samples = [s for o in outcomes for s in o.vote_samples]
        if versions and versions_table:
            self._insert(versions_table, versions)
        if events:
            self._insert("changes", events)
            self.counts["changes"] += len(events)
        if samples:
            self._insert("vote_samples", samples)

    def _insert(self, table: str, rows: list[dict]) -> None:
        """sqlite-utils' insert_all of history rows, as one executemany of one prepared statement.

        insert_all re-derives the columns and JSON-encodes value by value, chunk by chunk: a first
        crawl's ~1,200 vote samples cost more that way than writing them. The same rules hold: every
        key must be a column of the table (else sqlite-utils' error), a key some rows lack is NULL
        there, a dict or list value is stored as JSON."""
        names = list(dict.fromkeys(name for row in rows for name in row))
        unknown = [name for name in names if name not in self._column_set(table)]
        if unknown:
            raise sqlite3.OperationalError(f"table {table} has no column named {unknown[0]}")
        sql = (
            f"INSERT INTO [{table}] ({', '.join(f'[{n}]' for n in names)}) "
            f"VALUES ({', '.join('?' * len(names))})"
        )
        self.db.conn.executemany(sql, ([_sql_value(row.get(n)) for n in names] for row in rows))

    def _column_set(self, table: str) -> frozenset[str]:
        key = f"{table} (set)"
        if key not in self._column_cache:
            self._column_cache[key] = frozenset(self._columns(table))
        return self._column_cache[key]

    def _write_articles(self, items: list[dict]) -> None:
        current = self._existing("articles", "article_id", [i["article_id"] for i in items])
        outcomes = []
        for item in items:
            outcome = rules.article_outcome(
                current.get(item["article_id"]), item, self.run_id, item.get("fetched_at") or iso(now_utc())
            )
            self._stamp(outcome, item)
            current[item["article_id"]] = {**current.get(item["article_id"], {}), **outcome.row}
            outcomes.append(outcome)
        self.counts["articles"] += len(items)
        rows = [current[k] for k in dict.fromkeys(i["article_id"] for i in items)]
        self._apply("articles", "article_id", rows, outcomes, "article_versions")

    def _write_list_items(self, items: list[dict]) -> None:
        new_articles = self._new_articles(i["article_id"] for i in items)
        outcomes, rows = [], []
        for article_id in {i["article_id"] for i in items}:
            stored = self.db.query("SELECT * FROM list_items WHERE article_id = ?", [article_id])
            current = {row["item_key"]: row for row in stored}
            keys = []
            for item in (i for i in items if i["article_id"] == article_id):
                key = rules.list_item_key(item)
                outcome = rules.list_item_outcome(
                    current.get(key),
                    item,
                    self.run_id,
                    item.get("fetched_at") or iso(now_utc()),
                    article_id in new_articles,
                )
                self._stamp(outcome, item)
                current[key] = {**current.get(key, {}), **outcome.row}
                outcomes.append(outcome)
                keys.append(key)
            rows.extend(current[k] for k in dict.fromkeys(keys))
        self.counts["list_items"] += len(items)
        self._apply("list_items", ("article_id", "item_key"), rows, outcomes, None)

    def _write_comments(self, items: list[dict]) -> None:
        current = self._existing("comments", "comment_id", [i["comment_id"] for i in items])
        new_articles = self._without_baseline(
            i["article_id"] for i in items if i["comment_id"] not in current
        )
        outcomes = []
        for item in items:
            old = current.get(item["comment_id"])
            outcome = rules.comment_outcome(
                old,
                item,
                self.run_id,
                item.get("fetched_at") or iso(now_utc()),
                item["article_id"] in new_articles,
            )
            self._stamp(outcome, item)
            current[item["comment_id"]] = {**(old or {}), **outcome.row}
            outcomes.append(outcome)
        # distinct comments: a comment seen twice in a run (its cut text, then its full text) is one
        fresh = {i["comment_id"] for i in items} - self._counted_comment_ids - self._batch_comment_ids
        self._batch_comment_ids |= fresh
        self.counts["comments"] += len(fresh)
        rows = [current[k] for k in dict.fromkeys(i["comment_id"] for i in items)]
        self._apply("comments", "comment_id", rows, outcomes, "comment_versions")

    def _write_discovered(self, item: DiscoveredItem) -> None:
        """Enrol a discovered article in the watch list, due at once; a known URL is left alone."""
        inserted = self.db.execute(
            "INSERT OR IGNORE INTO watchlist (url_key, url, source, source_url, added_at, published_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [
                item.url_key,
                item.url,
                item.source,
                item.source_url,
                item.found_at or iso(now_utc()),
                item.published_at,
            ],
        ).rowcount
        self.counts["discovered"] += inserted

    def _write_fetch(self, fetch: FetchItem) -> None:
        """HTTP validators for the next conditional GET; an unchanged page only moves last_seen."""
        at = fetch.fetched_at or iso(now_utc())
        if fetch.status in (200, 304):
            cached = {"url_key": fetch.url_key, "url": fetch.url, "status": fetch.status, "fetched_at": at}
            for name in ("article_id", "etag", "last_modified", "body_hash"):
                if getattr(fetch, name) is not None:  # a 304 keeps the validators it confirmed
                    cached[name] = getattr(fetch, name)
            self.db["http_cache"].upsert(cached, pk="url_key")
            if fetch.unchanged and fetch.article_id:
                self.counts["unchanged"] += 1
                self.db.execute(
                    "UPDATE articles SET last_seen_at = ?, last_seen_run_id = ? WHERE article_id = ?",
                    [at, self.run_id, fetch.article_id],
                )
            return
        # A failed fetch: back off (15 min doubling per failure, at most a day), retire after many.
        failures = (
            self.db.execute("SELECT failures FROM watchlist WHERE url_key = ?", [fetch.url_key]).fetchone()
            or [0]
        )[0] + 1
        delay = min(timedelta(minutes=15) * 2 ** (failures - 1), timedelta(days=1))
        retire = failures >= self.max_failures
        self.db.execute(
            "UPDATE watchlist SET failures = ?, last_checked_at = ?, next_check_at = ?, retired_at = ?, "
            "retired_reason = ? WHERE url_key = ?",
            [
                failures,
                at,
                iso(now_utc() + delay),
                at if retire else None,
                f"{failures} failed fetches (last: HTTP {fetch.status})" if retire else None,
                fetch.url_key,
            ],
        )

    def _write_thread(self, thread: ThreadItem) -> None:
        """Record how the thread loaded; on a complete load, judge the comments it did not show.

        A live comment absent from a complete load is a deletion *candidate*. It is deleted only with
        confirmation: the site's own answer to a direct fetch of that comment (`thread.confirmed_gone`),
        or, where the site offers no direct fetch (`thread.direct_check` False), its absence from two
        consecutive complete loads. So a comment that a page shift hid while the thread was paged is
        never deleted, and neither is one the completeness tolerance let pass.
        """
        at = thread.fetched_at or iso(now_utc())
        if thread.complete is None:
            # No thread to judge (no comment section, an unread widget): NULL with the reason.
            self.db.execute(
                "UPDATE articles SET comments_complete = NULL, comments_loaded = ?, "
                "comments_incomplete_reason = ? WHERE article_id = ?",
                [thread.loaded, thread.reason, thread.article_id],
            )
            self.counts["threads_unread"] += 1
            if thread.reason and thread.reason.startswith("unread"):
                self.notes.append(f"comments of {thread.url} {thread.reason}")
            return
        baseline = not self._without_baseline([thread.article_id])
        # a thread loaded twice in one run (a worker killed mid-check, its lease taken again) is one
        # thread of the run: its earlier verdict stops counting, the latest one counts
        earlier = self.db.execute(
            "SELECT complete FROM thread_loads WHERE run_id = ? AND article_id = ?",
            [self.run_id, thread.article_id],
        ).fetchone()
        if earlier is not None:
            self.counts["threads_complete" if earlier[0] else "threads_incomplete"] -= 1
        self.db["thread_loads"].upsert(
            {
                "run_id": self.run_id,
                "article_id": thread.article_id,
                "at": at,
                "method": thread.method,
                "reported_total": thread.reported_total,
                "loaded": thread.loaded,
                "requests_total": thread.requests_total,
                "requests_failed": thread.requests_failed,
                "end_reached": int(thread.end_reached),
                "complete": int(thread.complete),
                "reason": thread.reason,
            },
            pk=("run_id", "article_id"),
        )
        self.db.execute(
            "UPDATE articles SET comments_complete = ?, comments_loaded = ?, "
            "comments_incomplete_reason = ? WHERE article_id = ?",
            [int(thread.complete), thread.loaded, thread.reason, thread.article_id],
        )
        if not thread.complete:
            self.counts["threads_incomplete"] += 1
            self.notes.append(f"comments of {thread.url} incomplete, nothing marked deleted: {thread.reason}")
            return
        self.counts["threads_complete"] += 1
        first_loaded_now = self.db.execute(
            "SELECT count(*) FROM comments WHERE article_id = ? AND first_seen_run_id = ?",
            [thread.article_id, self.run_id],
        ).fetchone()[0]
        if (
            not baseline
            and first_loaded_now
            and thread.article_id not in self._new_articles([thread.article_id])
        ):
            # The first complete load of a thread an earlier run began (interrupted, cut short): one
            # event for the thread, not one `added` per comment it had all along.
            events = [rules.thread_added_event(thread.article_id, thread.loaded, self.run_id, at)]
            self.db["changes"].insert_all(events)
            self.counts["changes"] += len(events)
        seen = set(thread.seen_ids)
        live = list(
            self.db.query(
                "SELECT * FROM comments WHERE article_id = ? AND status = 'live'",
                [thread.article_id],
            )
        )
        missing = [c for c in live if c["comment_id"] not in seen]
        if not missing:
            return
        if len(missing) > 5 and len(missing) > len(live) * self.mass_delete:
            # Half a thread vanishing at once is far likelier a layout or endpoint change than a purge.
            self.warnings.append(
                f"{len(missing)} of {len(live)} comments of {thread.url} missing from a complete load: "
                f"not marked deleted (over MONITOR_MASS_DELETE={self.mass_delete:.0%}; check the page)"
            )
            return
        deleted_before = {
            row["comment_id"]
            for row in self.db.query(
                "SELECT comment_id FROM comments WHERE article_id = ? AND status = 'deleted'",
                [thread.article_id],
            )
        }
        decisions = rules.judge_missing(
            missing, thread.confirmed_gone or {}, thread.direct_check, deleted_before
        )
        for decision in decisions:
            if decision.delete:
                self.db.execute(
                    "UPDATE comments SET status = 'deleted', deleted_reason = ?, missing_since = "
                    "coalesce(missing_since, ?), missing_loads = missing_loads + 1, last_changed_at = ? "
                    "WHERE comment_id = ?",
                    [decision.reason, at, at, decision.comment["comment_id"]],
                )
            else:
                self.db.execute(
                    "UPDATE comments SET missing_since = coalesce(missing_since, ?), "
                    "missing_loads = missing_loads + 1 WHERE comment_id = ?",
                    [at, decision.comment["comment_id"]],
                )
        deleted = [d for d in decisions if d.delete]
        events = rules.deletion_events(deleted, self.run_id, at)
        if "evidence_id" in self._columns("changes"):
            # A deletion's evidence is the last record that showed the comment's text.
            for event, decision in zip(events, deleted, strict=True):
                event["evidence_id"] = decision.comment.get("evidence_id")
        candidates = sum(not d.delete for d in decisions)
        if candidates:
            self.notes.append(
                f"{candidates} comments of {thread.url} absent from a complete load, not deleted "
                "until confirmed (deletion candidates)"
            )
        if events:
            self.db["changes"].insert_all(events)
            self.counts["changes"] += len(events)
