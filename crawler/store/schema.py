"""The database schema and views: every table, index and view Panda Watch creates, in one place.

Public tables (users' SQL depends on their names and columns; see the design notes §2): runs, articles,
list_items, comments, article_versions, comment_versions, changes, vote_samples. `thread_loads` records
how completely each article's comments were loaded in each run. Times are ISO-8601 UTC strings.
"""

from __future__ import annotations

import sqlite_utils

SCHEMA_VERSION = 1

TABLES_SQL = """
CREATE TABLE IF NOT EXISTS runs (
    run_id INTEGER PRIMARY KEY,
    spider TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    status TEXT NOT NULL DEFAULT 'running',  -- running, ok, incomplete, failed, or Scrapy's finish reason
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
    articles_discovered INTEGER NOT NULL DEFAULT 0, -- enrolled in the watch list by discovery
    stats TEXT,                              -- JSON of Scrapy's stats
    notified TEXT                            -- JSON list: the run's digest per notification target
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
    position INTEGER NOT NULL,
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
    PRIMARY KEY (article_id, position)
);

CREATE TABLE IF NOT EXISTS comments (
    comment_id TEXT PRIMARY KEY,
    article_id TEXT NOT NULL,
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
    evidence_id TEXT                         -- WARC record the event's data came from (evidence)
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
DROP VIEW IF EXISTS latest_changes;
CREATE VIEW latest_changes AS
SELECT c.change_id, c.run_id, c.at, c.kind, c.entity_type, c.entity_id, c.field,
       a.title AS article_title, a.url AS article_url, c.old_value, c.new_value,
       c.chars_added, c.chars_removed, c.article_id
FROM changes c LEFT JOIN articles a ON a.article_id = c.article_id
ORDER BY c.change_id DESC;

DROP VIEW IF EXISTS article_timeline;
CREATE VIEW article_timeline AS
SELECT c.article_id, a.url AS article_url, c.at, c.run_id, c.kind, c.entity_type, c.entity_id,
       c.field, c.old_value, c.new_value, cm.author AS comment_author
FROM changes c
LEFT JOIN articles a ON a.article_id = c.article_id
LEFT JOIN comments cm ON c.entity_type = 'comment' AND cm.comment_id = c.entity_id
ORDER BY c.article_id, c.change_id;

DROP VIEW IF EXISTS deleted_comments;
CREATE VIEW deleted_comments AS
SELECT cm.comment_id, cm.article_id, a.url AS article_url, cm.author, cm.text, cm.upvotes,
       cm.downvotes, cm.first_seen_at,
       (SELECT max(at) FROM changes ch WHERE ch.entity_type = 'comment'
          AND ch.entity_id = cm.comment_id AND ch.kind = 'deleted') AS deleted_at
FROM comments cm LEFT JOIN articles a ON a.article_id = cm.article_id
WHERE cm.status = 'deleted'
ORDER BY deleted_at DESC;

DROP VIEW IF EXISTS most_edited_comments;
CREATE VIEW most_edited_comments AS
SELECT cm.comment_id, cm.article_id, cm.author, count(*) AS edits, max(ch.at) AS last_edited_at,
       cm.text AS current_text
FROM changes ch JOIN comments cm ON cm.comment_id = ch.entity_id
WHERE ch.entity_type = 'comment' AND ch.kind = 'edited'
GROUP BY cm.comment_id
ORDER BY edits DESC, last_edited_at DESC;

DROP VIEW IF EXISTS vote_movers;
CREATE VIEW vote_movers AS
SELECT s.entity_type, s.entity_id, s.article_id, count(*) AS samples,
       (SELECT upvotes FROM vote_samples x WHERE x.entity_type = s.entity_type
          AND x.entity_id = s.entity_id ORDER BY x.at DESC, x.rowid DESC LIMIT 1) AS upvotes_now,
       (SELECT downvotes FROM vote_samples x WHERE x.entity_type = s.entity_type
          AND x.entity_id = s.entity_id ORDER BY x.at DESC, x.rowid DESC LIMIT 1) AS downvotes_now,
       max(s.at) AS last_moved_at
FROM vote_samples s
GROUP BY s.entity_type, s.entity_id
ORDER BY samples DESC, last_moved_at DESC;

DROP VIEW IF EXISTS incomplete_threads;
CREATE VIEW incomplete_threads AS
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


def ensure_schema(db: sqlite_utils.Database) -> None:
    """Create missing tables, indexes and views; idempotent, safe to run on every open."""
    db.conn.executescript(TABLES_SQL)
    db.conn.executescript(VIEWS_SQL)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
