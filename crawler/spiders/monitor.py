"""`scrapy crawl monitor`: crawl the watch-list articles that are due, by the age-decay schedule.

The most overdue first, at most MONITOR_MAX_ARTICLES per run; `-a all=1` checks every active entry.
Watch-list hosts count as named by the user (they may be anywhere, a local replica included).
With `-s REDIS_URL=…` it is a scale-out worker instead: article checks come from the Redis queue and
results go to the Redis stream (crawler/distributed/spider.py).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from crawler.dates import iso, now_utc
from crawler.distributed.spider import RedisChecks
from crawler.hostguard import origins
from crawler.spiders.args import ArgumentError, parse_choice
from crawler.spiders.article import ArticleSpider
from crawler.store import open_db, queries, resolve_db_path


class MonitorSpider(RedisChecks, ArticleSpider):
    name = "monitor"

    def __init__(self, all: str | None = None, **kwargs: Any):  # noqa: A002 - the argument users type
        self.check_everything = _everything(all)
        super().__init__(**kwargs)

    @classmethod
    def targets_from(cls, url: str | None, urls_file: str | None) -> list[str]:
        if url or urls_file:
            raise ArgumentError("monitor crawls the watch list: add URLs with `crawler watch add URL`")
        return []  # read from the database once the settings are known (from_crawler)

    @classmethod
    def check_arguments(cls, all: str | None = None, **kwargs: Any) -> None:  # noqa: A002
        _everything(all)
        super().check_arguments(**kwargs)

    @classmethod
    def update_settings(cls, settings) -> None:
        super().update_settings(settings)
        # a run that cron repeats must end: the whole-run limit, unless the user set one
        if not settings.getfloat("CLOSESPIDER_TIMEOUT"):
            settings.set(
                "CLOSESPIDER_TIMEOUT", settings.getfloat("MONITOR_RUN_TIME_LIMIT", 0), priority="spider"
            )

    @classmethod
    def from_crawler(cls, crawler, *args: Any, **kwargs: Any):
        spider = super().from_crawler(crawler, *args, **kwargs)
        if spider.worker_mode:
            return spider  # -s REDIS_URL=…: checks come from the Redis queue (crawler/distributed)
        db = open_db(resolve_db_path(crawler.settings.get("SQLITE_PATH")))
        try:
            due = queries.due_watch_entries(
                db,
                iso(now_utc()),
                crawler.settings.getint("MONITOR_MAX_ARTICLES", 500),
                spider.check_everything,
            )
        finally:
            db.close()
        spider.targets = [row["url"] for row in due]
        # Watch-list hosts were named by the user (by hand, or as the host of a discovery source).
        spider.user_hosts.update(urlsplit(u).hostname for u in spider.targets)
        spider.user_origins.update(origins(spider.targets))
        if not spider.targets:
            spider.logger.info("Nothing is due")
        return spider


def _everything(value: str | None) -> bool:
    return parse_choice("all", value, ("0", "1", "yes", "no"), "0") in ("1", "yes")
