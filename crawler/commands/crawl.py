"""`scrapy crawl` that checks spider arguments before the engine starts.

Scrapy reports an exception raised while building a spider as a traceback; a user who mistyped a URL
deserves one line. Spiders with a `check_arguments(**kwargs)` classmethod are checked here and a bad
argument becomes Scrapy's own UsageError (message on stderr, exit code 2).
"""

from __future__ import annotations

from scrapy.commands.crawl import Command as ScrapyCrawl
from scrapy.exceptions import UsageError

from crawler.spiders.args import ArgumentError


class Command(ScrapyCrawl):
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
