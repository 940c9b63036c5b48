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
- a comment absent from a completely loaded thread is a deletion candidate; it is deleted only when
  confirmed (`judge_missing`); a site placeholder ("[deleted]", "removed by a moderator") is a deletion
  with that reason, not an edit; a deleted comment seen again is restored;
- any change of vote counts is a `votes` event plus a vote sample; the first sight is a sample too
  (no event), so a vote series starts at the beginning;
- list items are known by their own id: an item inserted into a list is one `added`, the items
  after it only move;
- absent tags and an empty tag list are the same (unknown): neither is an edit.
Edit sizes are counted in words' characters (`edit_size`): cheap even for a one-word edit of 1 MB.
"""

from __future__ import annotations

import difflib
import json
import re
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


_TOKENS = re.compile(r"\s+|\w+|[^\w\s]")
#: a changed middle longer than this many tokens is counted as replaced whole (a rewrite, not an edit)
MAX_DIFF_TOKENS = 20_000


_BLOCK = 4096


def _common_prefix(a: str, b: str) -> int:
    """Length of the common prefix: block by block (C-speed comparisons), then within the block."""
    limit = min(len(a), len(b))
    i = 0
    while i < limit and a[i : i + _BLOCK] == b[i : i + _BLOCK]:
        i += _BLOCK
    end = min(i + _BLOCK, limit)
    while i < end and a[i] == b[i]:
        i += 1
    return min(i, limit)


def _common_suffix(a: str, b: str, floor: int) -> int:
    """Length of the common suffix, not reaching into the first `floor` characters of either."""
    limit = min(len(a), len(b)) - floor
    n = 0
    while (
        n < limit
        and a[len(a) - n - _BLOCK : len(a) - n] == b[len(b) - n - _BLOCK : len(b) - n]
        and n + _BLOCK <= limit
    ):
        n += _BLOCK
    while n < limit and a[len(a) - n - 1] == b[len(b) - n - 1]:
        n += 1
    return n


def _word_start(text: str, index: int) -> int:
    while index > 0 and not text[index - 1].isspace():
        index -= 1
    return index


def edit_size(old: str | None, new: str | None) -> tuple[int, int]:
    """(chars added, chars removed) between two texts, counted on whole words, so users can filter
    trivial edits.

    The common start and end are cut off first (cheap on texts of any size), then the changed middle,
    widened to whole words, is compared word by word: a one-word edit of a 1 MB comment costs
    microseconds, not the minutes a character-level SequenceMatcher takes.
    """
    old, new = old or "", new or ""
    if old == new:
        return 0, 0
    start = _word_start(old, _common_prefix(old, new))
    end = _common_suffix(old, new, start)
    old_mid, new_mid = old[start : len(old) - end], new[start : len(new) - end]
    old_tokens, new_tokens = _TOKENS.findall(old_mid), _TOKENS.findall(new_mid)
    if len(old_tokens) + len(new_tokens) > MAX_DIFF_TOKENS:
        return len(new_mid), len(old_mid)
    added = removed = 0
    matcher = difflib.SequenceMatcher(None, old_tokens, new_tokens, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag in ("replace", "delete"):
            removed += sum(map(len, old_tokens[i1:i2]))
        if tag in ("replace", "insert"):
            added += sum(map(len, new_tokens[j1:j2]))
    return added, removed


_size = edit_size

#: an edit of a text longer than this records an excerpt around the change in `changes` (the whole
#: old text is in the versions table, the whole new one in the current row): a one-word edit of a
#: 1 MB comment must not write 2 MB more
EVENT_VALUE_MAX = 16_384
EXCERPT_CONTEXT = 200


def excerpts(old: str, new: str) -> tuple[str, str]:
    """The changed part of two long texts with some context, "…" marking what was left out."""
    start = _word_start(old, _common_prefix(old, new))
    end = _common_suffix(old, new, start)
    begin = _word_start(old, max(0, start - EXCERPT_CONTEXT))

    def cut(text: str) -> str:
        stop = min(len(text), len(text) - end + EXCERPT_CONTEXT)
        return ("…" if begin else "") + text[begin:stop] + ("…" if stop < len(text) else "")

    return cut(old), cut(new)


def _event(
    run_id,
    at,
    entity_type,
    entity_id,
    article_id,
    kind,
    field_name=None,
    old=None,
    new=None,
    sized=False,
    reason=None,
) -> dict[str, Any]:
    added, removed = _size(old, new) if sized else (None, None)
    if sized and max(len(old or ""), len(new or "")) > EVENT_VALUE_MAX:
        old, new = excerpts(old or "", new or "")
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
        "reason": reason,
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


#: list fields stored as JSON; an empty list is no information, like an absent one
LIST_FIELDS = ("tags", "image_credits")


def _article_content(item: dict[str, Any]) -> dict[str, Any]:
    content = {name: item.get(name) for name in ARTICLE_TRACKED}
    for name in LIST_FIELDS:
        value = content[name]
        if isinstance(value, str):  # already JSON (a stored row, a replayed item)
            value = json.loads(value) if value else []
        # absent and empty are the same: None, so "not shown" never reads as "all removed"
        content[name] = json.dumps(value, ensure_ascii=False) if value else None
    return content


def _hash_content(content: dict[str, Any]) -> str:
    # an empty list hashes like an absent one (and like the "[]" older versions stored)
    return content_hash(
        *(
            content[name] if content[name] != "[]" or name not in LIST_FIELDS else None
            for name in ARTICLE_TRACKED
        )
    )


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
        samples = (
            [_sample("article", row["article_id"], row["article_id"], run_id, at, row["votes"], None)]
            if row["votes"] is not None
            else []
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
            vote_samples=samples,
        )
    outcome = Outcome(row)
    for name in ARTICLE_TRACKED:
        new, before = row[name], old.get(name)
        if name in LIST_FIELDS and before == "[]":
            before = None  # what older versions stored for "no tags"
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
    elif old.get("votes") is None:
        outcome.vote_samples.append(
            _sample("article", row["article_id"], row["article_id"], run_id, at, row["votes"], None)
        )
    elif row["votes"] != old.get("votes"):
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


def list_item_key(item: dict[str, Any]) -> str:
    """A list item's identity: its own id where the page gives one (so an item inserted above it only
    moves it), else its position."""
    return str(item["item_id"]) if item.get("item_id") else f"#{item['position']}"


def list_item_entity_id(item: dict[str, Any]) -> str:
    """The id of a list item in `changes` and `vote_samples`: article id, "#", the item's own id (else
    its position)."""
    return f"{item['article_id']}#{list_item_key(item).lstrip('#')}"


def list_item_outcome(
    old: dict | None, item: dict[str, Any], run_id: int, at: str, article_is_new: bool
) -> Outcome:
    key = list_item_key(item)
    entity_id = list_item_entity_id(item)
    row = {"item_key": key}
    row |= {
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
        samples = (
            [_sample("list_item", entity_id, item["article_id"], run_id, at, row["points"], None)]
            if row["points"] is not None
            else []
        )
        return Outcome(row, changes, vote_samples=samples)
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
    elif old.get("points") is None:
        outcome.vote_samples.append(
            _sample("list_item", entity_id, item["article_id"], run_id, at, row["points"], None)
        )
    elif row["points"] != old["points"]:
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
            "source_id",
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
    # seen again: no longer a deletion candidate
    row.update(last_seen_at=at, last_seen_run_id=run_id, status="live", missing_since=None, missing_loads=0)
    row["deleted_reason"] = None
    placeholder = removal_reason(item.get("text"))
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
        if placeholder:
            # first seen already removed: recorded as such, its placeholder is all we know
            row.update(status="deleted", deleted_reason=placeholder)
        changes = (
            []
            if article_is_new or placeholder
            else [
                _event(run_id, at, "comment", comment_id, article_id, "added", "text", None, item.get("text"))
            ]
        )
        samples = (
            [_sample("comment", comment_id, article_id, run_id, at, row["upvotes"], row["downvotes"])]
            if (row["upvotes"], row["downvotes"]) != (None, None) and not placeholder
            else []
        )
        return Outcome(row, changes, vote_samples=samples)

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
    if placeholder:
        # The site shows "[deleted]" / "removed by a moderator" in its place: a deletion with the
        # site's reason; the text we knew stays (the placeholder is not an edit).
        row.update(
            text=old.get("text"),
            text_truncated=old.get("text_truncated") or 0,
            content_hash=old.get("content_hash"),
            version=old["version"],
            posted_at=old.get("posted_at"),
            posted_at_precision=old.get("posted_at_precision"),
            status="deleted",
            deleted_reason=placeholder,
            upvotes=old.get("upvotes"),
            downvotes=old.get("downvotes"),
        )
        if old.get("status") != "deleted":
            outcome.changes.append(
                _event(
                    run_id,
                    at,
                    "comment",
                    comment_id,
                    article_id,
                    "deleted",
                    "text",
                    old.get("text"),
                    None,
                    reason=f"{placeholder} (the site's placeholder)",
                )
            )
            row["last_changed_at"] = at
        else:
            row["deleted_reason"] = old.get("deleted_reason") or placeholder
            row["last_changed_at"] = old["last_changed_at"]
        return outcome
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
    if old_votes == (None, None) and new_votes != old_votes:
        # votes shown for the first time: the series starts here, nothing "changed"
        outcome.vote_samples.append(
            _sample("comment", comment_id, article_id, run_id, at, row["upvotes"], row["downvotes"])
        )
    elif new_votes != old_votes:
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


# -- deletions -----------------------------------------------------------------------------------

_PLACEHOLDERS = [
    (re.compile(p, re.IGNORECASE), reason)
    for p, reason in (
        (
            r"^\[?\s*(comment\s+)?removed\s+by\s+(a\s+|the\s+)?(moderator|moderators|admin|administrator)\s*\]?\.?$",
            "removed by a moderator",
        ),
        (
            r"^(this\s+)?comment\s+(has\s+been\s+|was\s+)?removed\s+by\s+(a\s+|the\s+)?(moderator|moderators|admin|administrator)s?\.?$",
            "removed by a moderator",
        ),
        (
            r"^(this\s+)?comment\s+(has\s+been\s+|was\s+)?deleted\s+by\s+(its|the)\s+(author|user|commenter)\.?$",
            "deleted by its author",
        ),
        (r"^\[?\s*(this\s+)?(comment\s+)?(has\s+been\s+|was\s+)?(deleted|removed)\s*\]?\.?$", "deleted"),
    )
]


def removal_reason(text: str | None) -> str | None:
    """The reason a site's placeholder gives ("removed by a moderator", "deleted"), or None when the
    text is a real comment. Only a whole text that is nothing but the placeholder counts."""
    if not text or len(text) > 80:
        return None
    text = " ".join(text.split())
    for pattern, reason in _PLACEHOLDERS:
        if pattern.match(text):
            return reason
    return None


@dataclass
class Judgement:
    """What one comment absent from a complete load becomes."""

    comment: dict[str, Any]
    delete: bool
    reason: str | None = None


GONE_BY_FETCH = "the site's single-comment answer says it is gone"
GONE_TWICE = "absent from two consecutive complete loads"


def judge_missing(
    missing: list[dict],
    confirmed_gone: dict[str, str | None],
    direct_check: bool,
    deleted_before: set[str],
) -> list[Judgement]:
    """Decide the live comments absent from a complete load (`missing`, rows with `missing_loads`).

    Deleted only when confirmed: by the site's direct fetch (`confirmed_gone`, with the site's reason
    when it gave one), or, where the site has no direct fetch, when the previous complete load missed
    it too. Anything else stays live as a candidate. A comment whose parent is deleted (before, or
    now) records that as its reason: its replies vanish with a removed comment.
    """
    deleting = {c["comment_id"] for c in missing if c["comment_id"] in confirmed_gone}
    if not direct_check:
        deleting |= {c["comment_id"] for c in missing if (c.get("missing_loads") or 0) >= 1}
    judgements = []
    for comment in missing:
        cid = comment["comment_id"]
        if cid not in deleting:
            judgements.append(Judgement(comment, False))
            continue
        evidence = GONE_BY_FETCH if cid in confirmed_gone else GONE_TWICE
        reason = confirmed_gone.get(cid)
        if not reason and comment.get("parent_id") in deleting | deleted_before:
            reason = "parent deleted"
        judgements.append(Judgement(comment, True, f"{reason}: {evidence}" if reason else evidence))
    return judgements


def thread_added_event(article_id: str, loaded: int, run_id: int, at: str) -> dict[str, Any]:
    """The one event of a thread first loaded completely after an earlier, unfinished load."""
    return _event(
        run_id, at, "article", article_id, article_id, "added", "comments", None, f"{loaded} comments"
    )


def deletion_events(judgements: list, run_id: int, at: str) -> list[dict[str, Any]]:
    """`deleted` events for comments judged deleted (`judge_missing`), or for plain comment rows.

    The caller must only pass comments of a complete load (design notes §3): a partial load deletes
    nothing.
    """
    events = []
    for j in judgements:
        comment, reason = (j.comment, j.reason) if isinstance(j, Judgement) else (j, None)
        events.append(
            _event(
                run_id,
                at,
                "comment",
                comment["comment_id"],
                comment["article_id"],
                "deleted",
                "text",
                comment.get("text"),
                None,
                reason=reason,
            )
        )
    return events
