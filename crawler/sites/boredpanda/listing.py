"""Bored Panda listing pages (`/page/N/`, `/category/<slug>/page/N/`): article cards and the next page."""

from __future__ import annotations

from urllib.parse import urljoin

from crawler.sites.html import parse_html, select


def parse_listing(html: str | bytes, url: str) -> tuple[list[str], str | None]:
    """(article URLs of the cards, URL of the next listing page or None)."""
    root = parse_html(html)
    links = [
        urljoin(url, a.get("href"))
        for a in select(root, "section.posts article.post a.title")
        if a.get("href")
    ]
    following = select(root, "a.next-page")
    return list(dict.fromkeys(links)), urljoin(url, following[0].get("href")) if following else None
