"""`crawler`: crawl, demo and query Panda Watch databases.

One function per command; `--db` is shared (default: $PANDAWATCH_DB, else output/crawl.db). Crawling
commands drive the Scrapy project (`scrapy crawl …`); query commands read the public tables and views.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import sqlite3
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click
from rich.table import Table
from rich.text import Text

from crawler.cli import names, run_hooks
from crawler.cli.database import DB_HELP, checked_path, current_db_path, db_option, db_path_of, open_database
from crawler.cli.dbfile import DatabaseFileError, check_db_path, describe
from crawler.cli.errors import EXIT_INTERRUPTED, EXIT_OK, EnvironmentFault
from crawler.cli.output import LiveConsole, cell, clean, json_line, safe, short
from crawler.cli.scrapy_run import crawl_with_summary
from crawler.cli.worddiff import snippet
from crawler.monitor import run as run_monitor
from crawler.monitor.run import Locked, RunLock
from crawler.monitor.schedule import parse_duration
from crawler.store import queries
from crawler.store import watch as watchlist
from crawler.store.db import StoreError
from crawler.store.schema import PUBLIC_TABLES, VIEWS
from crawler.urls import BadURL


class _Console(LiveConsole):
    def on_broken_pipe(self) -> None:
        # rich exits 1 when the reader went away (`crawler changes | head`): the reader has all it
        # wanted, which is not a failure.
        _quiet_stdout()
        raise SystemExit(EXIT_OK)


def _quiet_stdout() -> None:
    """Point stdout at /dev/null so that the interpreter's last flush does not fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    with contextlib.suppress(OSError, ValueError):
        os.dup2(devnull, sys.stdout.fileno())


console = _Console()
#: Below this width `crawler runs` and `crawler changes` drop to their narrow layout.
NARROW = 100


class PandaGroup(click.Group):
    """The `crawler` group: full command descriptions in --help, and one `Error:` line (with a
    documented exit code, see crawler.cli.errors) for faults click does not know about."""

    def format_commands(self, ctx, formatter):
        # click cuts each description to fit one line ("Crawl article URLs and their comments…");
        # the whole first sentence is more use, wrapped.
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit=300)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except DatabaseFileError as exc:
            raise EnvironmentFault(str(exc)) from exc
        except sqlite3.DatabaseError as exc:
            path = current_db_path()
            where = f" {describe(path)}" if path else ""
            raise EnvironmentFault(f"the database{where} cannot be used: {exc}") from exc
        except BrokenPipeError:
            # `crawler changes --json | head`: the reader has all it wanted; that is not a failure.
            _quiet_stdout()
            sys.exit(EXIT_OK)
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            sys.exit(EXIT_INTERRUPTED)


def _settings(ctx, param, values) -> dict[str, str]:
    """-s NAME=VALUE options as a dict; a value without `=` is a usage error, not a traceback."""
    out = {}
    for value in values:
        name, sep, setting = value.partition("=")
        if not sep or not name.strip():
            raise click.BadParameter(f"{value!r} is not NAME=VALUE (e.g. -s DOWNLOAD_DELAY=2)", ctx, param)
        out[name.strip()] = setting
    return out


def settings_option(func):
    return click.option(
        "-s",
        "--set",
        "settings",
        multiple=True,
        metavar="NAME=VALUE",
        callback=_settings,
        help="A Scrapy setting, as with `scrapy crawl -s` (repeatable).",
    )(func)


@click.group(cls=PandaGroup, context_settings={"max_content_width": 100})
@click.version_option(package_name="panda-watch")
@click.option("--db", "db_path", type=click.Path(path_type=Path), default=None, help=DB_HELP)
def cli(db_path):
    """Panda Watch: crawl articles and their comments into SQLite and track what changes.

    \b
    Examples:
      crawler demo                               # crawl the bundled replica site twice, show changes
      crawler crawl https://www.boredpanda.com/some-article/
      crawler changes --since 2d --kind deleted
      crawler --db output/demo.db history 8123456
      crawler export --format csv comments > comments.csv

    Exit codes: 0 done, 1 failed (a URL failed, nothing found), 2 bad input, 3 database or port
    unusable, 75 another run holds the lock, 130 interrupted.
    """


@cli.command()
@click.argument("urls", nargs=-1, required=True)
@db_option
@settings_option
def crawl(urls, db_path, settings):
    """Crawl article URLs and their comments (same as `scrapy crawl article -a url=…`).

    Shows progress while it works and a summary at the end. Exit code 1 when a URL failed
    (HTTP error, refused or unreachable host) or was skipped (not an article).

    Example: crawler crawl https://www.boredpanda.com/some-article/
    """
    path = checked_path(db_path, create=True)
    extra = {**settings, "SQLITE_PATH": str(path)}
    outcome = crawl_with_summary("article", {"url": ",".join(urls)}, extra)
    for line in outcome.lines():
        click.echo(line, err=True)
    sys.exit(outcome.exit_code)


def _port(ctx, param, value):
    if value is not None and not 0 <= value <= 65535:
        raise click.BadParameter(f"{value} is not a TCP port (0-65535; 0 picks a free one)", ctx, param)
    return value


@cli.command()
@db_option
@click.option(
    "--port",
    type=int,
    default=0,
    show_default=True,
    callback=_port,
    help="Port of the replica (0: any free).",
)
@click.option("--serve/--no-serve", default=False, help="Keep serving the replica after the demo.")
def demo(db_path, port, serve):
    """Serve the bundled replica site, crawl it, change it, crawl again and show what changed.

    Needs no internet. Writes its own database (default output/demo.db, replaced on each demo run),
    never your crawl database. Example: crawler demo --serve
    """
    from crawler.cli.demo import DEFAULT_DEMO_DB, DemoError, run_demo

    path = db_path or click.get_current_context().find_root().params.get("db_path") or Path(DEFAULT_DEMO_DB)
    try:
        check_db_path(path, create=True)
        code = run_demo(Path(path), port=port, serve=serve, console=console)
    except DatabaseFileError as exc:
        raise EnvironmentFault(str(exc)) from exc
    except DemoError as exc:
        raise click.ClickException(str(exc)) from exc
    except OSError as exc:
        raise EnvironmentFault(f"cannot serve the replica on port {port}: {exc.strerror or exc}") from exc
    sys.exit(code)


@cli.command()
@db_option
@click.option(
    "--since",
    help="A run id (changes after that run) or a duration: 30m, 6h, 2d, 1w. "
    "Default: the latest run that recorded changes.",
)
@click.option("--article", help="Only this article: its URL (any form), slug, or id as shown.")
@click.option(
    "--kind", "kinds", multiple=True, type=click.Choice(queries.KINDS), help="Only these kinds (repeatable)."
)
@click.option("--full", is_flag=True, help="Both texts of every edit in full, not the changed words.")
@click.option("--json", "as_json", is_flag=True, help="JSON lines instead of a table.")
def changes(db_path, since, article, kinds, full, as_json):
    """What changed: added, edited, deleted, restored comments, article edits, vote changes.

    Edits show the changed words ([-removed-] {+added+}); ids shown can be typed back
    (`crawler history 820000100003`).

    Example: crawler changes --since 1d --kind edited --kind deleted
    """
    db = open_database(db_path)
    try:
        article_id = names.article(db, article) if article else None
        rows = queries.changes(db, since=since, article=article_id, kinds=tuple(kinds))
    except queries.QueryError as exc:
        raise click.ClickException(clean(exc)) from exc
    if as_json:
        for row in rows:
            click.echo(json_line(row))
        return
    print_changes(rows, full=full)


def _short_id(entity_id: str | None) -> str:
    """An id as the user may type it back: without the site prefix."""
    return (entity_id or "").split(":", 1)[-1]


def _detail(row: dict, full: bool = False) -> Text:
    kind = row["kind"]
    if kind == "edited":
        text = Text(clean(row["field"], keep_newlines=False))
        if row.get("chars_added") is not None:
            text.append(f" (+{row['chars_added']}/-{row.get('chars_removed') or 0})", style="dim")
        text.append(": ")
        if full:
            text.append("\nbefore: ", style="bold")
            text.append(clean(row["old_value"]))
            text.append("\nafter: ", style="bold")
            text.append(clean(row["new_value"]))
        else:
            text.append_text(snippet(row["old_value"], row["new_value"]))
        return text
    if kind == "votes":
        return Text(f"{clean(row['old_value'])} → {clean(row['new_value'])}")
    value = row["new_value"] or row["old_value"]
    return Text(clean(value) if full else short(value, 80))


def print_changes(rows: list[dict], full: bool = False) -> None:
    """A table of change rows (latest_changes / article_timeline) and counts by kind."""
    if not rows:
        console.print("No changes.")
        return
    narrow = console.width < NARROW
    table = Table(title=f"{len(rows)} change(s)", expand=False, padding=(0, 1) if not narrow else (0, 0))
    table.add_column("run", justify="right")
    table.add_column("kind")
    table.add_column("what", no_wrap=True)
    table.add_column("article", overflow="fold", max_width=16 if narrow else 30)
    table.add_column("detail", overflow="fold")
    for row in rows:
        title = row.get("article_title") or _short_id(row.get("article_id"))
        table.add_row(
            str(row["run_id"]),
            row["kind"],
            cell(f"{row['entity_type']} {_short_id(row['entity_id'])}"),
            cell(short(title, 16 if narrow else 30)),
            _detail(row, full),
        )
    console.print(table)
    for entity, kinds in queries.summary(rows).items():
        console.print(f"{entity}: " + ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())))


@cli.command()
@click.argument("name")
@db_option
@click.option("--full", is_flag=True, help="Both texts of every edit in full.")
@click.option("--json", "as_json", is_flag=True, help="JSON instead of a table.")
def history(name, db_path, full, as_json):
    """Timeline of one article and its comments, or of one comment.

    NAME is an article URL (any form), slug or id, or a comment id, as `crawler changes` shows them.

    Example: crawler history https://www.boredpanda.com/some-article/
    """
    db = open_database(db_path)
    try:
        kind, entity_id = names.entity(db, name)
        if kind == "article":
            row, events = queries.history(db, entity_id)
        else:
            row = next(db.query("SELECT * FROM comments WHERE comment_id = ?", [entity_id]))
            events = list(
                db.query(
                    "SELECT * FROM article_timeline WHERE entity_type = 'comment' AND entity_id = ?",
                    [entity_id],
                )
            )
    except queries.QueryError as exc:
        raise click.ClickException(clean(exc)) from exc
    if as_json:
        click.echo(json_line({kind: row, "events": events}, indent=2))
        return
    if kind == "article":
        console.print(f"[bold]{safe(row['title'], keep_newlines=False)}[/bold]\n{safe(row['url'])}")
        console.print(
            f"first seen {row['first_seen_at']}, last seen {row['last_seen_at']}, "
            f"version {row['version']}, comments complete: {row['comments_complete']}"
        )
    else:
        console.print(
            f"[bold]comment {safe(_short_id(entity_id))}[/bold] by {safe(row['author'], False)} "
            f"({row['status']}), article {safe(_short_id(row['article_id']))}"
        )
        console.print(safe(row["text"]))
        console.print(f"first seen {row['first_seen_at']}, version {row['version']}")
    print_changes(events, full=full)


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
    db = open_database(db_path)
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
@click.option("--limit", default=20, show_default=True, help="How many runs, the latest first.")
def runs(db_path, limit):
    """Recent crawl runs with their status and counts.

    "unchanged" marks a run that re-checked articles cheaply (304 or the same page) and found
    nothing new.

    Example: crawler runs --limit 5
    """
    db = open_database(db_path)
    narrow = console.width < NARROW
    table = Table(title="runs", padding=(0, 0) if narrow else (0, 1))
    columns = ["run", "spider", "started (UTC)", "status", "articles", "comments", "incompl.", "changes"]
    if not narrow:
        columns.insert(5, "failed")
    for column in columns:
        table.add_column(column, justify="right" if column in ("run", "articles", "comments") else "left")
    any_same = False
    for row in db.query("SELECT * FROM runs ORDER BY run_id DESC LIMIT ?", [limit]):
        started = (row["started_at"] or "").replace("T", " ")[:16]
        status = row["status"]
        same = row.get("articles_unchanged") or 0
        checked = (row["articles_seen"] or 0) + same
        if status == "ok" and checked and not row["changes_recorded"]:
            status = "unchanged"  # a re-crawl that found nothing new, not a failure
        any_same |= bool(same)
        values = [
            str(row["run_id"]),
            row["spider"],
            started[5:] if narrow else started,
            status,
            f"{row['articles_seen']}" + (f" +{same} same" if same else ""),
            str(row["comments_seen"]),
            str(row["threads_incomplete"]),
            str(row["changes_recorded"]),
        ]
        if not narrow:
            values.insert(5, str(row.get("requests_failed") or 0))
        table.add_row(*(cell(v) for v in values))
    console.print(table)
    if any_same:
        console.print("+N same: pages unchanged since the last fetch (304 or same body), not re-read")


@cli.command()
@db_option
@click.option("--port", default=8001, show_default=True, callback=_port)
@click.option("--host", default="127.0.0.1", show_default=True)
def datasette(db_path, port, host):
    """Browse the database in Datasette, with Panda Watch's canned queries (needs the `datasette` extra).

    Example: crawler datasette --db output/crawl.db --port 8001
    """
    from crawler.datasette import serve

    path = db_path_of(db_path)
    open_database(db_path).close()  # a clear error for a missing file, and views of this version
    try:
        sys.exit(serve(path, host=host, port=port))
    except FileNotFoundError as exc:
        raise click.ClickException(str(exc)) from exc


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
    db = open_database(db_path, must_exist=False)
    try:
        added, known = watchlist.add(db, urls)
    except BadURL as exc:
        raise click.ClickException(clean(exc)) from exc
    click.echo(f"{len(added)} added, {len(known)} already watched")


@watch.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@db_option
def watch_import(file, db_path):
    """Add the URLs of a file, one per line (# starts a comment, also after a URL).

    A bad line is reported with its number and skipped; the others are added (exit code 1 when a
    line was skipped).

    Example: crawler watch import urls.txt
    """
    from crawler.spiders.args import url_lines
    from crawler.urls import check_url

    good, bad = [], set()
    for number, url in url_lines(file.read_text(encoding="utf-8", errors="replace")):
        try:
            good.append(check_url(url))
        except BadURL as exc:
            if number not in bad:
                click.echo(f"{clean(file)}:{number}: skipped: {clean(exc)}", err=True)
            bad.add(number)
    if not good and not bad:
        raise click.ClickException(f"{clean(file)} holds no URL")
    if good:
        _watch_add(db_path, good)
    if bad:
        raise click.ClickException(f"{len(bad)} line(s) of {clean(file)} skipped (see above)")


@watch.command("list")
@db_option
@click.option("--retired", is_flag=True, help="Also list retired entries.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per entry (JSON lines).")
def watch_list(db_path, retired, as_json):
    """Watched articles, the next due first.

    Example: crawler watch list --retired
    """
    rows = watchlist.entries(open_database(db_path), include_retired=retired)
    if as_json:
        for row in rows:
            click.echo(json_line(row))
        return
    table = Table(title=f"{len(rows)} watched")
    for column in ("url", "source", "next_check_at", "last_checked_at", "retired_at"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(
            cell(row["url"]),
            cell(row["source"]),
            cell(row["next_check_at"] or "now"),
            cell(row["last_checked_at"] or ""),
            cell(row["retired_at"] or ""),
        )
    console.print(table)


@watch.command("remove")
@click.argument("url")
@db_option
def watch_remove(url, db_path):
    """Stop watching an article (its history stays).

    Example: crawler watch remove https://www.boredpanda.com/a/
    """
    try:
        removed = watchlist.remove(open_database(db_path), url)
    except BadURL as exc:
        raise click.ClickException(clean(exc)) from exc
    if not removed:
        raise click.ClickException(f"{clean(url)} is not on the watch list")
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
        added = watchlist.add_source(open_database(db_path, must_exist=False), url)
    except BadURL as exc:
        raise click.ClickException(clean(exc)) from exc
    click.echo("added" if added else "already a source")


@sources.command("list")
@db_option
def sources_list(db_path):
    """The discovery sources.

    Example: crawler sources list
    """
    for row in open_database(db_path).query("SELECT url, added_at FROM sources ORDER BY added_at"):
        click.echo(f"{clean(row['url'], False)}  (added {row['added_at']})")


@sources.command("remove")
@click.argument("url")
@db_option
def sources_remove(url, db_path):
    """Remove a discovery source.

    Example: crawler sources remove https://www.boredpanda.com/feed/
    """
    if not watchlist.remove_source(open_database(db_path), url):
        raise click.ClickException(f"{clean(url)} is not a source")
    click.echo("removed")


#: `crawler run --every 0m` would start runs back to back, as fast as the machine allows.
MIN_EVERY = timedelta(seconds=1)


def _every(ctx, param, value) -> timedelta | None:
    if value is None:
        return None
    text = value.strip().lower()
    if text.replace(".", "", 1).isdigit():
        raise click.BadParameter(f"{value!r} has no unit: write 15m, 1h or 1d", ctx, param)
    try:
        interval = parse_duration(text)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an interval (e.g. 15m, 1h, 1d)", ctx, param) from None
    if interval < MIN_EVERY:
        raise click.BadParameter(f"{value!r} is too short: at least 1s (15m is usual)", ctx, param)
    return interval


def _human(interval: timedelta) -> str:
    seconds = int(interval.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


@cli.command("run")
@db_option
@click.option(
    "--every",
    callback=_every,
    help="Repeat in the foreground at this interval (15m, 1h) instead of once.",
)
@click.option("--all", "check_all", is_flag=True, help="Check every watched article, due or not.")
@click.option(
    "--render",
    type=click.Choice(["api", "auto", "browser"]),
    default="api",
    show_default=True,
    help="How comments are loaded (auto: a browser only for JavaScript-only threads).",
)
@settings_option
@click.option(
    "--redis", "redis_url", help="Queue the due checks on this Redis for workers instead of crawling."
)
def run_command(db_path, every, check_all, render, settings, redis_url):
    """What cron calls: lock, discover new articles, crawl the due ones, print a report.

    Exit codes: 0 done, 1 a crawl or a URL failed, 2 bad input, 3 database unusable,
    75 another run holds the lock.
    Example (crontab): */15 * * * * cd /srv/pandawatch && .venv/bin/crawler run >> run.log 2>&1
    """
    path = checked_path(db_path, create=True)
    extra = run_hooks.crawl_settings({**settings, "SQLITE_PATH": str(path)})
    while True:
        started = time.monotonic()
        if redis_url:  # scale-out: workers crawl, `crawler ingest --redis` stores (crawler/distributed)
            from crawler.distributed.schedule import enqueue_command

            code = enqueue_command(path, redis_url, check_all, extra)
        else:
            code = _run_once(path, extra, {"render": render, **({"all": "1"} if check_all else {})})
        if every is None:
            sys.exit(code)
        wake = datetime.now(UTC) + every - timedelta(seconds=time.monotonic() - started)
        console.print(f"next run in {_human(every)}, at {wake:%H:%M:%S} UTC")
        sys.stdout.flush()  # a loop whose output goes to a log file shows each report when it happens
        time.sleep(max(0.0, started + every.total_seconds() - time.monotonic()))


def _run_once(path: Path, settings: dict, monitor_args: dict) -> int:
    try:
        with RunLock(path):
            # the first run id this run may write (for hooks); the report goes by the crawls' own ids
            first = run_monitor.next_run_id(path)
            crawls = []
            if run_monitor.has_sources(path):
                crawls.append(crawl_with_summary("discover", {}, settings))
            crawls.append(crawl_with_summary("monitor", monitor_args, settings))
            after = run_hooks.after_crawls(path, first, settings)
            outcome = run_monitor.report(path, crawls)
    except Locked as exc:
        click.echo(clean(exc), err=True)
        return run_monitor.EXIT_LOCKED
    except (StoreError, OSError) as exc:  # database or lock file unwritable: one line, not a traceback
        click.echo(f"Error: {exc}", err=True)
        return run_monitor.EXIT_FAILED
    for line in outcome.lines() + after:
        click.echo(clean(line))
    failed = outcome.failed or any(c.exit_code for c in crawls)
    return run_monitor.EXIT_FAILED if failed else run_monitor.EXIT_OK


# -- commands that live in modules of their own (crawler/cli/<name>.py): one line each, below ----------
from crawler.cli.apis import apis  # noqa: E402
from crawler.cli.evidence import evidence  # noqa: E402
from crawler.cli.feed import feed  # noqa: E402
from crawler.cli.ingest import ingest  # noqa: E402
from crawler.cli.notify import notify  # noqa: E402
from crawler.cli.report import report  # noqa: E402
from crawler.cli.worker import worker  # noqa: E402

cli.add_command(notify)
cli.add_command(feed)
cli.add_command(report)
cli.add_command(evidence)
cli.add_command(ingest)
cli.add_command(worker)
cli.add_command(apis)
