"""Store: hand items to the batched SQLite writer and record the run with Scrapy's stats.

The run row is finished on `spider_closed`, after Scrapy's core stats extension has set the finish
reason, so the stored stats are the ones Scrapy prints at the end of the crawl.
"""

from __future__ import annotations

import logging

from scrapy import signals

from crawler.monitor.checks import Thresholds
from crawler.monitor.schedule import Policy
from crawler.store import Store, resolve_db_path

logger = logging.getLogger(__name__)


class StorePipeline:
    def __init__(self, crawler):
        self.crawler = crawler
        settings = crawler.settings
        self.path = resolve_db_path(settings.get("SQLITE_PATH"))
        self.options = {
            "batch_size": settings.getint("STORE_BATCH_SIZE", 500),
            "policy": Policy.from_settings(settings),
            "thresholds": Thresholds.from_settings(settings),
            "mass_delete": settings.getfloat("MONITOR_MASS_DELETE", 0.3),
            "max_failures": settings.getint("MONITOR_MAX_FAILURES", 5),
        }
        self.store: Store | None = None
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def open_spider(self, spider=None):
        spider = spider or self.crawler.spider
        self.store = Store.open(self.path, **self.options)
        args = {k: v for k, v in vars(spider).items() if k in ("url", "urls_file", "render", "targets")}
        run_id = self.store.start_run(spider.name, args)
        self.crawler.stats.set_value("store/run_id", run_id)
        self.crawler.stats.set_value("store/path", str(self.path))
        logger.info("Writing run %s to %s", run_id, self.path)

    def process_item(self, item):
        self.store.add(item)
        return item

    def close_spider(self, spider=None):
        self.store.flush()

    def spider_closed(self, spider, reason):
        if self.store is None:
            return
        stats = self.crawler.stats.get_stats()
        status = self.store.finish_run(reason, stats)
        self.crawler.stats.set_value("store/run_status", status)
        logger.info("Run %s %s: %s", self.store.run_id, status, self.store.counts)
        self.store.close()
        self.store = None
