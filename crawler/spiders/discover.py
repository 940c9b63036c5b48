"""`scrapy crawl discover`: enrol new articles from feeds, sitemaps (indexes, gzipped ones, those a
robots.txt names) and listing pages.

Sources come from `-a url=…` / `-a urls_file=…`, or from the `sources` table (`crawler sources add`).
A link is enrolled in the watch list (due at once) when it is new (neither watched nor crawled), passes
DISCOVER_ALLOW / DISCOVER_DENY, is not older than DISCOVER_MAX_AGE_DAYS, and the run has enrolled fewer
than DISCOVER_MAX_NEW. A link to another host that resolves to a private address is not enrolled
unless ALLOW_PRIVATE_HOSTS is set.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy.http import Response

from crawler.dates import iso, now_utc
from crawler.hostguard import origins, url_allowed
from crawler.items import DiscoveredItem
from crawler.sites.boredpanda.listing import parse_listing
from crawler.sites.discovery import (
    Link,
    NotAFeed,
    kind_of,
    parse_feed,
    parse_robots,
    parse_sitemap,
    unpacked,
)
from crawler.sites.html import NotHTML
from crawler.spiders.args import ArgumentError, parse_targets
from crawler.store import open_db, queries, resolve_db_path
from crawler.urls import BadURL, fetch_url, url_key

STATS = "discover"
NO_SOURCE = "no discovery source: give -a url=FEED_OR_SITEMAP_OR_LISTING or run `crawler sources add URL`"


class DiscoverSpider(scrapy.Spider):
    name = "discover"

    def __init__(self, url: str | None = None, urls_file: str | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.sources = parse_targets(url, urls_file) if (url or urls_file) else []

    @classmethod
    def check_arguments(
        cls, url: str | None = None, urls_file: str | None = None, settings=None, **_: Any
    ) -> None:
        if url is not None or urls_file is not None:
            parse_targets(url, urls_file)
            return
        if settings is not None:
            path = resolve_db_path(settings.get("SQLITE_PATH"))
            db = open_db(path)
            try:
                count = db.execute("SELECT count(*) FROM sources").fetchone()[0]
            finally:
                db.close()
            if not count:
                raise ArgumentError(NO_SOURCE)

    async def start(self) -> AsyncIterator[Any]:
        settings = self.settings
        db = open_db(resolve_db_path(settings.get("SQLITE_PATH")))
        try:
            self.known = queries.known_url_keys(db)
            if not self.sources:
                self.sources = [row["url"] for row in db.query("SELECT url FROM sources ORDER BY added_at")]
        finally:
            db.close()
        if not self.sources:
            raise ArgumentError(
                "no discovery source: give -a url=FEED_OR_SITEMAP or run `crawler sources add URL`"
            )
        self.user_hosts = {urlsplit(u).hostname for u in self.sources}
        self.user_origins = origins(self.sources)
        self.allow = [re.compile(p) for p in settings.getlist("DISCOVER_ALLOW")]
        self.deny = [re.compile(p) for p in settings.getlist("DISCOVER_DENY")]
        max_age = settings.getfloat("DISCOVER_MAX_AGE_DAYS", 30)
        self.oldest = now_utc() - timedelta(days=max_age) if max_age > 0 else None
        self.max_new = settings.getint("DISCOVER_MAX_NEW", 100)
        self.max_listing_pages = settings.getint("DISCOVER_MAX_LISTING_PAGES", 5)
        self.allow_private = settings.getbool("ALLOW_PRIVATE_HOSTS")
        self.enrolled = 0
        self.logger.info("Discovering from %d source(s)", len(self.sources))
        for source in self.sources:
            yield scrapy.Request(
                source,
                callback=self.parse_source,
                errback=self.source_failed,
                cb_kwargs={"source": source, "listing_page": 1},
            )

    def parse_source(self, response: Response, source: str, listing_page: int) -> Iterator[Any]:
        content_type = response.headers.get(b"Content-Type", b"").decode("latin-1")
        try:
            body = unpacked(response.body, self.settings.getint("DOWNLOAD_MAXSIZE"))
            kind = kind_of(body, content_type, response.url)
            if kind == "feed":
                yield from self._enrol(parse_feed(body, response.url), "feed", source)
            elif kind == "robots":
                for link in parse_robots(body, response.url):
                    yield self._source_request(link.url, source)
            elif kind == "sitemap":
                sitemap_type, links = parse_sitemap(body)
                if sitemap_type == "sitemapindex":
                    for link in links:
                        if self._fresh(link):  # a child sitemap unchanged since the cut-off holds nothing new
                            yield self._source_request(link.url, source)
                else:
                    yield from self._enrol(links, "sitemap", source)
            else:
                links, next_page = parse_listing(response.body, response.url)
                yield from self._enrol([Link(u) for u in links], "listing", source)
                if next_page and listing_page < self.max_listing_pages and self.enrolled < self.max_new:
                    yield scrapy.Request(
                        next_page,
                        callback=self.parse_source,
                        errback=self.source_failed,
                        cb_kwargs={"source": source, "listing_page": listing_page + 1},
                    )
            self.crawler.stats.inc_value(f"{STATS}/parsed/{kind}")
        except (NotAFeed, NotHTML) as exc:
            self.crawler.stats.inc_value(f"{STATS}/skipped")
            self.logger.warning("Skipped %s: %s", response.url, exc)

    def _source_request(self, url: str, source: str) -> scrapy.Request:
        """A sitemap named by a sitemap index or a robots.txt (on another host: the host guard decides)."""
        return scrapy.Request(
            url,
            callback=self.parse_source,
            errback=self.source_failed,
            cb_kwargs={"source": source, "listing_page": 1},
        )

    def _fresh(self, link: Link) -> bool:
        if self.oldest is None or not link.published_at:
            return True
        return datetime.fromisoformat(link.published_at) >= self.oldest

    def _why_not(self, link: Link, key: str) -> str | None:
        """The reason a link is not enrolled, or None."""
        if key in self.known:
            return "known"
        if self.allow and not any(p.search(link.url) for p in self.allow):
            return "not_allowed"
        if any(p.search(link.url) for p in self.deny):
            return "denied"
        if not self._fresh(link):
            return "too_old"
        if not url_allowed(link.url, self.user_origins, self.allow_private):
            return "private_host"
        if self.enrolled >= self.max_new:
            return "max_new"
        return None

    def _enrol(self, links: list[Link], source_kind: str, source: str) -> Iterator[DiscoveredItem]:
        for link in links:
            try:
                url = fetch_url(link.url)
            except BadURL:
                self.crawler.stats.inc_value(f"{STATS}/rejected/bad_url")
                continue
            key = url_key(url)
            reason = self._why_not(Link(url, link.published_at), key)
            if reason:
                self.crawler.stats.inc_value(f"{STATS}/rejected/{reason}")
                continue
            self.known.add(key)
            self.enrolled += 1
            self.crawler.stats.inc_value(f"{STATS}/enrolled")
            yield DiscoveredItem(
                url=url,
                url_key=key,
                source=source_kind,
                source_url=source,
                published_at=link.published_at,
                found_at=iso(now_utc()),
            )

    def source_failed(self, failure) -> None:
        self.crawler.stats.inc_value(f"{STATS}/request_error")
        self.logger.error("Source %s failed: %s", failure.request.url, failure.getErrorMessage())
