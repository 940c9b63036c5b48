"""Issue 9's benchmark: the generic adapter's pages/s next to the Bored Panda adapter's, same saved pages.

Both adapters read the same saved Bored Panda pages (tests/fixtures/boredpanda/*/input.html) through
the one front door the spider uses, `crawler.sites.registry.parse_page`, forced with `site=`: the
Bored Panda adapter reads them with fixed selectors, the generic one with trafilatura / htmldate and
the static comment readers. Rates are pages per second of CPU time. The two are timed in alternation,
so each pair shares the machine's state, and the ratio is the median of the pairs' ratios (goal:
generic at least 0.3x). The real pages of tests/fixtures/real are timed as a third row, each read by
the adapter the registry resolves for it.

`python -m benchmarks.adapters [--quick]` runs it alone; `python -m benchmarks.run --only 7` as a
section of the full run. Nothing here is part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.report import Section, count, per_second
from crawler.sites.errors import NotAnArticle
from crawler.sites.registry import parse_page

ROOT = Path(__file__).resolve().parent.parent
BOREDPANDA_PAGES = ROOT / "tests" / "fixtures" / "boredpanda"
REAL_PAGES = ROOT / "tests" / "fixtures" / "real"
#: Issue 9: the generic path at least 0.3x the Bored Panda path (trafilatura costs more than selectors).
GENERIC_GOAL = 0.3


@dataclass(frozen=True)
class SavedPage:
    name: str
    url: str
    html: bytes


def boredpanda_pages() -> list[SavedPage]:
    """The saved Bored Panda article pages (the comment-API answers are JSON, not pages)."""
    pages = []
    for folder in sorted(BOREDPANDA_PAGES.iterdir()):
        page, meta = folder / "input.html", folder / "meta.json"
        if page.is_file() and meta.is_file():
            url = json.loads(meta.read_text(encoding="utf-8"))["url"]
            pages.append(SavedPage(folder.name, url, page.read_bytes()))
    return pages


def real_pages() -> list[SavedPage]:
    pages = []
    for folder in sorted(REAL_PAGES.iterdir()):
        expected = folder / "expected.json"
        if expected.is_file():
            url = json.loads(expected.read_text(encoding="utf-8"))["url"]
            pages.append(SavedPage(folder.name, url, (folder / "page.html").read_bytes()))
    return pages


def read(page: SavedPage, site: str | None):
    """The page as the adapter reads it, or None when the adapter says it holds no article."""
    try:
        return parse_page(page.html, page.url, site=site)
    except NotAnArticle:
        # a refusal is still a page read (a later page of a list article carries list items only)
        return None


def pages_per_second(pages: list[SavedPage], site: str | None, rounds: int) -> float:
    """Pages read per second of this process's CPU time over `rounds` passes through `pages`.

    CPU time, not wall time: reading is single-threaded and CPU-bound, and on a shared machine the
    wall clock mostly measures the other processes.
    """
    started = time.process_time()
    for _ in range(rounds):
        for page in pages:
            read(page, site)
    return rounds * len(pages) / (time.process_time() - started)


def read_by(pages: list[SavedPage], site: str | None) -> tuple[int, int, list[str], set[str]]:
    """Pages with a title, pages with a body, pages refused, and which adapters read them."""
    results = {page.name: read(page, site) for page in pages}
    done = [p for p in results.values() if p is not None]
    refused = [name for name, p in results.items() if p is None]
    return (
        sum(bool(p.article.title) for p in done),
        sum(bool(p.article.body_text) for p in done),
        refused,
        {p.site for p in done},
    )


def adapter_throughput(repeats: int = 5, rounds: int = 20) -> Section:
    """Section 7: generic vs Bored Panda adapter pages/s on the same saved pages, and on real pages.

    `rounds` passes through the Bored Panda pages per measure (a pass is only a few pages), a sixth of
    that through the real pages.
    """
    real_rounds = max(1, rounds // 6)
    panda, real = boredpanda_pages(), real_pages()
    for site in ("boredpanda", "generic", None):  # warm-up: imports, lazily built models, caches
        pages_per_second(panda if site else real, site, 1)
    bp_rates, generic_rates, real_rates = [], [], []
    for _ in range(repeats):
        bp_rates.append(pages_per_second(panda, "boredpanda", rounds))
        generic_rates.append(pages_per_second(panda, "generic", rounds))
        real_rates.append(pages_per_second(real, None, real_rounds))
    section = Section(
        f"7. Adapters (issue 9): {len(panda)} saved Bored Panda pages x {rounds} passes, "
        f"{len(real)} real pages x {real_rounds}; {repeats} runs"
    )
    section.add_median("Bored Panda adapter, pages/s of CPU (Bored Panda pages)", bp_rates, per_second)
    section.add_median("generic adapter, pages/s of CPU (same pages)", generic_rates, per_second)
    section.add_ratio("generic / Bored Panda", generic_rates, bp_rates, GENERIC_GOAL)
    section.add_median("resolved adapter, pages/s of CPU (real pages)", real_rates, per_second)
    for label, pages, site in (("Bored Panda", panda, "boredpanda"), ("generic", panda, "generic")):
        titled, bodied, refused, sites = read_by(pages, site)
        section.add(
            f"{label} adapter: pages with a title / a body",
            f"{count(titled)} / {count(bodied)} of {count(len(pages))}",
        )
        if refused:
            section.notes.append(f"{label} adapter refused as not an article: {', '.join(refused)}")
        if sites - {site}:
            section.notes.append(f"{label} run read by other adapters too: {sorted(sites)}")
    sizes = (
        sum(len(p.html) for p in panda) / len(panda) / 1e3,
        sum(len(p.html) for p in real) / len(real) / 1e3,
    )
    section.notes.append(f"mean page size: Bored Panda pages {sizes[0]:.0f} kB, real pages {sizes[1]:.0f} kB")
    section.notes.append(
        "each adapter through crawler.sites.registry.parse_page(html, url, site=...), in-process"
    )
    return section


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.adapters", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--quick", action="store_true", help="2 runs of 6 passes instead of 5 of 20")
    arguments = parser.parse_args(argv)
    section = adapter_throughput(*((2, 6) if arguments.quick else (5, 20)))
    print(section.render())
    return 0


if __name__ == "__main__":
    sys.exit(main())
