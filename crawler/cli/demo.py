"""`crawler demo`: the whole product on the bundled replica site, without internet.

Serve the replica on loopback, crawl every article with its comments, change the site the way real
sites change (an article edit, comment edits, a deletion, new comments and a reply, vote drift), crawl
again, and print what Panda Watch saw change.
"""

from __future__ import annotations

import contextlib
import tempfile
import time
from pathlib import Path

from rich.console import Console

from crawler.cli.scrapy_run import LOCAL_SITE_SETTINGS, scrapy_crawl
from crawler.replica import ReplicaServer, Site, build_demo_site
from crawler.replica.demo_site import BIG_THREAD_SLUG, ENDLESS_SLUG, LAZY_SLUG, NORMAL_SLUG
from crawler.replica.seed import SEED_SLUG
from crawler.store import open_db, queries

#: Not crawled by the demo: the endless list only shows the page cap, the lazy one needs a browser.
SKIPPED = {ENDLESS_SLUG, LAZY_SLUG}


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


def _crawl(urls_file: Path, db_path: Path, console: Console, label: str) -> int:
    with console.status(f"{label}: crawling the replica site…"):
        result = scrapy_crawl(
            "article", {"urls_file": str(urls_file)}, {**LOCAL_SITE_SETTINGS, "SQLITE_PATH": str(db_path)}
        )
    db = open_db(db_path)
    run = next(db.query("SELECT * FROM runs ORDER BY run_id DESC LIMIT 1"))
    console.print(
        f"{label}: run {run['run_id']} {run['status']}, {run['articles_seen']} articles, "
        f"{run['comments_seen']} comments, {run['threads_incomplete']} incomplete thread(s)"
    )
    db.close()
    return result.returncode


def run_demo(db_path: Path, port: int = 0, serve: bool = False, console: Console | None = None) -> int:
    """Run the demo into `db_path`; returns the process exit code."""
    from crawler.cli.main import print_changes

    console = console or Console()
    site = build_demo_site()
    with ReplicaServer(site, port=port) as server, tempfile.TemporaryDirectory() as tmp:
        console.print(f"Replica site at {server.base_url}, database {db_path}")
        urls_file = Path(tmp) / "urls.txt"
        urls_file.write_text(
            "".join(f"{server.base_url}/{a.slug}/\n" for a in site.articles() if a.slug not in SKIPPED)
        )
        if _crawl(urls_file, db_path, console, "First crawl"):
            return 1
        for line in change_site(site):
            console.print(f"  site changed: {line}")
        if _crawl(urls_file, db_path, console, "Second crawl"):
            return 1
        db = open_db(db_path)
        last_run = db.execute("SELECT max(run_id) FROM runs").fetchone()[0]
        print_changes(queries.changes(db, since=str(last_run - 1)))
        db.close()
        console.print(
            f"Explore: crawler changes --db {db_path} | crawler history --db {db_path} "
            f"{server.base_url}/{SEED_SLUG}/ | sqlite3 {db_path}"
        )
        if serve:
            console.print(f"Serving {server.base_url} until Ctrl+C")
            with contextlib.suppress(KeyboardInterrupt):
                while True:
                    time.sleep(3600)
    return 0
