"""schema.org `Comment` objects: microdata in the markup, and JSON-LD (an Article's `comment` list).

Sites that mark their comments up for search engines say who wrote what, when, and in reply to
whom, whatever their templates look like. Replies are Comments nested in a Comment (microdata), or a
Comment's own `comment` list (JSON-LD). A Comment without an id of its own gets one from its author,
time and text, so the same comment keeps its id from run to run.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from lxml.html import HtmlElement

from crawler.dates import parse_absolute
from crawler.items import CommentItem
from crawler.sites.html import select, text_of

_TYPE = "[itemtype*='schema.org/Comment'], [itemtype*='schema.org/Answer']"
_ID_TAIL = re.compile(r"(?:comment[-_]?|#|/)(\w+)$", re.I)


def _fallback_id(author: str | None, posted: str | None, text: str | None) -> str:
    digest = hashlib.sha1(f"{author}\x1f{posted}\x1f{(text or '')[:200]}".encode()).hexdigest()
    return f"h{digest[:16]}"


def _short_id(value: str | None) -> str | None:
    """ "https://x/post/#comment-12" -> "12"; an id without such a tail is kept whole."""
    if not value:
        return None
    value = value.strip()
    match = _ID_TAIL.search(value)
    return match.group(1) if match else value


def _prop(scope: HtmlElement, name: str, scopes: list[HtmlElement]) -> HtmlElement | None:
    """The first element with itemprop=name that belongs to `scope` itself, not to a nested item."""
    for el in select(scope, f"[itemprop~='{name}']"):
        owner = next((a for a in el.iterancestors() if a.get("itemscope") is not None), None)
        if owner is scope:
            return el
    return None


def _value(el: HtmlElement | None, scopes: list[HtmlElement]) -> str | None:
    if el is None:
        return None
    if el.get("itemscope") is not None:  # a Person: its name
        name = _prop(el, "name", scopes)
        return _value(name, scopes) if name is not None else text_of(el)
    for attribute in ("content", "datetime"):
        if el.get(attribute):
            return el.get(attribute).strip()
    return text_of(el)


def read_microdata(root: HtmlElement, prefix: str) -> list[CommentItem]:
    scopes = select(root, _TYPE)
    found: dict[int, str] = {}
    comments: list[CommentItem] = []
    for scope in scopes:
        author = _value(_prop(scope, "author", scopes), scopes) or _value(
            _prop(scope, "creator", scopes), scopes
        )
        posted_raw = _value(_prop(scope, "dateCreated", scopes), scopes) or _value(
            _prop(scope, "datePublished", scopes), scopes
        )
        text_el = _prop(scope, "text", scopes)
        if text_el is None:
            text_el = _prop(scope, "description", scopes)
        if text_el is None:
            text_el = _prop(scope, "commentText", scopes)
        text = text_of(text_el) if text_el is not None else None
        raw = (
            _short_id(scope.get("itemid"))
            or _short_id(scope.get("id"))
            or _short_id(_value(_prop(scope, "url", scopes), scopes))
            or _fallback_id(author, posted_raw, text)
        )
        found[id(scope)] = raw
        enclosing = [a for a in scope.iterancestors() if id(a) in found]
        parent = found[id(enclosing[0])] if enclosing else None
        posted = parse_absolute(posted_raw)
        comments.append(
            CommentItem(
                comment_id=f"{prefix}:{raw}",
                source_id=raw,
                parent_id=f"{prefix}:{parent}" if parent else None,
                depth=len(enclosing),
                author=author,
                posted_at=posted,
                posted_at_precision="exact" if posted else None,
                relative_time=None if posted else posted_raw,
                text=text or "",
            )
        )
    return _unique(comments)


def _text(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("name")
    if isinstance(value, list):
        value = value[0] if value else None
    return " ".join(value.split()) if isinstance(value, str) and value.strip() else None


def _is_comment(obj: Any) -> bool:
    if not isinstance(obj, dict):
        return False
    types = obj.get("@type")
    return any(
        str(t).rsplit("/", 1)[-1] in ("Comment", "Answer")
        for t in (types if isinstance(types, list) else [types])
    )


def read_json_ld(objects: list[dict[str, Any]], prefix: str) -> list[CommentItem]:
    """Comments from JSON-LD: top-level Comment objects and every object's `comment` list, any depth."""
    comments: list[CommentItem] = []

    def add(obj: dict[str, Any], parent: str | None, depth: int) -> None:
        text = _text(obj.get("text")) or _text(obj.get("description")) or ""
        author = _text(obj.get("author")) or _text(obj.get("creator"))
        posted_raw = _text(obj.get("dateCreated")) or _text(obj.get("datePublished"))
        raw = (
            _short_id(_text(obj.get("@id")))
            or _short_id(
                _text(obj.get("identifier"))
                if not isinstance(obj.get("identifier"), int)
                else str(obj["identifier"])
            )
            or _short_id(_text(obj.get("url")))
            or _fallback_id(author, posted_raw, text)
        )
        posted = parse_absolute(posted_raw)
        comments.append(
            CommentItem(
                comment_id=f"{prefix}:{raw}",
                source_id=raw,
                parent_id=f"{prefix}:{parent}" if parent else None,
                depth=depth,
                author=author,
                posted_at=posted,
                posted_at_precision="exact" if posted else None,
                text=text,
            )
        )
        walk(obj.get("comment"), raw, depth + 1)

    def walk(value: Any, parent: str | None, depth: int) -> None:
        for entry in value if isinstance(value, list) else [value]:
            if _is_comment(entry):
                add(entry, parent, depth)

    for obj in objects:
        if _is_comment(obj):
            add(obj, None, 0)
        else:
            walk(obj.get("comment"), None, 0)
    return _unique(comments)


def _unique(comments: list[CommentItem]) -> list[CommentItem]:
    seen: set[str] = set()
    kept = []
    for comment in comments:
        if comment.comment_id not in seen:
            seen.add(comment.comment_id)
            kept.append(comment)
    return kept
