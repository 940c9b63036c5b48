"""The `evidence` tables: writing record rows and sightings, and reading a comment's evidence back.

`evidence` has one row per WARC response record (where it is: file, offset, length; what it is: URL,
status, payload SHA-256, when fetched, in which run). `evidence_items` says which records showed which
comment, article or list item. Change events and current rows carry `evidence_id`, the record their
data came from; a `deleted` event carries the record that last showed the comment's text.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict
from pathlib import Path

import sqlite_utils

from crawler.evidence.warc import WrittenRecord, read_payload, read_record_bytes, sha256_hex, write_export

BATCH = 500


def store_records(db: sqlite_utils.Database, rows: Iterable[WrittenRecord], run_id: int | None) -> int:
    """Insert record rows (one transaction); returns how many."""
    values = [{**asdict(r), "run_id": run_id} for r in rows]
    if not values:
        return 0
    with db.conn:
        db["evidence"].insert_all(values, pk="record_id", replace=True, batch_size=BATCH)
    return len(values)


def store_sightings(db: sqlite_utils.Database, sightings: list[tuple[str, str, str]], run_id) -> int:
    """Insert (record_id, entity_type, entity_id) sightings of one run (one transaction)."""
    with db.conn:
        db.conn.executemany(
            "INSERT OR IGNORE INTO evidence_items (record_id, entity_type, entity_id, run_id) "
            "VALUES (?, ?, ?, ?)",
            [(*s, run_id) for s in sightings],
        )
    return len(sightings)


def resolve_warc(db_path: Path, warc_path: str) -> Path:
    """A stored WARC path (relative to the database's directory, or absolute) as a file path."""
    path = Path(warc_path)
    return path if path.is_absolute() else db_path.parent / path


def find_comment_ids(db: sqlite_utils.Database, comment_id: str) -> list[str]:
    """The stored comment ids meant by `comment_id`: exact, else the site's own id (`site:ID`)."""
    exact = [r[0] for r in db.execute("SELECT comment_id FROM comments WHERE comment_id = ?", [comment_id])]
    if exact:
        return exact
    return [
        r[0]
        for r in db.execute(
            "SELECT comment_id FROM comments WHERE comment_id LIKE ? ESCAPE '\\'",
            ["%:" + comment_id.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")],
        )
    ]


def sightings(db: sqlite_utils.Database, entity_type: str, entity_id: str) -> list[dict]:
    """Every record that showed the entity, oldest first, with the run it belongs to.

    An item read from a page rendered in Chromium is linked to the page's record; the XHR answers that
    page received (where the comments it shows came from) are listed with it, `via` naming the page.
    """
    return list(
        db.query(
            "SELECT e.*, i.run_id AS seen_in_run, NULL AS via FROM evidence_items i "
            "JOIN evidence e ON e.record_id = i.record_id "
            "WHERE i.entity_type = :type AND i.entity_id = :id "
            "UNION ALL "
            "SELECT x.*, i.run_id AS seen_in_run, i.record_id AS via FROM evidence_items i "
            "JOIN evidence x ON x.parent_record_id = i.record_id "
            "WHERE i.entity_type = :type AND i.entity_id = :id "
            "ORDER BY fetched_at, offset",
            {"type": entity_type, "id": entity_id},
        )
    )


def change_evidence(db: sqlite_utils.Database, entity_type: str, entity_id: str) -> list[dict]:
    """The entity's change events with the record each one links to (NULL when none was kept)."""
    return list(
        db.query(
            "SELECT c.change_id, c.run_id, c.at, c.kind, c.field, c.evidence_id, e.warc_path, e.offset, "
            "e.sha256, e.url AS record_url, e.fetched_at AS record_fetched_at, e.run_id AS record_run_id "
            "FROM changes c LEFT JOIN evidence e ON e.record_id = c.evidence_id "
            "WHERE c.entity_type = ? AND c.entity_id = ? ORDER BY c.change_id",
            [entity_type, entity_id],
        )
    )


def verify(db_path: Path, row: dict) -> bool:
    """Whether the record's payload in its WARC file still hashes to the stored SHA-256."""
    path = resolve_warc(db_path, row["warc_path"])
    if not path.exists():
        return False
    _, payload = read_payload(path, row["offset"])
    return sha256_hex(payload) == row["sha256"]


def export(db_path: Path, rows: list[dict], target: Path, description: str) -> int:
    """Copy the response records (byte for byte, as stored) into one new WARC file."""
    chunks, seen = [], set()
    for row in rows:
        if row["record_id"] in seen:
            continue
        seen.add(row["record_id"])
        path = resolve_warc(db_path, row["warc_path"])
        chunks.append(read_record_bytes(path, row["offset"], row["length"]))
    write_export(target, chunks, description)
    return len(chunks)
