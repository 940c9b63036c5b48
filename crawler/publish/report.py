"""The HTML report: one self-contained file, per article the changes of a period, with the evidence.

Per article: thread completeness, deleted comments with their last known text and when they were last
seen, edits as word-level diffs, added and restored comments, and the vote counts of every comment
that moved, as a small inline SVG chart each. Every event links to the WARC record it came from
(listed at the end with file, offset and payload SHA-256).

Nothing from a scraped page can run: every scraped string goes through `html.escape`, links are only
http(s) URLs, the page has no script at all, and a Content-Security-Policy meta forbids scripts,
connections, frames and any image that is not a data: URL.
"""

from __future__ import annotations

import difflib
import re
from collections import defaultdict
from datetime import datetime
from html import escape

import sqlite_utils

from crawler.dates import iso, now_utc
from crawler.publish.safe import web_link
from crawler.store import queries

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"
CHART_W, CHART_H, PAD = 240, 60, 4

STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:60em;color:#222;padding:0 1em}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ccc}h3{font-size:1em}
.meta{color:#666}.kind{font-weight:bold;text-transform:uppercase;font-size:.8em;padding:0 .3em}
.deleted .kind{color:#b00}.edited .kind{color:#a60}.added .kind{color:#070}.restored .kind{color:#06a}
blockquote{margin:.3em 0 .3em 1em;padding:.2em .6em;border-left:3px solid #ccc;white-space:pre-wrap}
del{background:#fdd;text-decoration:line-through}ins{background:#dfd;text-decoration:none}
table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:.2em .4em;text-align:left;
vertical-align:top}code{font-size:.85em;word-break:break-all}.chart{margin:.4em 0}
svg .up{stroke:#070;fill:none;stroke-width:1.5}svg .down{stroke:#b00;fill:none;stroke-width:1.5}
"""

_TOKENS = re.compile(r"\s+|[^\s]+")


def word_diff(old: str | None, new: str | None) -> str:
    """HTML of a word-level diff: removed words in <del>, added words in <ins>, all escaped."""
    a, b = _TOKENS.findall(old or ""), _TOKENS.findall(new or "")
    out = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            out.append(escape("".join(a[i1:i2])))
            continue
        if i2 > i1:
            out.append(f"<del>{escape(''.join(a[i1:i2]))}</del>")
        if j2 > j1:
            out.append(f"<ins>{escape(''.join(b[j1:j2]))}</ins>")
    return "".join(out)


def _votes(text) -> tuple[int | None, int | None]:
    parts = [p for p in str(text or "").split("/")]
    values = []
    for p in parts[:2]:
        try:
            values.append(int(p))
        except ValueError:
            values.append(None)
    while len(values) < 2:
        values.append(None)
    return values[0], values[1]


def _n(value: int | None) -> str:
    return "?" if value is None else str(value)


def vote_chart(comment_id: str, points: list[tuple[str, int | None, int | None]]) -> str:
    """An inline SVG line chart of (time, up, down) points (no script, no external reference)."""
    times = [datetime.fromisoformat(t).timestamp() for t, _, _ in points]
    values = [v for _, up, down in points for v in (up, down) if v is not None] or [0]
    t0, t1 = min(times), max(times)
    low, high = min(values), max(values)
    span_t, span_v = (t1 - t0) or 1.0, (high - low) or 1

    def xy(t: float, v: int) -> str:
        x = PAD + (t - t0) / span_t * (CHART_W - 2 * PAD)
        y = CHART_H - PAD - (v - low) / span_v * (CHART_H - 2 * PAD)
        return f"{x:.1f},{y:.1f}"

    lines = []
    for index, css in ((1, "up"), (2, "down")):
        coords = [xy(times[i], p[index]) for i, p in enumerate(points) if p[index] is not None]
        if coords:
            lines.append(f'<polyline class="{css}" points="{" ".join(coords)}"/>')
    dots = []
    for i, (at, up, down) in enumerate(points):
        x, y = xy(times[i], up if up is not None else low).split(",")
        dots.append(
            f'<circle cx="{x}" cy="{y}" r="2" fill="#070"><title>{escape(at)}: {_n(up)} up / {_n(down)} down'
            "</title></circle>"
        )
    label = f"votes of comment {comment_id}: " + ", ".join(f"{_n(up)}/{_n(down)}" for _, up, down in points)
    return (
        f'<svg class="votes-chart" data-comment="{escape(comment_id)}" data-samples="{len(points)}" '
        f'width="{CHART_W}" height="{CHART_H}" viewBox="0 0 {CHART_W} {CHART_H}" role="img" '
        f'aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg">'
        f'<rect width="{CHART_W}" height="{CHART_H}" fill="#fafafa" stroke="#ddd"/>'
        f"{''.join(lines)}{''.join(dots)}</svg>"
    )


def _events(db: sqlite_utils.Database, since: str | None, article: str | None) -> list[dict]:
    where, params = ["1"], []
    if since:
        condition, values = queries.parse_since(db, since)
        where.append(condition.replace("run_id", "c.run_id").replace("at >=", "c.at >="))
        params += values
    if article:
        where.append("c.article_id = ?")
        params.append(queries.article_id_for(db, article))
    evidence = "c.evidence_id" if "evidence_id" in db["changes"].columns_dict else "NULL AS evidence_id"
    return list(
        db.query(
            f"SELECT c.change_id, c.run_id, c.at, c.entity_type, c.entity_id, c.article_id, c.kind, "
            f"c.field, c.old_value, c.new_value, {evidence}, cm.author, cm.text AS current_text, "
            "cm.last_seen_at, cm.status AS comment_status FROM changes c "
            "LEFT JOIN comments cm ON c.entity_type = 'comment' AND cm.comment_id = c.entity_id "
            f"WHERE {' AND '.join(where)} ORDER BY c.change_id",
            params,
        )
    )


def _evidence_rows(db: sqlite_utils.Database, ids: set[str]) -> dict[str, dict]:
    if not ids or "evidence" not in db.table_names():
        return {}
    out = {}
    ordered = sorted(ids)
    for start in range(0, len(ordered), 500):
        chunk = ordered[start : start + 500]
        marks = ",".join("?" * len(chunk))
        for row in db.query(f"SELECT * FROM evidence WHERE record_id IN ({marks})", chunk):
            out[row["record_id"]] = row
    return out


def _chart_points(
    db: sqlite_utils.Database, comment_id: str, first_votes: dict | None, first_seen: str | None
):
    samples = list(
        db.query(
            "SELECT at, upvotes, downvotes FROM vote_samples WHERE entity_type = 'comment' AND entity_id = ? "
            "ORDER BY at, rowid",
            [comment_id],
        )
    )
    points = [(s["at"], s["upvotes"], s["downvotes"]) for s in samples]
    if first_votes is not None and first_seen:
        # The counts before the first change are where the first `votes` event started from.
        up, down = _votes(first_votes["old_value"])
        if not points or first_seen < points[0][0]:
            points.insert(0, (first_seen, up, down))
    return points


class Report:
    """Assemble the HTML; each method renders one part, all scraped values escaped where used."""

    def __init__(self, db: sqlite_utils.Database, since: str | None, article: str | None):
        self.db = db
        self.since = since
        self.article = article
        self.events = _events(db, since, article)
        self.evidence = _evidence_rows(db, {e["evidence_id"] for e in self.events if e["evidence_id"]})
        self.evidence_index = {rid: n for n, rid in enumerate(sorted(self.evidence), start=1)}

    def _ev(self, event: dict) -> str:
        rid = event.get("evidence_id")
        if not rid:
            return ' <span class="meta">(no evidence record)</span>'
        if rid not in self.evidence_index:
            return f' <span class="meta">(evidence {escape(rid)} pruned)</span>'
        return f' <a class="evidence" href="#ev-{self.evidence_index[rid]}">evidence</a>'

    def _article_ids(self) -> list[str]:
        ids = list(dict.fromkeys(e["article_id"] for e in self.events if e["article_id"]))
        if self.article and not ids:
            ids = [queries.article_id_for(self.db, self.article)]
        return ids

    def render(self) -> str:
        ids = self._article_ids()
        articles = (
            {
                row["article_id"]: row
                for row in self.db.query(
                    f"SELECT * FROM articles WHERE article_id IN ({','.join('?' * len(ids))})", ids
                )
            }
            if ids
            else {}
        )
        period = f"since {self.since}" if self.since else "all recorded history"
        counts: dict[str, int] = defaultdict(int)
        for e in self.events:
            counts[e["kind"]] += 1
        summary = ", ".join(f"{n} {k}" for k, n in sorted(counts.items())) or "no changes"
        parts = [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
            '<meta name="referrer" content="no-referrer">',
            "<title>Panda Watch report</title>",
            f"<style>{STYLE}</style></head><body>",
            "<h1>Panda Watch report</h1>",
            f'<p class="meta">Changes {escape(period)}, generated {escape(iso(now_utc()))}: '
            f"{len(ids)} article(s), {escape(summary)}.</p>",
        ]
        for article_id in ids:
            parts.append(self._article(article_id, articles.get(article_id, {})))
        parts.append(self._evidence_table())
        parts.append("</body></html>")
        return "\n".join(parts)

    def _article(self, article_id: str, article: dict) -> str:
        events = [e for e in self.events if e["article_id"] == article_id]
        title = article.get("title") or article_id
        link = web_link(article.get("url"))
        out = [f'<section class="article" data-article="{escape(article_id)}">']
        out.append(f"<h2>{escape(title)}</h2>")
        meta = [escape(article.get("site") or "")]
        if link:
            meta.append(f'<a href="{escape(link)}" rel="noopener noreferrer">{escape(link)}</a>')
        elif article.get("url"):
            meta.append(escape(article["url"]))
        out.append(f'<p class="meta">{" · ".join(m for m in meta if m)}</p>')
        out.append(self._completeness(article_id, article))
        by_kind: dict[str, list[dict]] = defaultdict(list)
        for e in events:
            by_kind[e["kind"]].append(e)
        article_edits = [e for e in by_kind["edited"] if e["entity_type"] == "article"]
        if article_edits:
            out.append("<h3>Article edits</h3>")
            for e in article_edits:
                out.append(
                    f'<div class="change edited"><span class="kind">edited</span> {escape(e["field"] or "")} '
                    f'<span class="meta">{escape(e["at"])}</span>{self._ev(e)}'
                    f'<blockquote class="diff">{word_diff(e["old_value"], e["new_value"])}</blockquote></div>'
                )
        deleted = [e for e in by_kind["deleted"] if e["entity_type"] == "comment"]
        if deleted:
            out.append(f"<h3>Deleted comments ({len(deleted)})</h3>")
            for e in deleted:
                text = e["old_value"] if e["old_value"] is not None else e["current_text"]
                out.append(
                    f'<div class="change deleted" data-comment="{escape(e["entity_id"])}">'
                    f'<span class="kind">deleted</span> {self._who(e)} '
                    f'<span class="meta">last seen {escape(e["last_seen_at"] or "?")}, deleted by run '
                    f"{e['run_id']} at {escape(e['at'])}</span>{self._ev(e)}"
                    f'<blockquote class="last-text">{escape(text or "")}</blockquote></div>'
                )
        edits = [e for e in by_kind["edited"] if e["entity_type"] != "article"]
        if edits:
            out.append(f"<h3>Edited ({len(edits)})</h3>")
            for e in edits:
                out.append(
                    f'<div class="change edited" data-comment="{escape(e["entity_id"])}">'
                    f'<span class="kind">edited</span> {self._who(e)} <span class="meta">{escape(e["at"])}'
                    f'</span>{self._ev(e)}<blockquote class="diff">'
                    f"{word_diff(e['old_value'], e['new_value'])}</blockquote></div>"
                )
        for kind in ("added", "restored"):
            rows = [e for e in by_kind[kind] if e["entity_type"] != "article"]
            if not rows:
                continue
            out.append(f"<h3>{kind.capitalize()} ({len(rows)})</h3>")
            for e in rows:
                text = e["new_value"] if e["new_value"] is not None else e["current_text"]
                out.append(
                    f'<div class="change {kind}" data-comment="{escape(e["entity_id"])}">'
                    f'<span class="kind">{kind}</span> {self._who(e)} <span class="meta">{escape(e["at"])}'
                    f"</span>{self._ev(e)}<blockquote>{escape(text or '')}</blockquote></div>"
                )
        if any(e["entity_type"] == "article" and e["kind"] == "added" for e in events):
            out.append(
                '<p class="change added"><span class="kind">added</span> first crawled in this period</p>'
            )
        out.append(self._charts(by_kind["votes"]))
        out.append("</section>")
        return "\n".join(out)

    @staticmethod
    def _who(event: dict) -> str:
        entity = event["entity_id"].split(":", 1)[-1]
        author = f" by {escape(event['author'])}" if event.get("author") else ""
        return f"{escape(event['entity_type'].replace('_', ' '))} <code>{escape(entity)}</code>{author}"

    def _completeness(self, article_id: str, article: dict) -> str:
        load = next(
            self.db.query(
                "SELECT * FROM thread_loads WHERE article_id = ? ORDER BY run_id DESC LIMIT 1", [article_id]
            ),
            None,
        )
        if load is None:
            return '<p class="completeness">Thread: never loaded.</p>'
        state = {1: "complete", 0: "incomplete"}.get(load["complete"], "unknown")
        total = load["reported_total"] if load["reported_total"] is not None else "?"
        reason = f" ({escape(load['reason'])})" if load["reason"] else ""
        return (
            f'<p class="completeness" data-complete="{load["complete"]}">Thread {state} in run '
            f"{load['run_id']}: {load['loaded']} of {escape(str(total))} comments loaded by "
            f"{escape(load['method'] or '?')}{reason}.</p>"
        )

    def _charts(self, vote_events: list[dict]) -> str:
        comments = list(dict.fromkeys(e["entity_id"] for e in vote_events if e["entity_type"] == "comment"))
        if not comments:
            return ""
        out = [f"<h3>Votes ({len(comments)} comment(s))</h3>"]
        for comment_id in comments:
            first_event = next(
                self.db.query(
                    "SELECT old_value, at FROM changes WHERE entity_type = 'comment' AND entity_id = ? "
                    "AND kind = 'votes' ORDER BY change_id LIMIT 1",
                    [comment_id],
                ),
                None,
            )
            row = next(
                self.db.query(
                    "SELECT author, first_seen_at FROM comments WHERE comment_id = ?", [comment_id]
                ),
                {},
            )
            points = _chart_points(self.db, comment_id, first_event, row.get("first_seen_at"))
            if not points:
                continue
            last = points[-1]
            author = f" by {escape(row['author'])}" if row.get("author") else ""
            out.append(
                f'<div class="chart">comment <code>{escape(comment_id.split(":", 1)[-1])}</code>{author}: '
                f"{_n(last[1])} up / {_n(last[2])} down"
                f"<br>{vote_chart(comment_id, points)}</div>"
            )
        return "\n".join(out)

    def _evidence_table(self) -> str:
        if not self.evidence:
            return '<h2>Evidence</h2><p class="meta">No WARC records are linked to these changes.</p>'
        rows = []
        for rid, n in sorted(self.evidence_index.items(), key=lambda kv: kv[1]):
            r = self.evidence[rid]
            rows.append(
                f'<tr id="ev-{n}"><td>{n}</td><td><code>{escape(rid)}</code></td><td>{r["run_id"]}</td>'
                f"<td>{escape(r['fetched_at'])}</td><td><code>{escape(r['url'])}</code></td>"
                f"<td><code>{escape(r['warc_path'])}</code> @ {r['offset']}</td>"
                f"<td><code>{escape(r['sha256'])}</code></td></tr>"
            )
        return (
            '<h2>Evidence</h2><p class="meta">WARC records the changes came from '
            "(<code>crawler evidence COMMENT_ID</code> checks a hash and exports a record).</p>"
            "<table><tr><th>#</th><th>record</th><th>run</th><th>fetched</th><th>URL</th><th>file</th>"
            "<th>payload SHA-256</th></tr>" + "".join(rows) + "</table>"
        )


def build_report(db: sqlite_utils.Database, since: str | None = "1d", article: str | None = None) -> str:
    """The report's HTML (raises queries.QueryError for a bad --since or an unknown article)."""
    return Report(db, since, article).render()
