"""`crawler notify add|list|remove|test|send`: who is told what changed, through Apprise.

`crawler run` sends one digest per run to every target (NOTIFY_URLS, $PANDAWATCH_NOTIFY_URLS and the
targets added here, each with its filters); `notify test` checks that targets are reachable, `notify
send RUN` sends a run's digest again.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from crawler.cli.database import db_option, open_database
from crawler.cli.project_settings import project_settings
from crawler.dates import iso, now_utc
from crawler.notify import targets as targets_mod
from crawler.notify.send import notify_run, send
from crawler.notify.targets import BadTarget, Filters, Target


def _db(db_path: Path | None, create: bool = True):
    return open_database(db_path, must_exist=not create)


def _settings(pairs) -> object:
    return project_settings(dict(p.split("=", 1) for p in pairs))


set_option = click.option("-s", "--set", "settings", multiple=True, metavar="NAME=VALUE", help="A setting.")


@click.group("notify")
def notify():
    """Notification targets (Apprise URLs) that get one digest per `crawler run`.

    \b
    Examples:
      crawler notify add json://localhost:8080/hook
      crawler notify add 'mailto://user:pass@example.com' --only-deletions
      crawler notify add discord://ID/TOKEN --kind edited --kind deleted --site boredpanda
      crawler notify test
    """


@notify.command("add")
@click.argument("url")
@db_option
@click.option(
    "--kind", "kinds", multiple=True, type=click.Choice(targets_mod.KINDS), help="Only these kinds."
)
@click.option("--site", "sites", multiple=True, help="Only articles of this site (adapter name).")
@click.option("--article", "articles", multiple=True, help="Only this article (URL or id).")
@click.option(
    "--type", "entity_types", multiple=True, type=click.Choice(targets_mod.ENTITY_TYPES), help="Only these."
)
@click.option(
    "--min-votes", type=click.IntRange(min=0), default=0, help="votes events: at least this change."
)
@click.option("--only-deletions", is_flag=True, help="Same as --kind deleted.")
def notify_add(url, db_path, kinds, sites, articles, entity_types, min_votes, only_deletions):
    """Add (or re-filter) a target. Example: crawler notify add json://localhost:8080/hook --kind deleted"""
    if only_deletions:
        kinds = ("deleted",)
    filters = Filters(list(kinds), list(sites), list(articles), list(entity_types), min_votes)
    db = _db(db_path)
    try:
        targets_mod.add(db, url, filters)
    except BadTarget as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        db.close()
    click.echo(f"added {Target(url).redacted()} ({filters.describe()})")


@notify.command("list")
@db_option
@set_option
@click.option("--json", "as_json", is_flag=True)
def notify_list(db_path, settings, as_json):
    """The targets a run notifies (secrets masked). Example: crawler notify list"""
    db = _db(db_path)
    try:
        found = targets_mod.load(db, list(_settings(settings).getlist("NOTIFY_URLS")))
    finally:
        db.close()
    for target in found:
        if as_json:
            click.echo(
                json.dumps(
                    {"target": target.redacted(), "source": target.source, "filters": vars(target.filters)}
                )
            )
        else:
            click.echo(f"{target.redacted()}  [{target.source}]  {target.filters.describe()}")
    if not found and not as_json:
        click.echo("No notification targets (crawler notify add URL, or NOTIFY_URLS).")


@notify.command("remove")
@click.argument("url")
@db_option
def notify_remove(url, db_path):
    """Remove a target added with `notify add`. Example: crawler notify remove json://localhost:8080/hook"""
    db = _db(db_path)
    try:
        if not targets_mod.remove(db, url):
            raise click.ClickException(f"{url} is not a notification target")
    finally:
        db.close()
    click.echo("removed")


@notify.command("test")
@click.argument("url", required=False)
@db_option
@set_option
def notify_test(url, db_path, settings):
    """Send a test message to URL, or to every target; exit 1 when one fails.

    Example: crawler notify test json://localhost:8080/hook
    """
    config = _settings(settings)
    if url:
        try:
            targets_mod.check_url(url)
        except BadTarget as exc:
            raise click.ClickException(str(exc)) from exc
        found = [Target(url)]
    else:
        db = _db(db_path)
        try:
            found = targets_mod.load(db, list(config.getlist("NOTIFY_URLS")))
        finally:
            db.close()
        if not found:
            raise click.ClickException("no notification targets (crawler notify add URL, or NOTIFY_URLS)")
    failed = 0
    digest = {"run": None, "counts": {}, "events": [], "test": True, "at": iso(now_utc())}
    for target in found:
        delivery = send(
            target,
            "Panda Watch: test notification",
            "This is a test message from Panda Watch: notifications reach you.\n",
            digest,
            config.getint("NOTIFY_ATTEMPTS", 3),
            config.getfloat("NOTIFY_RETRY_DELAY", 2.0),
        )
        state = "ok" if delivery.ok else f"FAILED after {delivery.attempts} attempt(s): {delivery.errors[-1]}"
        click.echo(f"{delivery.target}: {state}")
        failed += not delivery.ok
    if failed:
        raise SystemExit(1)


@notify.command("send")
@click.argument("run_id", type=int)
@db_option
@set_option
def notify_send(run_id, db_path, settings):
    """Send the digest of run RUN_ID (again) to every target. Example: crawler notify send 12"""
    config = _settings(settings)
    db = _db(db_path, create=False)
    try:
        if not db.execute("SELECT 1 FROM runs WHERE run_id = ?", [run_id]).fetchone():
            raise click.ClickException(f"no run {run_id} in this database (see `crawler runs`)")
        deliveries = notify_run(
            db,
            run_id,
            list(config.getlist("NOTIFY_URLS")),
            config.getint("NOTIFY_ATTEMPTS", 3),
            config.getfloat("NOTIFY_RETRY_DELAY", 2.0),
            config.getint("NOTIFY_MAX_LISTED", 50),
        )
    finally:
        db.close()
    if not deliveries:
        click.echo(f"nothing sent: run {run_id} has no change events for any target")
    for d in deliveries:
        click.echo(f"{d.target}: {'ok' if d.ok else 'FAILED: ' + d.errors[-1]} ({d.events} event(s))")
    if any(not d.ok for d in deliveries):
        raise SystemExit(1)
