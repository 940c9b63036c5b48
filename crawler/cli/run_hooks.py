"""What `crawler run` adds around its crawls: evidence on by default, then digests and retention.

Kept out of the run command itself so the command stays a list of steps: the crawls get EVIDENCE=True
unless the user set EVIDENCE (with -s or $PANDAWATCH_EVIDENCE); once they are done and before the
report is read, each run with change events is sent as one digest to the notification targets, and
the evidence retention rules are applied. Neither step can fail the run: their problems are logged,
recorded on the run row and printed.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from crawler.cli.project_settings import project_settings
from crawler.evidence.retention import prune
from crawler.monitor.schedule import parse_duration
from crawler.notify.send import notify_runs
from crawler.store import open_db

logger = logging.getLogger(__name__)


def crawl_settings(extra: dict) -> dict:
    """The `-s` settings of the run's crawls: EVIDENCE on unless the user said otherwise."""
    if "EVIDENCE" not in extra and "PANDAWATCH_EVIDENCE" not in os.environ:
        return {**extra, "EVIDENCE": "True"}
    return extra


def after_crawls(db_path: Path, first_run_id: int, extra: dict) -> list[str]:
    """Notify and prune; returns lines for the run's report."""
    settings = project_settings(extra)
    lines = []
    try:
        for delivery in notify_runs(db_path, first_run_id, settings):
            state = "sent" if delivery.ok else f"FAILED after {delivery.attempts} attempt(s)"
            lines.append(f"notification: {delivery.target}: {state} ({delivery.events} event(s))")
    except Exception as exc:  # notifications never fail a run
        logger.exception("Notifications failed")
        lines.append(f"notification: error: {type(exc).__name__}: {exc}")
    if settings.getbool("EVIDENCE"):
        try:
            age = settings.get("EVIDENCE_MAX_AGE")
            db = open_db(db_path)
            try:
                result = prune(
                    db, db_path, parse_duration(age) if age else None, settings.getint("EVIDENCE_MAX_BYTES")
                )
            finally:
                db.close()
            if result.records_dropped:
                lines.append(result.line())
        except Exception as exc:  # retention never fails a run either
            logger.exception("Evidence retention failed")
            lines.append(f"evidence retention: error: {type(exc).__name__}: {exc}")
    return lines
