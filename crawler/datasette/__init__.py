"""Datasette integration: metadata with canned queries over the public tables and views.

`metadata.json` is written for a database file named `crawl.db` (Datasette keys metadata by database
name); `metadata_for(path)` gives the same metadata for any other file name.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

TEMPLATE_DB = "crawl"


def metadata() -> dict:
    return json.loads(resources.files(__package__).joinpath("metadata.json").read_text(encoding="utf-8"))


def metadata_for(db_path: str | Path) -> dict:
    """The shipped metadata, re-keyed to the database name Datasette derives from `db_path`."""
    data = metadata()
    data["databases"] = {Path(db_path).stem: data["databases"][TEMPLATE_DB]}
    return data
