"""`crawler worker --redis URL`: one crawl worker taking article checks from the Redis queue.

The same as `scrapy crawl monitor -s REDIS_URL=URL`, run in this process (so the process a service
manager supervises, or a test kills, is the crawl itself). Workers write no database: what they find
goes to the results stream for `crawler ingest --redis URL`.
"""

from __future__ import annotations

import os
import sys

import click


@click.command("worker")
@click.option(
    "--redis", "redis_url", required=True, envvar="PANDAWATCH_REDIS", help="Redis URL (or $PANDAWATCH_REDIS)."
)
@click.option(
    "--idle-exit",
    type=float,
    default=0,
    show_default=True,
    help="Exit after this many seconds with nothing queued or leased anywhere (0: wait for work forever).",
)
@click.option("--checks", type=int, help="Article checks in flight at once (DISTRIBUTED_CHECKS_PER_WORKER).")
@click.option(
    "--render",
    type=click.Choice(["api", "auto", "browser"]),
    default="api",
    show_default=True,
    help="How comments are loaded.",
)
@click.option("-s", "--set", "settings", multiple=True, metavar="NAME=VALUE", help="A Scrapy setting.")
def worker(redis_url, idle_exit, checks, render, settings):
    """Crawl article checks from the shared queue until stopped (or idle, with --idle-exit).

    Example: crawler worker --redis redis://queue.example:6379/0 --idle-exit 300
    """
    from crawler.distributed.queue import unreachable

    problem = unreachable(redis_url)
    if problem:
        raise click.ClickException(problem)
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "crawler.settings")
    from scrapy.crawler import CrawlerProcess
    from scrapy.utils.project import get_project_settings

    project = get_project_settings()
    for pair in settings:
        name, sep, value = pair.partition("=")
        if not sep:
            raise click.BadParameter(f"{pair!r} is not NAME=VALUE", param_hint="-s")
        project.set(name, value, priority="cmdline")
    project.set("REDIS_URL", redis_url, priority="cmdline")
    project.set("MAX_IDLE_TIME_BEFORE_CLOSE", int(idle_exit), priority="cmdline")
    if checks:
        project.set("DISTRIBUTED_CHECKS_PER_WORKER", checks, priority="cmdline")
    process = CrawlerProcess(project)
    crawler = process.create_crawler("monitor")
    process.crawl(crawler, render=render)
    process.start()
    reason = crawler.stats.get_value("finish_reason")
    # "shutdown": stopped by SIGTERM or Ctrl-C, a normal way for a service to end
    sys.exit(0 if reason in ("finished", "shutdown", None) else 1)
