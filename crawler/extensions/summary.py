"""A short, readable summary at the end of `scrapy crawl`: what was stored, what was not, and why.

Scrapy's own stats dump is long and for developers; the person who ran the crawl wants to know in a
few lines whether the articles and their comments are in the database, which pages were skipped (with
the reason and a hint), and which threads are incomplete or unread. Printed on stderr when the engine
stops, after the store has finished the run. Other parts add lines through `lines()` (subclass it,
or read `SUMMARY_SECTIONS`); switch it off with `-s SUMMARY_ENABLED=False`.
"""

from __future__ import annotations

import sys

from scrapy import signals
from scrapy.exceptions import NotConfigured

STATS = "article_spider"


class CrawlSummary:
    def __init__(self, crawler, stream=None):
        self.crawler = crawler
        self.stream = stream or sys.stderr
        self.max_lines = crawler.settings.getint("SUMMARY_MAX_LINES", 10)

    @classmethod
    def from_crawler(cls, crawler):
        if not crawler.settings.getbool("SUMMARY_ENABLED", True):
            raise NotConfigured
        extension = cls(crawler)
        # engine_stopped comes after every spider_closed handler (the store's too): the run is recorded
        crawler.signals.connect(extension.engine_stopped, signal=signals.engine_stopped)
        return extension

    def lines(self, stats: dict) -> list[str]:
        """The summary's lines (without the heading); empty when the spider crawls no articles."""
        targets = stats.get(f"{STATS}/targets")
        if targets is None:
            return []
        threads = {
            k: int(stats.get(f"{STATS}/threads/{k}") or 0) for k in ("complete", "incomplete", "unread")
        }
        skipped = stats.get(f"{STATS}/skipped_pages") or []
        unchanged = sum(v for k, v in stats.items() if k.startswith(f"{STATS}/unchanged/"))
        out = [
            f"targets: {targets}; articles stored: {stats.get(f'{STATS}/articles') or 0}"
            + (f"; unchanged: {unchanged}" if unchanged else "")
            + f"; skipped: {len(skipped)}; failed: {stats.get(f'{STATS}/targets_failed') or 0}",
            f"comments loaded: {stats.get(f'{STATS}/comments_loaded') or 0}; threads complete: "
            f"{threads['complete']}, incomplete: {threads['incomplete']}, unread: {threads['unread']}",
        ]
        sites = {k.rsplit("/", 1)[1]: v for k, v in stats.items() if k.startswith(f"{STATS}/site/")}
        if sites:
            out.append("read by: " + ", ".join(f"{name} {count}" for name, count in sorted(sites.items())))
        for message in skipped[: self.max_lines]:
            out.append(f"  skipped {message}")
        if len(skipped) > self.max_lines:
            out.append(f"  … and {len(skipped) - self.max_lines} more skipped pages (runs.warnings)")
        return out

    def engine_stopped(self):
        stats = self.crawler.stats.get_stats()
        reason = stats.get("finish_reason", "finished")
        lines = self.lines(stats)
        if not lines:
            return
        status = stats.get("store/run_status") or reason
        run = stats.get("store/run_id")
        heading = f"Panda Watch: run {run} {status}" if run is not None else f"Panda Watch: {status}"
        print("\n".join([heading, *(f"  {line}" for line in lines)]), file=self.stream)
