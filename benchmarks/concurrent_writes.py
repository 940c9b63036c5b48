"""Section 8 (issue 10): Store throughput with two writers into one database next to one writer.

Two processes (as two crawls would be) write their own synthetic articles and comments into one SQLite
file at once, in small batches (STORE_BATCH_SIZE=50, where the lost batches of issue 10 showed), while
a single process writing the same number of rows alone is the baseline. Every row must arrive: the
writers wait for each other (BEGIN IMMEDIATE and the busy timeout) instead of losing batches.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import sqlite3
import time
from pathlib import Path

from benchmarks import synthetic
from benchmarks.report import Section, count, per_second
from crawler.store import Store

BATCH = 50


def _items(n_articles: int, comments_each: int, writer: int) -> list:
    """The synthetic items with ids of this writer's own (so two writers never share a row)."""
    items = synthetic.items(n_articles, comments_each, seed=writer)
    out = []
    for item in items:
        fields = {"article_id": f"w{writer}-{item.article_id}"}
        if hasattr(item, "comment_id"):
            fields["comment_id"] = f"w{writer}-{item.comment_id}"
            if item.parent_id:
                fields["parent_id"] = f"w{writer}-{item.parent_id}"
        out.append(dataclasses.replace(item, **fields))
    return out


def _write(path: str, writer: int, n_articles: int, comments_each: int, start_at: float) -> float:
    """One writer process: wait for the common start, write everything, return its seconds."""
    items = _items(n_articles, comments_each, writer)
    store = Store.open(path, batch_size=BATCH)
    try:
        while time.time() < start_at:
            time.sleep(0.001)
        started = time.perf_counter()
        store.start_run(f"writer-{writer}")
        for item in items:
            store.add(item)
        status = store.finish_run("finished")
        assert status == "ok", status
        return time.perf_counter() - started
    finally:
        store.close()


def _run(path: Path, writers: int, n_articles: int, comments_each: int) -> float:
    """Wall seconds from the common start until the last writer is done."""
    context = multiprocessing.get_context("spawn")
    start_at = time.time() + 3.0  # every process imported and opened before the clock starts
    with context.Pool(writers) as pool:
        results = [
            pool.apply_async(_write, (str(path), w, n_articles, comments_each, start_at))
            for w in range(writers)
        ]
        return max(r.get(timeout=600) for r in results)


def _comments(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT count(*) FROM comments").fetchone()[0]
    finally:
        conn.close()


def concurrent_writers(n_articles: int, comments_each: int, repeats: int, workdir: Path) -> Section:
    per_writer = len(synthetic.items(n_articles, comments_each))
    one, two, lost = [], [], []
    for repeat in range(repeats):
        alone = workdir / f"one-writer-{repeat}.db"
        one.append(per_writer * 2 / _run(alone, 1, n_articles * 2, comments_each))
        shared = workdir / f"two-writers-{repeat}.db"
        two.append(per_writer * 2 / _run(shared, 2, n_articles, comments_each))
        lost.append(n_articles * comments_each * 2 - _comments(shared))
    section = Section(
        f"8. Concurrent writers (issue 10): {count(per_writer * 2)} rows in batches of {BATCH}, "
        "one writer vs two at once into one database"
    )
    section.add_median("(a) one writer, rows/s", one, per_second)
    section.add_median("(b) two writers at once, rows/s (both together)", two, per_second)
    section.add_ratio("(b) / (a)", two, one)
    section.add_zero("(b) comments lost", lost)
    section.notes.append(
        "each writer is its own process, as two crawls are; they wait for each other's batches"
    )
    return section
