"""Batched, transactional writes of crawled items, with change tracking.

Items are buffered and written in batches, one transaction per batch (never one per item). Inside a
batch each item is compared once with its stored row by the rules in `crawler.store.changes`, and the
current row, its versions, its change events and vote samples are written in that same transaction:
a crawl killed half-way leaves whole batches or nothing, never an event without its row.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import random
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import sqlite_utils
from itemadapter import ItemAdapter

from crawler.dates import iso, now_utc
from crawler.items import ArticleItem, CommentItem, DiscoveredItem, FetchItem, ListItem, ThreadItem
from crawler.monitor import checks
from crawler.monitor.checks import DEFAULT_THRESHOLDS, Thresholds
from crawler.monitor.schedule import DEFAULT_POLICY, Policy
from crawler.store import changes as rules
from crawler.store.db import open_db
from crawler.urls import url_key

logger = logging.getLogger(__name__)
SQLITE_MAX_PARAMS = 500


def _chunks(values: list, size: int = SQLITE_MAX_PARAMS) -> Iterable[list]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _as_dict(item: Any) -> dict:
    """A shallow dict of an item. Our items are flat dataclasses: copying their __dict__ is ~50x
    cheaper than ItemAdapter.asdict (which recurses into every value), the store's largest cost."""
    if dataclasses.is_dataclass(item):
        return dict(vars(item))
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
        self._column_cache: dict[str, list[str]] = {}
        self.run_id: int | None = None
        self.status: str | None = None
        self.counts = {
            "articles": 0,
            "comments": 0,
            "list_items": 0,
            "threads_complete": 0,
            "threads_incomplete": 0,
            "changes": 0,
            "unchanged": 0,
            "discovered": 0,
        }
        self.notes: list[str] = []

    @classmethod
    def open(cls, path, batch_size: int = 500, **options: Any) -> Store:
        return cls(open_db(path), batch_size=batch_size, **options)

    # -- runs --------------------------------------------------------------------------------

    def start_run(self, spider: str, args: dict | None = None) -> int:
        with self.db.atomic():
            self.run_id = (
                self.db["runs"]
                .insert(
                    {
                        "spider": spider,
                        "started_at": iso(now_utc()),
                        "status": "running",
                        "args": json.dumps(args or {}, default=str),
                    }
                )
                .last_pk
            )
        return self.run_id

    def finish_run(self, finish_reason: str | None, stats: dict | None = None) -> str:
        """Flush, schedule the next checks, run the run-over-run checks, record the run's outcome."""
        self.flush()
        stats = stats or {}
        with self.db.atomic():
            self._schedule_seen_articles()
            self._run_over_run_checks(stats)
            self._record_run(finish_reason, stats)
        return self.status

    def _record_run(self, finish_reason: str | None, stats: dict) -> None:
        failed = checks.failed_requests(stats)
        if finish_reason not in (None, "finished"):
            status = "failed"
        elif self.counts["threads_incomplete"] or failed:
            status = "incomplete"
        else:
            status = "ok"
        self.status = status
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
                "changes_recorded": self.counts["changes"],
                "requests_failed": failed,
                "notes": json.dumps(self.notes),
                "warnings": json.dumps(self.warnings),
                "stats": json.dumps(stats, default=str),
            },
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
        if rate:
            self.warnings.append(rate)
        for warning in self.warnings:
            logger.warning("Run %s: %s", self.run_id, warning)

    def close(self) -> None:
        self.db.close()

    # -- items -------------------------------------------------------------------------------

    def add(self, item: Any) -> None:
        self.buffer.append(item)
        if len(self.buffer) >= self.batch_size:
            self.flush()

    def flush(self) -> None:
        """Write everything buffered in one transaction, in the order the items came."""
        if not self.buffer:
            return
        items, self.buffer = self.buffer, []
        with self.db.atomic():
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
            self.db[versions_table].insert_all(versions)
        if events:
            self.db["changes"].insert_all(events)
            self.counts["changes"] += len(events)
        if samples:
            self.db["vote_samples"].insert_all(samples)

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
            current = {row["position"]: row for row in stored}
            for item in (i for i in items if i["article_id"] == article_id):
                outcome = rules.list_item_outcome(
                    current.get(item["position"]),
                    item,
                    self.run_id,
                    item.get("fetched_at") or iso(now_utc()),
                    article_id in new_articles,
                )
                self._stamp(outcome, item)
                current[item["position"]] = {**current.get(item["position"], {}), **outcome.row}
                outcomes.append(outcome)
            positions = dict.fromkeys(i["position"] for i in items if i["article_id"] == article_id)
            rows.extend(current[p] for p in positions)
        self.counts["list_items"] += len(items)
        self._apply("list_items", ("article_id", "position"), rows, outcomes, None)

    def _write_comments(self, items: list[dict]) -> None:
        current = self._existing("comments", "comment_id", [i["comment_id"] for i in items])
        new_articles = self._new_articles(i["article_id"] for i in items)
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
        self.counts["comments"] += len(items)
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
        """Record how the thread loaded; on a complete load, comments not seen this run are deleted."""
        at = thread.fetched_at or iso(now_utc())
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
        events = rules.deletion_events(missing, self.run_id, at)
        if "evidence_id" in self._columns("changes"):
            # A deletion's evidence is the last record that showed the comment's text.
            for event, comment in zip(events, missing, strict=True):
                event["evidence_id"] = comment.get("evidence_id")
        for chunk in _chunks([m["comment_id"] for m in missing]):
            marks = ",".join("?" * len(chunk))
            self.db.execute(
                f"UPDATE comments SET status = 'deleted', last_changed_at = ? WHERE comment_id IN ({marks})",
                [at, *chunk],
            )
        self.db["changes"].insert_all(events)
        self.counts["changes"] += len(events)
