"""Stable identifiers of change events, shared by feeds and notification digests.

A change event is identified by its run and its change id, both fixed once written; the tag: URI
(RFC 4151) built from them is the same in every export of the same database.
"""

from __future__ import annotations

TAG_AUTHORITY = "pandawatch"
TAG_DATE = "2024"


def change_tag(run_id: int | None, change_id: int) -> str:
    return f"tag:{TAG_AUTHORITY},{TAG_DATE}:run-{run_id if run_id is not None else 0}/change-{change_id}"


def feed_tag(scope: str) -> str:
    return f"tag:{TAG_AUTHORITY},{TAG_DATE}:feed/{scope}"
