"""`crawler ingest --redis URL`: the one writer of a scaled-out crawl (crawler/distributed/ingest.py).

Stores what the workers pushed to the Redis results stream into the database, with the same change
rules as a single-process crawl, acknowledging each batch only after its commit.
"""

from __future__ import annotations

import logging

import click

from crawler.store import resolve_db_path


def _store_options(settings) -> dict:
    from crawler.monitor.checks import Thresholds
    from crawler.monitor.schedule import Policy

    return {
        "policy": Policy.from_settings(settings),
        "thresholds": Thresholds.from_settings(settings),
        "mass_delete": settings.getfloat("MONITOR_MASS_DELETE", 0.3),
        "max_failures": settings.getint("MONITOR_MAX_FAILURES", 5),
    }


@click.command("ingest")
@click.option(
    "--redis", "redis_url", required=True, envvar="PANDAWATCH_REDIS", help="Redis URL (or $PANDAWATCH_REDIS)."
)
@click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False),
    help="Database (default $PANDAWATCH_DB or output/crawl.db).",
)
@click.option(
    "--idle-exit",
    type=float,
    default=0,
    show_default=True,
    help="Exit after this many idle seconds once every run is finished (0: never).",
)
@click.option("--batch", type=int, default=50, show_default=True, help="Stream entries per transaction.")
@click.option(
    "-s",
    "--set",
    "settings",
    multiple=True,
    metavar="NAME=VALUE",
    help="A setting (MONITOR_*, REDIS_KEY_PREFIX).",
)
def ingest(redis_url, db_path, idle_exit, batch, settings):
    """Store the workers' results from Redis: the only writer of the database in a scaled-out crawl.

    Example: crawler ingest --redis redis://queue.example:6379/0 --db output/crawl.db
    """
    from scrapy.settings import Settings

    from crawler.distributed.ingest import Ingester
    from crawler.distributed.queue import DEFAULT_PREFIX, connect, unreachable

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
    path = resolve_db_path(db_path)
    writer = Ingester(
        connect(redis_url),
        path,
        prefix=project.get("REDIS_KEY_PREFIX") or DEFAULT_PREFIX,
        store_options=_store_options(project),
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
