"""A rendered page's DOM with its frames' documents in place: comment widgets that live in an iframe.

Many comment widgets render in an `<iframe>`, often served from the widget's own host (Disqus,
Remark42, Coral, Giscus). `page.content()` holds the top document only, with an empty `<iframe>`
where the comments are, so the browser path would store none. `rendered_html` puts the document of
each frame that holds comments (the children of its `<body>`, links made absolute against the frame's
own address) in place of its `<iframe>`, inside `<div data-pandawatch-frame="FRAME URL">`: the site's
profile or adapter reads one document, the one a reader of the page sees. Frames without comments
(embedded posts and videos, ads) stay empty `<iframe>`s, as plain HTTP serves them: an article's text
does not depend on which path read it.

Bounded: frames nested at most MAX_DEPTH deep, MAX_FRAMES in all, FRAME_TIMEOUT seconds each. A frame
that cannot be read (detached, crashed, too slow) stays an empty `<iframe>` and is counted; one known to
hold comments (`Rendered.lost`) makes the page's thread incomplete (crawler/spiders/rendering.py): a
thread read without its widget's comments is no evidence that they are gone. If the top
document cannot be re-serialised whole (libxml2's nesting or text limits, crawler/sites/html.py), it
is returned as Chromium gave it: a page is never cut to add a frame.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import lxml.html

from crawler.sites.html import NotHTML, parse_html_checked

MAX_FRAMES = 20
MAX_DEPTH = 3
FRAME_TIMEOUT = 5.0
#: set on each <iframe> whose document is read, to find it again in the serialised parent document
MARK = "data-pandawatch-frame-index"
#: the attribute of the element that holds a frame's document in the result
HOLDER = "data-pandawatch-frame"


@dataclass
class Rendered:
    html: str
    frames: int = 0  # frame documents put in place
    failed: list[str] = field(default_factory=list)  # addresses of frames that could not be read
    #: those of them that hold comments: the page's thread was not read whole
    lost: list[str] = field(default_factory=list)


def frames_of(page) -> list:
    """The page's frames, the top one first, without detached ones, at most MAX_FRAMES children."""
    return [f for f in page.frames if not f.is_detached()][: MAX_FRAMES + 1]


async def rendered_html(page, comments: str | None = None) -> Rendered:
    """`page.content()` with the document of every readable frame that holds `comments` (a CSS
    selector: the comment block or item of the page's reader; None: every frame) in place of its
    `<iframe>`. Other frames stay empty `<iframe>`s: an article's embedded posts and videos are frames
    too, and their text must not become the article's only when a browser read it."""
    result = Rendered("")
    result.html, _ = await _document(page.main_frame, 0, result, comments)
    return result


async def _document(frame, depth: int, result: Rendered, comments: str | None) -> tuple[str, bool]:
    """(the frame's HTML with its wanted frames in place, whether it or one of them holds comments)."""
    children = [c for c in frame.child_frames if not c.is_detached()] if depth < MAX_DEPTH else []
    inner: dict[str, tuple[str, str]] = {}
    for index, child in enumerate(children):
        if result.frames + len(inner) >= MAX_FRAMES:
            break
        wanted = False
        try:
            document, wanted = await _document(child, depth + 1, result, comments)
            if not wanted:
                continue
            element = await asyncio.wait_for(child.frame_element(), FRAME_TIMEOUT)
            await asyncio.wait_for(element.evaluate(f"(el, i) => el.setAttribute('{MARK}', i)", str(index)),
                                   FRAME_TIMEOUT)  # fmt: skip
        except Exception:  # a frame can go away at any moment; it is then left as it was
            result.failed.append(child.url)
            if wanted:
                result.lost.append(child.url)
            continue
        inner[str(index)] = (child.url, document)
    html = await asyncio.wait_for(frame.content(), FRAME_TIMEOUT) if depth else await frame.content()
    holds = comments is None or bool(inner)
    if depth and not holds:
        holds = await asyncio.wait_for(frame.query_selector(comments), FRAME_TIMEOUT) is not None
    if not inner:
        return html, holds
    inlined, unreadable = inline_frames(html, inner)
    if inlined is None:
        result.failed.extend(url for url, _ in inner.values())
        result.lost.extend(url for url, _ in inner.values())
        return html, holds
    result.failed.extend(unreadable)
    result.lost.extend(unreadable)
    result.frames += len(inner) - len(unreadable)
    return inlined, holds


def inline_frames(html: str, documents: dict[str, tuple[str, str]]) -> tuple[str | None, list[str]]:
    """(`html` with each `<iframe MARK=i>` replaced by the body of `documents[i]` = (its URL, its
    HTML), the URLs of frame documents that could not be parsed whole and were left out). The HTML is
    None when the parent document itself cannot be parsed whole. Pure."""
    try:
        root, lost = parse_html_checked(html)
    except NotHTML:
        return None, []
    if lost:
        return None, []
    unreadable: list[str] = []
    for iframe in [el for el in root.iter("iframe") if el.get(MARK) in documents]:
        url, document = documents[iframe.get(MARK)]
        holder = lxml.html.Element("div", {HOLDER: url})
        try:
            frame_root, frame_lost = parse_html_checked(document)
        except NotHTML:
            frame_root, frame_lost = None, None
        body = frame_root.find("body") if frame_root is not None and not frame_lost else None
        if body is None:
            unreadable.append(url)  # an empty holder: the frame's comments are not claimed read
        else:
            if url.startswith(("http://", "https://")):
                body.make_links_absolute(url, resolve_base_href=True, handle_failures="discard")
            holder.text = body.text
            for child in list(body):
                holder.append(child)
        iframe.addprevious(holder)
        holder.tail, iframe.tail = iframe.tail, None
        iframe.getparent().remove(iframe)
    return lxml.html.tostring(root, encoding="unicode", method="html", doctype="<!DOCTYPE html>"), unreadable
