"""`crawler ingest FILE` / `crawler ingest --redis URL`: write items through the same change rules.

FILE is a spill file; `--redis URL` makes this the one writer of a scaled-out crawl (the workers'
results stream, crawler/distributed/ingest.py), acknowledging each batch only after its commit.

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
import logging
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import click

from crawler.cli.database import checked_path, db_option
from crawler.dates import iso, now_utc
from crawler.store import Store
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
@click.argument("file", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--redis", "redis_url", envvar="PANDAWATCH_REDIS", help="Ingest the workers' results from this Redis."
)
@db_option
@click.option(
    "--idle-exit",
    type=float,
    default=0,
    show_default=True,
    help="With --redis: exit after this many idle seconds once every run is finished (0: never).",
)
@click.option(
    "--batch", type=int, default=50, show_default=True, help="With --redis: stream entries per transaction."
)
@click.option(
    "-s",
    "--set",
    "settings",
    multiple=True,
    metavar="NAME=VALUE",
    help="With --redis: a setting (MONITOR_*, REDIS_KEY_PREFIX).",
)
def ingest(file, redis_url, db_path, idle_exit, batch, settings):
    """Replay a spill file (items a failed run could not store), or with --redis store what the
    workers of a scaled-out crawl found (the only writer of the database then).

    \b
    Examples:
      crawler ingest output/crawl.db.spill-run12-4242.jsonl --db output/crawl.db
      crawler ingest --redis redis://127.0.0.1:6379/0 --db output/crawl.db
    """
    if (file is None) == (redis_url is None):
        raise click.UsageError("give either a spill FILE or --redis URL")
    path = checked_path(db_path, create=True)
    if redis_url:
        _ingest_redis(redis_url, path, idle_exit, batch, settings)
        return
    header, items, trailer = read_spill(file)
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


def _ingest_redis(redis_url: str, path: Path, idle_exit: float, batch: int, settings) -> None:
    from scrapy.settings import Settings

    from crawler.distributed.ingest import Ingester
    from crawler.distributed.queue import DEFAULT_PREFIX, connect, unreachable
    from crawler.pipelines.store import change_rule_options

    problem = unreachable(redis_url)
    if problem:
        raise click.ClickException(problem)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    project = Settings()
    project.setmodule("crawler.settings", priority="project")
    for pair in settings:
        name, sep, value = pair.partition("=")
        if not sep:
            raise click.BadParameter(f"{pair!r} is not NAME=VALUE", param_hint="-s")
        project.set(name, value, priority="cmdline")
    writer = Ingester(
        connect(redis_url),
        path,
        prefix=project.get("REDIS_KEY_PREFIX") or DEFAULT_PREFIX,
        store_options=change_rule_options(project),
        batch=batch,
    )
    click.echo(f"ingesting into {path}")
    try:
        counts = writer.run(idle_exit=idle_exit or None, progress=click.echo)
    finally:
        writer.close()
    click.echo(
        f"stored {counts.checks} checks ({counts.duplicates} duplicates skipped, "
        f"{counts.abandoned} abandoned), "
        f"{len(counts.finished)} runs finished"
    )
