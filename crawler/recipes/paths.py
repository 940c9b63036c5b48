"""JSON paths as tuples of keys and list indexes, and the walks the induction needs over answers.

A path is stored in a recipe as a list (JSON), e.g. ["data", "html"] or ["author", "name"]; `"*"`
stands for "every element of a list".
"""

from __future__ import annotations

import json
import re
from collections import deque
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

Path = tuple

#: a recipe parameter named "path:N" is the request path's segment N ("/api/x/123": 1 api, 2 x, 3 123)
PATH_PARAM = "path:"
#: a JSON body's nested parameter is named by its keys joined with this ("variables.after")
JSON_SEPARATOR = "."


def get(value: Any, path: Path | list | None, default: Any = None) -> Any:
    """The value at `path` in `value` (no "*"), or `default` when any step is missing."""
    if path is None:
        return default
    for step in path:
        in_dict = isinstance(value, dict) and isinstance(step, str) and step in value
        in_list = isinstance(value, list) and isinstance(step, int) and -len(value) <= step < len(value)
        if in_dict or in_list:
            value = value[step]
        else:
            return default
    return value


def has(value: Any, path: Path | list) -> bool:
    marker = object()
    return get(value, path, marker) is not marker


def leaves(value: Any, prefix: Path = (), max_depth: int = 4) -> Iterator[tuple[Path, Any]]:
    """(path, scalar) of every scalar reachable through dicts only (lists are other items' business)."""
    if isinstance(value, dict):
        if len(prefix) >= max_depth:
            return
        for key, item in value.items():
            yield from leaves(item, (*prefix, key), max_depth)
    elif not isinstance(value, list):
        yield prefix, value


def dict_lists(value: Any) -> Iterator[tuple[Path, list]]:
    """(path, list) of every list of dicts in `value`, breadth first (outermost lists first)."""
    queue: deque[tuple[Path, Any]] = deque([((), value)])
    while queue:
        path, node = queue.popleft()
        if isinstance(node, dict):
            for key, item in node.items():
                queue.append(((*path, key), item))
        elif isinstance(node, list):
            if node and all(isinstance(x, dict) for x in node):
                yield path, node
            for index, item in enumerate(node):
                queue.append(((*path, index), item))


def strings(value: Any, prefix: Path = ()) -> Iterator[tuple[Path, str]]:
    """(path, string) of every string in `value`, through dicts and lists."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from strings(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from strings(item, (*prefix, index))
    elif isinstance(value, str):
        yield prefix, value


#: anti-hijacking prefixes some APIs put before their JSON (Facebook's comments plugin `for (;;);`,
#: Google's `)]}'`): the page's script strips them, so does a recipe
_XSSI = re.compile(r"^\s*(?:\)\]\}'\s*,?|while\s*\(\s*1\s*\)\s*;|for\s*\(\s*;\s*;\s*\)\s*;)")


def loads_json(text: str | bytes) -> Any:
    """json.loads, after an anti-hijacking prefix (see _XSSI); raises ValueError like json.loads."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    try:
        value = json.loads(_XSSI.sub("", text, count=1))
    except RecursionError:
        # nested deeper than Python's stack (json.loads recurses): no comment answer, unreadable alike
        raise ValueError("JSON nested too deeply") from None
    return _without_lone_surrogates(value) if _SURROGATE_ESCAPE.search(text) else value


#: "\ud800": JSON may escape half of a UTF-16 pair alone, which no text can encode (a request
#: parameter, an SQLite row); json.loads joins the halves of a whole pair itself
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def _clean(text: str) -> str:
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def _without_lone_surrogates(value: Any) -> Any:
    """`value` with each lone surrogate of its strings (keys too) replaced by U+FFFD."""
    if isinstance(value, str):
        return _clean(value)
    root = [value]
    stack: list[Any] = [root]
    while stack:
        node = stack.pop()
        keys = list(node) if isinstance(node, dict) else range(len(node))
        for key in keys:
            item = node[key]
            if isinstance(item, str):
                node[key] = _clean(item)
            elif isinstance(item, (dict, list)):
                stack.append(item)
            if isinstance(key, str) and _clean(key) != key:
                node[_clean(key)] = node.pop(key)
    return root[0]


def scalar_text(value: Any) -> str | None:
    """A scalar as the text a page would show it (ids may be numbers in JSON, strings in the DOM)."""
    if value is None or isinstance(value, (dict, list)):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


_TAG = re.compile(r"<[a-zA-Z/][^>]*>")


_ENTITY = re.compile(r"&(#\d+|#x[0-9a-fA-F]+|[a-zA-Z]+\d*);")


def as_text(value: Any) -> Any:
    """A comment text as the page shows it: an HTML string (`"<p>Hi</p>"`) read as visible text, and
    an escaped one without tags (`"Tom &amp; Jerry"`, APIs that escape for the widget's innerHTML)
    unescaped."""
    if isinstance(value, str) and (_TAG.search(value) or _ENTITY.search(value)):
        from crawler.sites.html import parse_fragment, text_of

        return text_of(parse_fragment(value)) or ""
    return value


def as_time(value: Any) -> str | None:
    """An ISO-8601 UTC time from an ISO string or a Unix time in seconds or milliseconds."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        seconds = value / 1000 if value > 1e11 else value
        if not 1e8 < seconds < 1e10:
            return None
        # whole seconds, as a page's ISO time is read (crawler.dates drops fractions): Isso's
        # `created` is 1760000097.375 where its widget shows 2025-10-09T08:54:57.375Z
        return datetime.fromtimestamp(int(seconds), tz=UTC).isoformat()
    if isinstance(value, str):
        # a URL or a UUID (JSON:API's and Remark42's ids: "…-4627-…" has a "year") is no time
        maybe = (
            len(value) <= 64
            and "://" not in value
            and not _UUID.fullmatch(value)
            and _DATE_LIKE.search(value)
        )
        return _string_time(value) if maybe else None
    return None


_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
#: a string that could be a date at all (a year, or d/m/y on its own): texts, hashes, names and
#: dotted paths (Drupal's comment `thread` "01.02.01/") are not parsed
_DATE_LIKE = re.compile(
    r"(?<![0-9a-fA-F])\d{4}(?![0-9a-fA-F])|(?<![\d./])\d{1,2}[/.]\d{1,2}[/.]\d{2,4}(?![\d./])"
)


@lru_cache(maxsize=4096)
def _string_time(value: str) -> str | None:
    # the induction tests every string of every item against the page's times: dateparser costs
    # tens of milliseconds a call, so each distinct string is parsed once
    from crawler.dates import parse_absolute

    try:  # an ISO-8601 time with a zone (any fraction: Go's nanoseconds) needs no dateparser
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        moment = None
    if moment is not None and moment.tzinfo is not None:
        return moment.astimezone(UTC).replace(microsecond=0).isoformat()
    return parse_absolute(value)
