"""`crawler ingest FILE`: replay items a run could not store, through the same change rules.

A run whose database refused its writes (disk full, read-only, locked for too long) spills the items
it could not store to a JSON-lines file beside the database (else in the temp directory) and ends
`failed`. Once the cause is fixed, this command writes them *as that run* (same run id, the times they
were crawled at) and finishes the run as it would have finished (the file's last line holds the run's
finish reason, counts and stats), so the record is what a run that never failed would have written. A
file from another database becomes a run of its own (`spider` = `ingest`). Replaying a file twice
adds nothing the second time (an identical re-crawl records nothing).

Item sources are pluggable: `ingest_items` takes any iterable of items, so another source (a Redis
queue, `--redis URL`) is one more option feeding the same function.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import click

from crawler.dates import iso, now_utc
from crawler.store import Store, resolve_db_path
from crawler.store.db import StoreError
from crawler.store.writer import item_from_json


class IngestError(click.ClickException):
    """A file that is not a spill file, or a database that still refuses the items."""


def read_spill(path: Path) -> tuple[dict, list[Any], dict]:
    """The header (run id, database, error), the items and the trailer (finish reason, counts, stats)
    of a spill file; header and trailer are {} when missing (a file cut short by a kill).

    :raises IngestError: a line that is not a spilled item (nothing is written then)
    """
    header: dict = {}
    trailer: dict = {}
    items: list[Any] = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                if isinstance(record, dict) and "spill" in record:
                    header = header or record
                elif isinstance(record, dict) and "spill_end" in record:
                    trailer = record
                else:
                    items.append(item_from_json(line))
            except (ValueError, TypeError) as exc:
                raise IngestError(f"{path} line {number}: {exc}") from None
    return header, items, trailer


def ingest_items(
    db_path: Path,
    items: Iterable[Any],
    source: str,
    from_run: int | None = None,
    trailer: dict | None = None,
    batch_size: int = 500,
) -> Store:
    """Write `items` through the change rules; returns the finished Store (counts, status, spill path).

    :param from_run: the run that spilled them: when the database has it, the items are written as
        that run and it is finished with `trailer` (its finish reason, counts, notes, stats); else they
        become a new `ingest` run
    :raises StoreError: the database cannot be opened or written
    """
    trailer = trailer or {}
    store = Store.open(db_path, batch_size=batch_size)
    try:
        try:
            if from_run is None:
                raise KeyError(source)
            store.resume_run(
                from_run, trailer.get("counts"), trailer.get("notes", ()), trailer.get("warnings", ())
            )
            store.notes.append(f"items replayed from {source} at {iso(now_utc())} (crawler ingest)")
            reason, stats = trailer.get("finish_reason") or "finished", trailer.get("stats") or {}
            if reason == "store_failed":
                reason = "finished"
        except KeyError:
            store.start_run("ingest", {"source": source, "from_run": from_run})
            reason, stats = "finished", {}
        base = dict(store.counts)
        for item in items:
            store.add(item)
        store.finish_run(reason, stats)
        #: what this replay itself added
        store.replayed = {k: store.counts[k] - base.get(k, 0) for k in store.counts}
    finally:
        store.close()
    return store


@click.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="SQLite database (default: $PANDAWATCH_DB, else output/crawl.db).",
)
def ingest(file, db_path):
    """Replay a spill file (items a failed run could not store) into the database.

    Example: crawler ingest output/crawl.db.spill-run12-4242.jsonl --db output/crawl.db
    """
    header, items, trailer = read_spill(file)
    path = resolve_db_path(str(db_path) if db_path else None)
    try:
        # the file's run is this database's only if it was spilled from this database
        same = header.get("database") and Path(header["database"]).resolve() == path.resolve()
        store = ingest_items(path, items, str(file), header.get("run_id") if same else None, trailer)
    except StoreError as exc:
        raise IngestError(str(exc)) from None
    if store.error is not None:
        click.echo(f"Error: {store.error}; the items are spilled again to {store.spill_path}", err=True)
        sys.exit(1)
    counts = store.replayed
    click.echo(
        f"ingested {len(items)} items from {file} into {path} as run {store.run_id} ({store.status}): "
        f"{counts['articles']} articles, {counts['comments']} comments, {counts['changes']} changes"
    )
