"""`crawler demo`: the whole product on the bundled replica site, without internet.

Serve the replica on loopback, crawl every article with its comments, change the site the way real
sites change (an article edit, comment edits, a deletion, new comments and a reply, vote drift), crawl
again, and print what Panda Watch saw change.
"""

from __future__ import annotations

import contextlib
import shlex
import tempfile
import time
from pathlib import Path

from rich.console import Console

from crawler.cli.scrapy_run import LOCAL_SITE_SETTINGS, crawl_with_summary
from crawler.replica import ReplicaServer, Site, build_demo_site
from crawler.replica.demo_site import BIG_THREAD_SLUG, ENDLESS_SLUG, NORMAL_SLUG
from crawler.replica.seed import SEED_SLUG
from crawler.store import open_db, queries

#: Not crawled by the demo: the endless list only shows the page cap (400 requests). The lazy one (its
#: block is filled by script) is crawled: the block states its post id, so page 1 of the API loads it.
SKIPPED = {ENDLESS_SLUG}


def change_site(site: Site) -> list[str]:
    """Apply the demo's edits to the replica; returns a line per change for the console."""
    seed = site.article(SEED_SLUG)
    normal = site.article(NORMAL_SLUG)
    big = site.article(BIG_THREAD_SLUG)
    top = [c for c in normal.comments if c.parent_id is None]
    done = []
    site.edit_article(SEED_SLUG, title=seed.title + " (Updated)")
    done.append(f"article {SEED_SLUG}: title edited")
    site.edit_comment(top[0].id, top[0].text + " EDIT: I was wrong about this.")
    site.edit_comment(top[1].id, "This comment was rewritten by its author.")
    done.append("2 comments edited")
    site.delete_comment(top[2].id)
    done.append(f"comment {top[2].id} deleted")
    for n in range(3):
        site.add_comment(
            NORMAL_SLUG, f"New comment number {n + 1} after the first crawl.", author=f"Late Reader {n + 1}"
        )
    site.add_comment(NORMAL_SLUG, "A reply to the first comment.", author="Replier", parent_id=top[0].id)
    done.append("3 comments and 1 reply added")
    for comment in big.comments[:5]:
        site.set_votes(comment.id, comment.upvotes + 10, comment.downvotes + 1)
    done.append("votes changed on 5 comments")
    return done


#: The demo's own database: never the crawl database (`output/crawl.db`), and replaced on every run,
#: so a second demo (on another port) does not record the port change as edits.
DEFAULT_DEMO_DB = "output/demo.db"


class DemoError(RuntimeError):
    """The demo cannot run as asked; the message is for the user."""


#: The demo's URL files live in a temporary folder with this prefix.
DEMO_MARK = "pandawatch-demo-"


def _is_demo_db(path: Path) -> bool:
    """True when the database at `path` holds nothing but what a demo writes: article crawls of the
    replica on loopback, nothing watched, no discovery source."""
    db = open_db(path)
    try:
        urls = [row[0] for row in db.execute("SELECT url FROM articles")]
        spiders = {row[0] for row in db.execute("SELECT DISTINCT spider FROM runs")}
        others = db.execute("SELECT (SELECT count(*) FROM watchlist) + (SELECT count(*) FROM sources)")
        return (
            others.fetchone()[0] == 0
            and spiders <= {"article"}
            and all(u.startswith("http://127.0.0.1:") for u in urls)
        )
    finally:
        db.close()


def fresh_database(path: Path) -> bool:
    """Remove an earlier demo database at `path` (True when there was one); refuse to touch one that
    holds anything else."""
    if not path.exists():
        return False
    if not _is_demo_db(path):
        raise DemoError(
            f"{path} holds crawls that are not the demo's; the demo writes a database of its own "
            f"(default {DEFAULT_DEMO_DB}): pass another --db"
        )
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return True


def run_counts(db_path: Path, run_id: int) -> dict:
    """What a run stored, counted distinctly from the tables (a comment fetched twice is one)."""
    db = open_db(db_path)
    try:
        run = next(db.query("SELECT * FROM runs WHERE run_id = ?", [run_id]))
        one = lambda sql: db.execute(sql, [run_id]).fetchone()[0]  # noqa: E731
        return {
            "run_id": run_id,
            "status": run["status"],
            "articles": one("SELECT count(*) FROM articles WHERE last_seen_run_id = ?"),
            "unchanged": run["articles_unchanged"],
            "comments": one("SELECT count(*) FROM comments WHERE last_seen_run_id = ?"),
            "incomplete": one("SELECT count(*) FROM thread_loads WHERE run_id = ? AND complete = 0"),
        }
    finally:
        db.close()


def _crawl(urls_file: Path, db_path: Path, console: Console, label: str) -> dict | None:
    with console.status(f"{label}: crawling the replica site…"):
        outcome = crawl_with_summary(
            "article",
            {"urls_file": str(urls_file)},
            {**LOCAL_SITE_SETTINGS, "SQLITE_PATH": str(db_path), "LOG_LEVEL": "ERROR"},
            progress=False,
        )
    if outcome.run_id is None or outcome.returncode:
        console.print(f"{label}: the crawl failed (exit code {outcome.returncode})")
        return None
    counts = run_counts(db_path, outcome.run_id)
    unchanged = f" ({counts['unchanged']} unchanged, not re-read)" if counts["unchanged"] else ""
    console.print(
        f"{label}: run {counts['run_id']} {counts['status']}: {counts['articles']} articles checked"
        f"{unchanged}, {counts['comments']} comments seen, {counts['incomplete']} incomplete thread(s)"
    )
    return counts


def commands_to_try(db_path: Path, article_id: str, comment_id: str | None) -> list[str]:
    """The commands the demo suggests (the test suite runs each of them on the demo database)."""
    db = shlex.quote(str(db_path))
    commands = [
        f"crawler changes --db {db}",
        f"crawler changes --db {db} --kind edited --full",
        f"crawler history --db {db} {article_id}",
    ]
    if comment_id:
        commands.append(f"crawler history --db {db} {comment_id}")
    commands += [
        f"crawler runs --db {db}",
        f'sqlite3 {db} "SELECT kind, count(*) FROM changes GROUP BY kind"',
    ]
    return commands


def run_demo(db_path: Path, port: int = 0, serve: bool = False, console: Console | None = None) -> int:
    """Run the demo into its own database `db_path` (replaced); returns the process exit code."""
    from crawler.cli.main import print_changes

    console = console or Console()
    site = build_demo_site()
    with ReplicaServer(site, port=port) as server, tempfile.TemporaryDirectory(prefix=DEMO_MARK) as tmp:
        # only once the port is ours: a busy port leaves the earlier demo alone
        if fresh_database(db_path):
            console.print(f"Replaced the earlier demo database {db_path}")
        console.print(f"Replica site at {server.base_url}, demo database {db_path}")
        urls_file = Path(tmp) / "urls.txt"
        urls_file.write_text(
            "".join(f"{server.base_url}/{a.slug}/\n" for a in site.articles() if a.slug not in SKIPPED)
        )
        first = _crawl(urls_file, db_path, console, "First crawl")
        if first is None:
            return 1
        for line in change_site(site):
            console.print(f"  site changed: {line}")
        second = _crawl(urls_file, db_path, console, "Second crawl")
        if second is None:
            return 1
        db = open_db(db_path)
        print_changes(queries.changes(db, since=str(first["run_id"])))
        article_id = db.execute(
            "SELECT article_id FROM changes WHERE entity_type = 'article' AND kind = 'edited' LIMIT 1"
        ).fetchone()[0]
        comment = db.execute(
            "SELECT entity_id FROM changes WHERE entity_type = 'comment' AND kind = 'edited' LIMIT 1"
        ).fetchone()
        db.close()
        short = lambda entity_id: entity_id.split(":", 1)[-1]  # noqa: E731
        console.print("Try:")
        for command in commands_to_try(db_path, short(article_id), comment and short(comment[0])):
            console.print(f"  $ {command}", markup=False, highlight=False, soft_wrap=True)
        if serve:
            console.print(
                f"Serving {server.base_url} until Ctrl+C. Crawl it yourself (fast settings, a database "
                "of your own):",
            )
            console.print(
                f"  $ crawler crawl --db output/mine.db {server.base_url}/{SEED_SLUG}/ "
                + " ".join(f"-s {k}={v}" for k, v in LOCAL_SITE_SETTINGS.items()),
                markup=False,
                highlight=False,
                soft_wrap=True,
            )
            with contextlib.suppress(KeyboardInterrupt):
                while True:
                    time.sleep(3600)
    return 0
