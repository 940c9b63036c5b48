"""`crawler feed`: an Atom feed of change events, one entry per event, for feed readers."""

from __future__ import annotations

from pathlib import Path

import click

from crawler.cli.database import db_option, open_database
from crawler.publish.feed import DEFAULT_LIMIT, build_feed, feed_events
from crawler.store import queries


@click.command("feed")
@db_option
@click.option("--site", "sites", multiple=True, help="Only articles of this site (repeatable).")
@click.option("--article", help="Only this article (URL in any form, or article id).")
@click.option("--kind", "kinds", multiple=True, type=click.Choice(queries.KINDS), help="Only these kinds.")
@click.option("--since", help="A run id (events after it) or a duration (2d); default: all.")
@click.option("--limit", default=DEFAULT_LIMIT, show_default=True, help="Newest entries at most.")
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="File (default: stdout)."
)
def feed(db_path, sites, article, kinds, since, limit, output):
    """Write an Atom feed of change events (entry ids stay the same across exports).

    Example: crawler feed --kind deleted --kind edited -o changes.atom
    """
    db = open_database(db_path)
    try:
        events = feed_events(db, since, article, tuple(kinds), tuple(sites), limit)
    except queries.QueryError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        db.close()
    scope = "all"
    if article:
        scope = f"article/{events[0]['article_id'] if events else article}"
    elif sites:
        scope = "site/" + "+".join(sorted(sites))
    if kinds:
        scope += "/kind/" + "+".join(sorted(kinds))
    data = build_feed(events, scope, f"Panda Watch changes ({scope})")
    if output:
        output.write_bytes(data)
        click.echo(f"wrote {len(events)} entries to {output}", err=True)
    else:
        click.echo(data.decode("utf-8"))
