"""WordPress-native comment threads, as `wp_list_comments()` prints them in the page's HTML.

    <ol class="comment-list">                         (older themes: ol.commentlist)
      <li id="comment-12" class="comment even thread-even depth-1 parent">
        <article id="div-comment-12" class="comment-body">
          <footer class="comment-meta">
            <div class="comment-author vcard"><b class="fn">Ann</b> <span class="says">says:</span></div>
            <div class="comment-metadata"><a href="…#comment-12"><time datetime="2015-11-03T10:00:00+00:00">
              November 3, 2015 at 10:00 am</time></a></div>
          </footer>
          <div class="comment-content"><p>…</p></div>
          <div class="reply"><a class="comment-reply-link">Reply</a></div>
        </article>
        <ol class="children"> … replies, the same markup … </ol>
      </li>

Older templates put the text directly in `div.comment-body` next to `.comment-author` and
`.comment-meta`; Jetpack adds "Like" / "Liked by N people" buttons. Those and the "Reply" links are
furniture, never comment text. Comment pages beyond the first (`/comment-page-N/`, `?cpage=N`) are
returned as follow-ups; the thread is whole once every page was read.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

from lxml.html import HtmlElement

from crawler.dates import parse_absolute
from crawler.items import CommentItem
from crawler.sites.html import select, text_of, to_int
from crawler.sites.thread import FollowUp

LISTS = "ol.comment-list, ul.comment-list, ol.commentlist, ul.commentlist, div.comment-list, .comments-list"
ITEMS = "li.comment, li.pingback, li.trackback, li[id^='comment-'], li[id^='li-comment-']"
#: furniture inside a comment: reply links, Jetpack likes, edit links, avatars, moderation notes
FURNITURE = (
    ".reply",
    ".comment-reply-link",
    ".comment-reply-login",
    ".comment-likes",
    ".comment-like",
    ".likes-widget-placeholder",
    ".wpl-likebox",
    ".comment-edit-link",
    ".edit-link",
    ".says",
    ".comment-awaiting-moderation",
    "ol.children",
    "ul.children",
    "img",
    "svg",
    "script",
    "style",
    "form",
)
_ID = re.compile(r"^(?:li-|div-)?comment-(\d+)$")
_PAGE = re.compile(r"/comment-page-(\d+)/?|[?&]cpage=(\d+)")
_COUNT = re.compile(
    r"(\d[\d,.]*)\s+(?:comments?|responses?|replies|thoughts?|reactions?|kommentare?|commentaires?|"
    r"comentarios?|commenti|reacties|reageren)\b",
    re.I,
)
_ONE = re.compile(r"^\s*(?:one|1)\s+(?:comment|response|reply|thought)\b", re.I)
_MORE = re.compile(r"^\s*(load|show|view|see) (more|older|newer|all|previous) (comments|replies)", re.I)


def source_id(el: HtmlElement) -> str | None:
    """The site's own id of a comment element: "12" for li#comment-12 / article#div-comment-12."""
    match = _ID.match(el.get("id") or "")
    if match:
        return match.group(1)
    if el.tag != "li":
        return None
    for inner in select(el, "[id^='div-comment-'], [id^='comment-']"):
        match = _ID.match(inner.get("id") or "")
        if match:
            return match.group(1)
    return None


def comment_lists(root: HtmlElement) -> list[HtmlElement]:
    found = select(root, LISTS)
    # a list nested in another list (themes that wrap one in the other) is read through its outer one
    return [el for el in found if not any(a in found for a in el.iterancestors())]


def _own(el: HtmlElement, css: str) -> HtmlElement | None:
    """The first match in comment `el` that is not inside a reply nested in it."""
    for match in select(el, css):
        owner = next((a for a in match.iterancestors() if a.tag == "li" and source_id(a)), None)
        if owner is el or owner is None:
            return match
    return None


def _author(el: HtmlElement) -> str | None:
    node = _own(el, ".comment-author .fn, .comment-author cite, .fn, .comment-author-name, .comment-author")
    text = text_of(node, skip=(".says", "img", ".avatar"))
    if text:
        text = re.sub(r"\s+says:?$", "", text).strip()
    return text or None


def _time(el: HtmlElement) -> tuple[str | None, str | None]:
    """(ISO time, the visible time text): <time datetime> first, else the text of the meta link."""
    node = _own(el, "time[datetime]")
    if node is not None and parse_absolute(node.get("datetime")):
        return parse_absolute(node.get("datetime")), text_of(node)
    node = _own(el, ".comment-metadata a, .comment-meta a, .commentmetadata a, .comment-date, time")
    visible = text_of(node, skip=(".comment-edit-link", ".edit-link"))
    if visible:
        cleaned = re.sub(r"\s+at\s+", " ", visible)
        cleaned = re.sub(r"\s*\|\s*$|\(edit\)|edit$", "", cleaned, flags=re.I).strip()
        return parse_absolute(cleaned), visible
    return None, None


def _text(el: HtmlElement) -> str | None:
    content = _own(el, ".comment-content, .comment-text, .comment-entry")
    if content is not None:
        return text_of(content, skip=FURNITURE)
    body = _own(el, ".comment-body")
    body = el if body is None else body
    # old templates: the text is whatever the body holds besides the author and meta blocks
    skip = (*FURNITURE, ".comment-author", ".comment-meta", ".commentmetadata", ".comment-metadata", "footer")
    return text_of(body, skip=skip)


def read_comments(root: HtmlElement, prefix: str) -> list[CommentItem]:
    """Every comment of the page's WordPress comment lists, in page order, deduplicated by id."""
    comments: list[CommentItem] = []
    seen: set[str] = set()
    for container in comment_lists(root):
        for el in select(container, ITEMS):
            raw = source_id(el)
            if raw is None or raw in seen:
                continue
            seen.add(raw)
            enclosing = [a for a in el.iterancestors() if a.tag == "li" and source_id(a)]
            parent = source_id(enclosing[0]) if enclosing else None
            posted_at, visible = _time(el)
            comments.append(
                CommentItem(
                    comment_id=f"{prefix}:{raw}",
                    source_id=raw,
                    parent_id=f"{prefix}:{parent}" if parent else None,
                    depth=len(enclosing),
                    author=_author(el),
                    posted_at=posted_at,
                    posted_at_precision="exact" if posted_at else None,
                    relative_time=None if posted_at else visible,
                    text=_text(el) or "",
                )
            )
    return comments


def reported_count(root: HtmlElement) -> int | None:
    """The number of comments the comment section's heading states ("20 thoughts on …")."""
    for el in select(
        root, ".comments-title, #comments-title, .comment-reply-title ~ h2, #comments h2, #comments h3"
    ):
        text = text_of(el) or ""
        if _ONE.match(text):
            return 1
        match = _COUNT.search(text)
        if match:
            return to_int(match.group(1))
    return None


def has_more_control(root: HtmlElement) -> bool:
    """A "Load more comments" style control: the thread continues beyond what the HTML holds."""
    for el in select(root, "#comments button, #comments a, .comments-area button, .comments-area a"):
        if _MORE.match(text_of(el) or ""):
            return True
    return False


def comment_pages(root: HtmlElement, url: str) -> list[FollowUp]:
    """The thread's other comment pages (/comment-page-N/ or ?cpage=N) linked from this one."""
    here = urlsplit(url)
    base_path = _PAGE.sub("/", here.path).rstrip("/")
    follow: dict[str, FollowUp] = {}
    for link in select(root, "a[href]"):
        href = urljoin(url, link.get("href"))
        match = _PAGE.search(href)
        if not match:
            continue
        target = urlsplit(href)
        if target.hostname != here.hostname or _PAGE.sub("/", target.path).rstrip("/") != base_path:
            continue
        number = match.group(1) or match.group(2)
        href = href.split("#", 1)[0]
        if href.rstrip("/") == url.split("#", 1)[0].rstrip("/"):
            continue
        follow.setdefault(
            number, FollowUp(kind="comments_page", url=href, method="GET", key=f"comment-page:{number}")
        )
    return list(follow.values())


def current_page(url: str) -> str:
    match = _PAGE.search(url)
    return (match.group(1) or match.group(2)) if match else "1"
