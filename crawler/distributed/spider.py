"""The worker side: `scrapy crawl monitor -s REDIS_URL=…` (or `crawler worker --redis URL`).

Built on scrapy-redis's RedisMixin (its connection settings, its idle-driven feeding and its
MAX_IDLE_TIME_BEFORE_CLOSE exit), with what scrapy-redis 0.9 lacks for us:

- it pops start URLs with LRANGE+LTRIM, so whatever a killed worker had popped is lost; here a worker
  *leases* article checks (crawler.distributed.queue) and renews its leases while it works;
- RedisMixin has no `async def start()` (Scrapy 2.13+ falls back to its `start_requests()`); the
  spider here keeps the article spider's async `start()` and feeds the first checks from it;
- scrapy-redis's scheduler would put every follow-up request into Redis, so comment pages of one
  thread could be answered by different workers; here only checks are shared and each check's
  requests stay in the worker's own scheduler, so one worker loads a whole thread.

Workers never open SQLite: the fetch state of a page comes with its check, and what the check found
goes to the results stream (crawler.distributed.pipeline) for `crawler ingest --redis`.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy import signals
from scrapy.exceptions import DontCloseSpider
from scrapy_redis.spiders import RedisMixin
from twisted.internet import task

from crawler.dates import now_utc
from crawler.distributed.queue import DEFAULT_PREFIX, Check, CheckQueue, connect, worker_name
from crawler.distributed.tracking import CheckInFlight, CheckTracker
from crawler.hostguard import origins

STATS = "distributed/worker"


def worker_mode(settings) -> bool:
    return bool(settings.get("REDIS_URL"))


def apply_worker_settings(settings) -> None:
    """Swap the SQLite store for the results stream and add the cluster-wide components."""
    pipelines = dict(settings.getdict("ITEM_PIPELINES"))
    pipelines["crawler.pipelines.store.StorePipeline"] = None
    if "crawler.pipelines.dedupe.DedupePipeline" in pipelines:
        order = pipelines.pop("crawler.pipelines.dedupe.DedupePipeline")
        pipelines["crawler.pipelines.dedupe.DedupePipeline"] = None
        pipelines["crawler.distributed.pipeline.CheckDedupePipeline"] = order
    pipelines["crawler.distributed.pipeline.StreamPipeline"] = 900
    settings.set("ITEM_PIPELINES", pipelines, priority="spider")
    spider_mws = dict(settings.getdict("SPIDER_MIDDLEWARES"))
    spider_mws["crawler.distributed.tracking.CheckMiddleware"] = 1  # outermost: sees the final output
    settings.set("SPIDER_MIDDLEWARES", spider_mws, priority="spider")
    downloader_mws = dict(settings.getdict("DOWNLOADER_MIDDLEWARES"))
    downloader_mws["crawler.distributed.politeness.ClusterPoliteness"] = 950  # last before the download
    settings.set("DOWNLOADER_MIDDLEWARES", downloader_mws, priority="spider")
    # The per-domain limits hold across the cluster (ClusterPoliteness): fix them from the settings as
    # given, then drop the worker's own delay, which would only add to the cluster's.
    for cluster, local in (("DISTRIBUTED_DOMAIN_DELAY", "DOWNLOAD_DELAY"),
                           ("DISTRIBUTED_DOMAIN_CONCURRENCY", "CONCURRENT_REQUESTS_PER_DOMAIN")):  # fmt: skip
        if settings.get(cluster) in (None, ""):
            settings.set(cluster, settings.get(local), priority=settings.getpriority(local) or "spider")
    settings.set("DOWNLOAD_DELAY", 0, priority=settings.getpriority("DOWNLOAD_DELAY") or "spider")
    # Comment recipes live in SQLite (read, counted, learned there), and workers never open SQLite:
    # a worker loads comments through the site adapters and the browser, without recipes.
    settings.set("RECIPES_ENABLED", False, priority="spider")
    settings.set("RECIPES_LEARN", False, priority="spider")
    # The same article may be checked again by a later run in this worker; checks are unique in Redis.
    settings.set("DUPEFILTER_CLASS", "scrapy.dupefilters.BaseDupeFilter", priority="spider")


class RedisChecks(RedisMixin):
    """Mixin for the monitor spider: with REDIS_URL set, take article checks from the shared queue."""

    worker_mode = False
    check_tracker: CheckTracker | None = None

    @classmethod
    def update_settings(cls, settings) -> None:
        super().update_settings(settings)
        if worker_mode(settings):
            apply_worker_settings(settings)

    @classmethod
    def from_crawler(cls, crawler, *args: Any, **kwargs: Any):
        spider = super().from_crawler(crawler, *args, **kwargs)
        if worker_mode(crawler.settings):
            spider._setup_worker(crawler)
        return spider

    def _setup_worker(self, crawler) -> None:
        settings = crawler.settings
        self.worker_mode = True
        self.fetch_state = {}
        #: stored live comments per article id, from the checks (workers never open SQLite)
        self.check_comments: dict[str, dict[str, dict]] = {}
        self.setup_redis(crawler)  # scrapy-redis: idle signal, MAX_IDLE_TIME_BEFORE_CLOSE
        self.server = connect(settings.get("REDIS_URL"))  # with retries: survives a Redis restart
        self.queue = CheckQueue(self.server, settings.get("REDIS_KEY_PREFIX") or DEFAULT_PREFIX)
        self.redis_key = self.queue.keys["queue"]
        self.fetch_data = self._lease_checks
        self.count_size = lambda _key: self.queue.outstanding()
        self.worker = worker_name()
        self.capacity = settings.getint("DISTRIBUTED_CHECKS_PER_WORKER", 16)
        self.lease_time = settings.getfloat("DISTRIBUTED_LEASE_TIME", 120)
        self.max_attempts = settings.getint("DISTRIBUTED_MAX_ATTEMPTS", 3)
        self.poll_interval = settings.getfloat("DISTRIBUTED_POLL_INTERVAL", 1.0)
        self.check_tracker = CheckTracker(crawler, self._check_finished)
        self._loops: list[task.LoopingCall] = []
        crawler.signals.connect(self._worker_opened, signal=signals.spider_opened)
        crawler.signals.connect(self._worker_closed, signal=signals.spider_closed)

    # -- feeding -------------------------------------------------------------------------------

    async def start(self):
        if not self.worker_mode:
            async for request in super().start():
                yield request
            return
        self.logger.info("Worker %s taking article checks from %s", self.worker, self.redis_key)
        self.spider_idle_start_time = int(time.time())
        for request in self._safe_next_requests():
            yield request

    def _lease_checks(self, _key: str, _batch: int) -> list[Check]:
        free = self.capacity - len(self.check_tracker.checks)
        return self.queue.lease(self.worker, free, self.lease_time, self.max_attempts)

    def make_request_from_data(self, check: Check) -> scrapy.Request:
        self.crawler.stats.inc_value(f"{STATS}/checks/leased")
        # a host on the watch list was named by the user (see MonitorSpider and crawler.hostguard)
        self.user_hosts.add(urlsplit(check.url).hostname)
        self.user_origins.update(origins([check.url]))
        # what deletion confirmation and the full-text re-check read from SQLite in one process
        for article_id, comments in (check.comments or {}).items():
            self.check_comments[article_id] = comments
            self._forget_article(article_id)  # a long-lived worker: nothing left from an earlier run
        if hasattr(self, "_now"):
            self._now = now_utc()  # full texts are due by this run's clock, not the first run's
        if check.fetch and self.settings.getbool("CONDITIONAL_GET", True):
            self.fetch_state[check.url_key] = check.fetch
        if self.render == "browser":
            request = scrapy.Request(check.url, callback=self.open_in_browser, errback=self.article_failed)
        else:
            request = self.article_request(check.url, self.parse_article, self.article_failed)
        return self.check_tracker.start(check, request)

    def _forget_article(self, article_id: str) -> None:
        getattr(self, "_comment_state", {}).pop(article_id, None)
        getattr(self, "_confirm_state", {}).pop(article_id, None)

    def _stored_live_ids(self, article_id: str) -> set[str]:
        if not self.worker_mode:
            return super()._stored_live_ids(article_id)
        return set(self.check_comments.get(article_id, {}))

    def stored_comment_state(self, article_id: str) -> dict[str, dict]:
        if not self.worker_mode:
            return super().stored_comment_state(article_id)
        return dict(self.check_comments.get(article_id, {}))

    def _safe_next_requests(self) -> list[scrapy.Request]:
        try:
            return list(self.next_requests())
        except Exception as exc:  # Redis away for longer than the client's retries
            self.logger.warning("Could not lease checks: %s", exc)
            return []

    def _top_up(self) -> None:
        if len(self.check_tracker.checks) >= self.capacity:
            return
        for request in self._safe_next_requests():
            self.crawler.engine.crawl(request)

    def spider_idle(self):
        # Nothing of any check can be in flight when the engine is idle.
        self.check_tracker.finish_all()
        try:
            super().spider_idle()
        except DontCloseSpider:
            raise
        except Exception as exc:
            self.logger.warning("Redis unavailable while idle (%s); waiting", exc)
            raise DontCloseSpider from exc
        if self.check_tracker.checks:
            raise DontCloseSpider
        self.logger.info("Idle for %ss: worker %s exits", self.max_idle_time, self.worker)

    # -- leases and results ------------------------------------------------------------------------

    def _worker_opened(self, spider) -> None:
        renew = task.LoopingCall(self._renew)
        renew.start(max(0.2, self.lease_time / 3), now=False)
        poll = task.LoopingCall(self._top_up)
        poll.start(self.poll_interval, now=False)
        self._loops = [renew, poll]

    def _renew(self) -> None:
        held = list(self.check_tracker.checks)
        try:
            lost = self.queue.renew(self.worker, held, self.lease_time)
        except Exception as exc:
            self.logger.warning("Could not renew leases: %s", exc)
            return
        for check_id in lost:
            # taken over after this worker was too slow: finish anyway, the ingester stores it once
            self.crawler.stats.inc_value(f"{STATS}/leases/lost")
            self.logger.warning("Lease of check %s lost (expired); finishing it anyway", check_id)

    def _check_finished(self, entry: CheckInFlight) -> None:
        check = entry.check
        result = {
            "check": check.id,
            "run": check.run,
            "url": check.url,
            "url_key": check.url_key,
            "worker": self.worker,
            "requests": entry.requests_made,
            "dropped": entry.dropped,
            "errors": entry.errors,
            "items": entry.items,
        }
        self.fetch_state.pop(check.url_key, None)
        finished = set(check.comments or {}) | {
            r["fields"]["article_id"] for r in entry.items if r.get("fields", {}).get("article_id")
        }
        for article_id in finished:
            self.check_comments.pop(article_id, None)
            self._forget_article(article_id)
        for pipe in self.crawler.engine.scraper.itemproc.middlewares:
            if hasattr(pipe, "check_finished"):
                pipe.check_finished(entry.items)
        try:
            self.queue.complete(self.worker, check.id, result)
        except Exception as exc:  # the lease will expire and another worker redo the check
            self.crawler.stats.inc_value(f"{STATS}/checks/unsent")
            self.logger.error("Could not send the result of check %s: %s", check.id, exc)
            return
        self.crawler.stats.inc_value(f"{STATS}/checks/finished")
        self._top_up()

    def _worker_closed(self, spider, reason) -> None:
        for loop in self._loops:
            if loop.running:
                loop.stop()
        held = list(self.check_tracker.checks)
        if held:
            try:
                released = self.queue.release(self.worker, held)
                self.logger.info("Handed back %d unfinished check(s)", released)
            except Exception as exc:
                self.logger.warning(
                    "Could not hand back %d check(s) (their leases expire): %s", len(held), exc
                )
