"""Spider arguments: parsed and validated in one place, so a bad argument fails at start with one line.

`scrapy crawl` passes every `-a name=value` as a string; these helpers turn them into typed values
and raise `ArgumentError` with a message meant for the person who typed the command.
"""

from __future__ import annotations

import re
from pathlib import Path

from crawler.urls import BadURL, check_url, fetch_url, url_key


class ArgumentError(ValueError):
    """A spider argument that cannot be used; the message is shown to the user as is."""


_COMMENT = re.compile(r"(^|\s)#.*$")


def url_lines(text: str) -> list[tuple[int, str]]:
    """(line number, URL) for each URL of a URL file: one or more per line, separated by whitespace;
    `#` at the start of a line or after whitespace starts a comment (a `#` inside a URL is its
    fragment: `https://…/story/#comments`)."""
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        for token in _COMMENT.sub("", line).split():
            found.append((number, token))
    return found


def split_urls(value: str) -> list[str]:
    """URLs of one argument, separated by commas and/or whitespace (`-a "url=A B"`, `-a url=A,B`)."""
    return [part for part in re.split(r"[,\s]+", value) if part]


def _read_urls_file(path: str) -> list[str]:
    file = Path(path)
    if not file.is_file():
        raise ArgumentError(f"urls_file {path!r} does not exist or is not a file")
    urls = [url for _, url in url_lines(file.read_text(encoding="utf-8", errors="replace"))]
    if not urls:
        raise ArgumentError(f"urls_file {path!r} holds no URL (one per line, # for comments)")
    return urls


def parse_targets(url: str | None = None, urls_file: str | None = None) -> list[str]:
    """The URLs to crawl from `url` (comma-separated) and/or `urls_file`, canonicalised, deduplicated.

    Two links to the same article (tracking parameters, `#comments`, http vs https, a comment
    permalink) become one target.
    """
    raw: list[str] = []
    if url is not None:
        parts = split_urls(url)
        if not parts:
            raise ArgumentError("url is empty: give -a url=https://… (several separated by commas)")
        raw.extend(parts)
    if urls_file is not None:
        raw.extend(_read_urls_file(urls_file))
    if not raw:
        raise ArgumentError("nothing to crawl: give -a url=https://… or -a urls_file=FILE")
    targets: dict[str, str] = {}
    for candidate in raw:
        try:
            check_url(candidate)
        except BadURL as exc:
            raise ArgumentError(f"bad url argument: {exc} (only http:// and https:// are crawled)") from exc
        targets.setdefault(url_key(candidate), fetch_url(candidate))
    return list(targets.values())


def parse_choice(name: str, value: str | None, choices: tuple[str, ...], default: str) -> str:
    value = (value or default).strip().lower()
    if value not in choices:
        raise ArgumentError(f"{name} must be one of {', '.join(choices)}, not {value!r}")
    return value
