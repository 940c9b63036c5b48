"""The replica's data: articles, their comment threads, and the mutable `Site` that holds them.

Everything the replica serves is rendered from these objects, so a test changes the site by calling the
`Site` mutation methods between two crawls and the next response shows the change. Every mutation bumps
the article's `version`, which is part of its ETag, so conditional requests see the change even when it
sits on a comment page the article page itself does not show.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

#: Comment ids of an article live in [post_id * ID_BLOCK + 1, post_id * ID_BLOCK + SYNTHETIC_OFFSET);
#: the synthetic comments of an "endless" article continue above SYNTHETIC_OFFSET. Distinct post ids
#: therefore never share a comment id.
ID_BLOCK = 100_000
SYNTHETIC_OFFSET = 50_000

#: A body block: ("p", text), ("ad",), ("related", text, href), ("image", src, credit, caption),
#: ("instagram", handle_text, url), ("share",), ("author_bio",). Tuples, so the HTTP control endpoint
#: can send them as JSON lists.
Block = tuple[str, ...]

DEFAULT_AUTHOR_BIO = (
    "Writing for Bored Panda means chasing the stories people can't stop talking about, from the "
    "heartwarming to the baffling, and telling them as clearly as possible."
)


@dataclass
class Comment:
    """One comment or reply. `text` is the full text, paragraphs separated by a blank line."""

    id: str
    parent_id: str | None
    author: str
    text: str
    role: str = "Community Member"
    #: None renders the <time> element without a datetime attribute, as some real pages do
    posted_at: datetime | None = None
    relative_time: str = "just now"
    upvotes: int = 0
    downvotes: int = 0
    deleted: bool = False


@dataclass
class ListItem:
    """One item of a list article; its position (1-based, across pages) is its index in the list."""

    item_id: str
    title: str
    description: str
    points: int = 0
    #: image name (without .jpg); None: named after the item's position, as the generator does
    image: str | None = None


@dataclass
class Article:
    """One article page with its body, optional list items and its comment thread."""

    slug: str
    post_id: int
    title: str
    author: str
    published_at: datetime
    modified_at: datetime
    description: str = ""
    tags: list[str] = field(default_factory=list)
    category: str = "news"
    #: whether the page shows "Updated <date>" beside the published date
    updated_line: bool = True
    votes: int = 0
    views: int = 0
    shares: int = 0
    author_bio: str = DEFAULT_AUTHOR_BIO
    body: list[Block] = field(default_factory=list)
    list_items: list[ListItem] = field(default_factory=list)
    items_per_page: int = 10
    comments: list[Comment] = field(default_factory=list)
    #: comments only through JavaScript: the page holds an empty comment block
    lazy: bool = False
    #: page shapes real Bored Panda pages have had (issue 9), "" for the current one:
    #: "pagination-anchor" (the "PAGE 1/3 >" control is itself the a.pagination link),
    #: "pagination-rel-next" (only <link rel="next">), "pagination-label" (only the "PAGE n/m" text),
    #: "byline-date" (an older page: the date only in the byline text, no structured dates),
    #: "script-comments" (an empty comment block filled by script, without data-lazy)
    variant: str = ""
    #: the comment API refuses per_page above this (as endpoints that accept only the page's own size)
    api_max_per_page: int | None = None
    #: the comment API silently answers at most this many comments per page, while it still pages by
    #: the per_page asked for: a client asking more than that skips comments, the page's own script
    #: (which asks the default) sees them all; the API's answer then disagrees with the page
    api_silent_page_cap: int | None = None
    #: the page carries the comment block twice, as the seed page does
    repeat_comment_block: bool = False
    #: load_comments never runs out: pages past the real comments are filled with synthetic ones
    endless_load_more: bool = False
    #: fault switches: load_comments pages, load_replies comment ids and load_comment ids answering 500
    fail_comment_pages: set[int] = field(default_factory=set)
    fail_replies: set[str] = field(default_factory=set)
    fail_full_text: set[str] = field(default_factory=set)
    #: top-level comments counted in the total and answered by load_comment, but left out of the
    #: comment pages (a listing that skips comments, as a page shift does)
    unlisted: set[str] = field(default_factory=set)
    #: top-level comments the comment API's pages leave out while the article page still shows them
    #: (an API whose ids disagree with the page's; the page's own script sees the rest as usual)
    api_dropped: set[str] = field(default_factory=set)
    #: comments to delete right after load_comments served a page (page -> ids): a deletion while a
    #: crawler pages the thread, at a moment tests can name
    delete_after_page: dict[int, list[str]] = field(default_factory=dict)
    #: a "layout change": this fraction of the top-level comments (with their replies) disappears
    hide_fraction: float = 0.0
    version: int = 1
    #: last change of anything the article serves (comments included); its Last-Modified
    changed_at: datetime | None = None
    #: (version, index) of the thread view built for that version; owned by thread.thread_index
    thread_cache: tuple[int, Any] | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.changed_at is None:
            self.changed_at = self.modified_at

    @property
    def is_list(self) -> bool:
        return bool(self.list_items)

    @property
    def list_pages(self) -> int:
        """Number of pages the article spans (1 unless it is a list longer than one page)."""
        return max(1, -(-len(self.list_items) // self.items_per_page))

    def first_comment_id(self) -> int:
        return self.post_id * ID_BLOCK + 1

    def touch(self, now: datetime) -> None:
        """Record a change: new version (so a new ETag) and a strictly later Last-Modified.

        Last-Modified has one-second resolution, so two changes within one second still get
        different values, or a client holding the first one would get a wrong 304.
        """
        self.version += 1
        assert self.changed_at is not None
        self.changed_at = max(now.replace(microsecond=0), self.changed_at + timedelta(seconds=1))


#: Article fields edit_article may change; the rest are identity, thread or switches with own methods.
EDITABLE_ARTICLE_FIELDS = frozenset(
    {
        "title",
        "author",
        "author_bio",
        "description",
        "tags",
        "category",
        "updated_line",
        "votes",
        "views",
        "shares",
        "body",
        "list_items",
        "items_per_page",
        "published_at",
        "modified_at",
    }
)


def utc_now() -> datetime:
    return datetime.now(UTC)


def normalize_block(block: str | Iterable[str]) -> Block:
    """A body block from a tuple, a JSON list, or a bare string (a paragraph)."""
    if isinstance(block, str):
        return ("p", block)
    return tuple(block)


class Site:
    """All articles of the replica, by slug, plus the thread-safe mutation API.

    Readers (the HTTP handlers) hold `lock` while they render, so a response never mixes the states
    before and after a mutation.
    """

    def __init__(self, clock: Callable[[], datetime] = utc_now) -> None:
        self.lock = threading.RLock()
        self.clock = clock
        self._articles: dict[str, Article] = {}
        self._by_post_id: dict[int, Article] = {}
        self._comment_article: dict[str, Article] = {}
        #: robots.txt `Crawl-delay` in seconds (None: no such line), as many real sites set it
        self.crawl_delay: float | None = None
        #: extra robots.txt lines for every user agent (tests of politeness: "Crawl-delay: 3")
        self.robots_extra: list[str] = []

    # -- reading -------------------------------------------------------------------------------

    def article(self, slug: str) -> Article:
        with self.lock:
            try:
                return self._articles[slug]
            except KeyError:
                raise KeyError(f"no article with slug {slug!r}") from None

    def article_by_post_id(self, post_id: int) -> Article:
        with self.lock:
            try:
                return self._by_post_id[post_id]
            except KeyError:
                raise KeyError(f"no article with post id {post_id}") from None

    def articles(self) -> list[Article]:
        """All articles, newest first."""
        with self.lock:
            return sorted(self._articles.values(), key=lambda a: (a.published_at, a.post_id), reverse=True)

    def find_comment(self, comment_id: str) -> tuple[Article, Comment]:
        """The article holding a comment (deleted ones included) and the comment itself."""
        with self.lock:
            try:
                article = self._comment_article[comment_id]
            except KeyError:
                raise KeyError(f"no comment with id {comment_id!r}") from None
            return article, next(c for c in article.comments if c.id == comment_id)

    def next_post_id(self) -> int:
        with self.lock:
            return max(self._by_post_id, default=8_000_000) + 1

    # -- mutations -----------------------------------------------------------------------------

    def add_article(self, article: Article) -> Article:
        """Publish an article; its slug, post id and comment ids must be new to the site."""
        with self.lock:
            if article.slug in self._articles:
                raise ValueError(f"slug {article.slug!r} is taken")
            if article.post_id in self._by_post_id:
                raise ValueError(f"post id {article.post_id} is taken")
            clashes = [c.id for c in article.comments if c.id in self._comment_article]
            if clashes:
                raise ValueError(f"comment ids already on the site: {clashes[:5]}")
            self._articles[article.slug] = article
            self._by_post_id[article.post_id] = article
            for comment in article.comments:
                self._comment_article[comment.id] = article
            return article

    def edit_article(self, slug: str, **changes: Any) -> None:
        """Change article fields (see EDITABLE_ARTICLE_FIELDS); modified_at moves to now unless given.

        `body` may mix block tuples, JSON lists and bare strings (paragraphs).
        """
        unknown = set(changes) - EDITABLE_ARTICLE_FIELDS
        if unknown:
            raise ValueError(f"not editable article fields: {sorted(unknown)}")
        if "body" in changes:
            changes["body"] = [normalize_block(block) for block in changes["body"]]
        with self.lock:
            article = self.article(slug)
            now = self.clock()
            changes.setdefault("modified_at", now.replace(microsecond=0))
            for name, value in changes.items():
                setattr(article, name, value)
            article.touch(now)

    def edit_comment(self, comment_id: str, text: str) -> None:
        self._change_comment(comment_id, text=text)

    def delete_comment(self, comment_id: str) -> None:
        """Remove a comment from every page and answer (its replies go with it)."""
        self._change_comment(comment_id, deleted=True)

    def restore_comment(self, comment_id: str) -> None:
        self._change_comment(comment_id, deleted=False)

    def set_votes(self, comment_id: str, up: int, down: int) -> None:
        self._change_comment(comment_id, upvotes=up, downvotes=down)

    def add_comment(
        self,
        slug: str,
        text: str,
        author: str = "Panda Watcher",
        parent_id: str | None = None,
    ) -> str:
        """Post a new comment (a reply when parent_id is given) and return its id."""
        with self.lock:
            article = self.article(slug)
            if parent_id is not None and self._comment_article.get(parent_id) is not article:
                raise KeyError(f"no comment {parent_id!r} in article {slug!r}")
            last_id = max((int(c.id) for c in article.comments), default=article.first_comment_id() - 1)
            comment_id = str(last_id + 1)
            now = self.clock()
            article.comments.append(
                Comment(
                    id=comment_id,
                    parent_id=parent_id,
                    author=author,
                    text=text,
                    posted_at=now.replace(microsecond=0),
                    relative_time="just now",
                )
            )
            self._comment_article[comment_id] = article
            article.touch(now)
            return comment_id

    def set_faults(
        self,
        slug: str,
        *,
        comment_pages: Iterable[int] | None = None,
        replies: Iterable[str] | None = None,
        full_text: Iterable[str] | None = None,
        unlisted: Iterable[str] | None = None,
        api_dropped: Iterable[str] | None = None,
    ) -> None:
        """Make load_comments pages / load_replies / load_comment of these ids answer 500; `unlisted`
        comments are left out of every listing (page and API), `api_dropped` ones of the API's only.

        Each given collection replaces the previous one (pass an empty one to clear); None keeps it.
        Faults change no content, so the version stays.
        """
        with self.lock:
            article = self.article(slug)
            if comment_pages is not None:
                article.fail_comment_pages = {int(page) for page in comment_pages}
            if replies is not None:
                article.fail_replies = {str(comment_id) for comment_id in replies}
            if full_text is not None:
                article.fail_full_text = {str(comment_id) for comment_id in full_text}
            if unlisted is not None:
                article.unlisted = {str(comment_id) for comment_id in unlisted}
            if api_dropped is not None:
                article.api_dropped = {str(comment_id) for comment_id in api_dropped}

    def delete_after_page(self, slug: str, page: int, comment_id: str) -> None:
        """Delete a comment as soon as load_comments has answered `page` of this article (once)."""
        with self.lock:
            self.article(slug).delete_after_page.setdefault(int(page), []).append(str(comment_id))

    def set_api_page_cap(self, slug: str, cap: int | None) -> None:
        """Make load_comments answer at most `cap` comments a page, silently (None: no cap)."""
        with self.lock:
            self.article(slug).api_silent_page_cap = None if cap is None else int(cap)

    def set_hide_fraction(self, slug: str, fraction: float) -> None:
        """Simulate a layout change that hides this fraction (0..1) of the top-level comments."""
        if not 0.0 <= fraction <= 1.0:
            raise ValueError(f"fraction must be within 0..1, not {fraction}")
        with self.lock:
            article = self.article(slug)
            article.hide_fraction = fraction
            article.touch(self.clock())

    def _change_comment(self, comment_id: str, **values: Any) -> None:
        with self.lock:
            article, comment = self.find_comment(comment_id)
            for name, value in values.items():
                setattr(comment, name, value)
            article.touch(self.clock())
