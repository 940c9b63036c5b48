"""A short, readable summary at the end of a crawl, read back from the database the crawl wrote.

Scrapy ends a crawl with its stats as a Python dict; a person wants to know what was stored: articles,
comments, changes, incomplete threads, and which URLs failed or were skipped and why. The summary is
printed on stderr (after Scrapy's stats, on `engine_stopped`, when the store pipeline has finished the
run row), and written as JSON to SUMMARY_FILE when that is set: `crawler crawl` and `crawler run` read
it to learn which runs are theirs and which URLs failed.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from scrapy import signals
from scrapy.exceptions import NotConfigured

from crawler.items import FetchItem
from crawler.store import open_db, resolve_db_path

SKIP_PREFIXES = ("article_spider/skipped/", "discover/rejected/")


class CrawlSummary:
    def __init__(self, crawler):
        self.crawler = crawler
        self.file = crawler.settings.get("SUMMARY_FILE") or None
        self.failed: dict[str, str] = {}
        crawler.signals.connect(self.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(self.engine_stopped, signal=signals.engine_stopped)

    @classmethod
    def from_crawler(cls, crawler):
        if not crawler.settings.getbool("SUMMARY_ENABLED"):
            raise NotConfigured
        return cls(crawler)

    def item_scraped(self, item, response=None, spider=None):
        if isinstance(item, FetchItem) and item.status not in (200, 304):
            why = f"HTTP {item.status}" if item.status else "no response (refused, unreachable or timed out)"
            self.failed[item.url] = why

    def summary(self) -> dict:
        stats = self.crawler.stats.get_stats()
        out = {
            "run_id": stats.get("store/run_id"),
            "status": stats.get("store/run_status"),
            "failed_urls": self.failed,
            "skipped": {k: v for k, v in stats.items() if k.startswith(SKIP_PREFIXES)},
        }
        path = stats.get("store/path")
        if out["run_id"] is None or not path:
            return out
        db = open_db(resolve_db_path(path))
        try:
            run_id = out["run_id"]
            one = lambda sql: db.execute(sql, [run_id]).fetchone()[0]  # noqa: E731
            out["articles"] = one("SELECT count(*) FROM articles WHERE last_seen_run_id = ?")
            out["articles_unchanged"] = one("SELECT articles_unchanged FROM runs WHERE run_id = ?")
            out["comments"] = one("SELECT count(*) FROM comments WHERE last_seen_run_id = ?")
            out["changes"] = dict(
                db.execute(
                    "SELECT entity_type || ' ' || kind, count(*) FROM changes WHERE run_id = ? GROUP BY 1",
                    [run_id],
                ).fetchall()
            )
            out["incomplete_threads"] = [
                f"{url or article_id}: {reason}"
                for article_id, url, reason in db.execute(
                    "SELECT article_id, article_url, reason FROM incomplete_threads WHERE run_id = ?",
                    [run_id],
                )
            ]
        finally:
            db.close()
        return out

    def engine_stopped(self):
        summary = self.summary()
        if self.file:
            Path(self.file).write_text(json.dumps(summary), encoding="utf-8")
            return
        sys.stderr.write("\n".join(lines(summary)) + "\n")
        sys.stderr.flush()


def lines(summary: dict) -> list[str]:
    """The summary as text lines (no scraped text is interpreted: callers print them as plain text)."""
    from crawler.cli.output import clean

    if summary.get("run_id") is None:
        return ["Panda Watch: nothing was stored (no run recorded)"]
    changes = ", ".join(f"{n} {k}" for k, n in sorted(summary.get("changes", {}).items())) or "none"
    out = [
        f"Panda Watch run {summary['run_id']}: {summary.get('status')}",
        f"  articles stored: {summary.get('articles', 0)}"
        + (f" (+{summary['articles_unchanged']} unchanged)" if summary.get("articles_unchanged") else ""),
        f"  comments stored: {summary.get('comments', 0)}",
        f"  changes: {changes}",
        f"  incomplete threads: {len(summary.get('incomplete_threads', []))}",
    ]
    out += [f"    {clean(t, keep_newlines=False)}" for t in summary.get("incomplete_threads", [])]
    out += [f"  failed: {clean(url)}: {why}" for url, why in summary.get("failed_urls", {}).items()]
    for key, n in sorted(summary.get("skipped", {}).items()):
        what = "skipped page(s)" if key.startswith(SKIP_PREFIXES[0]) else "discovery rejected"
        out.append(f"  {what}: {n} {key.rsplit('/', 1)[1].replace('_', ' ')}")
    return out
