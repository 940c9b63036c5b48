"""Bored Panda article pages: article fields, list items, list pagination.

Structured data first (JSON-LD `NewsArticle`, OpenGraph), markup second: structured data survives
redesigns better, markup covers pages without it. Body text keeps the article's own sentences only;
ads, "RELATED:", embeds, share buttons and the author box are removed here by element, and by text
pattern again in the clean pipeline.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from urllib.parse import urljoin

import nh3
from lxml.html import HtmlElement, tostring

from crawler.dates import parse_absolute
from crawler.items import ArticleItem, ListItem
from crawler.sites.html import attr, first, parse_html, select, text_of, to_int
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


class NotAnArticle(ValueError):
    """The page is HTML but not an article page of this site; the message says why."""


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

        return initial_thread(self.root, self.article.article_id, self.article.post_id, base_url)


def _json_ld(root: HtmlElement) -> dict:
    """The page's NewsArticle/Article JSON-LD object, {} when absent or broken."""
    for script in select(root, 'script[type="application/ld+json"]'):
        try:
            data = json.loads(script.text or "")
        except ValueError:
            continue
        candidates = data if isinstance(data, list) else data.get("@graph", [data])
        for obj in candidates:
            if isinstance(obj, dict) and str(obj.get("@type")) in (
                "NewsArticle",
                "Article",
                "BlogPosting",
                "['NewsArticle']",
            ):
                return obj
    return {}


def _meta(root: HtmlElement, prop: str) -> str | None:
    el = first(root, f'meta[property="{prop}"], meta[name="{prop}"]')
    return attr(el, "content") or None


def _meta_all(root: HtmlElement, prop: str) -> list[str]:
    return [m.get("content").strip() for m in select(root, f'meta[property="{prop}"]') if m.get("content")]


def _ld_author(ld: dict) -> tuple[str | None, str | None]:
    author = ld.get("author")
    if isinstance(author, list):
        author = author[0] if author else None
    if isinstance(author, dict):
        return author.get("name"), author.get("url")
    return (author, None) if isinstance(author, str) else (None, None)


def _ld_keywords(ld: dict) -> list[str]:
    keywords = ld.get("keywords")
    if isinstance(keywords, str):
        return [k.strip() for k in keywords.split(",") if k.strip()]
    return [str(k).strip() for k in keywords or [] if str(k).strip()]


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


def _page_numbers(root: HtmlElement) -> tuple[int, int]:
    """(this page, pages) from "PAGE 2/3"; (1, 1) when the article is not paginated."""
    label = text_of(first(root, ".pagination-combined .page-count, .pagination-combined .pagination"))
    if label and "/" in label:
        head, _, tail = label.partition("/")
        this, total = to_int(head), to_int(tail)
        if this and total:
            return this, total
    return 1, 1


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
    if select(root, "h1.post-title, div.post-content"):
        return True
    # A listing (home, category, /page/N/) shows several article cards and no article of its own.
    return len(select(root, "article.post[data-post-id]")) == 1


def parse_article_page(html: str | bytes, url: str) -> ArticlePage:
    """Parse an article page (any page of a list article) fetched from `url`.

    Raises NotHTML for empty/unparseable bodies and NotAnArticle for HTML without an article.
    """
    root = parse_html(html)
    if not is_article_page(root):
        cards = len(select(root, "article.post[data-post-id]"))
        if cards > 1:
            raise NotAnArticle(f"a listing page ({cards} article cards), not an article")
        raise NotAnArticle("no article.post, h1.post-title or div.post-content on the page")
    ld = _json_ld(root)
    post_el = first(root, "article.post[data-post-id]")
    post_id = attr(post_el, "data-post-id") or attr(first(root, "div.post-comments"), "data-post-id")
    canonical = attr(first(root, 'link[rel="canonical"]'), "href") or _meta(root, "og:url")
    canonical = urljoin(url, canonical) if canonical else None
    article_id = f"{SITE}:{post_id}" if post_id else f"{SITE}:url:{url_hash(canonical or url)}"
    this_page, pages = _page_numbers(root)
    next_link = first(root, ".pagination-combined .pagination a.next")
    next_url = urljoin(url, next_link.get("href")) if next_link is not None else None
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

    ld_author, ld_author_url = _ld_author(ld)
    author_el = first(root, ".post-info-block a.author, a.author, .author-time a")
    author_href = attr(author_el, "href")
    title_el = first(root, "h1.post-title > a.title")
    if title_el is None:
        title_el = first(root, "h1.post-title")
    body_text, body_html, credits = _body(first(root, "div.post-content"))
    tags = (
        _ld_keywords(ld)
        or _meta_all(root, "article:tag")
        or [t for t in (text_of(a) for a in select(root, ".post-tags ul li a")) if t]
    )
    comments_block = first(root, "div.post-comments")
    article = ArticleItem(
        url=url,
        article_id=article_id,
        site=SITE,
        post_id=post_id,
        canonical_url=canonical,
        title=ld.get("headline") or _meta(root, "og:title") or text_of(title_el),
        author=ld_author or text_of(author_el),
        author_url=ld_author_url or (urljoin(url, author_href) if author_href else None),
        published_at=parse_absolute(
            ld.get("datePublished")
            or _meta(root, "article:published_time")
            or attr(first(root, ".post-dates time.published, time.published"), "datetime")
        ),
        modified_at=parse_absolute(ld.get("dateModified") or _meta(root, "article:modified_time")),
        description=_meta(root, "description") or ld.get("description") or _meta(root, "og:description"),
        tags=tags,
        votes=to_int(attr(first(root, ".points[data-points]"), "data-points")),
        views=to_int(text_of(first(root, ".post-stats .post-views span"))),
        shares=to_int(text_of(first(root, ".post-stats .post-shares span"))),
        body_text=body_text,
        body_html=body_html,
        image_credits=credits,
        is_list=is_list,
        list_pages=pages if is_list else None,
        comment_count_reported=to_int(attr(comments_block, "data-comments-count"))
        if comments_block is not None
        else to_int(str(ld.get("commentCount")))
        if ld.get("commentCount") is not None
        else None,
    )
    return ArticlePage(
        article=article,
        list_items=list_items,
        page_number=1,
        pages=pages,
        next_page_url=next_url,
        root=root,
    )
