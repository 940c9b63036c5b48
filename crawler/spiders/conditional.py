"""Cheap re-crawls of unchanged article pages: conditional GET and a body hash.

The validators of each article page fetch (ETag, Last-Modified, a hash of the body) are kept in
`http_cache`, outside the history. The next request for the page sends If-None-Match /
If-Modified-Since; a 304, or a 200 whose body hashes the same, means the page is unchanged: it is not
parsed and not re-written, only marked seen. Its comment thread is still checked when the last
complete load of it is older than COMMENTS_RECHECK_AFTER (or was incomplete): then the page is
processed in full (re-requested without validators after a 304).
"""

from __future__ import annotations

import hashlib
from datetime import datetime

import scrapy
from scrapy.http import Response

from crawler.dates import iso, now_utc
from crawler.items import FetchItem
from crawler.monitor.schedule import parse_duration
from crawler.store import open_db, queries, resolve_db_path
from crawler.urls import url_key

STATS = "conditional_get"


def _key(request_or_response) -> str:
    """The URL key the request was made for (a redirect may have changed the response's URL)."""
    return request_or_response.meta.get("url_key") or url_key(request_or_response.url)


def body_hash(response: Response) -> str:
    return hashlib.sha256(response.body).hexdigest()[:32]


class ConditionalGet:
    """Mixin for the article spider: validators on requests, unchanged pages recognised."""

    fetch_state: dict[str, dict]

    def load_fetch_state(self, urls: list[str]) -> None:
        self.fetch_state = {}
        if not self.settings.getbool("CONDITIONAL_GET", True):
            return
        path = resolve_db_path(self.settings.get("SQLITE_PATH"))
        if not path.exists():
            return
        db = open_db(path)
        try:
            self.fetch_state = queries.fetch_state(db, [url_key(u) for u in urls])
        finally:
            db.close()

    def article_request(self, url: str, callback, errback, validators: bool = True) -> scrapy.Request:
        key = url_key(url)
        cached = self.fetch_state.get(key) if validators else None
        headers = {}
        if cached and cached.get("etag"):
            headers["If-None-Match"] = cached["etag"]
        if cached and cached.get("last_modified"):
            headers["If-Modified-Since"] = cached["last_modified"]
        return scrapy.Request(
            url,
            callback=callback,
            errback=errback,
            headers=headers,
            dont_filter=not validators,  # the unconditional re-request repeats the same URL
            meta={"url_key": key, "handle_httpstatus_list": [304]},
        )

    def cached_if_unchanged(self, response: Response) -> dict | None:
        """The cached state of the page when the response says it did not change, else None."""
        cached = self.fetch_state.get(_key(response))
        if cached is None or not cached.get("article_id"):
            return None
        if response.status == 304 or (
            response.status == 200 and cached.get("body_hash") == body_hash(response)
        ):
            self.crawler.stats.inc_value(f"{STATS}/unchanged/{response.status}")
            return cached
        return None

    def comments_due(self, cached: dict) -> bool:
        recheck = parse_duration(self.settings.get("COMMENTS_RECHECK_AFTER", "1h"))
        checked = cached.get("comments_checked_at")
        if not cached.get("comments_complete") or not checked:
            return True
        return now_utc() - datetime.fromisoformat(checked) >= recheck

    def fetch_item(self, response: Response, article_id: str, unchanged: bool = False) -> FetchItem:
        headers = response.headers
        return FetchItem(
            url=response.url,
            url_key=_key(response),
            status=response.status,
            article_id=article_id,
            etag=(headers.get(b"ETag") or b"").decode("latin-1") or None,
            last_modified=(headers.get(b"Last-Modified") or b"").decode("latin-1") or None,
            body_hash=body_hash(response) if response.status == 200 else None,
            unchanged=unchanged,
            fetched_at=iso(now_utc()),
        )

    def failed_fetch_item(self, request, status: int) -> FetchItem:
        return FetchItem(
            url=request.url,
            url_key=_key(request),
            status=status,
            fetched_at=iso(now_utc()),
        )
