"""`crawler run --redis URL`: enqueue the article checks that are due instead of crawling them.

The same watch list and age-decay schedule as a single-process `crawler run` (crawler/monitor/
schedule.py through queries.due_watch_entries, MONITOR_MAX_ARTICLES), read from SQLite; nothing is
written to it (the ingester is the only writer). Each check carries the page's fetch state for a
conditional GET, so workers need no database. An article whose previous check is still open is not
queued again; open marks of runs the ingester has finished are cleared first (an ingester killed
right after finishing a run may not have cleared them itself).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from crawler.dates import iso, now_utc
from crawler.distributed.queue import CheckQueue
from crawler.store import open_db, queries


@dataclass(frozen=True)
class Enqueued:
    run: str | None
    due: int
    queued: int


def clear_stale_open(queue: CheckQueue, db) -> int:
    """Drop open marks whose run is finished in the database; returns how many."""
    open_marks = queue.redis.hgetall(queue.keys["open"])
    if not open_marks:
        return 0
    finished = {
        row["token"] for row in db.query("SELECT token FROM distributed_runs WHERE finished_at IS NOT NULL")
    }
    stale = [(check_id, key) for key, check_id in open_marks.items() if check_id.split(":", 1)[0] in finished]
    queue.forget(stale)
    return len(stale)


def load_comments(db, article_ids: list[str]) -> dict[str, dict[str, dict]]:
    """Stored live comments per article: {article_id: {comment_id: {text, text_truncated, full_text_at}}}."""
    found: dict[str, dict[str, dict]] = {}
    for start in range(0, len(article_ids), 500):
        chunk = article_ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        for row in db.query(
            "SELECT article_id, comment_id, text, text_truncated, full_text_at FROM comments "
            f"WHERE status = 'live' AND article_id IN ({marks})",
            chunk,
        ):
            article_id = row.pop("article_id")
            found.setdefault(article_id, {})[row.pop("comment_id")] = row
    return found


def _comments_of(fetch: dict | None, comments: dict) -> dict | None:
    article_id = (fetch or {}).get("article_id")
    return {article_id: comments.get(article_id, {})} if article_id else None


def enqueue_due(db_path: Path, queue: CheckQueue, limit: int, everything: bool = False) -> Enqueued:
    db = open_db(db_path)
    try:
        due = queries.due_watch_entries(db, iso(now_utc()), limit, everything)
        state = queries.fetch_state(db, [row["url_key"] for row in due])
        # workers have no database: the stored comments travel with the check (deletion confirmation,
        # full-text re-checks), as a single-process crawl reads them from SQLite
        comments = load_comments(db, [s["article_id"] for s in state.values() if s.get("article_id")])
        clear_stale_open(queue, db)
    finally:
        db.close()
    if not due:
        return Enqueued(None, 0, 0)
    checks = []
    for row in due:
        fetch = state.get(row["url_key"])
        checks.append((row["url"], row["url_key"], fetch, _comments_of(fetch, comments)))
    token, queued = queue.enqueue_run(checks)
    return Enqueued(token if queued else None, len(due), queued)


def enqueue_command(db_path: Path, redis_url: str, everything: bool, overrides: dict[str, str]) -> int:
    """What `crawler run --redis URL` does; returns the exit code."""
    import click
    from scrapy.settings import Settings

    from crawler.distributed.queue import DEFAULT_PREFIX, connect, unreachable
    from crawler.monitor.run import EXIT_LOCKED, EXIT_OK, Locked, RunLock

    problem = unreachable(redis_url)
    if problem:
        click.echo(f"Error: {problem}", err=True)
        return 1
    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    settings.setdict(overrides, priority="cmdline")
    queue = CheckQueue(connect(redis_url), settings.get("REDIS_KEY_PREFIX") or DEFAULT_PREFIX)
    try:
        with RunLock(db_path):
            done = enqueue_due(db_path, queue, settings.getint("MONITOR_MAX_ARTICLES", 500), everything)
    except Locked as exc:
        click.echo(str(exc), err=True)
        return EXIT_LOCKED
    if done.run is None:
        click.echo(
            f"nothing queued ({done.due} due, all with a check still open)" if done.due else "nothing is due"
        )
    else:
        click.echo(f"redis run {done.run}: queued {done.queued} of {done.due} due article checks")
    return EXIT_OK
