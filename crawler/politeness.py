"""Politeness as sites ask for it: robots.txt Crawl-delay, Retry-After, and redirect loops as failures.

Scrapy obeys robots.txt's Allow/Disallow but ignores its `Crawl-delay`, retries a 429/503 at once
whatever its `Retry-After` says, and drops the request that closes a redirect loop (a -> b -> a) in its
duplicate filter without a word. These subclasses of Scrapy's own middlewares take their places:

- `CrawlDelayRobotsTxtMiddleware`: a domain's Crawl-delay (for our user agent) becomes the delay of its
  download slot, one request at a time, counted from the previous answer, without jitter and out of
  AutoThrottle's reach; capped by ROBOTSTXT_CRAWL_DELAY_MAX so that a site cannot stall a run for hours.
- `RetryAfterMiddleware`: a retryable answer with Retry-After (seconds or an HTTP date) is retried after
  that wait when it is at most RETRY_AFTER_MAX; a longer wait is not retried in this run (the request
  fails and counts as failed, and the log says what the site asked for). Either way the site asked the
  crawler, not one request, to wait: the whole domain (download slot) is paused for the wait, bounded by
  RETRY_AFTER_MAX; nothing queued for it is sent before then (requests already on the wire are not
  recalled).
- `LoopRedirectMiddleware`: a redirect back to a URL of its own chain fails the request
  (`redirect/loop` in the stats, the spider's errback counts it), so the run is not `ok`.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from scrapy import signals
from scrapy.downloadermiddlewares.redirect import RedirectMiddleware
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.utils.asyncio import call_later
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.response import response_status_message
from twisted.internet import task

logger = logging.getLogger(__name__)


class CrawlDelayRobotsTxtMiddleware(RobotsTxtMiddleware):
    """RobotsTxtMiddleware that also honours robots.txt's Crawl-delay, per domain (download slot)."""

    def __init__(self, crawler):
        super().__init__(crawler)
        self.max_delay = crawler.settings.getfloat("ROBOTSTXT_CRAWL_DELAY_MAX", 30.0)
        self.logged: set[str] = set()

    def process_request_2(self, rp, request) -> None:
        super().process_request_2(rp, request)  # raises IgnoreRequest when disallowed
        if rp is None:
            return
        useragent = self._robotstxt_useragent or request.headers.get(b"User-Agent", self._default_useragent)
        try:
            asked = rp.crawl_delay(useragent)
        except (TypeError, ValueError):
            asked = None
        if not asked or asked <= 0:
            return
        delay = min(float(asked), self.max_delay)
        downloader = self.crawler.engine.downloader
        key = downloader.get_slot_key(request)
        # New slots (also one re-created after Scrapy's idle-slot clean-up) start with it; the current
        # one gets it now, before this request is queued in it.
        # One request at a time: the next one leaves `delay` after the previous answer (process_response).
        downloader.per_slot_settings.setdefault(key, {}).update(delay=delay, jitter=0.0, concurrency=1)
        slot = downloader.slots.get(key)
        if slot is not None:
            slot.delay, slot.jitter, slot.concurrency = max(slot.delay, delay), 0.0, 1
        # AutoThrottle would lower the delay again after a fast answer.
        request.meta["autothrottle_dont_adjust_delay"] = True
        if key not in self.logged:
            # the first delay runs from now (robots.txt has just been read), not from its request
            if slot is not None:
                slot.lastseen = max(slot.lastseen, time.monotonic())
            self.logged.add(key)
            self._stats.set_value(f"robotstxt/crawl_delay/{key}", delay)
            note = (
                f" (robots.txt asks {asked:g} s, capped by ROBOTSTXT_CRAWL_DELAY_MAX)"
                if delay < asked
                else ""
            )
            logger.info("Crawl-delay of %s: %g s between requests%s", key, delay, note)

    def process_response(self, request, response, spider=None):
        # A delay runs from the last answer, not the last request: the site sees at least the delay
        # between one request and the next however long its answers take.
        downloader = self.crawler.engine.downloader
        key = request.meta.get(downloader.DOWNLOAD_SLOT) or downloader.get_slot_key(request)
        if key in self.logged:
            slot = downloader.slots.get(key)
            if slot is not None:
                slot.lastseen = max(slot.lastseen, time.monotonic())
        return response


def retry_after_seconds(value: bytes | str | None, now: datetime | None = None) -> float | None:
    """Seconds a Retry-After header asks to wait (delay-seconds or an HTTP date), None if unreadable."""
    if not value:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def pause_slot(downloader, key: str, seconds: float) -> float:
    """Send nothing from download slot `key` for `seconds` (a longer pause already set stays).

    Returns the monotonic time the slot resumes at. Scrapy's downloader holds a slot's queue while the
    slot has a `latercall` pending (that is how it waits out DOWNLOAD_DELAY): the pause is such a call,
    due when the pause ends; the slot's `lastseen` moves along so the delay's own arithmetic (and the
    clean-up of idle slots) sees the slot as busy until then.
    """
    slot = downloader.slots.get(key)
    until = time.monotonic() + seconds
    if slot is None:
        return until
    # never earlier than a pause (or Crawl-delay) already running
    until = max(until, slot.lastseen + slot.delay)
    slot.lastseen = until - slot.delay
    if slot.latercall is not None:
        slot.latercall.cancel()
    slot.latercall = call_later(max(0.0, until - time.monotonic()), downloader._latercall, slot)
    return until


#: Answers whose Retry-After asks the client to come back later (RFC 9110 15.6.4, RFC 6585 4).
PAUSING_STATUSES = frozenset({429, 503})


class RetryAfterMiddleware(RetryMiddleware):
    """RetryMiddleware that waits as long as Retry-After asks (bounded) before retrying, and pauses the
    request's whole domain (download slot) for that time."""

    def __init__(self, settings):
        super().__init__(settings)
        self.max_wait = settings.getfloat("RETRY_AFTER_MAX", 60.0)

    @classmethod
    def from_crawler(cls, crawler):
        middleware = super().from_crawler(crawler)
        # response_downloaded fires before the downloader sends the slot's next request (that is how
        # AutoThrottle sets a delay in time); process_response comes after it, too late to hold it.
        crawler.signals.connect(middleware.pause_domain, signal=signals.response_downloaded)
        return middleware

    def pause_domain(self, response, request, spider=None) -> None:
        """A 429/503 with Retry-After: nothing more to its download slot until the wait is over."""
        if response.status not in PAUSING_STATUSES:
            return
        wait = retry_after_seconds(response.headers.get(b"Retry-After"))
        seconds = min(wait or 0.0, self.max_wait)
        if seconds <= 0:
            return
        downloader = self.crawler.engine.downloader
        key = request.meta.get(downloader.DOWNLOAD_SLOT) or downloader.get_slot_key(request)
        pause_slot(downloader, key, seconds)
        self.crawler.stats.inc_value("retry_after/paused")
        logger.info(
            "%s answered %s with Retry-After %g s: no requests to %s for %g s",
            request.url,
            response.status,
            wait,
            key,
            seconds,
        )

    async def process_response(self, request, response, spider=None):
        if request.meta.get("dont_retry", False) or response.status not in self.retry_http_codes:
            return response
        wait = retry_after_seconds(response.headers.get(b"Retry-After"))
        if wait is None:
            return super().process_response(request, response)
        stats = self.crawler.stats
        if wait > self.max_wait:
            stats.inc_value("retry_after/too_long")
            logger.warning(
                "%s answered %s with Retry-After %g s, over RETRY_AFTER_MAX (%g s): not retried in this run",
                request.url,
                response.status,
                wait,
                self.max_wait,
            )
            return response
        retry = self._retry(request, response_status_message(response.status))
        if retry is None:
            return response
        stats.inc_value("retry_after/waited")
        stats.inc_value("retry_after/seconds", wait)
        if wait:
            from twisted.internet import reactor  # the one Scrapy installed (importing earlier installs one)

            # the slot is paused too; waiting here as well keeps the retry's own wait whatever becomes
            # of the slot (Scrapy drops idle slots)
            await maybe_deferred_to_future(task.deferLater(reactor, wait))
        return retry


class LoopRedirectMiddleware(RedirectMiddleware):
    """RedirectMiddleware that fails a redirect back into its own chain instead of dropping it."""

    def _redirect(self, redirected, request, reason):
        chain = [*request.meta.get("redirect_urls", []), request.url]
        if redirected.url in chain:
            self.crawler.stats.inc_value("redirect/loop")
            path = " -> ".join([*chain, redirected.url])
            logger.error("Redirect loop: %s", path)
            raise IgnoreRequest(f"redirect loop: {path}")
        return super()._redirect(redirected, request, reason)
