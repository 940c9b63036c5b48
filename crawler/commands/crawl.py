"""`scrapy crawl` that checks spider arguments and the database before the engine starts, and whose
exit code says whether the run's items were stored.

Scrapy reports an exception raised while building a spider as a traceback; a user who mistyped a URL
deserves one line. Spiders with a `check_arguments(**kwargs)` classmethod are checked here and a bad
argument becomes Scrapy's own UsageError (message on stderr, exit code 2). The database file is checked
first as well (exit code 3 with one `Error:` line for a corrupt file, a directory, a missing folder).
A database that cannot be written (read-only, on a full disk) is one `Error:` line naming the path and
exit code 1 (the run could not be stored), before anything is fetched.

Scrapy exits 0 whenever the engine ran; here the run's status decides: `failed` (the store refused
writes; the items are in a spill file) exits 1, `interrupted` (Ctrl+C, SIGTERM) exits 130.
"""

from __future__ import annotations

import sys

from scrapy.commands.crawl import Command as ScrapyCrawl
from scrapy.exceptions import UsageError

from crawler.cli.dbfile import DatabaseFileError, check_db_path
from crawler.cli.errors import EXIT_ENVIRONMENT
from crawler.spiders.args import ArgumentError
from crawler.store import open_db, resolve_db_path
from crawler.store.db import StoreError, describe, write_transaction

EXIT_STATUS = {"failed": 1, "interrupted": 130}


def check_database(path) -> None:
    """Open the database (creating it, migrating it) and take the write lock once.

    :raises StoreError: it cannot be opened or written; the message names the path
    """
    db = open_db(path)
    try:
        with write_transaction(db):
            db.execute("CREATE TABLE IF NOT EXISTS _write_check (x)")
            db.execute("DROP TABLE _write_check")
    except Exception as exc:  # sqlite3.Error, OSError
        raise StoreError(describe(exc, path)) from exc
    finally:
        db.close()


class Command(ScrapyCrawl):
    def _create_crawler(self, spidercls):
        self._crawler = super()._create_crawler(spidercls)
        return self._crawler

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
            if spider_cls is not None and "crawler.pipelines.store.StorePipeline" in self.settings.getdict(
                "ITEM_PIPELINES"
            ):
                try:
                    check_database(resolve_db_path(self.settings.get("SQLITE_PATH")))
                except StoreError as exc:
                    print(f"Error: {exc}", file=sys.stderr)
                    self.exitcode = 1
                    return
        super().run(args, opts)
        crawler = getattr(self, "_crawler", None)
        status = crawler.stats.get_value("store/run_status") if crawler and crawler.stats else None
        if status in EXIT_STATUS and not self.exitcode:
            self.exitcode = EXIT_STATUS[status]
