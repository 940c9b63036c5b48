"""Atom feeds of change events: one entry per event, ids that never change (tag: URIs, see `ids`).

Built with ElementTree, which escapes text and attributes; characters XML cannot carry are replaced
first, so any scraped comment makes a well-formed feed. Links are only ever http(s) article URLs.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import sqlite_utils

from crawler.dates import iso, now_utc
from crawler.publish.ids import change_tag, feed_tag
from crawler.publish.safe import web_link, xml_text
from crawler.store import queries

ATOM = "http://www.w3.org/2005/Atom"
#: entries per feed at most (the newest)
DEFAULT_LIMIT = 500


def feed_events(
    db: sqlite_utils.Database,
    since: str | None = None,
    article: str | None = None,
    kinds: tuple[str, ...] = (),
    sites: tuple[str, ...] = (),
    limit: int = DEFAULT_LIMIT,
) -> list[dict]:
    """Change events (newest first) with their article's URL, title and site."""
    where, params = ["1"], []
    if since is not None:
        condition, values = queries.parse_since(db, since)
        where.append(condition.replace("run_id", "c.run_id").replace("at >=", "c.at >="))
        params += values
    if article:
        where.append("c.article_id = ?")
        params.append(queries.article_id_for(db, article))
    if kinds:
        where.append(f"c.kind IN ({','.join('?' * len(kinds))})")
        params += list(kinds)
    if sites:
        where.append(f"a.site IN ({','.join('?' * len(sites))})")
        params += list(sites)
    sql = (
        "SELECT c.*, a.url AS article_url, a.title AS article_title, a.site, cm.author AS comment_author "
        "FROM changes c LEFT JOIN articles a ON a.article_id = c.article_id "
        "LEFT JOIN comments cm ON c.entity_type = 'comment' AND cm.comment_id = c.entity_id "
        f"WHERE {' AND '.join(where)} ORDER BY c.change_id DESC LIMIT ?"
    )
    return list(db.query(sql, [*params, limit]))


def _title(event: dict) -> str:
    entity = event["entity_id"].split(":", 1)[-1]
    article = event.get("article_title") or event.get("article_id") or ""
    if event["entity_type"] == "article":
        what = f"article {event['kind']}" + (f" ({event['field']})" if event.get("field") else "")
    else:
        what = f"{event['entity_type'].replace('_', ' ')} {entity} {event['kind']}"
    return f"{what}: {article}"


def _content(event: dict) -> str:
    lines = [f"{event['kind']} {event['entity_type']} {event['entity_id']} in run {event['run_id']}"]
    if event.get("comment_author"):
        lines.append(f"author: {event['comment_author']}")
    if event.get("field"):
        lines.append(f"field: {event['field']}")
    if event.get("old_value") is not None:
        lines.append(f"before: {event['old_value']}")
    if event.get("new_value") is not None:
        lines.append(f"after: {event['new_value']}")
    if event.get("evidence_id"):
        lines.append(f"evidence: WARC record {event['evidence_id']} (crawler evidence {event['entity_id']})")
    return "\n".join(lines)


def _sub(parent: ET.Element, tag: str, text=None, **attrs) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", {k: xml_text(v) for k, v in attrs.items()})
    if text is not None:
        element.text = xml_text(text)
    return element


def build_feed(events: list[dict], scope: str, title: str) -> bytes:
    """The Atom document (UTF-8 bytes) of `events`."""
    ET.register_namespace("", ATOM)
    root = ET.Element(f"{{{ATOM}}}feed")
    _sub(root, "id", feed_tag(scope))
    _sub(root, "title", title)
    _sub(root, "updated", max((e["at"] for e in events), default=None) or iso(now_utc()))
    _sub(root, "generator", "Panda Watch")
    author = _sub(root, "author")
    _sub(author, "name", "Panda Watch")
    for event in events:
        entry = _sub(root, "entry")
        _sub(entry, "id", change_tag(event["run_id"], event["change_id"]))
        _sub(entry, "title", _title(event))
        _sub(entry, "updated", event["at"])
        _sub(entry, "published", event["at"])
        link = web_link(event.get("article_url"))
        if link:
            _sub(entry, "link", rel="alternate", href=link)
        _sub(entry, "category", term=event["kind"])
        _sub(entry, "content", _content(event), type="text")
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)
