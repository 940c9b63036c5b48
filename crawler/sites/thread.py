"""What every site adapter returns for a piece of comment thread, and the follow-up requests it needs.

An adapter turns one answer (the article page, or one comment-API answer) into a `ThreadPage`: the
comments it holds and the requests that fetch the rest (next page, more replies, full text of cut
comments). The spider only executes follow-ups and counts them; it knows nothing of any endpoint.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from crawler.items import ArticleItem, CommentItem, ListItem


@dataclass(frozen=True)
class FollowUp:
    """A request the thread still needs, described without Scrapy (adapters do no I/O)."""

    kind: str  # "comments_page", "replies" or "full_text": the adapter's parse_answer dispatches on it
    url: str
    formdata: dict[str, str] = field(default_factory=dict)
    method: str = "POST"
    key: str = ""  # identifies the follow-up so the same one is never requested twice in a run
    #: prefix of the comment ids read from the answer (the site or host key of the thread)
    prefix: str = ""
    #: the comment a "full_text" follow-up completes: a re-check skips it when the stored full text
    #: is recent and the visible text unchanged (crawler/spiders/comment_state.py)
    comment_id: str | None = None


@dataclass
class ThreadPage:
    comments: list[CommentItem] = field(default_factory=list)
    follow_ups: list[FollowUp] = field(default_factory=list)
    #: the top-level list reached its end in this answer (no further comment page)
    end_reached: bool = False
    #: the site's own figure for all comments incl. replies, when this answer gives one
    reported_total: int | None = None
    #: comments exist but only a browser can load them (JavaScript-only block)
    needs_browser: bool = False
    #: the page has a comment section at all: a thread, a comment widget, a form or a reported count
    section: bool = False
    #: the script/iframe comment widget the page embeds ("disqus", "facebook", …), None for none
    widget: str | None = None
    #: why the HTML parser may have lost part of the page (libxml2 limits), None when it did not
    parse_lost: str | None = None
    #: what read the comments ("boredpanda", "wordpress", "microdata", "json-ld", a profile name)
    reader: str | None = None


@dataclass(frozen=True)
class ClickPlan:
    """What a browser must do on a page for its whole comment thread to be in the DOM.

    The browser path scrolls `container` into view (lazy blocks load then), then clicks every element
    matching one of `load_more` ("Load More Comments", "Load More Replies...", "Read more") until none
    is left or a stop condition holds, counting `item` elements to see growth. With `scroll`, each
    round also scrolls the last comment into view, for widgets that load more as the reader scrolls
    (an infinite list: no button to click).
    """

    container: str
    item: str
    load_more: tuple[str, ...]
    scroll: bool = False


@dataclass
class RenderedPage:
    """What an adapter reads from a page rendered (and expanded) in a browser.

    List items and the next list page come from the Bored Panda adapter; a profile knows no list
    articles and leaves them empty.
    """

    article: ArticleItem
    thread: ThreadPage
    list_items: list[ListItem] = field(default_factory=list)
    next_page_url: str | None = None
