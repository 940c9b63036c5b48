"""Bored Panda comments: the comment markup, on article pages and in comment-API answers.

How the real site pages its comments is not public; its comment API (`admin-ajax.php`: the replica's
contract, design notes `boredpanda.md`, built the way WordPress sites commonly do it) is the site's
seed recipe, `recipe.json` next to this module: URL, actions, parameters, answer shape and the
single-comment request that confirms deletions live there and nowhere else, and the recipe executor
(crawler/recipes/execute.py) pages it like any learned recipe. This module reads the markup of both
the page and the API's HTML fragments.
"""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import urljoin

from lxml.html import HtmlElement

from crawler.items import CommentItem
from crawler.sites.html import (
    attr,
    children_with_classes,
    first_with_classes,
    has_class,
    select,
    text_of,
    to_int,
)
from crawler.sites.thread import ThreadPage

SITE = "boredpanda"


def comment_key(site_comment_id: str) -> str:
    """Site comment ids are unique per site only; the stored id carries the site."""
    return f"{SITE}:{site_comment_id}"


def _parent_key(raw: str | None) -> str | None:
    return None if raw in (None, "", "0") else comment_key(raw)


@lru_cache(maxsize=4096)
def _absolute(base_url: str, href: str) -> str:
    # one thread's commenters come back again and again (and urljoin is a good part of a comment)
    return urljoin(base_url, href)


def _comment_from(el: HtmlElement, article_id: str | None, base_url: str) -> CommentItem:
    # One pass over the direct children and one over the header, instead of a selector per field:
    # reading the markup was the largest cost of paging a thread over its comment API. Each lookup
    # means what its selector did (`.class` tokens, first in document order, the element included).
    header, text_el, votes, replies = children_with_classes(
        el, "comment-header", "comment-text", "comment-votes", "comment-replies"
    )
    scope = header if header is not None else el
    author_el, role_el, time_el = first_with_classes(
        scope, "comment-author-name", "comment-author-role", "comment-time"
    )
    read_more = (
        tuple(a for a in text_el.iter("a") if has_class(a, "read-more")) if text_el is not None else ()
    )
    truncated = attr(text_el, "data-truncated") == "true" or bool(read_more)
    upvotes, downvotes = first_with_classes(votes, "upvotes", "downvotes")
    datetime_attr = attr(time_el, "datetime")
    href = attr(author_el, "href")
    return CommentItem(
        comment_id=comment_key(el.get("data-comment-id")),
        source_id=el.get("data-comment-id").strip(),
        article_id=article_id,
        parent_id=_parent_key(el.get("data-parent-id")),
        depth=to_int(el.get("data-depth")) or 0,
        author=text_of(author_el),
        author_role=text_of(role_el),
        author_url=_absolute(base_url, href) if href else None,
        posted_at=datetime_attr or None,
        posted_at_precision="exact" if datetime_attr else None,
        relative_time=text_of(time_el),
        text=text_of(text_el, skip_elements=read_more),
        truncated=truncated,
        upvotes=to_int(attr(upvotes, "data-count")) if votes is not None else None,
        downvotes=to_int(attr(downvotes, "data-count")) if votes is not None else None,
        # absent (a full-text answer omits replies) is unknown, not zero
        reply_count=to_int(attr(replies, "data-reply-count")) if replies is not None else None,
    )


def parse_comments_html(containers: list[HtmlElement], article_id: str | None, base_url: str) -> ThreadPage:
    """All comments under `containers` (any depth), deduplicated by id.

    What the thread still needs (more replies where a comment counts more than it shows, the full
    text of every cut comment) is the seed recipe's business (recipe.json, crawler/recipes/execute.py),
    read from each comment's reply count and cut flag.
    """
    page = ThreadPage()
    seen: set[str] = set()
    elements = [el for c in containers for el in select(c, "div.comment[data-comment-id]")]
    for el in elements:
        if not el.get("data-comment-id", "").strip():
            continue
        comment = _comment_from(el, article_id, base_url)
        if comment.comment_id in seen:  # the seed page carries its comment block twice
            continue
        seen.add(comment.comment_id)
        page.comments.append(comment)
    return page


def initial_thread(
    root: HtmlElement, article_id: str, post_id: str | None, base_url: str, reported: int | None = None
) -> ThreadPage:
    """The thread as the article page shows it: page 1 of comments, and whether the list goes on.

    `reported` is the page's own comment count when the comment block does not state one. The list
    has ended on the page when it shows no "Load More Comments" button and comments (or no count);
    otherwise the seed recipe pages it from the API's page 1 (the article's key is its post id).
    Without a post id only a browser can load the rest.
    """
    blocks = select(root, "div.post-comments")
    if not blocks:
        return ThreadPage(reported_total=reported, section=bool(reported))
    block = blocks[0]
    count = to_int(block.get("data-comments-count"))
    reported = count if count is not None else reported
    post_id = block.get("data-post-id") or post_id
    page = parse_comments_html(blocks, article_id, base_url)
    page.reported_total = reported
    page.section = True
    page.reader = SITE
    more = any(select(b, "button.load-more-comments") for b in blocks)
    if (more or (not page.comments and reported)) and not post_id:
        page.needs_browser = True
    elif not more and (page.comments or not reported):
        page.end_reached = True
    return page
