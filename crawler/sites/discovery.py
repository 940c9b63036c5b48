"""Discovery inputs any site publishes: RSS/Atom feeds, sitemaps (gzipped too) and robots.txt's
`Sitemap:` lines — pure functions of the body, on feedparser and Scrapy's sitemap utilities.

Listing pages are site markup and live with their site adapter (`boredpanda/listing.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urljoin

import feedparser
from scrapy.utils._compression import _DecompressionMaxSizeExceeded
from scrapy.utils.gz import gunzip
from scrapy.utils.sitemap import Sitemap, sitemap_urls_from_robots

from crawler.dates import parse_absolute


@dataclass(frozen=True)
class Link:
    url: str
    published_at: str | None = None


class NotAFeed(ValueError):
    """The body is neither a feed, a sitemap nor a listing page we can read."""


def kind_of(body: bytes, content_type: str = "", url: str = "") -> str:
    """'feed', 'sitemap', 'robots' or 'listing' (HTML), from the body's root element."""
    head = body[:2048].lstrip().lower()
    if b"<rss" in head or b"<feed" in head or b"<rdf:rdf" in head:
        return "feed"
    if b"<urlset" in head or b"<sitemapindex" in head:
        return "sitemap"
    if b"<html" in head or b"<!doctype html" in head or "html" in content_type:
        return "listing"
    if url.rsplit("?", 1)[0].endswith("/robots.txt") or b"sitemap:" in head:
        return "robots"
    raise NotAFeed("neither an RSS/Atom feed, a sitemap, a robots.txt nor an HTML page")


def unpacked(body: bytes, max_size: int) -> bytes:
    """The body itself, or its gunzipped content for a gzipped sitemap (`.xml.gz`), at most `max_size`
    bytes once unpacked (0: no limit) — a small file must not unpack into gigabytes."""
    if body[:2] != b"\x1f\x8b":
        return body
    try:
        return gunzip(body, max_size=max_size)
    except _DecompressionMaxSizeExceeded as exc:
        raise NotAFeed(f"gzipped sitemap larger than {max_size} bytes once unpacked") from exc
    except (OSError, EOFError) as exc:
        raise NotAFeed(f"unreadable gzip body: {exc}") from exc


def _entry_link(entry) -> str | None:
    """The article an entry is about: its rel="alternate" link (an HTML one first), never rel="self"
    or "edit" (the entry's own feed document); an RSS item's <link>, else a permalink guid."""
    links = [link for link in entry.get("links", []) if link.get("href")]
    alternate = [link for link in links if link.get("rel", "alternate") == "alternate"]
    html = [link for link in alternate if "html" in (link.get("type") or "html")]
    for candidates in (html, alternate):
        if candidates:
            return candidates[0]["href"]
    guid = entry.get("id") or ""
    if entry.get("guidislink") or guid.startswith(("http://", "https://")):
        return guid or None
    return None


def _entry_date(entry) -> str | None:
    for name in ("published_parsed", "updated_parsed", "created_parsed"):
        parsed = entry.get(name)
        if parsed:
            return datetime(*parsed[:6], tzinfo=UTC).isoformat()
    return None


def parse_feed(body: bytes, base_url: str) -> list[Link]:
    """Item links of an RSS 0.9x / 1.0 / 2.0 or Atom feed (feedparser), with their publication dates."""
    # bytes, never a str: feedparser would take a str that looks like a URL for one and fetch it
    parsed = feedparser.parse(bytes(body), response_headers={"content-location": base_url})
    if not parsed.entries and (parsed.bozo or not parsed.get("version")):
        raise NotAFeed(f"unreadable feed: {parsed.get('bozo_exception') or 'no entries'}")
    links = []
    for entry in parsed.entries:
        url = _entry_link(entry)
        if url:
            links.append(Link(urljoin(base_url, url), _entry_date(entry)))
    return links


def parse_sitemap(body: bytes) -> tuple[str, list[Link]]:
    """('sitemapindex', child sitemaps) or ('urlset', pages), each with its lastmod."""
    try:
        sitemap = Sitemap(body)
    except Exception as exc:  # Scrapy's parser raises lxml's errors as they come
        raise NotAFeed(f"unreadable sitemap: {exc}") from exc
    links = [
        Link(entry["loc"], parse_absolute(entry.get("lastmod"))) for entry in sitemap if entry.get("loc")
    ]
    return sitemap.type, links


def parse_robots(body: bytes, base_url: str) -> list[Link]:
    """The sitemaps a robots.txt names (`Sitemap:` lines), through Scrapy's own reader."""
    return [Link(url) for url in sitemap_urls_from_robots(body, base_url=base_url)]
