"""Static comment readers: comment threads that are wholly in a page's HTML, whatever the site.

Tried (by the registry) on every page whose adapter has no comment reader of its own: WordPress's
native threads (`wordpress`), schema.org `Comment` microdata and JSON-LD (`schema_org`); a page with
none of them but a script/iframe widget (`widgets`) is recorded as unread, naming the widget.
"""

from __future__ import annotations

from typing import Any

from lxml.html import HtmlElement

from crawler.sites.comments import schema_org, wordpress
from crawler.sites.comments.widgets import detect_widget
from crawler.sites.html import parse_html, select
from crawler.sites.thread import FollowUp, ThreadPage

#: elements that make a comment section even when it holds no comment yet
SECTION = (
    "#comments, #respond, .comments-area, .comment-respond, #commentform, .comment-list, .commentlist, "
    "[itemtype*='schema.org/Comment']"
)


def read_thread(
    root: HtmlElement,
    url: str,
    prefix: str,
    ld_objects: list[dict[str, Any]],
    reported: int | None = None,
) -> ThreadPage:
    """The comment thread the page's HTML holds, with the other comment pages as follow-ups.

    `reported` is a count the page's metadata states (JSON-LD commentCount); the comment section's
    own heading ("20 thoughts on …") is preferred when it has one.
    """
    readers = (
        ("wordpress", lambda: wordpress.read_comments(root, prefix)),
        ("microdata", lambda: schema_org.read_microdata(root, prefix)),
        ("json-ld", lambda: schema_org.read_json_ld(ld_objects, prefix)),
    )
    comments, reader = [], None
    for name, read in readers:
        comments = read()
        if comments:
            reader = name
            break
    heading = wordpress.reported_count(root)
    total = heading if heading is not None else reported
    widget = None if comments else detect_widget(root)
    page = ThreadPage(
        comments=comments,
        reported_total=total,
        widget=widget,
        reader=reader,
        end_reached=not wordpress.has_more_control(root),
        section=bool(comments or widget or total is not None or select(root, SECTION)),
    )
    if reader == "wordpress":
        page.follow_ups = [
            FollowUp(kind=f.kind, url=f.url, method=f.method, key=f.key, prefix=prefix)
            for f in wordpress.comment_pages(root, url)
        ]
    return page


def parse_comment_page(follow_up: FollowUp, body: str | bytes, url: str) -> ThreadPage:
    """Another comment page of a WordPress thread (`/comment-page-N/`): its comments and links."""
    root = parse_html(body)
    page = ThreadPage(
        comments=wordpress.read_comments(root, follow_up.prefix),
        end_reached=not wordpress.has_more_control(root),
        reader="wordpress",
        section=True,
    )
    page.follow_ups = [
        FollowUp(kind=f.kind, url=f.url, method=f.method, key=f.key, prefix=follow_up.prefix)
        for f in wordpress.comment_pages(root, url)
    ]
    return page
