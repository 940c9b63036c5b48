"""Pure functions rendering article pages and comment fragments, exactly as MARKUP.md describes them.

The same `render_comment` serves the article page and every AJAX answer, so a comment looks the same
whichever way a crawler reaches it. All text goes through `esc`; nothing here reads the clock or the
network, so a page is a function of the article and the base URL alone.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from datetime import datetime

from .browser import BROWSER_SCRIPT
from .model import Article, Comment
from .thread import DEFAULT_PER_PAGE, INLINE_REPLIES, ThreadIndex, thread_index, top_level_page

#: a comment longer than CUT_OVER characters is shown as its first CUT_AT characters + "…"
CUT_OVER = 400
CUT_AT = 300
STAFF_ROLE = "Author, BoredPanda staff"
_MENU_ICON = (
    '<button class="comment-menu"><svg><title>Dots</title>'
    "<desc>Created by potrace 1.15, written by Peter Selinger 2001-2017</desc></svg></button>"
)
_LOAD_MORE_COMMENTS = '<button class="load-more-comments">Load More Comments</button>'


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def slugify(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def human_date(moment: datetime) -> str:
    return f"{moment:%B} {moment.day}, {moment.year}"


def compact_number(count: int) -> str:
    """Counts the way the site prints them: 950, 12.3K, 1.2M."""
    for suffix, size in (("M", 1_000_000), ("K", 1_000)):
        if count >= size:
            return f"{count / size:.1f}".removesuffix(".0") + suffix
    return str(count)


def article_url(base: str, article: Article, page: int = 1) -> str:
    return f"{base}/{article.slug}/" if page == 1 else f"{base}/{article.slug}/{page}/"


# -- comments -------------------------------------------------------------------------------------


def cut_text(text: str) -> str:
    """The first CUT_AT characters, cut back to a word boundary, as a cut comment shows them."""
    if len(text) <= CUT_AT:
        return text
    shown = text[:CUT_AT]
    if not text[CUT_AT].isspace():
        shown = re.sub(r"\s+\S*$", "", shown)  # drop the word the cut went through
    return shown.rstrip()


def _paragraphs(text: str) -> str:
    return "".join(f"<p>{esc(part)}</p>" for part in text.split("\n\n"))


def _comment_text(comment: Comment, full: bool) -> str:
    if full or len(comment.text) <= CUT_OVER:
        return f'<div class="comment-text" data-truncated="false">{_paragraphs(comment.text)}</div>'
    return (
        f'<div class="comment-text" data-truncated="true">{_paragraphs(cut_text(comment.text) + "…")}'
        f'<a class="read-more" href="#" data-comment-id="{esc(comment.id)}">Read more</a></div>'
    )


def _comment_header(comment: Comment) -> str:
    datetime_attr = "" if comment.posted_at is None else f' datetime="{comment.posted_at.isoformat()}"'
    return (
        '<div class="comment-header">\n'
        f'<a class="comment-author-name" href="/author/{slugify(comment.author)}/">'
        f"{esc(comment.author)}</a>\n"
        f'<span class="comment-author-role">{esc(comment.role)}</span>\n'
        f'<time class="comment-time"{datetime_attr}>{esc(comment.relative_time)}</time>\n'
        f"{_MENU_ICON}\n</div>"
    )


def _replies_block(comment: Comment, thread: ThreadIndex) -> str:
    replies = thread.replies(comment.id)
    inline = "".join(render_comment(reply, thread) for reply in replies[:INLINE_REPLIES])
    button = (
        f'<button class="load-more-replies" data-comment-id="{esc(comment.id)}" '
        f'data-offset="{INLINE_REPLIES}">Load More Replies...</button>'
        if len(replies) > INLINE_REPLIES
        else ""
    )
    return f'<div class="comment-replies" data-reply-count="{len(replies)}">{inline}{button}</div>\n'


def render_comment(comment: Comment, thread: ThreadIndex, *, full: bool = False) -> str:
    """One comment with its first replies inline; `full`: the whole text and no replies block."""
    votes = (
        f'<div class="comment-votes"><span class="upvotes" data-count="{comment.upvotes}">'
        f'{comment.upvotes}</span><span class="downvotes" data-count="{comment.downvotes}">'
        f"{comment.downvotes}</span></div>"
    )
    return (
        f'<div class="comment" id="comment-{esc(comment.id)}" data-comment-id="{esc(comment.id)}" '
        f'data-parent-id="{esc(comment.parent_id or "0")}" data-depth="{thread.depth_of(comment)}">\n'
        f"{_comment_header(comment)}\n{_comment_text(comment, full)}\n{votes}\n"
        f"{'' if full else _replies_block(comment, thread)}</div>\n"
    )


def render_comments(comments: list[Comment], thread: ThreadIndex) -> str:
    return "".join(render_comment(comment, thread) for comment in comments)


def _comment_block(article: Article, thread: ThreadIndex, *, with_id: bool) -> str:
    id_attr = ' id="comments"' if with_id else ""
    attrs = (
        f'class="post-comments"{id_attr} data-post-id="{article.post_id}" '
        f'data-comments-count="{thread.total}"'
    )
    if article.lazy:
        return f'<div {attrs} data-lazy="true"></div>\n'
    if article.variant == "script-comments":
        return f"<div {attrs}></div>\n"
    comments, has_more = top_level_page(article, 1, DEFAULT_PER_PAGE)
    button = _LOAD_MORE_COMMENTS if has_more else ""
    return f"<div {attrs}>\n{render_comments(comments, thread)}{button}</div>\n"


# -- article body ---------------------------------------------------------------------------------


def _paragraph(article: Article, text: str) -> str:
    return f"<p>{esc(text)}</p>"


def _ad(article: Article) -> str:
    return '<div class="ad-container"><span class="ad-label">ADVERTISEMENT</span></div>'


def _related(article: Article, text: str, href: str) -> str:
    return f'<div class="related-posts">RELATED: <a href="{esc(href)}">{esc(text)}</a></div>'


def _image(article: Article, src: str, credit: str = "", caption: str = "") -> str:
    # the caption is the article's own sentence about the picture, the credit is attribution;
    # they sit in separate elements so neither leaks into the other
    caption_html = f'<div class="image-caption">{esc(caption)}</div>' if caption else ""
    credit_html = f'<figcaption class="image-credits">{esc(credit)}</figcaption>' if credit else ""
    return (
        f'<figure class="post-image"><img src="{esc(src)}" alt="{esc(caption)}">'
        f"{caption_html}{credit_html}</figure>"
    )


def _instagram(article: Article, handle_text: str, url: str = "https://www.instagram.com/p/replica/") -> str:
    return (
        f'<blockquote class="instagram-media"><a href="{esc(url)}">View this post on Instagram</a>'
        f"<p>{esc(handle_text)}</p></blockquote>"
    )


def _share(article: Article) -> str:
    return '<div class="share-buttons"><a class="share-facebook">Share on Facebook</a></div>'


def _author_bio(article: Article) -> str:
    # the real page prints the box twice: a collapsible one ("Read more »" / "Read less »") and a full one
    name = esc(article.author)
    head = (
        f'<img class="author-avatar" src="/img/author-{slugify(article.author)}.jpg" alt="{name}">'
        f'<a class="author-bio-name" href="/author/{slugify(article.author)}/">{name}</a>'
        f'<p class="author-bio-role">{STAFF_ROLE}</p>'
    )
    bio = f'<p class="author-bio-text">{esc(article.author_bio)}</p>'
    return (
        f'<div class="author-bio"><div class="author-bio-box">{head}'
        f'<a class="bio-read-more" href="#">Read more »</a>{bio}'
        '<a class="bio-read-less" href="#">Read less »</a>'
        f'</div><div class="author-bio-box">{head}{bio}</div></div>'
    )


_BLOCKS: dict[str, Callable[..., str]] = {
    "p": _paragraph,
    "ad": _ad,
    "related": _related,
    "image": _image,
    "instagram": _instagram,
    "share": _share,
    "author_bio": _author_bio,
}


def render_body(article: Article) -> str:
    """The inner HTML of div.post-content."""
    parts = []
    for kind, *args in article.body:
        if kind not in _BLOCKS:
            raise ValueError(f"unknown body block {kind!r} in {article.slug}")
        parts.append(_BLOCKS[kind](article, *args))
    return "\n".join(parts)


def body_images(article: Article) -> list[str]:
    return [block[1] for block in article.body if block[0] == "image"]


# -- article page ---------------------------------------------------------------------------------


def _head(article: Article, base: str, total_comments: int) -> str:
    url = article_url(base, article)
    image = f"{base}/img/{article.slug}.jpg"
    author_url = f"{base}/author/{slugify(article.author)}/"
    ld = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": article.title,
        "description": article.description,
        "url": url,
        "mainEntityOfPage": {"@type": "WebPage", "@id": url},
        "datePublished": article.published_at.isoformat(),
        "dateModified": article.modified_at.isoformat(),
        "author": {"@type": "Person", "name": article.author, "url": author_url},
        "keywords": article.tags,
        "commentCount": total_comments,
        "image": [image, *(base + src for src in body_images(article))],
    }
    tags = "".join(f'<meta property="article:tag" content="{esc(tag)}">\n' for tag in article.tags)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head>\n<meta charset="utf-8">\n'
        f"<title>{esc(article.title)} | Bored Panda</title>\n"
        f'<link rel="canonical" href="{esc(url)}">\n'
        f'<meta name="description" content="{esc(article.description)}">\n'
        '<meta property="og:type" content="article">\n'
        f'<meta property="og:title" content="{esc(article.title)}">\n'
        f'<meta property="og:url" content="{esc(url)}">\n'
        f'<meta property="og:description" content="{esc(article.description)}">\n'
        f'<meta property="og:image" content="{esc(image)}">\n'
        f'<meta property="article:published_time" content="{article.published_at.isoformat()}">\n'
        f'<meta property="article:modified_time" content="{article.modified_at.isoformat()}">\n'
        f"{tags}"
        f'<script type="application/ld+json">{json_for_script(ld)}</script>\n</head>\n'
    )


def json_for_script(value: object) -> str:
    """JSON safe inside <script>: "</" would end the element early."""
    return json.dumps(value, ensure_ascii=False).replace("</", "<\\/")


def _info_block(article: Article) -> str:
    if article.variant == "byline-date":
        # older pages: no structured date, the date is text in the byline
        return (
            f'<h1 class="post-title">{esc(article.title)}</h1>\n<div class="post-info-block">\n'
            f'<p class="author-time">By <a class="author" href="/author/{slugify(article.author)}/">'
            f"{esc(article.author)}</a> · {article.published_at.strftime('%B')} "
            f"{article.published_at.day}, {article.published_at.year}</p>\n</div>\n"
        )
    updated = (
        f'<span class="updated">Updated {human_date(article.modified_at)}</span>'
        if article.updated_line
        else ""
    )
    return (
        f'<h1 class="post-title">{esc(article.title)}</h1>\n<div class="post-info-block">\n'
        f'<a class="author" href="/author/{slugify(article.author)}/">{esc(article.author)}</a>\n'
        f'<p class="author-role">{STAFF_ROLE}</p>\n<div class="post-dates">\n'
        f'<time class="published" datetime="{article.published_at.isoformat()}">'
        f"Published {human_date(article.published_at)}</time>\n{updated}\n</div>\n</div>\n"
        f'<div class="points" data-points="{article.votes}">{article.votes}</div>\n'
        '<div class="post-stats">'
        f'<span class="post-views"><span>{compact_number(article.views)}</span></span>'
        f'<span class="post-shares"><span>{compact_number(article.shares)}</span></span></div>\n'
    )


def _list_items(article: Article, base: str, page: int) -> str:
    first = (page - 1) * article.items_per_page
    rows = []
    for position, item in enumerate(article.list_items[first : first + article.items_per_page], first + 1):
        image = f"{base}/img/{item.image or f'{article.slug}-{position}'}"
        rows.append(
            f'<div class="open-list-item" data-item-id="{esc(item.item_id)}" data-position="{position}">\n'
            f'<div class="open-list-header"><h2><span class="item-number">{position}.</span> '
            f"{esc(item.title)}</h2></div>\n"
            f'<span class="shareable-image-block"><img data-src="{esc(image)}.jpg" '
            f'srcset="{esc(image)}.jpg 1x, {esc(image)}@2x.jpg 2x" alt=""></span>\n'
            f'<div class="bordered-description"><p>{esc(item.description)}</p></div>\n'
            f'<span class="points">{item.points} points</span>\n</div>\n'
        )
    return f'<div class="open-list-items">\n{"".join(rows)}</div>\n'


def _pagination(article: Article, page: int) -> str:
    pages = article.list_pages
    if article.variant == "pagination-anchor":
        # the whole "PAGE 1/3 >" control is the link (on the last page it leads back to page 1)
        href = f"/{article.slug}/{page + 1}/" if page < pages else f"/{article.slug}/"
        return (
            '<div class="pagination-combined">'
            f'<a class="pagination" href="{href}">PAGE {page}/{pages} &gt;</a></div>\n'
        )
    if article.variant in ("pagination-rel-next", "pagination-label"):
        return f'<div class="pagination-combined"><span class="page-count">PAGE {page}/{pages}</span></div>\n'
    prev_link = f'<a class="prev" href="/{article.slug}/">&lt;</a>' if page > 1 else ""
    next_link = f'<a class="next" href="/{article.slug}/{page + 1}/">&gt;</a>' if page < pages else ""
    return (
        '<div class="pagination-combined"><div class="pagination">'
        f'<span class="page-count">PAGE {page}/{pages}</span>{prev_link}{next_link}</div></div>\n'
    )


def _tags(article: Article) -> str:
    items = "".join(f'<li><a href="/tag/{slugify(tag)}/">{esc(tag)}</a></li>' for tag in article.tags)
    return f'<div class="post-tags"><ul>{items}</ul></div>\n'


def render_article_page(article: Article, base: str, page: int = 1, head_script: str = "") -> str:
    """The article page (a list article's page `page`); comments and body are on page 1 only.
    `head_script` goes before the page's own script (ajax.script_config: a renamed comment API)."""
    if not 1 <= page <= article.list_pages:
        raise ValueError(f"{article.slug} has no page {page}")
    thread = thread_index(article)
    body_class = "single single-post single-open-list-post" if article.is_list else "single single-post"
    head = _head(article, base, thread.total)
    if article.variant == "pagination-rel-next" and page < article.list_pages:
        head = head.replace("</head>", f'<link rel="next" href="{base}/{article.slug}/{page + 1}/">\n</head>')
    if article.variant == "byline-date":
        head = re.sub(r'<meta property="article:(published|modified)_time"[^>]*>\n', "", head)
        head = re.sub(r'"date(Published|Modified)": "[^"]*", ', "", head)
    parts = [
        head,
        f'<body class="{body_class}">\n',
        '<div class="app-banner">Bored Panda works better on our iPhone app '
        "<a>Continue in app</a> <a>Continue in browser</a></div>\n",
        f'<article class="post" data-post-id="{article.post_id}">\n',
        _info_block(article),
        f'<div class="post-content">\n{render_body(article) if page == 1 else ""}\n</div>\n',
    ]
    if article.is_list:
        parts.append(_list_items(article, base, page))
        if article.list_pages > 1:
            parts.append(_pagination(article, page))
    parts.append(_tags(article))
    if page == 1:
        parts.append(_comment_block(article, thread, with_id=True))
        if article.repeat_comment_block:
            parts.append(_comment_block(article, thread, with_id=False))
    parts.append(f"</article>\n{head_script}<script>{BROWSER_SCRIPT}</script>\n</body></html>\n")
    return "".join(parts)
