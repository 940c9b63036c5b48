"""Panda Watch: crawl article pages and their lazily loaded comments into SQLite, with change tracking."""

__version__ = "0.1.0"
