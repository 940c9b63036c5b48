"""What one run's digest says: its change events, as a readable text and as JSON for webhooks."""

from __future__ import annotations

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


def _short(value, width: int) -> str:
    text = " ".join(str(value or "").split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _line(event: dict) -> str:
    what = f"{event['entity_type']} {event['entity_id'].split(':', 1)[-1]}"
    kind = event["kind"]
    if kind == "edited":
        return (
            f"{what} edited ({event['field']}): {_short(event['old_value'], 60)!r} -> "
            f"{_short(event['new_value'], 60)!r}"
        )
    if kind == "votes":
        return f"{what} votes {event['old_value']} -> {event['new_value']}"
    if kind == "deleted":
        return f"{what} deleted; last text: {_short(event['old_value'], 100)!r}"
    if kind == "added" and event["entity_type"] == "article":
        return f"article added: {_short(event['new_value'], 100)!r}"
    return f"{what} {kind}" + (f": {_short(event['new_value'], 100)!r}" if event["new_value"] else "")


def text_body(run: dict, events: list[dict], max_listed: int = 50) -> tuple[str, str]:
    """(title, plain-text body) of the digest: counts, then the events grouped by article."""
    counts = Counter(e["kind"] for e in events)
    summary = ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
    title = f"Panda Watch: {len(events)} change(s) in run {run['run_id']} ({summary})"
    lines = [title, ""]
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
            lines.append(f"  {head['article_url']}")
        for event in group:
            if listed >= max_listed:
                break
            lines.append(f"  - {_line(event)}")
            listed += 1
        lines.append("")
    if listed < len(events):
        lines.append(f"… and {len(events) - listed} more (see `crawler changes`)")
    return title, "\n".join(lines).rstrip() + "\n"
