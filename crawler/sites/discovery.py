"""Discovery inputs any site publishes: RSS/Atom feeds and sitemaps (pure functions of the body).

Listing pages are site markup and live with their site adapter (`boredpanda/listing.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urljoin

import lxml.etree
from scrapy.utils.sitemap import Sitemap

from crawler.dates import parse_absolute


@dataclass(frozen=True)
class Link:
    url: str
    published_at: str | None = None


class NotAFeed(ValueError):
    """The body is neither a feed, a sitemap nor a listing page we can read."""


def kind_of(body: bytes, content_type: str = "") -> str:
    """'feed', 'sitemap' or 'listing' (HTML), from the body's root element."""
    head = body[:2048].lstrip().lower()
    if b"<rss" in head or b"<feed" in head or b"<rdf:rdf" in head:
        return "feed"
    if b"<urlset" in head or b"<sitemapindex" in head:
        return "sitemap"
    if b"<html" in head or b"<!doctype html" in head or "html" in content_type:
        return "listing"
    raise NotAFeed("neither an RSS/Atom feed, a sitemap nor an HTML page")


def _text(el, path: str, ns: dict | None = None) -> str | None:
    found = el.find(path, ns or {})
    return found.text.strip() if found is not None and found.text else None


def parse_feed(body: bytes, base_url: str) -> list[Link]:
    """Item links of an RSS 2.0 or Atom feed, with their publication dates."""
    try:
        root = lxml.etree.fromstring(body, parser=lxml.etree.XMLParser(recover=True, resolve_entities=False))
    except lxml.etree.XMLSyntaxError as exc:
        raise NotAFeed(f"unreadable feed: {exc}") from exc
    if root is None:
        raise NotAFeed("empty feed")
    links = []
    for item in root.iter("item"):  # RSS 2.0
        url = _text(item, "link") or _text(item, "guid")
        if url:
            links.append(Link(urljoin(base_url, url), parse_absolute(_text(item, "pubDate"))))
    atom = {"a": "http://www.w3.org/2005/Atom"}
    for entry in root.iterfind("a:entry", atom):
        link = entry.find("a:link[@rel='alternate']", atom)
        if link is None:
            link = entry.find("a:link", atom)
        if link is not None and link.get("href"):
            date = _text(entry, "a:published", atom) or _text(entry, "a:updated", atom)
            links.append(Link(urljoin(base_url, link.get("href")), parse_absolute(date)))
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
