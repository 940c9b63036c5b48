"""Pure functions rendering the pages a crawler discovers articles from.

RSS 2.0 `/feed/` (the newest FEED_SIZE articles), a sitemap index `/sitemap.xml` over two post
sitemaps, listing pages (`/page/N/`, `/category/<slug>/page/N/`, LISTING_SIZE cards each, newest first)
and robots.txt, in the shapes public Bored Panda scrapers have seen. Sitemap `lastmod` is the article's
last change of any kind (comments included), so an incremental crawl driven by it sees comment activity.
"""

from __future__ import annotations

from datetime import datetime
from email.utils import format_datetime

from .browser import BROWSER_SCRIPT
from .model import Article
from .render import article_url, esc, render_body

FEED_SIZE = 20
LISTING_SIZE = 10
SITEMAP_PARTS = 2


def last_change(articles: list[Article]) -> datetime | None:
    return max((a.changed_at for a in articles if a.changed_at), default=None)


def render_feed(articles: list[Article], base: str) -> str:
    """RSS 2.0 with content:encoded; `articles` newest first."""
    items = "".join(_feed_item(article, base) for article in articles[:FEED_SIZE])
    built = last_change(articles)
    build_date = f"<lastBuildDate>{format_datetime(built)}</lastBuildDate>\n" if built else ""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">\n<channel>\n'
        f"<title>Bored Panda</title>\n<link>{esc(base)}/</link>\n"
        "<description>Bored Panda replica</description>\n<language>en-US</language>\n"
        f"{build_date}{items}</channel>\n</rss>\n"
    )


def _feed_item(article: Article, base: str) -> str:
    url = esc(article_url(base, article))
    return (
        f"<item>\n<title>{esc(article.title)}</title>\n<link>{url}</link>\n"
        f'<guid isPermaLink="true">{url}</guid>\n'
        f"<pubDate>{format_datetime(article.published_at)}</pubDate>\n"
        f"<description>{esc(article.description)}</description>\n"
        f"<content:encoded>{esc(render_body(article))}</content:encoded>\n</item>\n"
    )


def sitemap_parts(articles: list[Article]) -> list[list[Article]]:
    """Articles oldest first, split into SITEMAP_PARTS consecutive runs (new articles go last)."""
    oldest_first = sorted(articles, key=lambda a: (a.published_at, a.post_id))
    size = -(-len(oldest_first) // SITEMAP_PARTS) or 1
    return [oldest_first[i * size : (i + 1) * size] for i in range(SITEMAP_PARTS)]


def render_sitemap_index(parts: list[list[Article]], base: str) -> str:
    entries = []
    for number, part in enumerate(parts, start=1):
        changed = last_change(part)
        lastmod = f"<lastmod>{changed.isoformat()}</lastmod>" if changed else ""
        entries.append(f"<sitemap><loc>{esc(base)}/sitemap-posts-{number}.xml</loc>{lastmod}</sitemap>\n")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
        f"{''.join(entries)}</sitemapindex>\n"
    )


def render_sitemap(part: list[Article], base: str) -> str:
    urls = "".join(
        f"<url><loc>{esc(article_url(base, article))}</loc>"
        f"<lastmod>{article.changed_at.isoformat() if article.changed_at else ''}</lastmod></url>\n"
        for article in part
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n{urls}</urlset>\n'
    )


def render_listing(articles: list[Article], page: int, path_prefix: str, heading: str) -> str | None:
    """One listing page of cards (`articles` newest first), or None past the last page.

    `path_prefix` is "" for the home listing or "/category/<slug>"; page 1 exists even when empty.
    """
    first = (page - 1) * LISTING_SIZE
    if page < 1 or (page > 1 and first >= len(articles)):
        return None
    cards = "".join(
        f'<article class="post" data-post-id="{article.post_id}">'
        f'<a class="title" href="/{esc(article.slug)}/">{esc(article.title)}</a></article>\n'
        for article in articles[first : first + LISTING_SIZE]
    )
    more = first + LISTING_SIZE < len(articles)
    next_link = (
        f'<a class="next-page" href="{esc(path_prefix)}/page/{page + 1}/">Next page</a>\n' if more else ""
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{esc(heading)} | Bored Panda</title></head>\n<body>\n<h1>{esc(heading)}</h1>\n"
        f'<section class="posts">\n{cards}</section>\n{next_link}'
        f"<script>{BROWSER_SCRIPT}</script>\n</body></html>\n"
    )


def render_robots(base: str) -> str:
    return f"User-agent: *\nDisallow: /private/\n\nSitemap: {base}/sitemap.xml\n"
