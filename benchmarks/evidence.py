"""Benchmark section 7 (issue 13): crawl throughput with evidence (WARC) on, next to off.

The bench site is crawled into fresh databases, alternately with EVIDENCE off and on, so each pair is
measured moments apart on the same machine. The cost of the evidence is also given in bytes: the WARC
file against what the same answers weigh gzip-compressed (the replica does not compress, a real site
does), the issue's bound being 1.5x.
"""

from __future__ import annotations

import gzip
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from benchmarks.crawls import CrawlResult, crawl_articles
from benchmarks.report import Section, count, per_second

#: Issue 13: evidence on keeps at least 0.8x the throughput of evidence off.
EVIDENCE_GOAL = 0.8
#: WARC bytes at most this many times the compressed bytes downloaded.
SIZE_GOAL = 1.5


def _compressed_download(warc: Path) -> int:
    with open(warc, "rb") as handle:
        return sum(
            len(gzip.compress(record.raw_stream.read(), 6))
            for record in ArchiveIterator(handle)
            if record.rec_type == "response"
        )


def evidence_throughput(repeats: int, urls_file: Path, workdir: Path) -> Section:
    off: list[CrawlResult] = []
    on: list[CrawlResult] = []
    sizes: list[float] = []
    for repeat in range(repeats):
        off.append(crawl_articles(urls_file, workdir / f"evidence-off-{repeat}.db"))
        db = workdir / f"evidence-on-{repeat}" / "c.db"
        db.parent.mkdir(parents=True, exist_ok=True)
        on.append(crawl_articles(urls_file, db, {"EVIDENCE": "True"}))
        [warc] = list((db.parent / "warc").glob("*.warc.gz"))
        sizes.append(warc.stat().st_size / _compressed_download(warc))
    section = Section("7. Evidence (issue 13): crawl with WARC evidence on vs off")
    section.add_median("evidence off, pages/s", [c.pages_per_second for c in off], per_second)
    section.add_median("evidence on, pages/s", [c.pages_per_second for c in on], per_second)
    section.add_ratio(
        "on / off, pages/s",
        [c.pages_per_second for c in on],
        [c.pages_per_second for c in off],
        EVIDENCE_GOAL,
    )
    # CPU time of the crawl process (the WARC writer thread included) is steadier than wall-clock rates
    # on a shared machine.
    section.add_ratio(
        "on / off, CPU time of the crawl process",
        [c.process.cpu_seconds for c in on],
        [c.process.cpu_seconds for c in off],
    )
    section.add_median("WARC records per crawl", [c.stats.get("evidence/records", 0) for c in on], count)
    section.add(
        "WARC bytes / gzip-compressed bytes downloaded (worst run)",
        f"{max(sizes):.2f}x",
        (f"{v:.2f}x" for v in sizes),
        f"<= {SIZE_GOAL}x",
        max(sizes) <= SIZE_GOAL,
    )
    return section
