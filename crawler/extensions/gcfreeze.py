"""Keep the objects a crawl starts with out of Python's garbage collector (`gc.freeze()`).

Scrapy, Twisted, lxml and the project import a few hundred thousand long-lived objects (modules,
classes, functions, settings). Every full collection walks all of them again, and a thread paged over
a comment API allocates enough (responses, lxml trees, items) to trigger collections all the time:
on the 1,200-comment replica thread the collector took 0.11-0.18 s of a ~1.3 s crawl, 0.04 s with
the start-up objects frozen. Objects created later are collected as usual; what is frozen is what
was alive when the spider opened. No full collection comes first: it would cost ~50 ms of every
crawl, and the start-up garbage it would free (what the collections during start-up left) is kept
instead, once, for the life of the process. Off with GC_FREEZE = False.
"""

from __future__ import annotations

import gc

from scrapy import signals
from scrapy.exceptions import NotConfigured

#: Whether this process has frozen its start-up objects already (once per process).
_frozen = False


class FreezeStartupObjects:
    def __init__(self, stats) -> None:
        self.stats = stats
        self.froze = False

    @classmethod
    def from_crawler(cls, crawler):
        if not crawler.settings.getbool("GC_FREEZE", True):
            raise NotConfigured  # without a message: no "Disabled …" warning
        extension = cls(crawler.stats)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_opened(self, spider) -> None:
        global _frozen  # noqa: PLW0603
        if _frozen:
            # a second crawl in the same process: what is alive now is partly the last crawl's
            return
        _frozen = True
        self.froze = True
        # every tracked object moves to the permanent generation, which collections skip
        gc.freeze()

    def spider_closed(self, spider) -> None:
        # Counted at the close, not at the freeze: get_freeze_count() walks every frozen object
        # (~15 ms for a crawl's ~250,000), and at the open it would sit inside the crawl's measured
        # time. Scrapy's CoreStats has taken elapsed_time_seconds by now (extensions connect before the
        # pipelines, so the run's stored stats still get the count). Objects frozen and freed since
        # are not counted.
        if self.froze:
            self.stats.set_value("gc/frozen_objects", gc.get_freeze_count())
