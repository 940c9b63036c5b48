"""`scrapy crawl` that checks spider arguments before the engine starts, and fails when nothing was stored.

Scrapy reports an exception raised while building a spider as a traceback; a user who mistyped a URL
deserves one line. Spiders with a `check_arguments(**kwargs)` classmethod are checked here and a bad
argument becomes Scrapy's own UsageError (message on stderr, exit code 2). A crawl that had targets
and stored none of them exits with code 1 (the summary and the run's warnings say why).
"""

from __future__ import annotations

import sys

from scrapy.commands.crawl import Command as ScrapyCrawl
from scrapy.exceptions import UsageError

from crawler.spiders.args import ArgumentError


class Command(ScrapyCrawl):
    crawler = None

    def _create_crawler(self, spname):
        self.crawler = super()._create_crawler(spname)
        return self.crawler

    def run(self, args, opts) -> None:
        if len(args) == 1 and self.crawler_process is not None:
            try:
                spider_cls = self.crawler_process.spider_loader.load(args[0])
            except KeyError:
                spider_cls = None  # Scrapy's own command says "Spider not found"
            check = getattr(spider_cls, "check_arguments", None)
            if check is not None:
                try:
                    check(settings=self.settings, **opts.spargs)
                except ArgumentError as exc:
                    raise UsageError(str(exc), print_help=False) from exc
        super().run(args, opts)
        stats = self.crawler.stats.get_stats() if self.crawler is not None and self.crawler.stats else {}
        targets = stats.get("article_spider/targets") or 0
        unchanged = any(k.startswith("article_spider/unchanged/") for k in stats)
        if targets and not stats.get("article_spider/articles") and not unchanged:
            print(
                f"Error: none of the {targets} target page(s) was stored (see the warnings)", file=sys.stderr
            )
            self.exitcode = 1
