"""`crawler evidence COMMENT_ID`: where and when a comment was seen, with WARC record ids and hashes.

`--export DIR` writes those records into one WARC file that warcio and replay tools read; `--prune`
applies the retention settings (EVIDENCE_MAX_AGE, EVIDENCE_MAX_BYTES). Scraped values (URLs) are
printed with control characters escaped, so nothing a page sent can drive the terminal.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import click

from crawler.cli.database import current_db_path, db_option, open_database
from crawler.cli.project_settings import project_settings
from crawler.evidence import records
from crawler.evidence.retention import prune
from crawler.monitor.schedule import parse_duration

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def safe(value) -> str:
    """A value for the terminal: control characters (escape sequences) shown as \\xNN."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", "" if value is None else str(value))


def _file_name(comment_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", comment_id).strip("_") + ".warc.gz"


@click.command("evidence")
@click.argument("comment_id", required=False)
@db_option
@click.option(
    "--export",
    "export_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write the comment's records to DIR/<comment>.warc.gz.",
)
@click.option("--prune", "do_prune", is_flag=True, help="Apply the retention settings to all WARC files.")
@click.option("--json", "as_json", is_flag=True, help="JSON instead of text.")
@click.option("-s", "--set", "settings", multiple=True, metavar="NAME=VALUE", help="A setting.")
def evidence(comment_id, db_path, export_dir, do_prune, as_json, settings):
    """Where and when a comment was seen: runs, WARC records, payload SHA-256 (checked against the file).

    \b
    Examples:
      crawler evidence boredpanda:123456
      crawler evidence 123456 --export proof/      # proof/boredpanda_123456.warc.gz
      crawler evidence --prune                     # apply EVIDENCE_MAX_AGE / EVIDENCE_MAX_BYTES
    """
    db = open_database(db_path)
    path = current_db_path()
    try:
        if do_prune:
            config = project_settings(dict(s.split("=", 1) for s in settings))
            age = config.get("EVIDENCE_MAX_AGE")
            result = prune(
                db, path, parse_duration(age) if age else None, config.getint("EVIDENCE_MAX_BYTES", 0)
            )
            click.echo(result.line())
            if comment_id is None:
                return
        if comment_id is None:
            raise click.UsageError("give a COMMENT_ID (or --prune)")
        ids = records.find_comment_ids(db, comment_id)
        if not ids:
            raise click.ClickException(f"no comment {comment_id} in this database")
        if len(ids) > 1:
            raise click.ClickException(f"{comment_id} matches several comments: {', '.join(ids)}")
        [found] = ids
        comment = next(db.query("SELECT * FROM comments WHERE comment_id = ?", [found]))
        article = next(db.query("SELECT url FROM articles WHERE article_id = ?", [comment["article_id"]]), {})
        seen = records.sightings(db, "comment", found)
        for row in seen:
            row["hash_ok"] = records.verify(path, row)
        events = records.change_evidence(db, "comment", found)
        for event in events:
            event["record_kept"] = event["warc_path"] is not None
    finally:
        db.close()
    if export_dir is not None:
        wanted = [r for r in seen if r["hash_ok"]]
        if not wanted:
            raise click.ClickException(f"no stored record of {found} to export")
        target = export_dir / _file_name(found)
        count = records.export(path, wanted, target, f"Panda Watch evidence of comment {found}")
        click.echo(f"wrote {count} record(s) to {target}", err=as_json)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "comment_id": found,
                    "status": comment["status"],
                    "article_url": article.get("url"),
                    "seen": seen,
                    "changes": events,
                },
                ensure_ascii=False,
                default=str,
            )
        )
        return
    click.echo(f"comment {safe(found)} ({comment['status']}) of {safe(article.get('url'))}")
    click.echo(f"seen in {len(seen)} record(s):")
    for row in seen:
        check = "sha256 ok" if row["hash_ok"] else "FILE MISSING OR CHANGED"
        via = f"  (answer the browser page {row['via']} received)" if row["via"] else ""
        click.echo(
            f"  run {row['seen_in_run']}  {row['fetched_at']}  {row['source']}  HTTP {row['status']}{via}  "
            f"{safe(row['url'])}\n"
            f"    record {row['record_id']}  {row['warc_path']} @ {row['offset']}\n"
            f"    sha256 {row['sha256']}  ({check})"
        )
    click.echo(f"change events: {len(events)}")
    for event in events:
        if event["evidence_id"] is None:
            where = "no record (evidence was off)"
        elif not event["record_kept"]:
            where = f"record {event['evidence_id']} (pruned)"
        else:
            where = f"record {event['evidence_id']} of run {event['record_run_id']} ({event['sha256']})"
        click.echo(f"  run {event['run_id']}  {event['at']}  {event['kind']}: {where}")
