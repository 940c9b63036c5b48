"""Read-side view of an article's comment thread: what is visible, how deep, and how it pages.

The page, the AJAX answers and the tests all ask the same questions (which top-level comments are on
page N, which replies follow offset K, how many comments there are in all), so they are answered here
once. The index is rebuilt only when the article's version changes, which keeps a 1,000-comment thread
cheap to serve at hundreds of requests per second.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .model import ID_BLOCK, SYNTHETIC_OFFSET, Article, Comment

#: comment pages of the contract: page 1 is what the article shows
DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 50
#: direct replies rendered inside their parent; the rest come through load_replies
INLINE_REPLIES = 2


@dataclass(frozen=True)
class ThreadIndex:
    """The visible comments of one article version."""

    #: visible direct replies per parent id (None: top level), in id order
    children: dict[str | None, list[Comment]]
    depth: dict[str, int]
    total: int

    def replies(self, comment_id: str) -> list[Comment]:
        return self.children.get(comment_id, [])

    def depth_of(self, comment: Comment) -> int:
        # synthetic comments of endless articles are top-level and not indexed
        return 0 if comment.parent_id is None else self.depth[comment.id]


def thread_index(article: Article) -> ThreadIndex:
    """The index of the article's current version (cached on the article; callers hold the lock)."""
    cached = article.thread_cache
    if cached is None or cached[0] != article.version:
        cached = article.thread_cache = (article.version, _build_index(article))
    return cached[1]


def _build_index(article: Article) -> ThreadIndex:
    all_children: dict[str | None, list[Comment]] = {}
    for comment in sorted(article.comments, key=lambda c: int(c.id)):
        all_children.setdefault(comment.parent_id, []).append(comment)
    top_level = [c for c in all_children.get(None, []) if not c.deleted]
    children: dict[str | None, list[Comment]] = {None: _without_hidden(top_level, article.hide_fraction)}
    depth: dict[str, int] = {}
    stack = [(comment, 0) for comment in children[None]]
    while stack:
        comment, level = stack.pop()
        depth[comment.id] = level
        replies = [c for c in all_children.get(comment.id, []) if not c.deleted]
        if replies:
            children[comment.id] = replies
            stack.extend((reply, level + 1) for reply in replies)
    return ThreadIndex(children=children, depth=depth, total=len(depth))


def _without_hidden(top_level: list[Comment], fraction: float) -> list[Comment]:
    """Drop `fraction` of the comments, spread evenly (0.5 drops every second one)."""
    if fraction <= 0:
        return top_level
    return [c for i, c in enumerate(top_level) if int((i + 1) * fraction) == int(i * fraction)]


#: load_comments orders: by id (the page's order), newest first, most upvoted first
SORT_KEYS: dict[str, Callable[[Comment], Any]] = {
    "": lambda c: int(c.id),
    "new": lambda c: -int(c.id),
    "top": lambda c: (-c.upvotes, int(c.id)),
}


def top_level_page(article: Article, page: int, per_page: int, sort: str = "") -> tuple[list[Comment], bool]:
    """Top-level comments on a 1-based page, and whether more pages follow.

    Default order is by id (oldest first), "new" is newest first, "top" is by upvotes then id. An
    endless article continues its real comments with synthetic ones and never runs out.
    """
    comments = sorted(
        (c for c in thread_index(article).children[None] if c.id not in article.unlisted), key=SORT_KEYS[sort]
    )
    start = (page - 1) * per_page
    if article.endless_load_more:
        shown = comments[start : start + per_page]
        first_synthetic = max(start, len(comments))
        shown += [
            synthetic_comment(article, position) for position in range(first_synthetic, start + per_page)
        ]
        return shown, True
    return comments[start : start + per_page], start + per_page < len(comments)


def replies_page(
    article: Article, comment_id: str, offset: int, per_page: int
) -> tuple[list[Comment], bool, int]:
    """Direct replies of a comment from `offset`, whether more follow, and how many remain after."""
    replies = thread_index(article).replies(comment_id)
    shown = replies[offset : offset + per_page]
    remaining = max(0, len(replies) - offset - len(shown))
    return shown, remaining > 0, remaining


def synthetic_comment(article: Article, position: int) -> Comment:
    """The endless article's comment at a 0-based top-level position past its real comments."""
    number = position + 1
    return Comment(
        id=str(article.post_id * ID_BLOCK + SYNTHETIC_OFFSET + number),
        parent_id=None,
        author=f"Endless Reader {number}",
        text=f"Comment number {number} of a thread that never ends.",
        relative_time="just now",
        upvotes=number % 7,
    )
