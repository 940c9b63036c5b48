"""Bored Panda article pages: article fields, list items, list pagination.

Structured data first (JSON-LD `NewsArticle`, OpenGraph), markup second: structured data survives
redesigns better, markup covers pages without it. Body text keeps the article's own sentences only;
ads, "RELATED:", embeds, share buttons and the author box are removed here by element, and by text
pattern again in the clean pipeline.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit, urlunsplit

import nh3
from lxml.html import HtmlElement, tostring

from crawler.dates import parse_absolute
from crawler.items import ArticleItem, ListItem
from crawler.sites.errors import NotAnArticle
from crawler.sites.html import attr, first, parse_html, select, text_of, to_int
from crawler.sites.metadata import Metadata, read_metadata
from crawler.sites.thread import ThreadPage
from crawler.text import is_boilerplate
from crawler.urls import url_hash

SITE = "boredpanda"
# Page furniture inside div.post-content: removed before the body text is read.
BODY_FURNITURE = (
    ".ad-container",
    ".ad",
    ".adsbygoogle",
    ".related-posts",
    ".related",
    ".instagram-media",
    ".twitter-tweet",
    ".tiktok-embed",
    ".share-buttons",
    ".social-share",
    ".author-bio",
    ".post-author-box",
    ".open-list-items",
    ".pagination-combined",
    ".post-tags",
    ".post-comments",
    "script",
    "style",
    "noscript",
    "iframe",
    "svg",
)
BODY_HTML_TAGS = {
    "p",
    "h2",
    "h3",
    "h4",
    "ul",
    "ol",
    "li",
    "a",
    "em",
    "strong",
    "b",
    "i",
    "blockquote",
    "br",
    "figure",
    "figcaption",
    "img",
}


@dataclass
class ArticlePage:
    article: ArticleItem
    list_items: list[ListItem] = field(default_factory=list)
    page_number: int = 1
    pages: int = 1
    next_page_url: str | None = None
    #: the comment block of the page (page 1 only); None on later list pages
    root: HtmlElement | None = None

    def thread(self, base_url: str) -> ThreadPage:
        from crawler.sites.boredpanda.comments import initial_thread

        if self.root is None:
            return ThreadPage()
        return initial_thread(
            self.root,
            self.article.article_id,
            self.article.post_id,
            base_url,
            self.article.comment_count_reported,
        )


def _body(content: HtmlElement | None) -> tuple[str | None, str | None, list[str]]:
    """(body text, sanitised body HTML, image credits) of div.post-content."""
    if content is None:
        return None, None, []
    content = copy.deepcopy(content)
    credits = []
    for el in select(content, ".image-credits, .image-source, .credits"):
        text = text_of(el)
        if text:
            credits.append(text.removeprefix("Image credits:").removeprefix("Image credit:").strip())
        el.drop_tree()
    for css in BODY_FURNITURE:
        for el in select(content, css):
            el.drop_tree()
    text = text_of(content)
    paragraphs = [p for p in (text or "").split("\n\n") if p and not is_boilerplate(p)]
    html = nh3.clean(tostring(content, encoding="unicode"), tags=BODY_HTML_TAGS)
    return "\n\n".join(paragraphs), html, list(dict.fromkeys(credits))


_PAGE_OF = re.compile(r"(\d+)\s*/\s*(\d+)")
_PAGINATION = ".pagination-combined .page-count, .pagination-combined .pagination, a.pagination, .pagination"
_MONTH_DATE = re.compile(
    r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d{1,2},?\s+\d{4}\b"
    r"|\b\d{1,2}\s+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d{4}\b"
    r"|\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?(?:Z|[+-]\d{2}:?\d{2})?)?\b",
    re.IGNORECASE,
)


def _page_numbers(root: HtmlElement) -> tuple[int, int]:
    """(this page, pages) from "PAGE 2/3"; (1, 1) when the article is not paginated."""
    for el in select(root, _PAGINATION):
        match = _PAGE_OF.search(text_of(el) or "")
        if match:
            this, total = int(match.group(1)), int(match.group(2))
            if 1 <= this <= total:
                return this, total
    return 1, 1


def _page_url(url: str, canonical: str | None, this_page: int, wanted: int) -> str:
    """The address of page `wanted` of a list article, derived from this page's address: the
    article's own path, then "<n>/" (the shape "PAGE n/m" pages are served under)."""
    parts = urlsplit(canonical or url)
    path = parts.path if parts.path.endswith("/") else parts.path + "/"
    if this_page > 1:
        path = re.sub(rf"/{this_page}/$", "/", path)
    return urlunsplit((parts.scheme, parts.netloc, f"{path}{wanted}/", "", ""))


def _next_page(root: HtmlElement, url: str, canonical: str | None, this_page: int, pages: int) -> str | None:
    """The next page of a list article: a.next in the pagination, the pagination anchor itself,
    rel="next", else derived from "PAGE n/m"; None on the last page."""
    if this_page >= pages:
        return None
    for css in (
        ".pagination-combined .pagination a.next",
        ".pagination a.next",
        ".pagination-combined a.next",
        "a.pagination[href]:not(.prev)",
        'a[rel~="next"]',
        'link[rel~="next"]',
    ):
        for el in select(root, css):
            href = attr(el, "href")
            if href and not href.startswith(("#", "javascript:")):
                target = urljoin(url, href)
                if target.split("#")[0] != url.split("#")[0]:
                    return target
    return _page_url(url, canonical, this_page, this_page + 1)


def _byline_date(root: HtmlElement) -> str | None:
    """The date written in the byline ("By Ann · November 3, 2015") of older pages."""
    for el in select(root, ".author-time, .post-info-block .post-date, .post-dates, .post-info-block"):
        time_el = first(el, "time[datetime]")
        if time_el is not None and parse_absolute(time_el.get("datetime")):
            return parse_absolute(time_el.get("datetime"))
        match = _MONTH_DATE.search(text_of(el) or "")
        if match:
            return parse_absolute(match.group(0))
    return None


def _list_items(root: HtmlElement, article_id: str, page: int, base_url: str) -> list[ListItem]:
    items = []
    for index, el in enumerate(select(root, "div.open-list-items > div.open-list-item"), start=1):
        title_el = first(el, "div.open-list-header h2")
        img = first(el, "span.shareable-image-block img")
        image = attr(img, "data-src") or attr(img, "src")
        description = first(el, ".bordered-description")
        if description is None:
            description = first(el, 'p[itemprop="text"]')
        title = text_of(title_el, skip=(".item-number",))
        items.append(
            ListItem(
                article_id=article_id,
                position=to_int(el.get("data-position")) or index,
                page=page,
                item_id=el.get("data-item-id"),
                title=title,
                description=text_of(description),
                image_url=urljoin(base_url, image) if image else None,
                points=to_int(text_of(first(el, ".points"))),
            )
        )
    return items


def is_article_page(root: HtmlElement) -> bool:
    return bool(select(root, "article.post[data-post-id], h1.post-title, div.post-content"))


def parse_article_page(html: str | bytes, url: str) -> ArticlePage:
    """Parse an article page (any page of a list article) fetched from `url`.

    Raises NotHTML for empty/unparseable bodies and NotAnArticle for HTML without an article.
    """
    root = parse_html(html)
    return read_article_page(root, url, read_metadata(root, url))


def read_article_page(root: HtmlElement, url: str, md: Metadata) -> ArticlePage:
    """The article page `root` (parsed from `url`, its metadata `md` read by crawler.sites.metadata)."""
    if not is_article_page(root):
        raise NotAnArticle("no article.post, h1.post-title or div.post-content on the page")
    post_el = first(root, "article.post[data-post-id]")
    post_id = attr(post_el, "data-post-id") or attr(first(root, "div.post-comments"), "data-post-id")
    canonical = md.canonical
    article_id = f"{SITE}:{post_id}" if post_id else f"{SITE}:url:{url_hash(canonical or url)}"
    this_page, pages = _page_numbers(root)
    next_url = _next_page(root, url, canonical if this_page == 1 else None, this_page, pages)
    is_list = bool(select(root, "body.single-open-list-post, div.open-list-items"))
    list_items = _list_items(root, article_id, this_page, url) if is_list else []
    if this_page > 1:
        # Later pages of a list article carry list items only; the article is read from page 1.
        return ArticlePage(
            article=ArticleItem(
                url=url,
                article_id=article_id,
                site=SITE,
                post_id=post_id,
                canonical_url=canonical,
                is_list=True,
                list_pages=pages,
            ),
            list_items=list_items,
            page_number=this_page,
            pages=pages,
            next_page_url=next_url,
        )

    author_el = first(root, ".post-info-block a.author, a.author, .author-time a")
    author_href = attr(author_el, "href")
    title_el = first(root, "h1.post-title > a.title")
    if title_el is None:
        title_el = first(root, "h1.post-title")
    body_text, body_html, credits = _body(first(root, "div.post-content"))
    tags = md.tags or [t for t in (text_of(a) for a in select(root, ".post-tags ul li a")) if t]
    comments_block = first(root, "div.post-comments")
    reported = to_int(attr(comments_block, "data-comments-count")) if comments_block is not None else None
    article = ArticleItem(
        url=url,
        article_id=article_id,
        site=SITE,
        post_id=post_id,
        canonical_url=canonical,
        title=md.title or text_of(title_el),
        author=md.author or text_of(author_el),
        author_url=md.author_url or (urljoin(url, author_href) if author_href else None),
        published_at=parse_absolute(md.published)
        or parse_absolute(attr(first(root, ".post-dates time.published, time.published"), "datetime"))
        or _byline_date(root),
        modified_at=parse_absolute(md.modified),
        description=md.description,
        tags=tags,
        votes=to_int(attr(first(root, ".points[data-points]"), "data-points")),
        views=to_int(text_of(first(root, ".post-stats .post-views span"))),
        shares=to_int(text_of(first(root, ".post-stats .post-shares span"))),
        body_text=body_text,
        body_html=body_html,
        image_credits=credits,
        is_list=is_list,
        list_pages=pages if is_list else None,
        comment_count_reported=reported if reported is not None else md.comment_count,
    )
    return ArticlePage(
        article=article,
        list_items=list_items,
        page_number=1,
        pages=pages,
        next_page_url=next_url,
        root=root,
    )
