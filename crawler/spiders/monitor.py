"""`scrapy crawl monitor`: crawl the watch-list articles that are due, by the age-decay schedule.

The most overdue first, at most MONITOR_MAX_ARTICLES per run; `-a all=1` checks every active entry.
Watch-list hosts count as named by the user (they may be anywhere, a local replica included).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from crawler.dates import iso, now_utc
from crawler.spiders.args import parse_choice
from crawler.spiders.article import ArticleSpider
from crawler.store import open_db, queries, resolve_db_path


class MonitorSpider(ArticleSpider):
    name = "monitor"

    def __init__(self, all: str | None = None, render: str | None = None, **kwargs: Any):  # noqa: A002
        # The targets come from the database once settings are known (from_crawler).
        self.check_everything = parse_choice("all", all, ("0", "1", "yes", "no"), "0") in ("1", "yes")
        super().__init__(url="https://placeholder.invalid/", render=render, **kwargs)
        self.targets = []
        self.user_hosts = set()

    @classmethod
    def check_arguments(
        cls,
        all: str | None = None,
        render: str | None = None,
        settings=None,  # noqa: A002
        **kwargs: Any,
    ) -> None:
        parse_choice("all", all, ("0", "1", "yes", "no"), "0")
        super().check_arguments(
            url="https://placeholder.invalid/", render=render, settings=settings, **kwargs
        )

    @classmethod
    def from_crawler(cls, crawler, *args: Any, **kwargs: Any):
        spider = super().from_crawler(crawler, *args, **kwargs)
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
        spider.user_hosts = {urlsplit(u).hostname for u in spider.targets}
        if not spider.targets:
            spider.logger.info("Nothing is due")
        return spider
