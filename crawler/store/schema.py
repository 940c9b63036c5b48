"""The database schema, views and migrations: every table, index and view Panda Watch creates.

Public tables (users' SQL depends on their names and columns; see the design notes §2): runs, articles,
list_items, comments, article_versions, comment_versions, changes, vote_samples. `thread_loads` records
how completely each article's comments were loaded in each run. Times are ISO-8601 UTC strings.

How the schema changes: `TABLES_SQL` is the current schema, all `CREATE … IF NOT EXISTS`, run on every
open (cheap, and it creates tables a newer feature added). Everything else — a new column, a rebuilt
table, a changed view — is a numbered step in `MIGRATIONS`, run once per database in one `BEGIN
IMMEDIATE` transaction and recorded in `PRAGMA user_version`. Views are created when a migration step
asks for them (and missing ones on open), never dropped and re-created on every open: a reader of
`latest_changes` must never see it missing.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

import sqlite_utils

TABLES_SQL = """
CREATE TABLE IF NOT EXISTS runs (
    run_id INTEGER PRIMARY KEY,
    spider TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    status TEXT NOT NULL DEFAULT 'running',  -- running, ok, partial, incomplete, interrupted, failed
    finish_reason TEXT,
    args TEXT,                               -- JSON of the spider arguments
    articles_seen INTEGER NOT NULL DEFAULT 0,
    comments_seen INTEGER NOT NULL DEFAULT 0,
    threads_complete INTEGER NOT NULL DEFAULT 0,
    threads_incomplete INTEGER NOT NULL DEFAULT 0,
    changes_recorded INTEGER NOT NULL DEFAULT 0,
    notes TEXT,                              -- JSON list of notes (incomplete threads)
    warnings TEXT,                           -- JSON list of run-over-run warnings
    requests_failed INTEGER NOT NULL DEFAULT 0,
    articles_unchanged INTEGER NOT NULL DEFAULT 0,  -- answered 304 or with an identical body
    pages_skipped INTEGER NOT NULL DEFAULT 0,    -- pages not stored (not HTML, not an article, …) (issue 9)
    pages_not_article INTEGER NOT NULL DEFAULT 0,  -- of those: HTML pages without an article (issue 9)
    threads_unread INTEGER NOT NULL DEFAULT 0,   -- no comment section, or an unread widget (issue 9)
    articles_discovered INTEGER NOT NULL DEFAULT 0, -- enrolled in the watch list by discovery
    stats TEXT,                              -- JSON of Scrapy's stats
    notified TEXT,                           -- JSON list: the run's digest per notification target
    pid INTEGER,                             -- process that writes the run (a gone one is reaped)
    host TEXT,
    spill_path TEXT                          -- items that could not be written: `crawler ingest` it
);

CREATE TABLE IF NOT EXISTS articles (
    article_id TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    canonical_url TEXT,
    site TEXT,
    post_id TEXT,
    title TEXT,
    author TEXT,
    author_url TEXT,
    published_at TEXT,
    modified_at TEXT,
    description TEXT,
    tags TEXT,                               -- JSON list
    votes INTEGER,
    views INTEGER,
    shares INTEGER,
    body_text TEXT,
    body_html TEXT,                          -- sanitised (nh3) article HTML, furniture removed
    image_credits TEXT,                      -- JSON list
    is_list INTEGER NOT NULL DEFAULT 0,
    list_pages INTEGER,
    content_hash TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    comment_count_reported INTEGER,
    comments_loaded INTEGER,
    comments_complete INTEGER,               -- 1 complete, 0 incomplete, NULL never loaded
    comments_incomplete_reason TEXT,
    first_seen_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    last_changed_at TEXT NOT NULL,
    next_check_at TEXT,
    first_seen_run_id INTEGER,
    last_seen_run_id INTEGER,
    evidence_id TEXT                         -- WARC record that last showed the article (evidence)
);
CREATE INDEX IF NOT EXISTS articles_url ON articles(canonical_url);
CREATE INDEX IF NOT EXISTS articles_next_check ON articles(next_check_at);

CREATE TABLE IF NOT EXISTS list_items (
    article_id TEXT NOT NULL,
    item_key TEXT NOT NULL,                  -- the item's own id, else "#<position>"
    position INTEGER NOT NULL,               -- where it is now (a moved item keeps its key)
    page INTEGER,
    item_id TEXT,
    title TEXT,
    description TEXT,
    image_url TEXT,
    points INTEGER,
    content_hash TEXT,
    first_seen_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    last_changed_at TEXT NOT NULL,
    last_seen_run_id INTEGER,
    evidence_id TEXT,                        -- WARC record that last showed the item (evidence)
    PRIMARY KEY (article_id, item_key)
);

CREATE TABLE IF NOT EXISTS comments (
    comment_id TEXT PRIMARY KEY,
    article_id TEXT NOT NULL,
    source_id TEXT,                          -- the site's own id as its markup shows it (issue 9)
    parent_id TEXT,
    depth INTEGER NOT NULL DEFAULT 0,
    author TEXT,
    author_role TEXT,
    author_url TEXT,
    posted_at TEXT,
    posted_at_precision TEXT,                -- exact, or the unit of the relative time it came from
    text TEXT,
    text_truncated INTEGER NOT NULL DEFAULT 0,  -- 1 while only the page's cut-off text is known
    full_text_at TEXT,                       -- when the whole text was last seen (not cut)
    content_hash TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    upvotes INTEGER,
    downvotes INTEGER,
    reply_count INTEGER,
    status TEXT NOT NULL DEFAULT 'live',     -- live, deleted
    deleted_reason TEXT,                     -- the site's reason (placeholder, parent) and the evidence
    missing_since TEXT,                      -- absent from a complete load since: a deletion candidate
    missing_loads INTEGER NOT NULL DEFAULT 0,  -- consecutive complete loads without it
    first_seen_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    last_changed_at TEXT NOT NULL,
    first_seen_run_id INTEGER,
    last_seen_run_id INTEGER,
    evidence_id TEXT                         -- WARC record that last showed the comment (evidence)
);
CREATE INDEX IF NOT EXISTS comments_article ON comments(article_id, status);
CREATE INDEX IF NOT EXISTS comments_parent ON comments(parent_id);

CREATE TABLE IF NOT EXISTS article_versions (
    article_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    run_id INTEGER,
    captured_at TEXT NOT NULL,               -- when this content was replaced
    title TEXT,
    author TEXT,
    description TEXT,
    tags TEXT,
    body_text TEXT,
    image_credits TEXT,
    content_hash TEXT,
    PRIMARY KEY (article_id, version)
);

CREATE TABLE IF NOT EXISTS comment_versions (
    comment_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    run_id INTEGER,
    captured_at TEXT NOT NULL,
    article_id TEXT,
    text TEXT,
    content_hash TEXT,
    PRIMARY KEY (comment_id, version)
);

CREATE TABLE IF NOT EXISTS changes (
    change_id INTEGER PRIMARY KEY,
    run_id INTEGER,
    at TEXT NOT NULL,
    entity_type TEXT NOT NULL,               -- article, comment, list_item
    entity_id TEXT NOT NULL,
    article_id TEXT,
    kind TEXT NOT NULL,                      -- added, edited, deleted, restored, votes
    field TEXT,
    old_value TEXT,
    new_value TEXT,
    chars_added INTEGER,
    chars_removed INTEGER,
    evidence_id TEXT,                        -- WARC record the event's data came from (evidence)
    reason TEXT                              -- deletions: why, and on what evidence
);
CREATE INDEX IF NOT EXISTS changes_run ON changes(run_id);
CREATE INDEX IF NOT EXISTS changes_article ON changes(article_id, at);
CREATE INDEX IF NOT EXISTS changes_entity ON changes(entity_type, entity_id);

CREATE TABLE IF NOT EXISTS vote_samples (
    entity_type TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    article_id TEXT,
    run_id INTEGER,
    at TEXT NOT NULL,
    upvotes INTEGER,
    downvotes INTEGER
);
CREATE INDEX IF NOT EXISTS vote_samples_entity ON vote_samples(entity_type, entity_id, at);

CREATE TABLE IF NOT EXISTS watchlist (
    url_key TEXT PRIMARY KEY,                -- crawler.urls.url_key of the URL
    url TEXT NOT NULL,
    source TEXT NOT NULL,                    -- manual, feed, sitemap, listing
    source_url TEXT,                         -- the feed / sitemap / listing it came from
    added_at TEXT NOT NULL,
    published_at TEXT,                       -- as the feed or sitemap said
    article_id TEXT,
    next_check_at TEXT,                      -- NULL: due now
    last_checked_at TEXT,
    failures INTEGER NOT NULL DEFAULT 0,     -- consecutive failed fetches
    retired_at TEXT,
    retired_reason TEXT
);
CREATE INDEX IF NOT EXISTS watchlist_due ON watchlist(retired_at, next_check_at);

CREATE TABLE IF NOT EXISTS sources (
    url TEXT PRIMARY KEY,                    -- a feed, sitemap (index) or listing page to discover from
    added_at TEXT NOT NULL,
    last_run_at TEXT
);

CREATE TABLE IF NOT EXISTS http_cache (
    url_key TEXT PRIMARY KEY,                -- validators of the last article page fetch (not history)
    url TEXT NOT NULL,
    article_id TEXT,
    etag TEXT,
    last_modified TEXT,
    body_hash TEXT,
    status INTEGER,
    fetched_at TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS thread_loads (
    run_id INTEGER NOT NULL,
    article_id TEXT NOT NULL,
    at TEXT NOT NULL,
    method TEXT,                             -- api, browser
    reported_total INTEGER,
    loaded INTEGER,
    requests_total INTEGER,
    requests_failed INTEGER,
    end_reached INTEGER,
    complete INTEGER NOT NULL,
    reason TEXT,
    PRIMARY KEY (run_id, article_id)
);

-- Scale-out on Redis (crawler/distributed/ingest.py): a run enqueued by `crawler run --redis` and
-- stored by `crawler ingest --redis`, and every article check it stored (once per run and article,
-- written in the same transaction as the check's rows, so a restarted ingester skips what it had).
CREATE TABLE IF NOT EXISTS distributed_runs (
    token TEXT PRIMARY KEY,                  -- the run's token in Redis
    run_id INTEGER NOT NULL,                 -- its row in runs
    expected INTEGER NOT NULL,               -- checks enqueued
    stored INTEGER NOT NULL DEFAULT 0,       -- checks stored (abandoned ones included)
    counts TEXT,                             -- JSON: the writer's counts so far
    notes TEXT,                              -- JSON: the writer's notes so far
    warnings TEXT,                           -- JSON: the writer's warnings so far
    stats TEXT,                              -- JSON: request counts summed over the checks
    finished_at TEXT
);
CREATE TABLE IF NOT EXISTS distributed_checks (
    check_id TEXT PRIMARY KEY,               -- <run token>:<url key>
    token TEXT NOT NULL,
    url_key TEXT NOT NULL,
    worker TEXT,
    outcome TEXT NOT NULL,                   -- stored, abandoned
    stored_at TEXT NOT NULL
);

-- Learned comment APIs (issue 12, crawler/recipes): one recipe per site, learned in the browser,
-- paged over plain HTTP. A stale recipe is not used until the browser has learned it again.
CREATE TABLE IF NOT EXISTS site_apis (
    site TEXT PRIMARY KEY,
    recipe TEXT NOT NULL,                    -- JSON, see crawler/recipes/induce.py
    learned_from_url TEXT NOT NULL,
    learned_at TEXT NOT NULL,
    verified_at TEXT,                        -- last browser re-check that agreed with the recipe
    status TEXT NOT NULL DEFAULT 'active',   -- active, stale
    stale_reason TEXT,
    uses INTEGER NOT NULL DEFAULT 0,         -- crawls that paged it since it was last learned or checked
    learn_seconds REAL,                      -- what learning cost (the browser expansion that taught it)
    learn_browser_pages INTEGER
);

-- Evidence (issue 13): WARC records of every response a run used, and which items they showed.
CREATE TABLE IF NOT EXISTS evidence (
    record_id TEXT PRIMARY KEY,              -- WARC-Record-ID, <urn:uuid:…>
    run_id INTEGER,
    warc_path TEXT NOT NULL,                 -- relative to the database's directory (or absolute)
    offset INTEGER NOT NULL,                 -- of the record's gzip member in the file
    length INTEGER NOT NULL,                 -- bytes of that member
    url TEXT NOT NULL,
    status INTEGER,
    sha256 TEXT NOT NULL,                    -- hex SHA-256 of the payload as stored (as transferred)
    payload_bytes INTEGER,
    fetched_at TEXT NOT NULL,
    source TEXT,                             -- http, browser (rendered page), xhr (a page's own fetch)
    parent_record_id TEXT                    -- for xhr: the browser page's record
);
CREATE INDEX IF NOT EXISTS evidence_run ON evidence(run_id);
CREATE INDEX IF NOT EXISTS evidence_file ON evidence(warc_path);

CREATE TABLE IF NOT EXISTS evidence_items (
    record_id TEXT NOT NULL,
    entity_type TEXT NOT NULL,               -- article, comment, list_item
    entity_id TEXT NOT NULL,
    run_id INTEGER,
    PRIMARY KEY (entity_type, entity_id, record_id)
);
CREATE INDEX IF NOT EXISTS evidence_items_record ON evidence_items(record_id);

-- Notifications (issue 13): targets added with `crawler notify add`, with their filters.
CREATE TABLE IF NOT EXISTS notify_targets (
    url TEXT PRIMARY KEY,                    -- an Apprise URL (json://host/path, mailto://, …)
    added_at TEXT NOT NULL,
    filters TEXT                             -- JSON: kinds, sites, articles, min_votes
);
"""

VIEWS_SQL = """
CREATE VIEW IF NOT EXISTS latest_changes AS
SELECT c.change_id, c.run_id, c.at, c.kind, c.entity_type, c.entity_id, c.field,
       a.title AS article_title, a.url AS article_url, c.old_value, c.new_value,
       c.chars_added, c.chars_removed, c.article_id
FROM changes c LEFT JOIN articles a ON a.article_id = c.article_id
ORDER BY c.change_id DESC;

CREATE VIEW IF NOT EXISTS article_timeline AS
SELECT c.article_id, a.url AS article_url, c.at, c.run_id, c.kind, c.entity_type, c.entity_id,
       c.field, c.old_value, c.new_value, cm.author AS comment_author, c.chars_added, c.chars_removed,
       c.change_id, a.title AS article_title
FROM changes c
LEFT JOIN articles a ON a.article_id = c.article_id
LEFT JOIN comments cm ON c.entity_type = 'comment' AND cm.comment_id = c.entity_id
ORDER BY c.article_id, c.change_id;

CREATE VIEW IF NOT EXISTS deleted_comments AS
SELECT cm.comment_id, cm.article_id, a.url AS article_url, cm.author, cm.text, cm.upvotes,
       cm.downvotes, cm.first_seen_at, cm.deleted_reason,
       (SELECT max(at) FROM changes ch WHERE ch.entity_type = 'comment'
          AND ch.entity_id = cm.comment_id AND ch.kind = 'deleted') AS deleted_at
FROM comments cm LEFT JOIN articles a ON a.article_id = cm.article_id
WHERE cm.status = 'deleted'
ORDER BY deleted_at DESC;

CREATE VIEW IF NOT EXISTS most_edited_comments AS
SELECT cm.comment_id, cm.article_id, cm.author, count(*) AS edits, max(ch.at) AS last_edited_at,
       cm.text AS current_text
FROM changes ch JOIN comments cm ON cm.comment_id = ch.entity_id
WHERE ch.entity_type = 'comment' AND ch.kind = 'edited'
GROUP BY cm.comment_id
ORDER BY edits DESC, last_edited_at DESC;

-- Ranked by how far the votes moved: from the first count ever seen (the old value of the entity's
-- first votes event: databases from before first-sight samples have no sample of it) to the latest
-- sample, up and down together. Only what has a votes event moved (a first-sight sample alone did not).
CREATE VIEW IF NOT EXISTS vote_movers AS
WITH moves AS (
    SELECT s.entity_type, s.entity_id, s.article_id, count(*) AS samples, max(s.at) AS last_moved_at,
           (SELECT upvotes FROM vote_samples x WHERE x.entity_type = s.entity_type
              AND x.entity_id = s.entity_id ORDER BY x.at DESC, x.rowid DESC LIMIT 1) AS upvotes_now,
           (SELECT downvotes FROM vote_samples x WHERE x.entity_type = s.entity_type
              AND x.entity_id = s.entity_id ORDER BY x.at DESC, x.rowid DESC LIMIT 1) AS downvotes_now,
           (SELECT old_value FROM changes ch WHERE ch.entity_type = s.entity_type
              AND ch.entity_id = s.entity_id AND ch.kind = 'votes' ORDER BY ch.change_id LIMIT 1) AS first
    FROM vote_samples s
    GROUP BY s.entity_type, s.entity_id
), parsed AS (
    SELECT *,
           CAST(nullif(CASE WHEN instr(first, '/') THEN substr(first, 1, instr(first, '/') - 1)
                            ELSE first END, '') AS INTEGER) AS upvotes_before,
           CAST(nullif(CASE WHEN instr(first, '/') THEN substr(first, instr(first, '/') + 1) END, '')
                AS INTEGER) AS downvotes_before
    FROM moves
    WHERE first IS NOT NULL
)
SELECT entity_type, entity_id, article_id, samples, upvotes_before, downvotes_before, upvotes_now,
       downvotes_now,
       abs(coalesce(upvotes_now, 0) - coalesce(upvotes_before, 0))
         + abs(coalesce(downvotes_now, 0) - coalesce(downvotes_before, 0)) AS moved_by,
       last_moved_at
FROM parsed
ORDER BY moved_by DESC, last_moved_at DESC;

CREATE VIEW IF NOT EXISTS incomplete_threads AS
SELECT t.run_id, t.article_id, a.url AS article_url, t.reported_total, t.loaded,
       t.requests_failed, t.reason, t.at
FROM thread_loads t LEFT JOIN articles a ON a.article_id = t.article_id
WHERE t.complete = 0
ORDER BY t.run_id DESC;
"""

PUBLIC_TABLES = (
    "runs",
    "articles",
    "list_items",
    "comments",
    "article_versions",
    "comment_versions",
    "changes",
    "vote_samples",
    "thread_loads",
    "watchlist",
    "sources",
    "http_cache",
    "evidence",
    "evidence_items",
)
HISTORY_TABLES = ("article_versions", "comment_versions", "changes", "vote_samples")
VIEWS = (
    "latest_changes",
    "article_timeline",
    "deleted_comments",
    "most_edited_comments",
    "vote_movers",
    "incomplete_threads",
)


def _columns(db: sqlite_utils.Database, table: str) -> set[str]:
    return {row[1] for row in db.execute(f"PRAGMA table_info([{table}])").fetchall()}


def _add_columns(db: sqlite_utils.Database, table: str, columns: dict[str, str]) -> None:
    """ALTER TABLE … ADD COLUMN for each column the table lacks (a fresh database has them all)."""
    have = _columns(db, table)
    for name, declaration in columns.items():
        if name not in have:
            db.execute(f"ALTER TABLE [{table}] ADD COLUMN [{name}] {declaration}")


def _recreate_views(db: sqlite_utils.Database, names: tuple[str, ...]) -> None:
    """Drop and create these views from VIEWS_SQL, inside the migration's transaction."""
    for statement in _statements(VIEWS_SQL):
        for name in names:
            if f"CREATE VIEW IF NOT EXISTS {name} " in statement:
                db.execute(f"DROP VIEW IF EXISTS [{name}]")
                db.execute(statement)


def _v2(db: sqlite_utils.Database) -> None:
    """Issue 10: run owner (reaping), spill file, deletion candidates and reasons, list items keyed by
    their own id."""
    _add_columns(db, "runs", {"pid": "INTEGER", "host": "TEXT", "spill_path": "TEXT"})
    _add_columns(
        db,
        "comments",
        {
            "deleted_reason": "TEXT",
            "missing_since": "TEXT",
            "missing_loads": "INTEGER NOT NULL DEFAULT 0",
        },
    )
    _add_columns(db, "changes", {"reason": "TEXT"})
    if "item_key" not in _columns(db, "list_items"):
        # A new primary key needs a new table (SQLite cannot ALTER one): copy, drop, rename.
        db.execute("ALTER TABLE list_items RENAME TO list_items_v1")
        db.execute(next(s for s in _statements(TABLES_SQL) if "TABLE IF NOT EXISTS list_items " in s))
        common = [c for c in _columns(db, "list_items_v1") if c in _columns(db, "list_items")]
        names = ", ".join(f"[{c}]" for c in common)
        db.execute(
            f"INSERT OR IGNORE INTO list_items (item_key, {names}) "
            f"SELECT coalesce(item_id, '#' || position), {names} FROM list_items_v1"
        )
        db.execute("DROP TABLE list_items_v1")
    _recreate_views(db, ("deleted_comments", "vote_movers"))


def _v3(db: sqlite_utils.Database) -> None:
    """Issue 13: evidence links (WARC records) and notification digests (their tables are in
    TABLES_SQL)."""
    _add_columns(db, "runs", {"notified": "TEXT"})
    for table in ("articles", "list_items", "comments", "changes"):
        _add_columns(db, table, {"evidence_id": "TEXT"})


def _v4(db: sqlite_utils.Database) -> None:
    """Issue 11: the timeline view carries what `crawler history` shows; vote movers ranked by how
    far the votes moved."""
    _recreate_views(db, ("article_timeline", "vote_movers"))


def _v5(db: sqlite_utils.Database) -> None:
    """Issue 9: what a run could not store (skipped pages, non-article pages, unread threads) and the
    site's own comment id."""
    _add_columns(
        db,
        "runs",
        {
            "pages_skipped": "INTEGER NOT NULL DEFAULT 0",
            "pages_not_article": "INTEGER NOT NULL DEFAULT 0",
            "threads_unread": "INTEGER NOT NULL DEFAULT 0",
        },
    )
    _add_columns(db, "comments", {"source_id": "TEXT"})


def _v6(db: sqlite_utils.Database) -> None:
    """Issue 10 (network side): when a comment's whole text was last seen, for cheaper re-checks."""
    _add_columns(db, "comments", {"full_text_at": "TEXT"})


#: (version, step): step N brings a database from version N-1 to N. Version 1 is the schema of the
#: first release (commit ec52ba2). Steps must work on a fresh database too (TABLES_SQL already has
#: their columns), so each checks before it alters.
MIGRATIONS: list[tuple[int, Callable[[sqlite_utils.Database], None]]] = [
    (2, _v2),
    (3, _v3),
    (4, _v4),
    (5, _v5),
    (6, _v6),
]
SCHEMA_VERSION = MIGRATIONS[-1][0]


def _statements(script: str) -> list[str]:
    """The statements of a script, one by one (executescript would COMMIT our transaction)."""
    statements, current = [], ""
    for line in script.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            statements.append(current.strip())
            current = ""
    return [s for s in statements if s]


def schema_version(db: sqlite_utils.Database) -> int:
    return db.execute("PRAGMA user_version").fetchone()[0]


def ensure_schema(db: sqlite_utils.Database) -> None:
    """Bring the database to SCHEMA_VERSION: missing tables, pending migrations, missing views.

    Safe to run on every open and from several processes at once: migrations run inside BEGIN
    IMMEDIATE and re-read the version there, so only one process applies each step.
    """
    if schema_version(db) > SCHEMA_VERSION:
        raise RuntimeError(
            f"the database was written by a newer Panda Watch (schema {schema_version(db)}, "
            f"this one knows {SCHEMA_VERSION}): upgrade panda-watch"
        )
    if schema_version(db) == SCHEMA_VERSION and _has_everything(db):
        return  # the common case: nothing to write, so a read-only open stays read-only
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        version = schema_version(db)
        if version == 0 and db.execute("SELECT 1 FROM sqlite_master WHERE name = 'runs'").fetchone():
            version = 1  # tables without a version: the first release's schema
        if 1 <= version < SCHEMA_VERSION:
            for step_version, step in MIGRATIONS:
                if step_version > version:
                    step(db)
        # a fresh database gets the current tables right away
        for statement in _statements(TABLES_SQL):
            db.execute(statement)
        for statement in _statements(VIEWS_SQL):
            db.execute(statement)
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        db.conn.execute("COMMIT")
    except BaseException:
        if db.conn.in_transaction:
            db.conn.execute("ROLLBACK")
        raise


def _has_everything(db: sqlite_utils.Database) -> bool:
    """Every table, index and view of the current schema exists (others may add to TABLES_SQL)."""
    names = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
    wanted = set(VIEWS)
    for statement in _statements(TABLES_SQL):
        words = statement.split()
        if words[:2] in (["CREATE", "TABLE"], ["CREATE", "INDEX"]):
            wanted.add(words[5] if words[2:5] == ["IF", "NOT", "EXISTS"] else words[2])
    return wanted <= names
