"""The items that flow from spiders through the pipelines into the store.

Dataclasses (read through itemadapter everywhere) so that every field is declared in one place and a
typo in a field name fails loudly instead of creating a new column.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ArticleItem:
    """One article page (for a list article: its first page, list items come as ListItem items)."""

    url: str
    article_id: str | None = None
    site: str | None = None
    post_id: str | None = None
    canonical_url: str | None = None
    title: str | None = None
    author: str | None = None
    author_url: str | None = None
    published_at: str | None = None
    modified_at: str | None = None
    description: str | None = None
    tags: list[str] = field(default_factory=list)
    votes: int | None = None
    views: int | None = None
    shares: int | None = None
    body_text: str | None = None
    body_html: str | None = None
    image_credits: list[str] = field(default_factory=list)
    is_list: bool = False
    list_pages: int | None = None
    comment_count_reported: int | None = None
    fetched_at: str | None = None


@dataclass
class ListItem:
    """One item of a list article ("listicle"); positions run across the article's pages."""

    article_id: str
    position: int
    page: int = 1
    item_id: str | None = None
    title: str | None = None
    description: str | None = None
    image_url: str | None = None
    points: int | None = None
    fetched_at: str | None = None


@dataclass
class CommentItem:
    """One comment or reply, as the page or the comment API showed it."""

    comment_id: str
    article_id: str | None = None
    parent_id: str | None = None
    depth: int = 0
    author: str | None = None
    author_role: str | None = None
    author_url: str | None = None
    posted_at: str | None = None
    #: how exact posted_at is: "exact" (the page gave a timestamp) or the unit of a relative time
    posted_at_precision: str | None = None
    relative_time: str | None = None
    text: str | None = None
    #: True while only the page's cut-off text is known ("…" + "Read more")
    truncated: bool = False
    upvotes: int | None = None
    downvotes: int | None = None
    reply_count: int | None = None
    fetched_at: str | None = None


@dataclass
class ThreadItem:
    """How completely one article's comment thread was loaded in this run (emitted once, at the end)."""

    article_id: str
    url: str
    reported_total: int | None
    loaded: int
    requests_total: int
    requests_failed: int
    end_reached: bool
    complete: bool
    reason: str | None = None
    method: str = "api"
    fetched_at: str | None = None
    #: every comment id the thread showed in this run: deletions are judged against this set, not
    #: against what reached the database first (items of one thread are stored in no fixed order)
    seen_ids: list[str] = field(default_factory=list)
    #: the site offers a direct fetch of one comment: only its answer confirms a deletion
    direct_check: bool = False
    #: comments the direct fetch found gone, with the site's reason when it gave one
    confirmed_gone: dict[str, str | None] = field(default_factory=dict)


@dataclass
class FetchItem:
    """One article page fetch: its HTTP validators, and whether it was unchanged since the last one.

    Stored outside the history (`http_cache`, `watchlist`), so conditional GETs and the monitor's
    schedule never create change rows.
    """

    url: str
    url_key: str
    status: int
    article_id: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    #: answered 304 Not Modified, or 200 with the same body as last time: not parsed, not re-written
    unchanged: bool = False
    fetched_at: str | None = None


@dataclass
class DiscoveredItem:
    """An article link found in a feed, sitemap or listing page, to enrol in the watch list."""

    url: str
    url_key: str
    source: str  # feed, sitemap, listing
    source_url: str
    published_at: str | None = None
    found_at: str | None = None
