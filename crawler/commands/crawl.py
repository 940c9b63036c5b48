"""`scrapy crawl` that checks spider arguments before the engine starts.

Scrapy reports an exception raised while building a spider as a traceback; a user who mistyped a URL
deserves one line. Spiders with a `check_arguments(**kwargs)` classmethod are checked here and a bad
argument becomes Scrapy's own UsageError (message on stderr, exit code 2). The database file is checked
first as well (exit code 3 with one `Error:` line for a corrupt file, a directory, a missing folder).
"""

from __future__ import annotations

import sys

from scrapy.commands.crawl import Command as ScrapyCrawl
from scrapy.exceptions import UsageError

from crawler.cli.dbfile import DatabaseFileError, check_db_path
from crawler.cli.errors import EXIT_ENVIRONMENT
from crawler.spiders.args import ArgumentError
from crawler.store import resolve_db_path


class Command(ScrapyCrawl):
    def run(self, args, opts) -> None:
        try:
            # a corrupt file, a directory or a missing folder: one line, before any component opens it
            check_db_path(resolve_db_path(self.settings.get("SQLITE_PATH")), create=True)
        except DatabaseFileError as exc:
            print(f"Error: {exc}", file=sys.stderr)
            self.exitcode = EXIT_ENVIRONMENT
            return
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
