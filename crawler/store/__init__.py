"""SQLite storage: schema and views (`schema`), opening (`db`), change rules (`changes`),
writes (`writer`), read queries (`queries`)."""

from crawler.store.db import DEFAULT_DB, ENV_DB, open_db, resolve_db_path
from crawler.store.writer import Store

__all__ = ["DEFAULT_DB", "ENV_DB", "Store", "open_db", "resolve_db_path"]
