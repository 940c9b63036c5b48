"""`crawler`: crawl, demo and query Panda Watch databases.

One function per command; `--db` is shared (default: $PANDAWATCH_DB, else output/crawl.db). Crawling
commands drive the Scrapy project (`scrapy crawl …`); query commands read the public tables and views.
"""

from __future__ import annotations

import csv
import json
import sys
import time
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from crawler.cli import run_hooks
from crawler.cli.scrapy_run import scrapy_crawl
from crawler.monitor import run as run_monitor
from crawler.monitor.run import Locked, RunLock
from crawler.monitor.schedule import parse_duration
from crawler.store import open_db, queries, resolve_db_path
from crawler.store import watch as watchlist
from crawler.store.schema import PUBLIC_TABLES, VIEWS
from crawler.urls import BadURL

console = Console()


def db_option(func):
    return click.option(
        "--db",
        "db_path",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="SQLite database (default: $PANDAWATCH_DB, else output/crawl.db).",
    )(func)


def _open(db_path: Path | None, must_exist: bool = True):
    path = resolve_db_path(str(db_path) if db_path else None)
    try:
        return open_db(path, create=not must_exist)
    except FileNotFoundError as exc:
        raise click.ClickException(str(exc)) from exc


@click.group()
@click.version_option(package_name="panda-watch")
def cli():
    """Panda Watch: crawl articles and their comments into SQLite and track what changes.

    \b
    Examples:
      crawler demo                               # crawl the bundled replica site twice, show changes
      crawler crawl https://www.boredpanda.com/some-article/
      crawler changes --since 2d --kind deleted
      crawler export --format csv comments > comments.csv
    """


@cli.command()
@click.argument("urls", nargs=-1, required=True)
@db_option
@click.option(
    "-s",
    "--set",
    "settings",
    multiple=True,
    metavar="NAME=VALUE",
    help="A Scrapy setting, as with `scrapy crawl -s`.",
)
def crawl(urls, db_path, settings):
    """Crawl article URLs and their comments (same as `scrapy crawl article -a url=…`).

    Example: crawler crawl https://www.boredpanda.com/some-article/
    """
    extra = dict(s.split("=", 1) for s in settings)
    if db_path:
        extra["SQLITE_PATH"] = str(db_path)
    result = scrapy_crawl("article", {"url": ",".join(urls)}, extra, quiet=False)
    sys.exit(result.returncode)


@cli.command()
@db_option
@click.option("--port", default=0, show_default=True, help="Port for the replica site (0: any free).")
@click.option("--serve/--no-serve", default=False, help="Keep serving the replica after the demo.")
def demo(db_path, port, serve):
    """Serve the bundled replica site, crawl it, change it, crawl again and show what changed.

    Needs no internet. Example: crawler demo --db output/demo.db
    """
    from crawler.cli.demo import run_demo

    path = resolve_db_path(str(db_path) if db_path else None)
    sys.exit(run_demo(path, port=port, serve=serve, console=console))


@cli.command()
@db_option
@click.option(
    "--since",
    help="A run id (changes after that run) or a duration: 30m, 6h, 2d, 1w. "
    "Default: the latest run that recorded changes.",
)
@click.option("--article", help="Only this article (URL in any form, or article id).")
@click.option(
    "--kind", "kinds", multiple=True, type=click.Choice(queries.KINDS), help="Only these kinds (repeatable)."
)
@click.option("--json", "as_json", is_flag=True, help="JSON lines instead of a table.")
def changes(db_path, since, article, kinds, as_json):
    """What changed: added, edited, deleted, restored comments, article edits, vote changes.

    Example: crawler changes --since 1d --kind edited --kind deleted
    """
    db = _open(db_path)
    try:
        rows = queries.changes(db, since=since, article=article, kinds=tuple(kinds))
    except queries.QueryError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        for row in rows:
            click.echo(json.dumps(row, ensure_ascii=False))
        return
    print_changes(rows)


def _short(value, width: int = 60) -> str:
    text = "" if value is None else " ".join(str(value).split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _detail(row: dict) -> str:
    if row["kind"] == "edited":
        sized = f" (+{row['chars_added']}/-{row['chars_removed']})" if row["chars_added"] is not None else ""
        return f"{row['field']}{sized}: {_short(row['old_value'], 30)} → {_short(row['new_value'], 30)}"
    if row["kind"] == "votes":
        return f"{row['old_value']} → {row['new_value']}"
    return _short(row["new_value"] or row["old_value"], 60)


def print_changes(rows: list[dict]) -> None:
    """A table of change rows (latest_changes / article_timeline) and counts by kind."""
    if not rows:
        console.print("No changes.")
        return
    table = Table(title=f"{len(rows)} change(s)")
    table.add_column("run", justify="right")
    table.add_column("kind")
    table.add_column("what", no_wrap=True)
    table.add_column("detail", overflow="fold")
    for row in rows:
        entity = row["entity_id"].split(":", 1)[-1]
        table.add_row(str(row["run_id"]), row["kind"], f"{row['entity_type']} {entity}", _detail(row))
    console.print(table)
    for entity, kinds in queries.summary(rows).items():
        console.print(f"{entity}: " + ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())))


@cli.command()
@click.argument("article")
@db_option
@click.option("--json", "as_json", is_flag=True, help="JSON instead of a table.")
def history(article, db_path, as_json):
    """Timeline of one article and its comments (URL in any form, or article id).

    Example: crawler history https://www.boredpanda.com/some-article/
    """
    db = _open(db_path)
    try:
        row, events = queries.history(db, article)
    except queries.QueryError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps({"article": row, "events": events}, ensure_ascii=False, indent=2))
        return
    console.print(f"[bold]{row['title']}[/bold]\n{row['url']}")
    console.print(
        f"first seen {row['first_seen_at']}, last seen {row['last_seen_at']}, "
        f"version {row['version']}, comments complete: {row['comments_complete']}"
    )
    print_changes(events)


@cli.command()
@click.argument("name")
@db_option
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "json", "jsonl"]), default="csv", show_default=True
)
@click.option(
    "-o",
    "--output",
    type=click.File("w", encoding="utf-8"),
    default="-",
    help="File to write (default: standard output).",
)
def export(name, db_path, fmt, output):
    """Export a table or view as CSV, JSON or JSON lines.

    Example: crawler export --format jsonl changes -o changes.jsonl
    """
    if name not in PUBLIC_TABLES + VIEWS:
        raise click.ClickException(
            f"unknown table or view {name!r}; one of: " + ", ".join(PUBLIC_TABLES + VIEWS)
        )
    db = _open(db_path)
    rows = db.query(f"SELECT * FROM [{name}]")
    if fmt == "csv":
        columns = [c[0] for c in db.execute(f"SELECT * FROM [{name}] LIMIT 0").description]
        writer = csv.DictWriter(output, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    elif fmt == "jsonl":
        for row in rows:
            output.write(json.dumps(row, ensure_ascii=False) + "\n")
    else:
        output.write(json.dumps(list(rows), ensure_ascii=False, indent=2) + "\n")


@cli.command()
@db_option
@click.option("--limit", default=20, show_default=True)
def runs(db_path, limit):
    """Recent crawl runs with their status and counts.

    Example: crawler runs --limit 5
    """
    db = _open(db_path)
    table = Table(title="runs")
    columns = (
        "run_id",
        "spider",
        "started_at",
        "status",
        "articles_seen",
        "comments_seen",
        "threads_incomplete",
        "changes_recorded",
    )
    for column in columns:
        table.add_column(column)
    for row in db.query("SELECT * FROM runs ORDER BY run_id DESC LIMIT ?", [limit]):
        table.add_row(*(str(row[c]) for c in columns))
    console.print(table)


@cli.command()
@db_option
@click.option("--port", default=8001, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True)
def datasette(db_path, port, host):
    """Browse the database in Datasette, with Panda Watch's canned queries (needs the `datasette` extra).

    Example: crawler datasette --db output/crawl.db --port 8001
    """
    import shutil
    import subprocess
    import tempfile

    from crawler.datasette import metadata_for

    path = resolve_db_path(str(db_path) if db_path else None)
    _open(db_path).close()  # a clear error for a missing file, and views of this version
    executable = shutil.which("datasette")
    if executable is None:
        raise click.ClickException("Datasette is not installed: pip install 'panda-watch[datasette]'")
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as meta:
        json.dump(metadata_for(path), meta)
    sys.exit(
        subprocess.call(
            [executable, "serve", str(path), "--metadata", meta.name, "--host", host, "--port", str(port)]
        )
    )


# -- monitoring ----------------------------------------------------------------------------------


@cli.group()
def watch():
    """The watch list: articles `crawler run` / `scrapy crawl monitor` re-check on their schedule.

    Example: crawler watch add https://www.boredpanda.com/some-article/
    """


@watch.command("add")
@click.argument("urls", nargs=-1, required=True)
@db_option
def watch_add(urls, db_path):
    """Add article URLs (due at once; a retired one comes back).

    Example: crawler watch add https://www.boredpanda.com/a/ https://www.boredpanda.com/b/
    """
    _watch_add(db_path, list(urls))


def _watch_add(db_path, urls: list[str]) -> None:
    db = _open(db_path, must_exist=False)
    try:
        added, known = watchlist.add(db, urls)
    except BadURL as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{len(added)} added, {len(known)} already watched")


@watch.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@db_option
def watch_import(file, db_path):
    """Add the URLs of a file, one per line (# starts a comment).

    Example: crawler watch import urls.txt
    """
    lines = file.read_text(encoding="utf-8").splitlines()
    urls = [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
    if not urls:
        raise click.ClickException(f"{file} holds no URL")
    _watch_add(db_path, urls)


@watch.command("list")
@db_option
@click.option("--retired", is_flag=True, help="Also list retired entries.")
@click.option("--json", "as_json", is_flag=True)
def watch_list(db_path, retired, as_json):
    """Watched articles, the next due first.

    Example: crawler watch list --retired
    """
    rows = watchlist.entries(_open(db_path), include_retired=retired)
    if as_json:
        for row in rows:
            click.echo(json.dumps(row))
        return
    table = Table(title=f"{len(rows)} watched")
    for column in ("url", "source", "next_check_at", "last_checked_at", "retired_at"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(
            row["url"],
            row["source"],
            row["next_check_at"] or "now",
            row["last_checked_at"] or "",
            row["retired_at"] or "",
        )
    console.print(table)


@watch.command("remove")
@click.argument("url")
@db_option
def watch_remove(url, db_path):
    """Stop watching an article (its history stays).

    Example: crawler watch remove https://www.boredpanda.com/a/
    """
    if not watchlist.remove(_open(db_path), url):
        raise click.ClickException(f"{url} is not on the watch list")
    click.echo("removed")


@cli.group()
def sources():
    """Feeds, sitemaps and listing pages that discovery enrols new articles from.

    Example: crawler sources add https://www.boredpanda.com/feed/
    """


@sources.command("add")
@click.argument("url")
@db_option
def sources_add(url, db_path):
    """Add a discovery source (RSS/Atom feed, sitemap or sitemap index, listing page).

    Example: crawler sources add https://www.boredpanda.com/sitemap.xml
    """
    try:
        added = watchlist.add_source(_open(db_path, must_exist=False), url)
    except BadURL as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo("added" if added else "already a source")


@sources.command("list")
@db_option
def sources_list(db_path):
    """The discovery sources.

    Example: crawler sources list
    """
    for row in _open(db_path).query("SELECT url, added_at FROM sources ORDER BY added_at"):
        click.echo(f"{row['url']}  (added {row['added_at']})")


@sources.command("remove")
@click.argument("url")
@db_option
def sources_remove(url, db_path):
    """Remove a discovery source.

    Example: crawler sources remove https://www.boredpanda.com/feed/
    """
    if not watchlist.remove_source(_open(db_path), url):
        raise click.ClickException(f"{url} is not a source")
    click.echo("removed")


@cli.command("run")
@db_option
@click.option("--every", help="Repeat in the foreground at this interval (15m, 1h) instead of once.")
@click.option("--all", "check_all", is_flag=True, help="Check every watched article, due or not.")
@click.option(
    "--render",
    type=click.Choice(["api", "auto", "browser"]),
    default="api",
    show_default=True,
    help="How comments are loaded (auto: a browser only for JavaScript-only threads).",
)
@click.option("-s", "--set", "settings", multiple=True, metavar="NAME=VALUE", help="A Scrapy setting.")
def run_command(db_path, every, check_all, render, settings):
    """What cron calls: lock, discover new articles, crawl the due ones, print a report.

    Exit codes: 0 done, 1 a crawl failed, 75 another run holds the lock.
    Example (crontab): */15 * * * * cd /srv/pandawatch && .venv/bin/crawler run >> run.log 2>&1
    """
    path = resolve_db_path(str(db_path) if db_path else None)
    extra = dict(s.split("=", 1) for s in settings)
    extra["SQLITE_PATH"] = str(path)
    extra = run_hooks.crawl_settings(extra)
    interval = parse_duration(every).total_seconds() if every else None
    while True:
        started = time.monotonic()
        code = _run_once(path, extra, {"render": render, **({"all": "1"} if check_all else {})})
        if interval is None:
            sys.exit(code)
        console.print(f"next run in {every}")
        sys.stdout.flush()  # a loop whose output goes to a log file shows each report when it happens
        time.sleep(max(0.0, started + interval - time.monotonic()))


def _run_once(path: Path, settings: dict, monitor_args: dict) -> int:
    try:
        with RunLock(path):
            first = run_monitor.next_run_id(path)
            codes = []
            if run_monitor.has_sources(path):
                codes.append(scrapy_crawl("discover", {}, settings).returncode)
            codes.append(scrapy_crawl("monitor", monitor_args, settings).returncode)
            after = run_hooks.after_crawls(path, first, settings)
            outcome = run_monitor.report(path, first)
    except Locked as exc:
        click.echo(str(exc), err=True)
        return run_monitor.EXIT_LOCKED
    for line in outcome.lines() + after:
        click.echo(line)
    return run_monitor.EXIT_FAILED if outcome.failed or any(codes) else run_monitor.EXIT_OK


from crawler.cli.evidence import evidence  # noqa: E402
from crawler.cli.feed import feed  # noqa: E402
from crawler.cli.notify import notify  # noqa: E402
from crawler.cli.report import report  # noqa: E402

cli.add_command(notify)
cli.add_command(feed)
cli.add_command(report)
cli.add_command(evidence)
