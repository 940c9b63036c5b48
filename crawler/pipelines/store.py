"""Store: hand items to the batched SQLite writer and record the run with Scrapy's stats.

The run row is finished on `spider_closed`, after Scrapy's core stats extension has set the finish
reason, so the stored stats are the ones Scrapy prints at the end of the crawl. Threads still loading
when the crawl stops (Ctrl+C, SIGTERM, a time limit) are recorded as incomplete, so nothing is judged
from them; the comments they fetched but held back (a reply waiting for its parent) are stored then,
through the pipelines before this one like every item.

When the database refuses a batch for good (disk full, read-only, locked past the retries), the writer
spills it and every later item to a JSON-lines file; the crawl goes on to its end, so that `crawler
ingest FILE` can replay the whole run once the cause is fixed. The run ends `failed` and `scrapy crawl`
exits non-zero (crawler/commands/crawl.py reads `store/run_status`).
"""

from __future__ import annotations

import logging

from scrapy import signals
from scrapy.exceptions import DropItem

from crawler.monitor.checks import Thresholds
from crawler.monitor.schedule import Policy
from crawler.store import Store, resolve_db_path
from crawler.store.db import StoreError

logger = logging.getLogger(__name__)

#: the finish reason of a crawl this pipeline stopped because the database refused its writes
STORE_FAILED = "store_failed"


def change_rule_options(settings) -> dict:
    """The Store options that decide what a change is (schedule, warnings, deletions), from settings:
    one place for every writer (this pipeline, `crawler ingest --redis`)."""
    return {
        "policy": Policy.from_settings(settings),
        "thresholds": Thresholds.from_settings(settings),
        "mass_delete": settings.getfloat("MONITOR_MASS_DELETE", 0.3),
        "max_failures": settings.getint("MONITOR_MAX_FAILURES", 5),
    }


class StorePipeline:
    def __init__(self, crawler):
        self.crawler = crawler
        settings = crawler.settings
        self.path = resolve_db_path(settings.get("SQLITE_PATH"))
        self.options = {
            "batch_size": settings.getint("STORE_BATCH_SIZE", 500),
            **change_rule_options(settings),
            "retries": settings.getint("STORE_WRITE_RETRIES", 4),
            "retry_delay": settings.getfloat("STORE_RETRY_DELAY", 1.0),
            "spill_dir": settings.get("STORE_SPILL_DIR") or None,
        }
        self.store: Store | None = None
        self._stopping = False
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def open_spider(self, spider=None):
        spider = spider or self.crawler.spider
        try:
            self.store = Store.open(self.path, **self.options)
            args = {k: v for k, v in vars(spider).items() if k in ("url", "urls_file", "render", "targets")}
            run_id = self.store.start_run(spider.name, args)
        except StoreError as exc:
            # Nothing was fetched yet, so nothing is lost: stop with one line (the crawl command
            # checked the database already; this covers `scrapy runspider` and races).
            self.crawler.stats.set_value("store/run_status", "failed")
            self.crawler.stats.set_value("store/error", str(exc))
            logger.error("Error: %s", exc)
            if self.store is not None:
                self.store.close()
                self.store = None
            self.crawler.engine.close_spider(spider, STORE_FAILED)
            return
        self.crawler.stats.set_value("store/run_id", run_id)
        self.crawler.stats.set_value("store/path", str(self.path))
        logger.info("Writing run %s to %s", run_id, self.path)

    def process_item(self, item):
        if self.store is None:
            return item
        self.store.add(item)
        self._stop_if_failed()
        return item

    def _stop_if_failed(self) -> None:
        if self.store.error is None or self._stopping:
            return
        # The crawl goes on: its items go to the spill file, so replaying it gives the whole run.
        self._stopping = True
        self.crawler.stats.set_value("store/error", self.store.error)
        logger.warning("The database refuses writes: the rest of this run goes to %s", self.store.spill_path)

    def _through_earlier_pipelines(self, item):
        """An item the spider hands over at the end (a held-back comment of a thread the crawl stopped)
        is cleaned, validated and de-duplicated like every other: by the pipelines before this one, in
        their order (ours are synchronous). None when one of them drops it."""
        for pipeline in self.crawler.engine.scraper.itemproc.middlewares:
            if pipeline is self:
                break
            if hasattr(pipeline, "process_item"):
                try:
                    item = pipeline.process_item(item)
                except DropItem:
                    return None
        return item

    def close_spider(self, spider=None):
        if self.store is not None:
            self.store.flush()

    def spider_closed(self, spider, reason):
        if self.store is None:
            return
        unfinished = getattr(spider, "unfinished_thread_items", None)
        if unfinished is not None:
            for item in unfinished(reason):
                item = self._through_earlier_pipelines(item)
                if item is not None:
                    self.store.add(item)
        self.store.flush()
        self.crawler.stats.set_value("store/slowest_batch_ms", round(self.store.slowest_batch * 1000, 1))
        self.crawler.stats.set_value(
            "store/costliest_batch_cpu_ms", round(self.store.costliest_batch * 1000, 1)
        )
        stats = self.crawler.stats.get_stats()
        status = self.store.finish_run(reason, stats)
        self.crawler.stats.set_value("store/run_status", status)
        if self.store.spill_path:
            self.crawler.stats.set_value("store/spill_path", str(self.store.spill_path))
            self.crawler.stats.set_value("store/spilled_items", self.store.spilled)
            logger.error(
                "%d items not stored were spilled to %s; replay them with: crawler ingest %s --db %s",
                self.store.spilled,
                self.store.spill_path,
                self.store.spill_path,
                self.path,
            )
        logger.info("Run %s %s: %s", self.store.run_id, status, self.store.counts)
        self.store.close()
        self.store = None
