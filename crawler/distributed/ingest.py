"""`crawler ingest --redis URL`: the only writer of the change store in a scaled-out crawl.

Workers push one stream entry per article check (the check's items in the order they left the
pipelines, its request counts); the scheduler pushes one `run` entry per enqueued run. The ingester
reads the stream in a consumer group and, per batch of entries, in **one SQLite transaction**:

- creates the `runs` row of a new run (`distributed_runs` maps the Redis run token to it);
- hands each check's items to the same writer as a single-process crawl (crawler.store.Store), so the
  same change rules decide edits, deletions and restores;
- records the check in `distributed_checks` (one row per run and article: a check that arrives twice,
  from a worker whose lease expired and another that redid it, is stored once);
- saves the run's running counts, notes and warnings (the writer keeps them in memory).

Only after the commit does it acknowledge the entries (XACK, then XDEL: the stream does not grow).
Killed between the commit and the XACK, a restarted ingester first re-reads its unacknowledged
entries, finds them in `distributed_checks` and acknowledges them without writing: nothing is lost and
nothing counted twice. A run is finished (schedule, run-over-run checks, status) when all its checks
are stored, again in one transaction with its `distributed_runs` row.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis

from crawler import items as item_classes
from crawler.dates import iso, now_utc
from crawler.distributed.queue import DEFAULT_PREFIX, Check, CheckQueue
from crawler.store import Store, open_db

logger = logging.getLogger(__name__)
GROUP = "ingest"
_ITEM_TYPES = {
    name: getattr(item_classes, name)
    for name in ("ArticleItem", "ListItem", "CommentItem", "ThreadItem", "FetchItem", "DiscoveredItem")
}
#: stats keys the writer reads (crawler.monitor.checks): requests made, requests failed for good
REQUESTS = "downloader/request_count"
FAILED_ARTICLE = "article_spider/request_error/article"
FAILED_COMMENTS = "article_spider/request_error/comments"


def rebuild(record: dict) -> Any:
    """An item back from its stream record (see crawler.distributed.tracking.item_record)."""
    cls = _ITEM_TYPES.get(record.get("type"))
    if cls is None:
        raise ValueError(f"unknown item type in the results stream: {record.get('type')!r}")
    return cls(**record["fields"])


@dataclass
class IngestCounts:
    runs: int = 0
    checks: int = 0
    duplicates: int = 0
    abandoned: int = 0
    finished: list[int] = field(default_factory=list)


class Ingester:
    """Reads the results stream into the database at `db_path` (see module doc)."""

    def __init__(
        self,
        client: redis.Redis,
        db_path: Path,
        prefix: str = DEFAULT_PREFIX,
        store_options: dict | None = None,
        consumer: str = "writer",
        batch: int = 50,
        block_ms: int = 1000,
    ):
        self.redis = client
        self.queue = CheckQueue(client, prefix)
        self.db = open_db(db_path)
        self.store_options = store_options or {}
        self.consumer = consumer
        self.batch = batch
        self.block_ms = block_ms
        self.stores: dict[str, Store] = {}
        self.counts = IngestCounts()
        self._group_ready = False

    # -- the loop ------------------------------------------------------------------------------

    def run(
        self,
        idle_exit: float | None = None,
        until: Callable[[], bool] | None = None,
        progress: Callable[[str], None] | None = None,
    ) -> IngestCounts:
        """Ingest until `until()` says so, or until idle for `idle_exit` seconds with every run it
        knows finished (None: forever)."""
        say = progress or (lambda _msg: None)
        backlog = True  # entries delivered to this consumer before a crash come first
        last_activity = time.monotonic()
        while True:
            try:
                self._ensure_group()
                entries = self._read(backlog)
                if backlog and not entries:
                    backlog = False
                    continue
                if entries:
                    self.ingest(entries)
                    last_activity = time.monotonic()
                for run_id in self.finish_complete_runs():
                    say(f"run {run_id} finished")
            except redis.RedisError as exc:
                self._group_ready = False
                backlog = True  # after a reconnect, re-read what was delivered but not acknowledged
                logger.warning("Redis unavailable (%s); retrying", exc)
                time.sleep(0.5)
                continue
            if until is not None and until():
                break
            idle = idle_exit is not None and time.monotonic() - last_activity >= idle_exit
            if idle and not entries and not self.unfinished_runs():
                break
        return self.counts

    def unfinished_runs(self) -> int:
        """Runs whose checks are not all stored yet (an idle ingester does not exit before them)."""
        return self.db.execute(
            "SELECT count(*) FROM distributed_runs WHERE finished_at IS NULL AND expected > 0"
        ).fetchone()[0]

    def _ensure_group(self) -> None:
        if self._group_ready:
            return
        try:
            self.redis.xgroup_create(self.queue.results, GROUP, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        self._group_ready = True

    def _read(self, backlog: bool) -> list[tuple[str, dict]]:
        answer = self.redis.xreadgroup(
            GROUP,
            self.consumer,
            {self.queue.results: "0" if backlog else ">"},
            count=self.batch,
            block=None if backlog else self.block_ms,
        )
        return [entry for _stream, entries in answer or [] for entry in entries if entry[1]]

    # -- one batch, one transaction -------------------------------------------------------------

    def ingest(self, entries: list[tuple[str, dict]]) -> None:
        try:
            forget = self._write(entries)
        except Exception:
            logger.exception("A batch of %d entries failed; storing them one at a time", len(entries))
            forget = []
            for entry in entries:
                try:
                    forget += self._write([entry])
                except Exception:
                    # A poison entry must not block the stream forever: record it and move on.
                    logger.exception("Entry %s could not be stored; skipped", entry[0])
                    self._record_failed(entry)
        ids = [entry_id for entry_id, _ in entries]
        with self.redis.pipeline() as pipe:
            pipe.xack(self.queue.results, GROUP, *ids)
            pipe.xdel(self.queue.results, *ids)
            pipe.execute()
        self.queue.forget([(check_id, "") for check_id in forget])

    def _write(self, entries: list[tuple[str, dict]]) -> list[str]:
        touched: set[str] = set()
        stored: list[str] = []
        self.db.conn.execute("BEGIN IMMEDIATE")
        try:
            for _entry_id, fields in entries:
                kind, data = fields.get("kind"), json.loads(fields.get("data") or "{}")
                if kind == "run":
                    self._start_run(data)
                elif kind in ("check", "abandoned"):
                    check_id = self._check(kind, data)
                    if check_id:
                        stored.append(check_id)
                        touched.add(data["run"])
                else:
                    logger.warning("Unknown entry kind %r in the results stream; skipped", kind)
            for token in touched:
                self.stores[token].flush()
                self._save_progress(token)
            self.db.conn.execute("COMMIT")
        except BaseException:
            self.db.conn.execute("ROLLBACK")
            # the writers' in-memory counts and buffers may hold what was rolled back
            self.stores.clear()
            raise
        return stored

    def _start_run(self, data: dict) -> None:
        token = str(data["run"])
        if self._run_row(token) is not None:
            return
        self._create_run(token, int(data.get("expected") or 0), data.get("spider") or "monitor")

    def _create_run(self, token: str, expected: int, spider: str) -> None:
        store = Store(self.db, batch_size=10**9, **self.store_options)
        run_id = store.start_run(spider, {"redis_run": token, "checks": expected})
        self.db["distributed_runs"].insert(
            {"token": token, "run_id": run_id, "expected": expected, "stored": 0}, pk="token"
        )
        self.stores[token] = store
        self.counts.runs += 1
        logger.info("Run %s (Redis run %s): %d checks", run_id, token, expected)

    def _run_row(self, token: str) -> dict | None:
        return next(self.db.query("SELECT * FROM distributed_runs WHERE token = ?", [token]), None)

    def _store_for(self, token: str) -> Store:
        """The writer of a run, with the counts it had when the last batch was committed."""
        if token in self.stores:
            return self.stores[token]
        row = self._run_row(token)
        if row is None:
            # its `run` entry never arrived (a Redis that lost data): store the checks anyway
            logger.warning("Checks of unknown Redis run %s: recording them in a run of their own", token)
            self._create_run(token, 0, "monitor")
            return self.stores[token]
        store = Store(self.db, batch_size=10**9, **self.store_options)
        store.run_id = row["run_id"]
        if row["counts"]:
            store.counts.update(json.loads(row["counts"]))
        store.notes = json.loads(row["notes"] or "[]")
        store.warnings = json.loads(row["warnings"] or "[]")
        self.stores[token] = store
        return store

    def _check(self, kind: str, data: dict) -> str | None:
        token = str(data["run"])
        check_id = data.get("check") or f"{token}:{data['url_key']}"
        if self.db.execute("SELECT 1 FROM distributed_checks WHERE check_id = ?", [check_id]).fetchone():
            self.counts.duplicates += 1
            logger.info("Check %s was already stored; not stored again", check_id)
            return None
        store = self._store_for(token)
        stats = self._stats(token)
        if kind == "abandoned":
            # Every worker that took it died: a failed fetch for the schedule's back-off, and a note.
            check = Check.from_json(check_id, json.dumps(data))
            store.add(
                item_classes.FetchItem(
                    url=check.url, url_key=check.url_key, status=0, fetched_at=iso(now_utc())
                )
            )
            store.notes.append(f"check of {check.url} abandoned: its workers died (DISTRIBUTED_MAX_ATTEMPTS)")
            stats[FAILED_ARTICLE] = stats.get(FAILED_ARTICLE, 0) + 1
            self.counts.abandoned += 1
        else:
            for record in data.get("items", []):
                item = rebuild(record)
                if isinstance(item, item_classes.FetchItem) and item.status not in (200, 304):
                    stats[FAILED_ARTICLE] = stats.get(FAILED_ARTICLE, 0) + 1
                if isinstance(item, item_classes.ThreadItem) and item.requests_failed:
                    stats[FAILED_COMMENTS] = stats.get(FAILED_COMMENTS, 0) + item.requests_failed
                store.add(item)
            stats[REQUESTS] = stats.get(REQUESTS, 0) + int(data.get("requests") or 0)
            self.counts.checks += 1
        self.db.execute(
            "INSERT INTO distributed_checks (check_id, token, url_key, worker, outcome, stored_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [check_id, token, data["url_key"], data.get("worker"),
             "abandoned" if kind == "abandoned" else "stored",
             iso(now_utc())],
        )  # fmt: skip
        self.db.execute("UPDATE distributed_runs SET stored = stored + 1 WHERE token = ?", [token])
        return check_id

    def _stats(self, token: str) -> dict:
        store = self.stores[token]
        if not hasattr(store, "_distributed_stats"):
            row = self._run_row(token)
            store._distributed_stats = json.loads((row or {}).get("stats") or "{}")
        return store._distributed_stats

    def _save_progress(self, token: str) -> None:
        store = self.stores[token]
        self.db.execute(
            "UPDATE distributed_runs SET counts = ?, notes = ?, warnings = ?, stats = ? WHERE token = ?",
            [json.dumps(store.counts), json.dumps(store.notes), json.dumps(store.warnings),
             json.dumps(self._stats(token)), token],
        )  # fmt: skip

    def _record_failed(self, entry: tuple[str, dict]) -> None:
        logger.error("Unstorable entry %s: %s", entry[0], str(entry[1])[:500])

    # -- finishing runs --------------------------------------------------------------------------

    def finish_complete_runs(self) -> list[int]:
        """Finish every run whose checks are all stored; returns their run ids."""
        rows = list(
            self.db.query(
                "SELECT * FROM distributed_runs "
                "WHERE finished_at IS NULL AND expected > 0 AND stored >= expected"
            )
        )
        finished = []
        for row in rows:
            token = row["token"]
            store = self._store_for(token)
            stats = dict(self._stats(token))
            self.db.conn.execute("BEGIN IMMEDIATE")
            try:
                status = store.finish_run("finished", stats)
                self.db.execute(
                    "UPDATE distributed_runs SET finished_at = ?, warnings = ? WHERE token = ?",
                    [iso(now_utc()), json.dumps(store.warnings), token],
                )
                self.db.conn.execute("COMMIT")
            except BaseException:
                self.db.conn.execute("ROLLBACK")
                self.stores.pop(token, None)
                raise
            self.stores.pop(token, None)
            # the run's articles may be enqueued again (their next checks are scheduled now)
            done = [
                (r["check_id"], r["url_key"])
                for r in self.db.query(
                    "SELECT check_id, url_key FROM distributed_checks WHERE token = ?", [token]
                )
            ]
            self.queue.forget(done)
            self.counts.finished.append(row["run_id"])
            logger.info("Run %s finished: %s", row["run_id"], status)
            finished.append(row["run_id"])
        return finished

    def close(self) -> None:
        self.db.close()
