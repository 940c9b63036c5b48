"""Evidence retention: drop old WARC records by age and by total size, never the ones that back a
recorded deletion or edit.

A WARC file whose records all may go is deleted; one holding protected records is rewritten with only
those (each record is its own gzip member, so they are copied byte for byte, digests unchanged) and the
`evidence` rows are moved to their new offsets. Protected are: the record a `deleted` or `edited`
event links to, the record that last showed an edited item before the edit (its old content), and the
XHR answers recorded with a protected browser page.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import sqlite_utils

from crawler.dates import iso, now_utc
from crawler.evidence.records import resolve_warc
from crawler.evidence.warc import read_record_bytes, write_export

#: bytes a rewritten file may hold beyond its records (its warcinfo record)
WARCINFO_SLACK = 4096


@dataclass
class Pruned:
    files_deleted: int = 0
    files_rewritten: int = 0
    records_dropped: int = 0
    records_kept: int = 0
    bytes_before: int = 0
    bytes_after: int = 0

    def line(self) -> str:
        return (
            f"evidence retention: {self.records_dropped} record(s) dropped, {self.records_kept} protected "
            f"kept; {self.files_deleted} file(s) deleted, {self.files_rewritten} rewritten; "
            f"{self.bytes_before} -> {self.bytes_after} bytes"
        )


def protected_records(db: sqlite_utils.Database) -> set[str]:
    """Record ids that back a recorded deletion or edit (see the module docstring)."""
    keep = {
        row[0]
        for row in db.execute(
            "SELECT evidence_id FROM changes WHERE kind IN ('deleted', 'edited') AND evidence_id IS NOT NULL"
        )
    }
    # The old content of an edit: the last record showing the entity in an earlier run.
    for row in db.execute(
        "SELECT (SELECT i.record_id FROM evidence_items i JOIN evidence e ON e.record_id = i.record_id "
        "        WHERE i.entity_type = c.entity_type AND i.entity_id = c.entity_id AND i.run_id < c.run_id "
        "        ORDER BY i.run_id DESC, e.fetched_at DESC LIMIT 1) "
        "FROM changes c WHERE c.kind = 'edited'"
    ):
        if row[0]:
            keep.add(row[0])
    if keep:
        marks = ",".join("?" * len(keep))
        keep |= {
            row[0]
            for row in db.execute(
                f"SELECT record_id FROM evidence WHERE parent_record_id IN ({marks})", list(keep)
            )
        }
    return keep


def _files(db: sqlite_utils.Database, db_path: Path) -> list[dict]:
    rows = db.query(
        "SELECT warc_path, min(fetched_at) AS first_at, count(*) AS records, sum(length) AS record_bytes "
        "FROM evidence GROUP BY warc_path ORDER BY first_at"
    )
    files = []
    for row in rows:
        path = resolve_warc(db_path, row["warc_path"])
        row["path"] = path
        row["size"] = path.stat().st_size if path.exists() else 0
        files.append(row)
    return files


def prune(
    db: sqlite_utils.Database,
    db_path: Path,
    max_age: timedelta | None,
    max_bytes: int = 0,
    now: datetime | None = None,
) -> Pruned:
    """Apply the retention rules; returns what was done."""
    now = now or now_utc()
    files = _files(db, db_path)
    result = Pruned(bytes_before=sum(f["size"] for f in files))
    chosen: list[dict] = []
    if max_age is not None:
        cutoff = iso(now - max_age)
        chosen = [f for f in files if f["first_at"] < cutoff]
    if max_bytes:
        total = result.bytes_before - sum(f["size"] for f in chosen)
        for candidate in files:  # oldest first
            if total <= max_bytes:
                break
            if candidate not in chosen:
                chosen.append(candidate)
                total -= candidate["size"]
    keep = protected_records(db) if chosen else set()
    for entry in chosen:
        _prune_file(db, entry, keep, result)
    result.bytes_after = sum(f["size"] for f in _files(db, db_path))
    return result


def _prune_file(db: sqlite_utils.Database, entry: dict, keep: set[str], result: Pruned) -> None:
    rows = list(db.query("SELECT * FROM evidence WHERE warc_path = ? ORDER BY offset", [entry["warc_path"]]))
    kept = [r for r in rows if r["record_id"] in keep]
    dropped = [r["record_id"] for r in rows if r["record_id"] not in keep]
    path: Path = entry["path"]
    if not dropped and entry["size"] <= sum(r["length"] for r in kept) + WARCINFO_SLACK:
        result.records_kept += len(kept)
        return  # already holds nothing but protected records
    if kept and path.exists():
        temporary = path.with_name(path.name + ".pruning")
        chunks = [read_record_bytes(path, r["offset"], r["length"]) for r in kept]
        write_export(temporary, [], f"protected records of {path.name} (retention)")
        offsets = []
        with open(temporary, "ab") as handle:
            for chunk in chunks:
                offsets.append(handle.tell())
                handle.write(chunk)
        with db.conn:
            for row, offset in zip(kept, offsets, strict=True):
                db.execute("UPDATE evidence SET offset = ? WHERE record_id = ?", [offset, row["record_id"]])
            _delete_rows(db, dropped)
        os.replace(temporary, path)
        result.files_rewritten += 1
    else:
        with db.conn:
            _delete_rows(db, dropped)
        if path.exists():
            path.unlink()
        result.files_deleted += 1
    result.records_dropped += len(dropped)
    result.records_kept += len(kept)


def _delete_rows(db: sqlite_utils.Database, record_ids: list[str]) -> None:
    for start in range(0, len(record_ids), 500):
        chunk = record_ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        db.execute(f"DELETE FROM evidence WHERE record_id IN ({marks})", chunk)
        db.execute(f"DELETE FROM evidence_items WHERE record_id IN ({marks})", chunk)
