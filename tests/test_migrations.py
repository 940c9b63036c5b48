"""Schema migrations: a database made by the first release's schema opens, upgrades and keeps its data;
views are created once, not dropped and re-created on every open."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from crawler.items import ArticleItem, CommentItem, ListItem, ThreadItem
from crawler.store import Store, open_db
from crawler.store.schema import SCHEMA_VERSION, VIEWS
from tests.crawling import query

V1_DUMP = Path(__file__).parent / "fixtures" / "schema_v1.sql"


def v1_database(path: Path) -> Path:
    conn = sqlite3.connect(path)
    conn.executescript(V1_DUMP.read_text())
    conn.close()
    assert query(path, "PRAGMA user_version") == [{"user_version": 1}]
    return path


def columns(path: Path, table: str) -> list[str]:
    return [r["name"] for r in query(path, f"PRAGMA table_info({table})")]


def test_a_database_of_the_first_schema_opens_and_upgrades(tmp_path):
    path = v1_database(tmp_path / "old.db")
    assert "item_key" not in columns(path, "list_items") and "pid" not in columns(path, "runs")
    open_db(path).close()
    assert query(path, "PRAGMA user_version") == [{"user_version": SCHEMA_VERSION}]
    assert {"pid", "host", "spill_path"} <= set(columns(path, "runs"))
    assert {"deleted_reason", "missing_since", "missing_loads"} <= set(columns(path, "comments"))
    assert "reason" in columns(path, "changes")
    # list items re-keyed by their own id (else their position); rows kept
    assert query(path, "SELECT item_key, position, title FROM list_items ORDER BY position") == [
        {"item_key": "item-7", "position": 1, "title": "First item"},
        {"item_key": "#2", "position": 2, "title": "Second item"},
    ]
    assert query(path, "SELECT comment_id, status, missing_loads FROM comments ORDER BY comment_id") == [
        {"comment_id": "boredpanda:11", "status": "live", "missing_loads": 0},
        {"comment_id": "boredpanda:12", "status": "live", "missing_loads": 0},
        {"comment_id": "boredpanda:13", "status": "deleted", "missing_loads": 0},
    ]
    assert query(path, "SELECT comment_id, deleted_reason FROM deleted_comments") == [
        {"comment_id": "boredpanda:13", "deleted_reason": None}
    ]
    assert query(path, "PRAGMA integrity_check") == [{"integrity_check": "ok"}]
    names = {r["name"] for r in query(path, "SELECT name FROM sqlite_master WHERE type = 'view'")}
    assert names == set(VIEWS)


def test_an_upgraded_database_takes_a_run_with_the_new_rules(tmp_path):
    path = v1_database(tmp_path / "old.db")
    store = Store.open(path)
    run_id = store.start_run("article")
    at = "2026-11-27T10:00:00+00:00"
    store.add(
        ArticleItem(
            url="https://www.boredpanda.com/old/",
            article_id="boredpanda:1",
            title="Old Article",
            body_text="Body.",
            votes=10,
            fetched_at=at,
        )
    )
    store.add(
        ListItem(article_id="boredpanda:1", position=2, item_id="item-7", title="First item", fetched_at=at)
    )
    store.add(
        CommentItem(
            comment_id="boredpanda:11",
            article_id="boredpanda:1",
            text="First comment.",
            upvotes=1,
            downvotes=0,
            fetched_at=at,
        )
    )
    store.add(
        ThreadItem(
            article_id="boredpanda:1",
            url="https://www.boredpanda.com/old/",
            reported_total=1,
            loaded=1,
            requests_total=1,
            requests_failed=0,
            end_reached=True,
            complete=True,
            fetched_at=at,
            seen_ids=["boredpanda:11"],
        )
    )
    assert store.finish_run("finished") == "ok"
    store.close()
    # run 2 of the old database was left 'running' without a pid: old enough, it is reaped
    assert query(path, "SELECT run_id, status FROM runs ORDER BY run_id") == [
        {"run_id": 1, "status": "ok"},
        {"run_id": 2, "status": "interrupted"},
        {"run_id": run_id, "status": "ok"},
    ]
    # the article's "[]" tags of the old schema and today's absent tags are the same: no edit; the
    # moved list item is the same item; comment 12 absent once (no direct fetch here): a candidate
    assert query(path, "SELECT kind, entity_id FROM changes WHERE run_id = ?", [run_id]) == []
    assert query(path, "SELECT position FROM list_items WHERE item_key = 'item-7'") == [{"position": 2}]
    assert query(path, "SELECT status, missing_loads FROM comments WHERE comment_id = 'boredpanda:12'") == [
        {"status": "live", "missing_loads": 1}
    ]


def test_views_are_not_recreated_on_open(tmp_path):
    path = tmp_path / "new.db"
    open_db(path).close()
    statements: list[str] = []
    db = sqlite_open_traced(path, statements)
    db.close()
    assert statements, "the trace recorded nothing"
    changing = ("CREATE", "DROP", "ALTER", "BEGIN", "INSERT", "UPDATE", "DELETE")
    assert [s for s in statements if s.lstrip().upper().startswith(changing)] == []


def sqlite_open_traced(path: Path, statements: list[str]):
    """open_db with every SQL statement it runs recorded."""
    import sqlite_utils

    original = sqlite_utils.Database.__init__

    def traced(self, *args, **kwargs):
        original(self, *args, **kwargs)
        self.conn.set_trace_callback(statements.append)

    sqlite_utils.Database.__init__ = traced
    try:
        return open_db(path)
    finally:
        sqlite_utils.Database.__init__ = original


def test_a_newer_schema_is_refused_with_one_line(tmp_path):
    path = tmp_path / "future.db"
    open_db(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    try:
        open_db(path)
    except RuntimeError as exc:
        assert "newer Panda Watch" in str(exc)
    else:
        raise AssertionError("a database of a newer schema opened")


def test_a_table_another_feature_adds_appears_on_an_existing_database(tmp_path, monkeypatch):
    from crawler.store import schema

    path = tmp_path / "db.db"
    open_db(path).close()
    extra = "\nCREATE TABLE IF NOT EXISTS feature_x (id INTEGER PRIMARY KEY, note TEXT);\n"
    monkeypatch.setattr(schema, "TABLES_SQL", schema.TABLES_SQL + extra)
    open_db(path).close()
    assert columns(path, "feature_x") == ["id", "note"]
    assert query(path, "PRAGMA user_version") == [{"user_version": SCHEMA_VERSION}]
