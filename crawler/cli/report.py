"""`crawler report`: one self-contained HTML file of what changed in a period, with the evidence."""

from __future__ import annotations

from pathlib import Path

import click

from crawler.cli.database import db_option, open_database
from crawler.publish.report import build_report
from crawler.store import queries


@click.command("report")
@db_option
@click.option(
    "--since", default="1d", show_default=True, help="A run id (after it) or a duration (2d); 'all'."
)
@click.option("--article", help="Only this article (URL in any form, or article id).")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("report.html"),
    show_default=True,
    help="The HTML file to write.",
)
def report(db_path, since, article, output):
    """Write an HTML report: per article its deletions, edits (word diffs), vote charts, evidence.

    The file needs nothing else (no scripts, no network); open it in any browser.
    Example: crawler report --since 7d -o report.html
    """
    db = open_database(db_path)
    try:
        html = build_report(db, None if since == "all" else since, article)
    except queries.QueryError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        db.close()
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(html, encoding="utf-8")
    click.echo(f"wrote {output}")
