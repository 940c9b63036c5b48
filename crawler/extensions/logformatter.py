"""Scrapy's log formatter, without building the per-response and per-item DEBUG records nobody reads.

Scrapy sets the root logger to NOTSET and filters by LOG_LEVEL in its handler, so every response
("Crawled (200) …") and every item ("Scraped from …") becomes a LogRecord that the handler then drops.
A 1,200-comment thread over a comment API is about 1,400 items and 250 responses: those records
were 3% of the crawl's CPU time at the default LOG_LEVEL (INFO). The messages are skipped only when
no handler on the way to the root takes DEBUG; `-s LOG_LEVEL=DEBUG` (or a handler of your own at
DEBUG) shows every one of them as before.
"""

from __future__ import annotations

import logging

from scrapy.logformatter import LogFormatter

#: The loggers Scrapy writes the two messages to (the engine: crawled; the scraper: scraped).
_LOGGERS = ("scrapy.core.engine", "scrapy.core.scraper")


def debug_shown(name: str) -> bool:
    """Whether a DEBUG record of logger `name` would reach a handler that emits it."""
    logger: logging.Logger | None = logging.getLogger(name)
    if not logger.isEnabledFor(logging.DEBUG):
        return False
    handlers = []
    while logger is not None:
        handlers += logger.handlers
        logger = logger.parent if logger.propagate else None
    if not handlers:  # Python's last resort handler: WARNING and up
        return False
    return any(handler.level <= logging.DEBUG for handler in handlers)


class QuietLogFormatter(LogFormatter):
    def __init__(self) -> None:
        super().__init__()
        self._shown: bool | None = None

    def _debug_shown(self) -> bool:
        # decided at the first message: the handlers are installed by then, and stay for the crawl
        if self._shown is None:
            self._shown = any(debug_shown(name) for name in _LOGGERS)
        return self._shown

    def crawled(self, request, response, spider):
        return super().crawled(request, response, spider) if self._debug_shown() else None

    def scraped(self, item, response, spider):
        return super().scraped(item, response, spider) if self._debug_shown() else None
