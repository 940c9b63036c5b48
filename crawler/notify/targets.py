"""Notification targets and their filters: which of a run's change events a target is told about.

A target is an Apprise URL plus optional filters: kinds (added, edited, deleted, restored, votes),
sites (the adapter names in articles.site), articles (URLs in any form, or article ids), entity types
(article, comment, list_item) and a minimum vote change for `votes` events. Targets from the settings
have no filters; targets added with `crawler notify add` keep theirs in the notify_targets table.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import asdict, dataclass, field

import sqlite_utils

from crawler.dates import iso, now_utc
from crawler.urls import BadURL, url_key

KINDS = ("added", "edited", "deleted", "restored", "votes")
ENTITY_TYPES = ("article", "comment", "list_item")


class BadTarget(ValueError):
    """A URL Apprise cannot send to, or a bad filter; the message is for the user."""


@dataclass
class Filters:
    kinds: list[str] = field(default_factory=list)
    sites: list[str] = field(default_factory=list)
    articles: list[str] = field(default_factory=list)
    entity_types: list[str] = field(default_factory=list)
    #: for `votes` events: |Δup| + |Δdown| at least this much (0: any change)
    min_votes: int = 0

    def describe(self) -> str:
        parts = [f"{k}={','.join(v)}" for k, v in asdict(self).items() if isinstance(v, list) and v]
        if self.min_votes:
            parts.append(f"min_votes={self.min_votes}")
        return " ".join(parts) or "all events"


@dataclass
class Target:
    url: str
    filters: Filters = field(default_factory=Filters)
    source: str = "table"  # table, setting

    def redacted(self) -> str:
        """The URL with passwords and tokens masked (what logs and the run row show)."""
        import apprise  # here, not at start: see crawler/notify/send.py

        plugin = apprise.Apprise.instantiate(self.url)
        return plugin.url(privacy=True) if plugin else "(invalid URL)"


def vote_change(event: dict) -> int:
    """|Δup| + |Δdown| of a `votes` event ("12/3" -> "15/3" is 3); 0 when unreadable."""

    def parts(value) -> list[int]:
        out = []
        for piece in str(value or "").split("/"):
            try:
                out.append(int(piece))
            except ValueError:
                out.append(0)
        return out

    old, new = parts(event.get("old_value")), parts(event.get("new_value"))
    return sum(abs(a - b) for a, b in zip(old, new, strict=False))


def _article_keys(values: list[str]) -> set[str]:
    keys = set()
    for value in values:
        keys.add(value)
        with contextlib.suppress(BadURL):
            keys.add(url_key(value))
    return keys


def selected(target: Target, events: list[dict]) -> list[dict]:
    """The events the target's filters let through (events carry article_url and site)."""
    f = target.filters
    articles = _article_keys(f.articles) if f.articles else set()
    out = []
    for event in events:
        if f.kinds and event["kind"] not in f.kinds:
            continue
        if f.entity_types and event["entity_type"] not in f.entity_types:
            continue
        if f.sites and event.get("site") not in f.sites:
            continue
        if articles:
            ids = {event.get("article_id")}
            for url in (event.get("article_url"), event.get("article_canonical_url")):
                if url:
                    with contextlib.suppress(BadURL):
                        ids.add(url_key(url))
            if not ids & articles:
                continue
        if event["kind"] == "votes" and f.min_votes and vote_change(event) < f.min_votes:
            continue
        out.append(event)
    return out


def check_url(url: str) -> None:
    import apprise

    if apprise.Apprise.instantiate(url) is None:
        raise BadTarget(f"not a notification URL Apprise can send to: {url!r} (see the Apprise wiki)")


def load(db: sqlite_utils.Database, setting_urls: list[str]) -> list[Target]:
    """Targets from the settings (unfiltered) and from the table, each URL once (the table wins)."""
    targets: dict[str, Target] = {}
    for url in setting_urls:
        targets[url] = Target(url, Filters(), "setting")
    for row in db.query("SELECT url, filters FROM notify_targets ORDER BY added_at, url"):
        targets[row["url"]] = Target(row["url"], Filters(**json.loads(row["filters"] or "{}")), "table")
    return list(targets.values())


def add(db: sqlite_utils.Database, url: str, filters: Filters) -> None:
    check_url(url)
    bad = [k for k in filters.kinds if k not in KINDS]
    if bad:
        raise BadTarget(f"unknown kind(s) {', '.join(bad)}: use {', '.join(KINDS)}")
    with db.conn:
        db.execute(
            "INSERT INTO notify_targets (url, added_at, filters) VALUES (?, ?, ?) "
            "ON CONFLICT (url) DO UPDATE SET filters = excluded.filters",
            [url, iso(now_utc()), json.dumps(asdict(filters))],
        )


def remove(db: sqlite_utils.Database, url: str) -> bool:
    with db.conn:
        return db.execute("DELETE FROM notify_targets WHERE url = ?", [url]).rowcount > 0
