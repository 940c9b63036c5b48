"""Discovery inputs through feedparser and Scrapy's sitemap utilities: feeds of every flavour, gzipped
sitemaps (with a size cap), robots.txt `Sitemap:` lines; and a real discover crawl from robots.txt."""

from __future__ import annotations

import gzip

import pytest

from crawler.sites.discovery import NotAFeed, kind_of, parse_feed, parse_robots, parse_sitemap, unpacked
from tests.crawling import crawl

RSS1 = b"""<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
         xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel rdf:about="https://news.example/"><title>News</title><link>https://news.example/</link>
    <items><rdf:Seq><rdf:li rdf:resource="https://news.example/a/"/><rdf:li rdf:resource="https://news.example/b/"/>
    </rdf:Seq></items></channel>
  <item rdf:about="https://news.example/a/"><title>A</title><link>https://news.example/a/</link>
    <dc:date>2026-11-30T10:00:00Z</dc:date></item>
  <item rdf:about="https://news.example/b/"><title>B</title><link>https://news.example/b/</link></item>
</rdf:RDF>"""

ATOM_SELF_FIRST = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>T</title><id>urn:x</id><updated>2026-11-30T10:00:00Z</updated>
  <entry><title>One</title><id>urn:1</id>
    <link rel="self" href="https://news.example/feeds/entries/1.atom"/>
    <link rel="edit" href="https://news.example/api/1"/>
    <link rel="alternate" type="text/html" href="https://news.example/stories/one/"/>
    <published>2026-11-29T08:30:00Z</published><updated>2026-11-30T10:00:00Z</updated></entry>
  <entry><title>Two</title><id>urn:2</id><link href="/stories/two/"/>
    <updated>2026-11-28T00:00:00Z</updated></entry>
</feed>"""

RSS2 = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>
<item><title>x</title><link>https://news.example/x/</link>
  <pubDate>Mon, 30 Nov 2026 10:00:00 GMT</pubDate></item>
<item><title>y</title><guid isPermaLink="true">https://news.example/y/</guid></item>
</channel></rss>"""

SITEMAP = b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<url><loc>https://news.example/a/</loc><lastmod>2026-11-30</lastmod></url>
<url><loc>https://news.example/b/</loc></url></urlset>"""


def test_rss_1_0_items_are_read():
    links = parse_feed(RSS1, "https://news.example/feed.rdf")
    assert [link.url for link in links] == ["https://news.example/a/", "https://news.example/b/"]
    assert links[0].published_at == "2026-11-30T10:00:00+00:00"


def test_atom_entry_link_is_the_alternate_not_self():
    links = parse_feed(ATOM_SELF_FIRST, "https://news.example/feed.atom")
    assert [link.url for link in links] == [
        "https://news.example/stories/one/",
        "https://news.example/stories/two/",  # relative, resolved against the feed
    ]
    assert links[0].published_at == "2026-11-29T08:30:00+00:00"


def test_rss_2_0_link_and_permalink_guid():
    links = parse_feed(RSS2, "https://news.example/feed/")
    assert [(link.url, link.published_at) for link in links] == [
        ("https://news.example/x/", "2026-11-30T10:00:00+00:00"),
        ("https://news.example/y/", None),
    ]


def test_not_a_feed_is_refused():
    with pytest.raises(NotAFeed):
        parse_feed(b"<html><body>hello</body></html>", "https://news.example/")


def test_gzipped_sitemap_is_read_and_capped():
    packed = gzip.compress(SITEMAP)
    body = unpacked(packed, max_size=1 << 20)
    assert kind_of(body) == "sitemap"
    kind, links = parse_sitemap(body)
    assert kind == "urlset" and [link.url for link in links] == [
        "https://news.example/a/",
        "https://news.example/b/",
    ]
    bomb = gzip.compress(b" " * (4 << 20))
    with pytest.raises(NotAFeed, match="larger than"):
        unpacked(bomb, max_size=1 << 20)
    assert unpacked(SITEMAP, max_size=10) == SITEMAP  # not gzipped: as is


def test_robots_txt_sitemap_lines():
    robots = (
        b"User-agent: *\nDisallow: /private/\n"
        b"Sitemap: https://news.example/sitemap.xml\nSitemap: /news.xml.gz\n"
    )
    assert kind_of(robots, "text/plain", "https://news.example/robots.txt") == "robots"
    assert [link.url for link in parse_robots(robots, "https://news.example/robots.txt")] == [
        "https://news.example/sitemap.xml",
        "https://news.example/news.xml.gz",
    ]


def test_discover_from_robots_txt_follows_its_sitemaps(replica, replica_site, tmp_path):
    result = crawl(
        tmp_path / "c.db",
        [f"{replica.base_url}/robots.txt"],
        spider="discover",
        settings={"DISCOVER_MAX_AGE_DAYS": "0", "DISCOVER_MAX_NEW": "1000"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stats["discover/parsed/robots"] == 1
    assert result.stats["discover/parsed/sitemap"] >= 2  # the index and its child sitemaps
    enrolled = {r["url"] for r in result.query("SELECT url FROM watchlist")}
    assert enrolled and all(u.startswith(replica.base_url) for u in enrolled)
    assert len(enrolled) == result.stats["discover/enrolled"]
