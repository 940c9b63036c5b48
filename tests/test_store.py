"""The store on its own: batched transactions, WAL, idempotent upserts, the run row."""

from __future__ import annotations

import json

from crawler.items import ArticleItem, CommentItem, ThreadItem
from crawler.store import Store, open_db, resolve_db_path
from tests.crawling import query


def _items(n_comments: int):
    yield ArticleItem(
        url="https://e.com/a/",
        article_id="x:a",
        title="A",
        body_text="Body.",
        fetched_at="2026-11-26T10:00:00+00:00",
    )
    for i in range(n_comments):
        yield CommentItem(
            comment_id=f"x:{i}",
            article_id="x:a",
            text=f"comment {i}",
            upvotes=i,
            downvotes=0,
            fetched_at="2026-11-26T10:00:00+00:00",
        )
    yield ThreadItem(
        article_id="x:a",
        url="https://e.com/a/",
        reported_total=n_comments,
        loaded=n_comments,
        requests_total=1,
        requests_failed=0,
        end_reached=True,
        complete=True,
        fetched_at="2026-11-26T10:00:00+00:00",
        seen_ids=[f"x:{i}" for i in range(n_comments)],
    )


def test_writes_are_batched_not_one_transaction_per_item(tmp_path):
    store = Store.open(tmp_path / "s.db", batch_size=500)
    commits = []
    store.db.conn.set_trace_callback(
        lambda sql: commits.append(sql) if sql.strip().upper() == "COMMIT" else None
    )
    store.start_run("test")
    for item in _items(2000):
        store.add(item)
    store.finish_run("finished")
    # 2,002 items in batches of 500: a handful of write transactions, plus the run's start and end.
    assert len(commits) <= 7
    assert query(tmp_path / "s.db", "SELECT count(*) AS n FROM comments") == [{"n": 2000}]


def test_wal_and_busy_timeout(tmp_path):
    db = open_db(tmp_path / "s.db")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA busy_timeout").fetchone()[0] >= 5000


def test_same_items_twice_are_idempotent(tmp_path):
    for _ in range(2):
        store = Store.open(tmp_path / "s.db")
        store.start_run("test")
        for item in _items(50):
            store.add(item)
        store.finish_run("finished")
        store.close()
    path = tmp_path / "s.db"
    assert query(path, "SELECT count(*) AS n FROM comments") == [{"n": 50}]
    assert query(path, "SELECT count(*) AS n FROM changes") == [{"n": 1}]  # the article's "added"
    runs = query(path, "SELECT run_id, status, comments_seen, threads_complete FROM runs")
    assert runs == [
        {"run_id": 1, "status": "ok", "comments_seen": 50, "threads_complete": 1},
        {"run_id": 2, "status": "ok", "comments_seen": 50, "threads_complete": 1},
    ]


def test_a_thread_loaded_twice_in_one_run_counts_once(tmp_path):
    """A scale-out worker killed mid-check hands its lease on: the thread's items reach the store
    twice in one run (first an incomplete load, then a complete one). The run counts one thread,
    by its latest verdict, with batches committed in between or not."""
    import dataclasses

    for batch_size in (500, 3):
        path = tmp_path / f"twice-{batch_size}.db"
        store = Store.open(path, batch_size=batch_size)
        store.start_run("test")
        items = list(_items(5))
        cut_short = dataclasses.replace(items[-1], complete=False, end_reached=False, loaded=3, reason="cut")
        for item in [*items[:-1], cut_short, *items]:
            store.add(item)
        store.finish_run("finished")
        store.close()
        [run] = query(path, "SELECT threads_complete, threads_incomplete FROM runs")
        assert run == {"threads_complete": 1, "threads_incomplete": 0}
        assert query(path, "SELECT complete FROM thread_loads") == [{"complete": 1}]


def test_run_row_keeps_scrapy_stats(tmp_path):
    store = Store.open(tmp_path / "s.db")
    store.start_run("article", {"url": "https://e.com/a/"})
    store.finish_run("shutdown", {"downloader/request_count": 3})
    [run] = query(tmp_path / "s.db", "SELECT * FROM runs")
    # Scrapy's "shutdown" is Ctrl+C / SIGTERM: the run was interrupted (issue 10)
    assert run["status"] == "interrupted" and run["finish_reason"] == "shutdown"
    assert json.loads(run["stats"]) == {"downloader/request_count": 3}
    assert json.loads(run["args"]) == {"url": "https://e.com/a/"}


def test_database_path_resolution(monkeypatch, tmp_path):
    monkeypatch.delenv("PANDAWATCH_DB", raising=False)
    assert str(resolve_db_path()) == "output/crawl.db"
    monkeypatch.setenv("PANDAWATCH_DB", str(tmp_path / "env.db"))
    assert resolve_db_path() == tmp_path / "env.db"
    assert str(resolve_db_path("explicit.db")) == "explicit.db"


def test_deletions_do_not_depend_on_the_order_items_arrive(tmp_path):
    path = tmp_path / "s.db"
    store = Store.open(path, batch_size=5)
    store.start_run("test")
    for item in _items(10):
        store.add(item)
    store.finish_run("finished")
    # Second run: the thread's summary reaches the store before its comments (another batch), and
    # comment x:9 is really gone.
    store.start_run("test")
    items = list(_items(10))
    thread = items[-1]
    thread.seen_ids = [f"x:{i}" for i in range(9)]
    thread.loaded = 9
    for item in [items[0], thread, *items[1:10]]:
        store.add(item)
    store.finish_run("finished")
    # No direct fetch of one comment here: one complete load without x:9 makes it a candidate only.
    assert query(path, "SELECT count(*) AS n FROM changes WHERE run_id = 2") == [{"n": 0}]
    assert query(path, "SELECT comment_id, status, missing_loads FROM comments WHERE missing_loads > 0") == [
        {"comment_id": "x:9", "status": "live", "missing_loads": 1}
    ]
    # Third run: absent from a second consecutive complete load, again before its thread's comments.
    store.start_run("test")
    items = list(_items(9))
    thread = items[-1]
    for item in [items[0], thread, *items[1:9]]:
        store.add(item)
    store.finish_run("finished")
    store.close()
    assert query(path, "SELECT entity_id, kind, reason FROM changes WHERE run_id = 3") == [
        {"entity_id": "x:9", "kind": "deleted", "reason": "absent from two consecutive complete loads"}
    ]
    assert query(path, "SELECT count(*) AS n FROM comments WHERE status = 'live'") == [{"n": 9}]


def test_a_comment_seen_cut_then_in_full_counts_once_across_batches(tmp_path):
    # Issue 11: runs.comments_seen counted full-text fetches again (1,453 for 1,275 stored comments).
    store = Store.open(tmp_path / "s.db", batch_size=3)
    store.start_run("test")
    for item in _items(4):
        store.add(item)
    for i in range(4):  # the full texts of the four, arriving in later batches
        store.add(CommentItem(comment_id=f"x:{i}", article_id="x:a", text=f"comment {i} in full"))
    store.finish_run("finished")
    store.close()
    path = tmp_path / "s.db"
    assert query(path, "SELECT count(*) AS n FROM comments") == [{"n": 4}]
    assert query(path, "SELECT comments_seen FROM runs") == [{"comments_seen": 4}]


def test_history_rows_are_written_as_sqlite_utils_would_write_them(tmp_path):
    """The store writes history rows with one prepared statement, not insert_all: the same rows
    (missing keys NULL, a dict as JSON text), and a key that is no column is still an error."""
    import sqlite3

    import pytest

    store = Store.open(tmp_path / "s.db")
    store.start_run("test")
    for item in _items(20):
        store.add(item)
    store.finish_run("finished")
    samples = query(
        tmp_path / "s.db", "SELECT entity_id, upvotes, downvotes FROM vote_samples ORDER BY entity_id"
    )
    expected = query(
        tmp_path / "s.db", "SELECT comment_id, upvotes, downvotes FROM comments ORDER BY comment_id"
    )
    assert [tuple(s.values()) for s in samples] == [tuple(c.values()) for c in expected] and len(
        samples
    ) == 20
    with store.db.conn:
        event = {"run_id": 1, "at": "2026-01-01T00:00:00Z", "entity_type": "x", "entity_id": "e", "kind": "k"}
        store._insert("changes", [{**event, "old_value": {"a": "é"}}])
    [row] = query(tmp_path / "s.db", "SELECT old_value, field FROM changes WHERE entity_type = 'x'")
    assert row == {"old_value": '{"a": "é"}', "field": None}
    with pytest.raises(sqlite3.OperationalError, match="no column named nope"):
        store._insert("changes", [{"run_id": 1, "nope": 1}])
    store.close()
