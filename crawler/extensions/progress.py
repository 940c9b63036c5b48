"""Progress of a long crawl: articles done / due, comments loaded, requests failed.

A 1,200-comment thread at default politeness takes minutes; silence looks like a hang. On a terminal
the line is redrawn in place every PROGRESS_REFRESH seconds; otherwise (cron, a log file) a plain line
is written every PROGRESS_INTERVAL seconds. Written to stderr, outside Scrapy's log, so it shows at any
LOG_LEVEL. Off unless PROGRESS_ENABLED (the `crawler` command turns it on).
"""

from __future__ import annotations

import logging
import sys

from scrapy import signals
from scrapy.exceptions import NotConfigured
from twisted.internet import task

from crawler.items import CommentItem, FetchItem
from crawler.monitor.checks import failed_requests


class _NoTraceback(logging.Filter):
    """Network errors (a refused robots.txt) are one line for the person watching, not a traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.exc_info = None
        record.exc_text = None
        return True


#: Loggers whose tracebacks describe the network, not a bug.
NETWORK_LOGGERS = ("scrapy.downloadermiddlewares.robotstxt",)


class CrawlProgress:
    def __init__(self, crawler, stream=None):
        self.crawler = crawler
        self.stream = stream or sys.stderr
        self.live = self.stream.isatty()
        settings = crawler.settings
        self.interval = settings.getfloat("PROGRESS_REFRESH" if self.live else "PROGRESS_INTERVAL")
        self.articles_done = 0
        self.comments: set[str] = set()
        self.task: task.LoopingCall | None = None
        for name in NETWORK_LOGGERS:
            logging.getLogger(name).addFilter(_NoTraceback())
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler):
        if not crawler.settings.getbool("PROGRESS_ENABLED"):
            raise NotConfigured
        return cls(crawler)

    def spider_opened(self, spider):
        self.spider = spider
        self.task = task.LoopingCall(self.show)
        self.task.start(self.interval, now=False)

    def item_scraped(self, item, response=None, spider=None):
        if isinstance(item, FetchItem):
            self.articles_done += 1
        elif isinstance(item, CommentItem):
            self.comments.add(item.comment_id)

    def line(self) -> str:
        stats = self.crawler.stats.get_stats()
        failed = failed_requests(stats)
        targets = getattr(self.spider, "targets", None)
        if targets is None:  # discovery: sources, not articles
            pages = stats.get("response_received_count", 0)
            return f"pages read {pages} · articles enrolled {stats.get('discover/enrolled', 0)}"
        skipped = sum(v for k, v in stats.items() if k.startswith("article_spider/skipped/"))
        done = min(self.articles_done + skipped, len(targets))
        return (
            f"articles {done}/{len(targets)} · comments loaded {len(self.comments)} · "
            f"requests failed {failed}"
        )

    def show(self, final: bool = False) -> None:
        line = self.line()
        if self.live:
            self.stream.write(f"\r\x1b[2K{line}" + ("\n" if final else ""))
        else:
            self.stream.write(f"progress: {line}\n")
        self.stream.flush()

    def spider_closed(self, spider, reason):
        if self.task is not None and self.task.running:
            self.task.stop()
        self.show(final=True)
