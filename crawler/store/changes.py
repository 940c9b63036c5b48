"""The change rules: what is an addition, an edit, a deletion, a restore or a vote change.

This is the only module that decides (design notes §3). Its functions are pure: given the stored row
(or None) and the freshly crawled item, they return the row to store and the history rows to add. The
writer runs them once per item inside the transaction that writes the row, so an event never exists
without its data.

Rules in short:
- an identical re-crawl yields no history at all, only `last_seen_*` moves;
- content is compared normalised (the clean pipeline normalised it; the store compares as is);
- a cut comment later seen in full (or a cut re-crawl of a comment known in full) is not an edit;
- a relative-time estimate only replaces a coarser one, silently;
- deletions need a completely loaded thread (see `deletions`); a deleted comment seen again is restored;
- any change of vote counts is a `votes` event plus a vote sample.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, field
from typing import Any

from crawler.dates import is_finer
from crawler.text import content_hash, is_prefix_of

# Article fields whose change is an edit, in the order events are reported.
ARTICLE_TRACKED = ("title", "author", "description", "tags", "body_text", "image_credits")
LIST_ITEM_TRACKED = ("title", "description", "image_url")
# Fields refreshed on every crawl without history (what the page says now, not content).
ARTICLE_OPERATIONAL = (
    "url",
    "canonical_url",
    "site",
    "post_id",
    "modified_at",
    "views",
    "shares",
    "body_html",
    "is_list",
    "list_pages",
    "comment_count_reported",
    "author_url",
    "published_at",
)


@dataclass
class Outcome:
    """What one item does to the database."""

    row: dict[str, Any]
    changes: list[dict[str, Any]] = field(default_factory=list)
    versions: list[dict[str, Any]] = field(default_factory=list)
    vote_samples: list[dict[str, Any]] = field(default_factory=list)


def _size(old: str | None, new: str | None) -> tuple[int, int]:
    """(chars added, chars removed) between two texts, so users can filter trivial edits."""
    old, new = old or "", new or ""
    added = removed = 0
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag in ("replace", "delete"):
            removed += i2 - i1
        if tag in ("replace", "insert"):
            added += j2 - j1
    return added, removed


def _event(
    run_id, at, entity_type, entity_id, article_id, kind, field_name=None, old=None, new=None, sized=False
) -> dict[str, Any]:
    added, removed = _size(old, new) if sized else (None, None)
    return {
        "run_id": run_id,
        "at": at,
        "entity_type": entity_type,
        "entity_id": entity_id,
        "article_id": article_id,
        "kind": kind,
        "field": field_name,
        "old_value": None if old is None else str(old),
        "new_value": None if new is None else str(new),
        "chars_added": added,
        "chars_removed": removed,
    }


def _sample(entity_type: str, entity_id: str, article_id: str, run_id, at: str, up, down) -> dict[str, Any]:
    return {
        "entity_type": entity_type,
        "entity_id": entity_id,
        "article_id": article_id,
        "run_id": run_id,
        "at": at,
        "upvotes": up,
        "downvotes": down,
    }


def _votes_text(up, down) -> str:
    return f"{'' if up is None else up}/{'' if down is None else down}"


# -- articles ------------------------------------------------------------------------------------


def _article_content(item: dict[str, Any]) -> dict[str, Any]:
    content = {name: item.get(name) for name in ARTICLE_TRACKED}
    for name in ("tags", "image_credits"):
        content[name] = json.dumps(content[name] or [], ensure_ascii=False)
    return content


def _hash_content(content: dict[str, Any]) -> str:
    return content_hash(*(content[name] for name in ARTICLE_TRACKED))


def article_hash(item: dict[str, Any]) -> str:
    """Hash of an article's tracked content (what counts for edits)."""
    return _hash_content(_article_content(item))


def article_outcome(old: dict | None, item: dict[str, Any], run_id: int, at: str) -> Outcome:
    content = _article_content(item)
    row = {
        "article_id": item["article_id"],
        **content,
        **{name: item.get(name) for name in ARTICLE_OPERATIONAL},
        "is_list": int(bool(item.get("is_list"))),
        "votes": item.get("votes"),
        "last_seen_at": at,
        "last_seen_run_id": run_id,
    }
    if old is None:
        row.update(
            first_seen_at=at,
            last_changed_at=at,
            first_seen_run_id=run_id,
            version=1,
            content_hash=_hash_content(content),
        )
        return Outcome(
            row,
            [
                _event(
                    run_id,
                    at,
                    "article",
                    row["article_id"],
                    row["article_id"],
                    "added",
                    new=item.get("title"),
                )
            ],
        )
    outcome = Outcome(row)
    for name in ARTICLE_TRACKED:
        new, before = row[name], old.get(name)
        if new is None:
            row[name] = before  # a field the page no longer shows is unknown, not erased
        elif new != before:
            outcome.changes.append(
                _event(
                    run_id,
                    at,
                    "article",
                    row["article_id"],
                    row["article_id"],
                    "edited",
                    name,
                    before,
                    new,
                    sized=True,
                )
            )
    row["content_hash"] = _hash_content(row)
    row["version"] = old["version"]
    if outcome.changes:
        outcome.versions.append(
            {
                "article_id": row["article_id"],
                "version": old["version"],
                "run_id": run_id,
                "captured_at": at,
                **{name: old.get(name) for name in ARTICLE_TRACKED},
                "content_hash": old.get("content_hash"),
            }
        )
        row["version"] += 1
    if row["votes"] is None:
        row["votes"] = old.get("votes")
    elif old.get("votes") is not None and row["votes"] != old.get("votes"):
        outcome.changes.append(
            _event(
                run_id,
                at,
                "article",
                row["article_id"],
                row["article_id"],
                "votes",
                "votes",
                old.get("votes"),
                row["votes"],
            )
        )
        outcome.vote_samples.append(
            _sample("article", row["article_id"], row["article_id"], run_id, at, row["votes"], None)
        )
    row["last_changed_at"] = at if outcome.changes else old["last_changed_at"]
    return outcome


# -- list items ----------------------------------------------------------------------------------


def list_item_outcome(
    old: dict | None, item: dict[str, Any], run_id: int, at: str, article_is_new: bool
) -> Outcome:
    entity_id = f"{item['article_id']}#{item['position']}"
    row = {
        name: item.get(name)
        for name in (
            "article_id",
            "position",
            "page",
            "item_id",
            "title",
            "description",
            "image_url",
            "points",
        )
    }
    row.update(
        content_hash=content_hash(*(item.get(n) for n in LIST_ITEM_TRACKED)),
        last_seen_at=at,
        last_seen_run_id=run_id,
    )
    if old is None:
        row.update(first_seen_at=at, last_changed_at=at)
        changes = (
            []
            if article_is_new
            else [
                _event(run_id, at, "list_item", entity_id, item["article_id"], "added", new=item.get("title"))
            ]
        )
        return Outcome(row, changes)
    outcome = Outcome(row)
    for name in LIST_ITEM_TRACKED:
        if row[name] != old.get(name):
            outcome.changes.append(
                _event(
                    run_id,
                    at,
                    "list_item",
                    entity_id,
                    item["article_id"],
                    "edited",
                    name,
                    old.get(name),
                    row[name],
                    sized=True,
                )
            )
    if row["points"] is None:
        row["points"] = old.get("points")
    elif old.get("points") is not None and row["points"] != old["points"]:
        outcome.changes.append(
            _event(
                run_id,
                at,
                "list_item",
                entity_id,
                item["article_id"],
                "votes",
                "points",
                old["points"],
                row["points"],
            )
        )
        outcome.vote_samples.append(
            _sample("list_item", entity_id, item["article_id"], run_id, at, row["points"], None)
        )
    row["last_changed_at"] = at if outcome.changes else old["last_changed_at"]
    return outcome


# -- comments ------------------------------------------------------------------------------------


def _text_decision(old: dict, item: dict[str, Any]) -> tuple[str | None, bool, bool]:
    """(text to store, stored text is cut, is an edit) for a comment seen before."""
    old_text, new_text = old.get("text"), item.get("text")
    old_cut, new_cut = bool(old.get("text_truncated")), bool(item.get("truncated"))
    if new_text is None or new_text == old_text:
        return old_text, old_cut and new_cut if new_text is not None else old_cut, False
    if new_cut and not old_cut and is_prefix_of(new_text, old_text or ""):
        return old_text, False, False  # the page shows the start of a text we know in full
    if old_cut and not new_cut and is_prefix_of(old_text or "", new_text):
        return new_text, False, False  # the full text of a comment we only knew cut
    if (
        old_cut
        and new_cut
        and (is_prefix_of(old_text or "", new_text) or is_prefix_of(new_text, old_text or ""))
    ):
        return old_text, True, False  # two cuts of the same text at different lengths
    return new_text, new_cut, True


def comment_outcome(
    old: dict | None, item: dict[str, Any], run_id: int, at: str, article_is_new: bool
) -> Outcome:
    """The stored comment after this crawl's observation `item`, and its history rows.

    A comment first seen together with its article is part of that article's `added` event, so a
    first crawl of a 1,000-comment thread records one event, not 1,001.
    """
    comment_id, article_id = item["comment_id"], item["article_id"]
    row = {
        name: item.get(name)
        for name in (
            "comment_id",
            "article_id",
            "parent_id",
            "depth",
            "author",
            "author_role",
            "author_url",
            "upvotes",
            "downvotes",
            "reply_count",
        )
    }
    row.update(last_seen_at=at, last_seen_run_id=run_id, status="live")
    if old is None:
        row.update(
            text=item.get("text"),
            text_truncated=int(bool(item.get("truncated"))),
            full_text_at=None if item.get("truncated") else at,
            content_hash=content_hash(item.get("text")),
            version=1,
            posted_at=item.get("posted_at"),
            posted_at_precision=item.get("posted_at_precision"),
            first_seen_at=at,
            last_changed_at=at,
            first_seen_run_id=run_id,
        )
        changes = (
            []
            if article_is_new
            else [
                _event(run_id, at, "comment", comment_id, article_id, "added", "text", None, item.get("text"))
            ]
        )
        return Outcome(row, changes)

    outcome = Outcome(row)
    for name in (
        "author",
        "author_role",
        "author_url",
        "upvotes",
        "downvotes",
        "reply_count",
        "parent_id",
        "depth",
    ):
        if row[name] is None:
            row[name] = old.get(name)  # not shown this time (e.g. a full-text answer): unknown
    if old.get("status") == "deleted":
        outcome.changes.append(_event(run_id, at, "comment", comment_id, article_id, "restored"))
    text, cut, edited = _text_decision(old, item)
    row.update(text=text, text_truncated=int(cut), content_hash=content_hash(text), version=old["version"])
    # operational, not history: when the whole text was last seen (cheaper re-checks skip its fetch)
    row["full_text_at"] = old.get("full_text_at") if item.get("truncated") else at
    if edited:
        outcome.changes.append(
            _event(
                run_id,
                at,
                "comment",
                comment_id,
                article_id,
                "edited",
                "text",
                old.get("text"),
                text,
                sized=True,
            )
        )
        outcome.versions.append(
            {
                "comment_id": comment_id,
                "version": old["version"],
                "run_id": run_id,
                "captured_at": at,
                "article_id": article_id,
                "text": old.get("text"),
                "content_hash": old.get("content_hash"),
            }
        )
        row["version"] = old["version"] + 1
    old_votes = (old.get("upvotes"), old.get("downvotes"))
    new_votes = (row["upvotes"], row["downvotes"])
    if new_votes != old_votes:
        outcome.changes.append(
            _event(
                run_id,
                at,
                "comment",
                comment_id,
                article_id,
                "votes",
                "votes",
                _votes_text(*old_votes),
                _votes_text(*new_votes),
            )
        )
        outcome.vote_samples.append(
            _sample("comment", comment_id, article_id, run_id, at, row["upvotes"], row["downvotes"])
        )
    # A relative time gives an estimate that drifts with every crawl ("2 hours ago" seen an hour
    # later): keep the first of the finest estimates; an exact time always wins. Never an edit.
    new_precision = item.get("posted_at_precision")
    if item.get("posted_at") and (
        new_precision == "exact" or is_finer(new_precision, old.get("posted_at_precision"))
    ):
        row.update(posted_at=item["posted_at"], posted_at_precision=item.get("posted_at_precision"))
    else:
        row.update(posted_at=old.get("posted_at"), posted_at_precision=old.get("posted_at_precision"))
    row["last_changed_at"] = at if outcome.changes else old["last_changed_at"]
    return outcome


def deletion_events(missing: list[dict], run_id: int, at: str) -> list[dict[str, Any]]:
    """`deleted` events for live comments absent from a thread that this run loaded completely.

    The caller must only pass comments of a complete load (design notes §3): a partial load deletes
    nothing.
    """
    return [
        _event(
            run_id, at, "comment", c["comment_id"], c["article_id"], "deleted", "text", c.get("text"), None
        )
        for c in missing
    ]
