"""What one run's digest says: its change events, as a readable text and as JSON for webhooks."""

from __future__ import annotations

import re
from collections import Counter

import sqlite_utils

from crawler.publish.ids import change_tag

#: event fields in the JSON body (public: webhook receivers read them)
EVENT_FIELDS = (
    "change_id",
    "run_id",
    "at",
    "kind",
    "entity_type",
    "entity_id",
    "article_id",
    "article_url",
    "article_title",
    "site",
    "field",
    "old_value",
    "new_value",
    "evidence_id",
)


def run_events(db: sqlite_utils.Database, run_id: int) -> list[dict]:
    """Every change event of the run, in the order recorded, with its article's URL, title, site."""
    evidence = "c.evidence_id" if "evidence_id" in db["changes"].columns_dict else "NULL AS evidence_id"
    return list(
        db.query(
            f"SELECT c.change_id, c.run_id, c.at, c.kind, c.entity_type, c.entity_id, c.article_id, "
            f"c.field, c.old_value, c.new_value, {evidence}, a.url AS article_url, "
            "a.canonical_url AS article_canonical_url, a.title AS article_title, a.site "
            "FROM changes c LEFT JOIN articles a ON a.article_id = c.article_id "
            "WHERE c.run_id = ? ORDER BY c.change_id",
            [run_id],
        )
    )


def json_body(run: dict, events: list[dict]) -> dict:
    return {
        "run": {k: run.get(k) for k in ("run_id", "spider", "started_at", "finished_at", "status")},
        "counts": dict(Counter(e["kind"] for e in events)),
        "events": [
            {"id": change_tag(e["run_id"], e["change_id"])} | {k: e.get(k) for k in EVENT_FIELDS}
            for e in events
        ],
    }


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _short(value, width: int) -> str:
    """One line, control characters (terminal escapes) shown as \\xNN, cut at `width`."""
    text = " ".join(str(value or "").split())
    text = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
    return text if len(text) <= width else text[: width - 1] + "…"


def _quoted(value, width: int) -> str:
    return f"“{_short(value, width)}”"


def _line(event: dict) -> str:
    what = f"{event['entity_type'].replace('_', ' ')} {event['entity_id'].split(':', 1)[-1]}"
    kind = event["kind"]
    if kind == "edited":
        return (
            f"{what} edited ({event['field']}): {_quoted(event['old_value'], 60)} -> "
            f"{_quoted(event['new_value'], 60)}"
        )
    if kind == "votes":
        return f"{what} votes {_short(event['old_value'], 20)} -> {_short(event['new_value'], 20)}"
    if kind == "deleted":
        return f"{what} deleted; last text: {_quoted(event['old_value'], 100)}"
    if kind == "added" and event["entity_type"] == "article":
        return f"article added: {_quoted(event['new_value'], 100)}"
    return f"{what} {kind}" + (f": {_quoted(event['new_value'], 100)}" if event["new_value"] else "")


def text_body(run: dict, events: list[dict], max_listed: int = 50) -> tuple[str, str]:
    """(title, plain-text body) of the digest: counts, then the events grouped by article."""
    counts = Counter(e["kind"] for e in events)
    summary = ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
    title = f"Panda Watch: {len(events)} change(s) in run {run['run_id']} ({summary})"
    # the title goes separately (Apprise shows it as the subject / heading)
    lines = []
    listed = 0
    by_article: dict[str, list[dict]] = {}
    for event in events:
        by_article.setdefault(event.get("article_id") or "", []).append(event)
    for group in by_article.values():
        if listed >= max_listed:
            break
        head = group[0]
        lines.append(f"{_short(head.get('article_title') or head.get('article_id'), 100)}")
        if head.get("article_url"):
            lines.append(f"  {_short(head['article_url'], 300)}")
        for event in group:
            if listed >= max_listed:
                break
            lines.append(f"  - {_line(event)}")
            listed += 1
        lines.append("")
    if listed < len(events):
        lines.append(f"… and {len(events) - listed} more (see `crawler changes`)")
    return title, "\n".join(lines).rstrip() + "\n"
