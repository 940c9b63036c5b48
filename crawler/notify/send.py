"""Sending digests with Apprise: bounded retries, every outcome logged and recorded on the run row.

A notification never fails a crawl: a target that cannot be reached is retried NOTIFY_ATTEMPTS times
with a doubling pause, then given up; the outcome of every target is kept in `runs.notified` (JSON)
and a failure also becomes one of the run's warnings. The run's status is never touched.

JSON webhooks (json://, jsons://) get the digest as structured JSON under the key "pandawatch" next to
Apprise's usual fields (version, title, message, type); every other service gets the text body, sent
as plain text so services that render HTML or Markdown escape it.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import sqlite_utils

from crawler.dates import iso, now_utc
from crawler.notify import targets as targets_mod
from crawler.notify.digest import json_body, run_events, text_body
from crawler.notify.targets import Target
from crawler.store import open_db

logger = logging.getLogger(__name__)
JSON_KEY = "pandawatch"


@dataclass
class Delivery:
    target: str  # redacted URL
    ok: bool
    attempts: int
    events: int
    at: str
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "target": self.target,
            "ok": self.ok,
            "attempts": self.attempts,
            "events": self.events,
            "at": self.at,
            "errors": self.errors,
        }


def send(
    target: Target, title: str, body: str, digest: dict, attempts: int = 3, delay: float = 2.0
) -> Delivery:
    """Send one message to one target, retrying up to `attempts` times in all."""
    errors: list[str] = []
    redacted = target.redacted()
    attempts = max(1, attempts)
    import apprise  # here: it takes ~0.15 s to import, which every `crawler` command paid at start

    for attempt in range(1, attempts + 1):
        plugin = apprise.Apprise.instantiate(target.url)
        if plugin is None:
            errors.append("not a URL Apprise can send to")
            break
        if hasattr(plugin, "payload_extras"):  # JSON webhooks: the digest itself, structured
            plugin.payload_extras[JSON_KEY] = digest
        with apprise.LogCapture(level=logging.WARNING) as captured:
            try:
                ok = plugin.notify(body=body, title=title, body_format=apprise.NotifyFormat.TEXT)
            except Exception as exc:  # a plugin bug must not take the run down with it
                ok = False
                errors.append(f"{type(exc).__name__}: {exc}")
            log = captured.getvalue().strip()
        if ok:
            logger.info("Notified %s (attempt %d)", redacted, attempt)
            return Delivery(redacted, True, attempt, digest_events(digest), iso(now_utc()), errors)
        message = log.splitlines()[-1] if log else "Apprise reported a failure"
        errors.append(f"attempt {attempt}: {message}")
        logger.warning(
            "Notification to %s failed (attempt %d of %d): %s", redacted, attempt, attempts, message
        )
        if attempt < attempts:
            time.sleep(delay * 2 ** (attempt - 1))
    return Delivery(redacted, False, attempt, digest_events(digest), iso(now_utc()), errors)


def digest_events(digest: dict) -> int:
    return len(digest.get("events", []))


def notify_run(
    db: sqlite_utils.Database,
    run_id: int,
    setting_urls: list[str],
    attempts: int = 3,
    delay: float = 2.0,
    max_listed: int = 50,
) -> list[Delivery]:
    """One digest of the run's change events to each target that has events after its filters."""
    run = next(db.query("SELECT * FROM runs WHERE run_id = ?", [run_id]), None)
    if run is None:
        return []
    events = run_events(db, run_id)
    deliveries = []
    if events:
        for target in targets_mod.load(db, setting_urls):
            chosen = targets_mod.selected(target, events)
            if not chosen:
                continue
            title, body = text_body(run, chosen, max_listed)
            deliveries.append(send(target, title, body, json_body(run, chosen), attempts, delay))
    if deliveries:
        _record(db, run, deliveries)
    return deliveries


def _record(db: sqlite_utils.Database, run: dict, deliveries: list[Delivery]) -> None:
    if "notified" not in db["runs"].columns_dict:
        db["runs"].add_column("notified", str)  # a database made before notifications existed
    warnings = json.loads(run.get("warnings") or "[]")
    for d in deliveries:
        if not d.ok:
            warnings.append(
                f"notification to {d.target} failed after {d.attempts} attempt(s): {d.errors[-1]}"
            )
    with db.conn:
        db.execute(
            "UPDATE runs SET notified = ?, warnings = ? WHERE run_id = ?",
            [json.dumps([d.as_dict() for d in deliveries]), json.dumps(warnings), run["run_id"]],
        )


def notify_runs(db_path: Path, first_run_id: int, settings) -> list[Delivery]:
    """`crawler run`'s hook: a digest for each run from `first_run_id` on that recorded changes."""
    urls = list(settings.getlist("NOTIFY_URLS"))
    db = open_db(db_path)
    try:
        run_ids = [
            r[0]
            for r in db.execute(
                "SELECT run_id FROM runs WHERE run_id >= ? AND changes_recorded > 0 ORDER BY run_id",
                [first_run_id],
            )
        ]
        out = []
        for run_id in run_ids:
            out += notify_run(
                db,
                run_id,
                urls,
                settings.getint("NOTIFY_ATTEMPTS", 3),
                settings.getfloat("NOTIFY_RETRY_DELAY", 2.0),
                settings.getint("NOTIFY_MAX_LISTED", 50),
            )
        return out
    finally:
        db.close()
