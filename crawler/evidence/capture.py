"""Capturing evidence during a crawl: responses into the run's WARC, items stamped with their record.

`EvidenceMiddleware` (a downloader middleware, enabled by EVIDENCE) listens to `response_downloaded`,
which Scrapy sends with the response exactly as the download handler returned it (before
decompression or redirects), writes it with its request to the run's WARC file and puts the record id
in the request's meta. For pages opened in Chromium it also attaches a page listener that records the
XHR / fetch answers the page's scripts received (the comment API calls "Load More" triggers).

`EvidenceStampMiddleware` (a spider middleware) sees each response together with the items its
callback produced, and stamps every item with that response's record id (`evidence_id`): the store
carries it onto the comment, article or list-item row and onto the change events it causes, and the
sightings (which record showed which item) go to the `evidence_items` table. The stamp is an instance
attribute outside the items' declared fields, on purpose: adapter outputs (saved expected outputs,
feed exports through itemadapter) stay exactly what the page said; the store reads it from the
item's `__dict__`, as it reads every field.

The `evidence` rows are written by this module, in batches, outside the store's transactions; the
WARC file is named after the run (`<db dir>/warc/<db name>-run-000042.warc.gz` by default).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from scrapy import signals
from scrapy.exceptions import NotConfigured

from crawler.dates import iso, now_utc
from crawler.evidence.records import store_records, store_sightings
from crawler.evidence.warc import Capture, RunWarc
from crawler.items import ArticleItem, CommentItem, ListItem
from crawler.store import open_db, resolve_db_path
from crawler.store.changes import list_item_entity_id

logger = logging.getLogger(__name__)
STATS = "evidence"
META_KEY = "evidence_record"
#: Browser answers worth keeping: what the page's scripts fetched (comment API calls), not images.
XHR_TYPES = frozenset({"xhr", "fetch"})
#: evidence rows and sightings stored per batch during the crawl (the rest at the end), so a crawl
#: killed half-way keeps most of its links
FLUSH_EVERY = 500
SIGHTINGS_FLUSH_EVERY = 5000


def _header_pairs(headers) -> list[tuple[str, str]]:
    """Scrapy's multi-valued headers as (name, value) pairs, decoded as HTTP says (latin-1)."""
    pairs = []
    for name, values in headers.items():
        for value in values:
            pairs.append((name.decode("latin-1"), value.decode("latin-1")))
    return pairs


def evidence_dir(settings, db_path: Path) -> Path:
    """Where the WARC files go: EVIDENCE_DIR, else `warc/` beside the database."""
    configured = settings.get("EVIDENCE_DIR")
    return Path(configured) if configured else db_path.parent / "warc"


def entity_of(item: Any) -> tuple[str, str] | None:
    """(entity_type, entity_id) as the store names the item, or None for other items."""
    if isinstance(item, CommentItem):
        return ("comment", item.comment_id)
    if isinstance(item, ArticleItem) and item.article_id:
        return ("article", item.article_id)
    if isinstance(item, ListItem):
        # the store's id of a list item (its own id, else its position; crawler.store.changes)
        return (
            "list_item",
            list_item_entity_id(
                {"article_id": item.article_id, "item_id": item.item_id, "position": item.position}
            ),
        )
    return None


class EvidenceMiddleware:
    """Write every downloaded response of the run to its WARC file (see the module docstring)."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.stats = crawler.stats
        self.db_path = resolve_db_path(crawler.settings.get("SQLITE_PATH"))
        self.directory = evidence_dir(crawler.settings, self.db_path)
        self.request_records = crawler.settings.getbool("EVIDENCE_REQUEST_RECORDS")
        self.warc: RunWarc | None = None
        self.run_id: int | None = None
        self.unflushed = 0
        #: browser XHR records made before their page's record, by request, and their page once known
        self.early_xhrs: dict[int, list[str]] = {}
        self.late_parents: dict[str, str] = {}
        crawler.signals.connect(self.response_downloaded, signal=signals.response_downloaded)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler):
        if not crawler.settings.getbool("EVIDENCE"):
            raise NotConfigured  # off, the default: without a message Scrapy logs no "Disabled …" warning
        return cls(crawler)

    # -- the run's WARC file -------------------------------------------------------------------

    def _open(self) -> RunWarc:
        if self.warc is None:
            # The store pipeline started the run (and set its id) when the spider opened.
            self.run_id = self.stats.get_value("store/run_id")
            stamp = now_utc().strftime("%Y%m%dT%H%M%S")
            run = f"run-{self.run_id:06d}" if self.run_id is not None else f"norun-{stamp}"
            path = self.directory / f"{self.db_path.stem}-{run}.warc.gz"
            if path.exists():  # a database recreated beside an old WARC file: never mix two runs
                path = self.directory / f"{self.db_path.stem}-{run}-{stamp}.warc.gz"
            try:
                stored = str(path.resolve().relative_to(self.db_path.parent.resolve()))
            except ValueError:
                stored = str(path.resolve())
            self.warc = RunWarc(path, stored)
            self.stats.set_value(f"{STATS}/warc_path", str(path))
            logger.info("Writing evidence of run %s to %s", self.run_id, path)
        return self.warc

    def _capture(self, capture: Capture) -> str:
        warc = self._open()
        record_id = warc.add(capture)
        self.stats.inc_value(f"{STATS}/records")
        self.stats.inc_value(f"{STATS}/records/{capture.source}")
        self.stats.inc_value(f"{STATS}/payload_bytes", len(capture.body))
        self.unflushed += 1
        if self.unflushed >= FLUSH_EVERY:
            self._flush()
        return record_id

    def _flush(self) -> None:
        if self.warc is None:
            return
        rows = self.warc.drain()
        self.unflushed = 0
        if rows:
            db = open_db(self.db_path)
            try:
                store_records(db, rows, self.run_id)
            finally:
                db.close()

    # -- signals and hooks ---------------------------------------------------------------------

    def process_request(self, request, spider=None):
        if request.meta.get("playwright"):
            handlers = dict(request.meta.get("playwright_page_event_handlers") or {})
            existing = handlers.get("response")
            # A retried request arrives with the listener we gave its first attempt: replace it (it
            # would name the first attempt's page), keeping whatever someone else attached.
            theirs = getattr(existing, "evidence_wraps", existing)
            listener = self._chain(theirs, self._browser_listener(request))
            listener.evidence_wraps = theirs
            handlers["response"] = listener
            request.meta["playwright_page_event_handlers"] = handlers
        return None

    def _chain(self, theirs, ours):
        """Our listener after one someone else attached (a callable, or a spider method's name)."""

        async def both(pw_response) -> None:
            if theirs is not None:
                handler = getattr(self.crawler.spider, theirs) if isinstance(theirs, str) else theirs
                outcome = handler(pw_response)
                if hasattr(outcome, "__await__"):
                    await outcome
            await ours(pw_response)

        return both

    def response_downloaded(self, response, request, spider=None):
        source = "browser" if request.meta.get("playwright") else "http"
        body = response.body
        capture = Capture(
            url=response.url,
            status=response.status,
            headers=_header_pairs(response.headers),
            body=body,
            fetched_at=iso(now_utc()),
            method=request.method,
            request_headers=_header_pairs(request.headers) if self.request_records else None,
            request_body=request.body or b"",
            source=source,
            protocol=getattr(response, "protocol", None) or "HTTP/1.1",
        )
        request.meta[META_KEY] = self._capture(capture)
        for xhr in self.early_xhrs.pop(id(request), []):
            self.late_parents[xhr] = request.meta[META_KEY]

    def _browser_listener(self, request):
        async def on_response(pw_response) -> None:
            try:
                if pw_response.request.resource_type not in XHR_TYPES:
                    return
                body = await pw_response.body()
                headers = await pw_response.headers_array()
                pw_request = pw_response.request
                post = pw_request.post_data_buffer or b""
                request_headers = await pw_request.headers_array()
            except Exception as exc:  # the page closed before the body arrived, a redirect …
                self.stats.inc_value(f"{STATS}/xhr_unreadable")
                logger.debug("XHR answer not recorded: %s", exc)
                return
            # Chromium hands the body decoded: the stored headers must not claim an encoding.
            kept = [
                (h["name"], h["value"])
                for h in headers
                if h["name"].lower() not in ("content-encoding", "content-length")
            ]
            kept.append(("Content-Length", str(len(body))))
            parent = request.meta.get(META_KEY)
            record_id = self._capture(
                Capture(
                    url=pw_response.url,
                    status=pw_response.status,
                    headers=kept,
                    body=body,
                    fetched_at=iso(now_utc()),
                    method=pw_request.method,
                    request_headers=[(h["name"], h["value"]) for h in request_headers]
                    if self.request_records
                    else None,
                    request_body=post,
                    source="xhr",
                    parent_record_id=parent,
                )
            )
            if parent is None:
                # Fetched while the page was still loading, before its own record existed: linked to
                # the page once that is written.
                self.early_xhrs.setdefault(id(request), []).append(record_id)

        return on_response

    def spider_closed(self, spider=None, reason=None):
        if self.warc is None:
            return
        rows = self.warc.close()
        for error in self.warc.errors:
            logger.error("Evidence record not written: %s", error)
        self.stats.set_value(f"{STATS}/write_errors", len(self.warc.errors))
        self.stats.set_value(f"{STATS}/warc_bytes", self.warc.bytes_written)
        db = open_db(self.db_path)
        try:
            store_records(db, rows, self.run_id)
            if self.late_parents:
                with db.conn:
                    db.conn.executemany(
                        "UPDATE evidence SET parent_record_id = ? WHERE record_id = ?",
                        [(page, xhr) for xhr, page in self.late_parents.items()],
                    )
        finally:
            db.close()


class EvidenceStampMiddleware:
    """Stamp each item with the record of the response it came from; remember the sightings."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.db_path = resolve_db_path(crawler.settings.get("SQLITE_PATH"))
        self.sightings: dict[tuple[str, str, str], None] = {}
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler):
        if not crawler.settings.getbool("EVIDENCE"):
            raise NotConfigured  # off, the default: without a message Scrapy logs no "Disabled …" warning
        return cls(crawler)

    def _stamp(self, item: Any, record_id: str | None) -> None:
        if record_id is None:
            return
        entity = entity_of(item)
        if entity is None:
            return
        if getattr(item, "evidence_id", None) is None:
            item.evidence_id = record_id
        self.sightings[(record_id, *entity)] = None
        if len(self.sightings) >= SIGHTINGS_FLUSH_EVERY:
            self._flush()

    def process_spider_output(self, response, result, spider=None):
        record_id = response.meta.get(META_KEY)
        for item in result:
            self._stamp(item, record_id)
            yield item

    async def process_spider_output_async(self, response, result, spider=None):
        record_id = response.meta.get(META_KEY)
        async for item in result:
            self._stamp(item, record_id)
            yield item

    def _flush(self) -> None:
        if not self.sightings:
            return
        run_id = self.crawler.stats.get_value("store/run_id")
        db = open_db(self.db_path)
        try:
            store_sightings(db, list(self.sightings), run_id)
        finally:
            db.close()
        self.sightings = {}

    def spider_closed(self, spider=None, reason=None):
        self._flush()
