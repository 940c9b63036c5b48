"""Running real crawls from tests: `scrapy crawl` in a child process, results read from SQLite.

Each crawl runs in its own process because Twisted's reactor cannot be restarted; the replica site
runs in the test process, so tests can change it between two crawls.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: The replica is ours: no politeness needed, and no retries so fault tests stay fast.
#: BROWSER_QUIET: the replica's pages (and tests/comment_systems.py's) start a click's request inside
#: the click handler and use no timers, so the quiet time a real site's late handler needs (0.2 s by
#: default) only adds to every settle of the browser path; 0.05 s is the settle check's polling
#: interval.
FAST = {
    "AUTOTHROTTLE_ENABLED": "False",
    "DOWNLOAD_DELAY": "0",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "16",
    "CONCURRENT_REQUESTS": "32",
    "RETRY_TIMES": "0",
    "LOG_LEVEL": "INFO",
    "BROWSER_QUIET": "0.05",
}


@dataclass
class Crawl:
    returncode: int
    stdout: str
    stderr: str
    db_path: Path

    def query(self, sql: str, params=()) -> list[dict]:
        return query(self.db_path, sql, params)

    run_row: dict | None = None

    @property
    def run(self) -> dict:
        """The runs row this crawl wrote (read right after it ended, so later crawls don't shadow it)."""
        assert self.run_row, f"no run recorded; stderr:\n{self.stderr[-3000:]}"
        return self.run_row

    @property
    def stats(self) -> dict:
        return json.loads(self.run["stats"])


def query(db_path: Path, sql: str, params=()) -> list[dict]:
    conn = sqlite3.connect(db_path)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(sql, params)]
    finally:
        conn.close()


#: What the recipe tests compare between two crawls of the same articles.
COMMENT_COLUMNS = ("comment_id", "parent_id", "text", "upvotes", "downvotes", "status")


def comments_at(result: Crawl, urls: list[str], columns: tuple[str, ...] = COMMENT_COLUMNS) -> set[tuple]:
    """`columns` of every stored comment of the articles at `urls`, as a set of tuples."""
    marks = ",".join("?" * len(urls))
    rows = result.query(
        f"SELECT {', '.join('c.' + c for c in columns)} FROM comments c "
        f"JOIN articles a USING (article_id) WHERE a.url IN ({marks})",
        urls,
    )
    return {tuple(r.values()) for r in rows}


def crawl(
    db_path: Path,
    urls: list[str] | None = None,
    spider: str = "article",
    args: dict[str, str] | None = None,
    settings: dict[str, str] | None = None,
    timeout: float = 240,
) -> Crawl:
    command = [sys.executable, "-m", "scrapy", "crawl", spider]
    spider_args = dict(args or {})
    if urls is not None:
        spider_args["url"] = ",".join(urls)
    for key, value in spider_args.items():
        command += ["-a", f"{key}={value}"]
    for key, value in {**FAST, "SQLITE_PATH": str(db_path), **(settings or {})}.items():
        command += ["-s", f"{key}={value}"]
    env = {**os.environ, "SCRAPY_SETTINGS_MODULE": "crawler.settings"}
    env.pop("PANDAWATCH_DB", None)
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    result = Crawl(done.returncode, done.stdout, done.stderr, db_path)
    if db_path.exists():
        rows = query(db_path, "SELECT * FROM runs ORDER BY run_id DESC LIMIT 1")
        result.run_row = rows[0] if rows else None
    return result


def learn_beside_reference(
    tmp_path: Path, learn_url: str, others: list[str], in_browser: dict, settings: dict | None = None
) -> tuple[Crawl, Crawl]:
    """Learn the recipe in Chromium from `learn_url` into recipe.db while, beside it, the browser path
    stores the `others` into browser.db (the reference, learning off): two crawls at once, one wall
    time. `settings` default to FAST with 4 requests per domain, the browser's as the recipe's."""
    settings = settings or {**FAST, "CONCURRENT_REQUESTS_PER_DOMAIN": "4"}
    with ThreadPoolExecutor(2) as pool:
        reference = pool.submit(
            crawl,
            tmp_path / "browser.db",
            others,
            args=in_browser,
            settings={**settings, "RECIPES_LEARN": "False"},
        )
        learned = pool.submit(crawl, tmp_path / "recipe.db", [learn_url], args=in_browser, settings=settings)
        return learned.result(), reference.result()


def model_thread(site, slug: str) -> dict[str, dict]:
    """What the replica's model says the stored comments of `slug` must be, keyed by stored id."""
    article = site.article(slug)
    live = {c.id: c for c in article.comments if not c.deleted}

    # A deleted comment takes its replies with it (they are no longer reachable on the site).
    def reachable(comment) -> bool:
        while comment.parent_id is not None:
            if comment.parent_id not in live:
                return False
            comment = live[comment.parent_id]
        return True

    def depth(comment) -> int:
        d = 0
        while comment.parent_id is not None:
            comment, d = live[comment.parent_id], d + 1
        return d

    return {
        f"boredpanda:{c.id}": {
            "parent_id": f"boredpanda:{c.parent_id}" if c.parent_id else None,
            "depth": depth(c),
            "text": c.text,
            "upvotes": c.upvotes,
            "downvotes": c.downvotes,
        }
        for c in live.values()
        if reachable(c)
    }


def article_url(server, slug: str, page: int = 1) -> str:
    return f"{server.base_url}/{slug}/" + (f"{page}/" if page > 1 else "")
