"""Which requests and items belong to which article check, and when a check is finished.

A check is finished when none of its requests is still pending (downloading, or its callback's output
not consumed yet) and every item it produced has left the item pipelines (stored in the check's
result, or dropped). Requests carry the check id and a request token in `meta`; tokens are counted as
a set, so a request counted twice (an HttpError answer goes through the errback *and* the spider
middleware output) still ends once. Follow-up requests inherit the tags in `CheckMiddleware`, which
sits outermost among the spider middlewares and so sees exactly what reaches the engine.

The order in which items arrive decides nothing here (Scrapy consumes callback output lazily and
interleaved): only the count of what is still in flight does.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import scrapy
from scrapy import signals

from crawler.distributed.queue import Check

logger = logging.getLogger(__name__)

CHECK = "pandawatch_check"
TOKEN = "pandawatch_request"
#: set on a request whose errback already accounted for its output (see CheckMiddleware)
ERRBACK_DONE = "pandawatch_errback_done"


@dataclass
class CheckInFlight:
    check: Check
    requests: set[int] = field(default_factory=set)
    items_pending: int = 0
    items: list[dict] = field(default_factory=list)
    requests_made: int = 0
    dropped: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def finished(self) -> bool:
        return not self.requests and self.items_pending == 0


def item_record(item: Any) -> dict:
    """An item as a stream record: its class name and fields (dataclass fields only)."""
    if not dataclasses.is_dataclass(item):
        raise TypeError(f"cannot send {type(item).__name__} to the results stream")
    return {"type": type(item).__name__, "fields": dataclasses.asdict(item)}


class CheckTracker:
    """Book-keeping of the checks a worker holds; calls `on_finished(check_in_flight)` once each."""

    def __init__(self, crawler, on_finished: Callable[[CheckInFlight], None]):
        self.crawler = crawler
        self.on_finished = on_finished
        self.checks: dict[str, CheckInFlight] = {}
        self._tokens = itertools.count(1)
        crawler.signals.connect(self.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(self.item_dropped, signal=signals.item_dropped)
        crawler.signals.connect(self.item_error, signal=signals.item_error)
        crawler.signals.connect(self.request_dropped, signal=signals.request_dropped)

    # -- requests ----------------------------------------------------------------------------

    def start(self, check: Check, request: scrapy.Request) -> scrapy.Request:
        self.checks[check.id] = CheckInFlight(check)
        return self.tag(check.id, request)

    def tag(self, check_id: str, request: scrapy.Request) -> scrapy.Request:
        """Count `request` as part of the check; its errback is wrapped so a failure ends it too."""
        entry = self.checks.get(check_id)
        if entry is None:
            return request
        token = next(self._tokens)
        request.meta[CHECK] = check_id
        request.meta[TOKEN] = token
        entry.requests.add(token)
        entry.requests_made += 1
        request.errback = _AccountedErrback(self, request.errback)
        return request

    def request_ended(self, meta: dict) -> None:
        entry = self.checks.get(meta.get(CHECK))
        if entry is not None:
            entry.requests.discard(meta.get(TOKEN))
            self._maybe_finished(entry)

    def request_dropped(self, request, spider=None) -> None:
        # the scheduler refused it (a duplicate filter): it will never be answered
        self.request_ended(request.meta)

    # -- output ------------------------------------------------------------------------------

    def output(self, check_id: str | None, result: Iterable[Any]) -> list[Any]:
        """Tag the requests and count the items of one callback's or errback's output."""
        out = []
        for obj in result or ():
            self.count(check_id, obj)
            out.append(obj)
        return out

    def count(self, check_id: str | None, obj: Any) -> Any:
        entry = self.checks.get(check_id)
        if entry is None:
            return obj
        if isinstance(obj, scrapy.Request):
            return self.tag(check_id, obj)
        entry.items_pending += 1
        return obj

    # -- items (signals carry the response or failure, whose request holds the check id) ----

    def _entry_of(self, response) -> CheckInFlight | None:
        request = getattr(response, "request", None)
        if request is None:
            return None
        return self.checks.get(request.meta.get(CHECK))

    def item_scraped(self, item, response=None, spider=None) -> None:
        entry = self._entry_of(response)
        if entry is not None:
            entry.items.append(item_record(item))
            entry.items_pending -= 1
            self._maybe_finished(entry)

    def item_dropped(self, item, response=None, exception=None, spider=None) -> None:
        entry = self._entry_of(response)
        if entry is not None:
            entry.dropped += 1
            entry.items_pending -= 1
            self._maybe_finished(entry)

    def item_error(self, item, response=None, spider=None, failure=None) -> None:
        entry = self._entry_of(response)
        if entry is not None:
            entry.errors.append(f"item error: {failure.getErrorMessage() if failure else '?'}")
            entry.items_pending -= 1
            self._maybe_finished(entry)

    # -- finishing ---------------------------------------------------------------------------

    def _maybe_finished(self, entry: CheckInFlight) -> None:
        if entry.finished and self.checks.pop(entry.check.id, None) is not None:
            self.on_finished(entry)

    def finish_all(self) -> None:
        """The engine is idle: nothing of any check can still be in flight."""
        for entry in list(self.checks.values()):
            if entry.requests or entry.items_pending:
                logger.warning(
                    "Check %s ended with %d request(s) and %d item(s) unaccounted for",
                    entry.check.id,
                    len(entry.requests),
                    entry.items_pending,
                )
            entry.requests.clear()
            entry.items_pending = 0
            self._maybe_finished(entry)


class _AccountedErrback:
    """Calls the request's own errback, counts its output, then ends the request."""

    def __init__(self, tracker: CheckTracker, errback):
        # a request copied by retry/redirect keeps this wrapper: never wrap twice
        while isinstance(errback, _AccountedErrback):
            errback = errback.errback
        self.tracker = tracker
        self.errback = errback

    def __call__(self, failure):
        request = failure.request
        request.meta[ERRBACK_DONE] = True
        check_id = request.meta.get(CHECK)
        try:
            if self.errback is None:
                logger.error("Request %s failed: %s", request.url, failure.getErrorMessage())
                return []
            return self.tracker.output(check_id, self.errback(failure))
        finally:
            self.tracker.request_ended(request.meta)


class CheckMiddleware:
    """Spider middleware (outermost): follow-ups inherit their response's check; the end of a
    callback's output ends its request."""

    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def _tracker(self) -> CheckTracker | None:
        return getattr(self.crawler.spider, "check_tracker", None)

    async def process_spider_output_async(self, response, result: AsyncIterator[Any]) -> AsyncIterator[Any]:
        tracker = self._tracker()
        meta = response.request.meta if response.request is not None else {}
        if tracker is None or CHECK not in meta or meta.get(ERRBACK_DONE):
            async for obj in result:
                yield obj
            return
        try:
            async for obj in result:
                yield tracker.count(meta[CHECK], obj)
        finally:
            tracker.request_ended(meta)

    def process_spider_output(self, response, result: Iterable[Any]) -> Iterable[Any]:
        tracker = self._tracker()
        meta = response.request.meta if response.request is not None else {}
        if tracker is None or CHECK not in meta or meta.get(ERRBACK_DONE):
            yield from result
            return
        try:
            for obj in result:
                yield tracker.count(meta[CHECK], obj)
        finally:
            tracker.request_ended(meta)

    def process_spider_exception(self, response, exception):
        # the callback raised: its output ends here (the finally above ends the request)
        return None
