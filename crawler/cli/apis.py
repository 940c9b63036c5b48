"""`crawler apis`: the comment APIs Panda Watch learned per site (table site_apis).

A recipe is learned whenever the browser path expands a thread (`-a render=browser`, `-a profile=…`,
`render=auto`, or a stale recipe's fallback) and is then used by every crawl of that site's articles.
"""

from __future__ import annotations

import json

import click
from rich.table import Table
from rich.text import Text

from crawler.cli.database import db_option, open_database
from crawler.cli.output import LiveConsole

console = LiveConsole()


def _summary(recipe: dict) -> str:
    """One line per role: method, path, the paging parameter and how it pages (a seed recipe's
    single-comment request, `confirm`, too)."""
    parts = []
    for role in ("comments", "replies", "full_text", "confirm"):
        endpoint = recipe.get(role)
        if not endpoint:
            continue
        paging = endpoint.get("paging")
        # paging without a parameter (the next page named by the answer: a Link header, a URL) says
        # only how
        how = (
            (f" {paging['param']}={paging['kind']}" if paging.get("param") else f" ({paging['kind']})")
            if paging
            else ""
        )
        parts.append(f"{role}: {endpoint['method']} {endpoint['path']}{how}")
    return "\n".join(parts)


@click.command()
@db_option
@click.option("--site", default=None, help="Only this site's recipe.")
@click.option("--json", "as_json", is_flag=True, help="Print the rows, recipe included, as JSON lines.")
def apis(db_path, site, as_json):
    """Learned comment APIs: site, status, where and when each was learned, what it calls.

    \b
    Examples:
      crawler apis
      crawler apis --site zine --json
    """
    db = open_database(db_path)
    try:
        sql = "SELECT * FROM site_apis" + (" WHERE site = ?" if site else "") + " ORDER BY site"
        rows = list(db.query(sql, [site] if site else []))
    finally:
        db.close()
    if site and not rows:
        raise click.ClickException(f"no learned comment API for site {site!r}")
    if as_json:
        for row in rows:
            row["recipe"] = json.loads(row["recipe"])
            click.echo(json.dumps(row, ensure_ascii=False, sort_keys=True))
        return
    if not rows:
        console.print("No comment API learned yet (a browser crawl of an article teaches one).")
        return
    table = Table(title="site_apis")
    for column in ("site", "status", "learned_at", "verified_at", "uses", "learned_from_url", "calls"):
        table.add_column(column, overflow="fold")
    for row in rows:
        recipe = json.loads(row["recipe"])
        status = row["status"] + (f" ({row['stale_reason']})" if row["stale_reason"] else "")
        cells = (
            row["site"],
            status,
            row["learned_at"],
            row["verified_at"],
            row["uses"],
            row["learned_from_url"],
            _summary(recipe),
        )
        # Text, not markup: the values come from the sites we crawl
        table.add_row(*(Text(str(c) if c is not None else "") for c in cells))
    console.print(table)
