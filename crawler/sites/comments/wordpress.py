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
#: where comment threads live: the lists above, and the sections themes wrap them in
CONTAINERS = (
    f"{LISTS}, #commentlist, #comments, .comments-area, #comments-list, div.comments, .comment-thread, "
    "#wpdcom, section.comments"
)
#: furniture inside a comment: reply links, Jetpack likes, edit links, avatars, moderation notes
FURNITURE = (
    ".reply",
    ".comment-reply",
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
    ".comment-actions",
    "ol.children",
    "ul.children",
    "img",
    "svg",
    "script",
    "style",
    "form",
)
#: ids of comment elements: WordPress (comment-N, li-comment-N), Drupal (comment-N), Blogger (cN on
#: li.comment), wpDiscuz (wpd-comm-N_M)
_ITEM_ID = re.compile(r"^(?:li-)?comment-(\d+)$|^wpd-comm-(\d+)_\d+$")
_BLOGGER_ID = re.compile(r"^c(\d{6,})$")
_INNER_ID = re.compile(r"^(?:div-|li-)?comment-(\d+)$")
_PAGE = re.compile(r"/comment-page-(\d+)/?|[?&]cpage=(\d+)")
_COUNT = re.compile(
    r"(\d[\d,.]*)\s+(?:comments?|responses?|replies|thoughts?|reactions?|kommentare?|commentaires?|"
    r"comentarios?|commenti|reacties|reageren|gedanken|antworten|komentar)\b",
    re.I,
)
_ONE = re.compile(r"^\s*(?:one|1|ein|eine)\s+(?:comment|response|reply|thought|gedanke|kommentar)\b", re.I)
_MORE = re.compile(r"^\s*(load|show|view|see) (more|older|newer|all|previous) (comments|replies)", re.I)
_AUTHOR_LEAD = re.compile(
    r"^(?:(?:comment|posted|written|kommentar|geschrieben)\s+(?:by|von)\s+|(?:ping|track)back(?:\s+von|\s+from)?:?\s+)",
    re.I,
)
_AUTHOR_TAIL = re.compile(
    r"\s+[—–]\s+(?=.*\d).*$|,?\s+(?:on|am|le|el|il|pada)\s+\S+\s+\d.*$|\s+(?:said|says|sagt|schreibt|dice|dit):?\s*$",
    re.I,
)
_MONTHS = (
    r"jan|feb|m[aä]r|apr|ma[iy]|jun|jul|aug|sep|o[ck]t|nov|de[cz]|januar|februar|märz|mai|juni|juli|oktober|"
    r"dezember|janvier|février|mars|avril|juin|juillet|août|septembre|octobre|novembre|décembre|enero|"
    r"febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|octubre|noviembre|diciembre|januari|"
    r"februari|maret|mei|juni|juli|agustus|oktober|desember|gennaio|febbraio|aprile|maggio|giugno|"
    r"luglio|settembre|ottobre|dicembre"
)
_TIME = r"(?:\s*(?:,|at|um|à|a las|alle|pukul|@|/|-)?\s*\d{1,2}[:.h]\d{2}(?:\s*[ap]\.?m\.?)?(?:\s*uhr)?)?"
#: visible comment dates that carry a year (a date without one is not guessed)
_DATES = [
    re.compile(p + _TIME, re.I)
    for p in (
        rf"\b(?:{_MONTHS})[a-zé]*\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}",
        rf"\b\d{{1,2}}\.?\s+(?:de\s+)?(?:{_MONTHS})[a-zéû]*\.?\s+(?:de\s+)?\d{{4}}",
        r"\b\d{4}-\d{2}-\d{2}",
        r"\b\d{1,2}/\d{1,2}/\d{4}",
    )
]
_DAY_MONTH_COMMA_YEAR = re.compile(r"\b(\d{1,2})\.(\d{1,2}),\s*(\d{4})(?:\s*@\s*(\d{1,2}:\d{2}))?")


class _Thread:
    """The comment elements of a page's WordPress-style thread, and who contains whom.

    Holds the elements themselves (lxml proxies die with their last reference and their id()s get
    reused). An element is a comment when its id is `comment-N` / `li-comment-N`, or it is an
    `li.comment` / `li.pingback` whose own body carries `div-comment-N`; the outermost element of a
    number is the comment.
    """

    def __init__(self, root: HtmlElement) -> None:
        containers = select(root, CONTAINERS)
        held = {id(c) for c in containers}
        outer = [c for c in containers if not any(id(a) in held for a in c.iterancestors())]
        self.elements: list[HtmlElement] = []
        self.number: dict[int, str] = {}
        for container in outer:
            for el in container.iter():
                if not isinstance(el.tag, str):
                    continue
                number = self._own_number(el)
                if number is None or number in self.number.values():
                    continue
                if el.tag == "a" and len(el) == 0 and not (el.text or "").strip():
                    # Drupal 7: an empty <a id="comment-N"> anchor just before the comment's element
                    el = el.getnext()
                    if el is None or not isinstance(el.tag, str) or id(el) in self.number:
                        continue
                self.elements.append(el)
                self.number[id(el)] = number

    @staticmethod
    def _own_number(el: HtmlElement) -> str | None:
        match = _ITEM_ID.match(el.get("id") or "")
        if match:
            return match.group(1) or match.group(2)
        classes = (el.get("class") or "").split()
        if "comment" in classes and _BLOGGER_ID.match(el.get("id") or ""):
            return _BLOGGER_ID.match(el.get("id")).group(1)
        if el.tag == "li" and {"comment", "pingback", "trackback"} & set(classes):
            for inner in el.iter():
                if inner is not el and inner.tag == "li":
                    break  # a reply's id, not this comment's
                match = _INNER_ID.match(inner.get("id") or "") if isinstance(inner.tag, str) else None
                if match:
                    return match.group(1)
        return None

    def owner(self, el: HtmlElement) -> HtmlElement | None:
        """The comment `el` belongs to (itself when it is one)."""
        if id(el) in self.number:
            return el
        return next((a for a in el.iterancestors() if id(a) in self.number), None)

    def own(self, el: HtmlElement, css: str) -> HtmlElement | None:
        """The first match of `css` in comment `el` that is not part of a reply nested in it."""
        return next((m for m in select(el, css) if self.owner(m) is el), None)

    def own_all(self, el: HtmlElement, css: str) -> list[HtmlElement]:
        return [m for m in select(el, css) if self.owner(m) is el]

    def parent(self, el: HtmlElement) -> str | None:
        enclosing = next((a for a in el.iterancestors() if id(a) in self.number), None)
        if enclosing is not None:
            return self.number[id(enclosing)]
        # Themes that close the parent's <li> before its <ul class="children"> (and Drupal, whose
        # replies follow their parent in a div.indented): the parent is the comment just before.
        for a in el.iterancestors():
            if {"children", "indented"} & set((a.get("class") or "").split()):
                previous = a.getprevious()
                while previous is not None and not isinstance(previous.tag, str):
                    previous = previous.getprevious()
                if previous is not None and id(previous) in self.number:
                    return self.number[id(previous)]
                break
        return None


def source_id(el: HtmlElement) -> str | None:
    """The site's own id of a comment element: "12" for li#comment-12 / article#div-comment-12."""
    match = _INNER_ID.match(el.get("id") or "")
    return match.group(1) if match else _Thread._own_number(el)


def comment_lists(root: HtmlElement) -> list[HtmlElement]:
    found = select(root, LISTS)
    # a list nested in another list (themes that wrap one in the other) is read through its outer one
    return [el for el in found if not any(a in found for a in el.iterancestors())]


_AUTHOR_CSS = (
    ".wpd-comment-author",
    ".comment__author .username",
    ".comment__author",
    ".field--name-uid",
    "cite.user",
    ".commenter-name .username",
    ".submitted .username",
    ".username",
    ".comment-author .fn",
    ".comment-author cite",
    ".fn",
    "[itemprop~='author'] [itemprop~='name']",
    "[itemprop~='creator'] [itemprop~='name']",
    "[itemprop~='author']",
    "[itemprop~='creator']",
    ".comment-author-name",
    ".comment-author strong",
    ".comment-author b",
    ".comment-author",
    ".author-name",
    ".comment-meta cite",
    "cite",
    ".author",
)


def _is_ping(el: HtmlElement) -> bool:
    return bool({"pingback", "trackback"} & set((el.get("class") or "").split()))


def _clean_author(text: str | None) -> str | None:
    if not text:
        return None
    line = next((part.strip() for part in text.split("\n") if part.strip()), "")
    line = _AUTHOR_LEAD.sub("", line)
    line = _AUTHOR_TAIL.sub("", line).strip(" ,:")
    return line or None


def _author(thread: _Thread, el: HtmlElement) -> tuple[str | None, HtmlElement | None]:
    for css in _AUTHOR_CSS:
        node = thread.own(el, css)
        name = _clean_author(text_of(node, skip=(".says", "img", ".avatar"))) if node is not None else None
        if name:
            return name, node
    if _is_ping(el):
        node = thread.own(el, "a.url, a[href]")
        return text_of(node), node
    return None, None


_DOTTED = re.compile(r"\b(\d{1,2})\.(\d{1,2})\.(\d{4})(?:,?\s*(?:um\s+|@\s*)?(\d{1,2}:\d{2}))?")


def visible_date(text: str) -> str | None:
    """The first date with a year in a visible text ("June 19th, 2018", "19. Juni 2018 um 15:28",
    "11.09.2011 23:31": dotted dates are day first), as ISO; None when there is none."""
    for pattern in (_DAY_MONTH_COMMA_YEAR, _DOTTED):
        match = pattern.search(text)
        if match:
            day, month, year, clock = match.groups()
            if 1 <= int(month) <= 12 and 1 <= int(day) <= 31:
                return parse_absolute(
                    f"{year}-{int(month):02d}-{int(day):02d}"
                    + (f"T{int(clock.split(':')[0]):02d}:{clock.split(':')[1]}" if clock else "")
                )
    for pattern in _DATES:
        match = pattern.search(text)
        if match:
            value = re.sub(r"\s+(?:at|um|à|a las|alle|pukul|@|/)\s+", " ", match.group(0), flags=re.I)
            value = re.sub(r"\s*uhr$|(?<=\d)(?:st|nd|rd|th)\b|\bde\s+", " ", value, flags=re.I)
            found = parse_absolute(" ".join(value.split()))
            if found:
                return found
    return None


_TIME_CSS = (
    "time[datetime]",
    "[itemprop~='dateCreated']",
    "[itemprop~='datePublished']",
    "[itemprop~='commentTime']",
    "[datetime]",
)
_VISIBLE_TIME_CSS = (
    ".wpd-comment-date",
    ".comment__time",
    ".datetime",
    ".comment-metadata a",
    ".comment-meta a",
    ".commentmetadata a",
    ".comment-date",
    ".comment-time",
    "time",
    "a[href*='#comment-']",
    ".comment-meta",
    ".commentmetadata",
    ".comment-author",
    "cite",
)


def _time(thread: _Thread, el: HtmlElement) -> tuple[str | None, str | None, HtmlElement | None]:
    """(ISO time, the visible time text, its element): a machine-readable time first, else a date
    with a year in the comment's header text."""
    for css in _TIME_CSS:
        node = thread.own(el, css)
        if node is None:
            continue
        value = parse_absolute(node.get("datetime") or node.get("content") or "")
        if value:
            return value, text_of(node), node
    for css in _VISIBLE_TIME_CSS:
        for node in thread.own_all(el, css):
            visible = text_of(node, skip=(".comment-edit-link", ".edit-link", ".comment-reply-link"))
            found = visible_date(visible or "")
            if found:
                return found, visible, node
    return None, None, None


_TEXT_CSS = (
    ".wpd-comment-text",
    ".comment__content .field--name-comment-body",
    ".field--name-comment-body",
    ".comment__content",
    ".comment-content",
    ".comment-entry",
    ".contenttext",
    "[itemprop~='commentText']",
    "[itemprop~='text']",
    ".comment-text",
)


def _text(thread: _Thread, el: HtmlElement, skip: tuple[HtmlElement | None, ...]) -> str | None:
    for css in _TEXT_CSS:
        content = thread.own(el, css)
        if content is not None:
            # some themes put the author/time list inside the content wrapper
            return _no_rules(text_of(content, skip=(*FURNITURE, *_META)))
    body = thread.own(el, ".comment-body")
    body = el if body is None else body
    # old templates: the text is whatever the body holds besides the author and meta blocks
    css = (*FURNITURE, ".comment-author", ".comment-meta", ".commentmetadata", ".comment-metadata", "footer")
    nested = tuple(e for e in thread.elements if e is not el and thread.owner(e.getparent()) is el)
    return _no_rules(text_of(body, skip=css, skip_elements=(*skip, *nested)))


_PING_LEAD = re.compile(r"^(?:ping|track)back(?:\s+von|\s+from)?:?$", re.I)


def _ping_or_text(thread: _Thread, el: HtmlElement, author_el, time_el) -> str:
    """The comment's text without its author and time; a pingback's text is the linking page's
    title when nothing else is left ("Pingback: <a>Title</a>")."""
    text = _text(thread, el, (author_el, time_el))
    if _is_ping(el) and (not text or _PING_LEAD.match(text)):
        text = _text(thread, el, (time_el,))
    return text or ""


_META = (".comment-meta", ".comment-metadata", ".comment-author", ".comment-time", ".commentmetadata")
_RULE = re.compile(r"^[\s|·•]+$")


def _no_rules(text: str | None) -> str | None:
    """Without paragraphs that are only separators ("|" between the author and the date)."""
    if not text:
        return text
    return "\n\n".join(p for p in text.split("\n\n") if not _RULE.match(p))


def read_comments(root: HtmlElement, prefix: str) -> list[CommentItem]:
    """Every comment of the page's WordPress-style thread, in page order, deduplicated by id."""
    thread = _Thread(root)
    comments: list[CommentItem] = []
    parents: dict[str, str | None] = {}
    for el in thread.elements:
        raw = thread.number[id(el)]
        parent = thread.parent(el)
        parents[raw] = parent
        author, author_el = _author(thread, el)
        posted_at, visible, time_el = _time(thread, el)
        comments.append(
            CommentItem(
                comment_id=f"{prefix}:{raw}",
                source_id=raw,
                parent_id=f"{prefix}:{parent}" if parent else None,
                author=author,
                posted_at=posted_at,
                posted_at_precision="exact" if posted_at else None,
                relative_time=None if posted_at else visible,
                # a pingback's "author" is the linking page's title: its text when it has no other
                text=_ping_or_text(thread, el, author_el, time_el),
            )
        )
    for comment in comments:  # depth: the length of the parent chain
        depth, seen, parent = 0, {comment.source_id}, parents.get(comment.source_id)
        while parent is not None and parent not in seen:
            depth, parent = depth + 1, parents.get(parent)
            seen.add(parent)
        comment.depth = depth
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
