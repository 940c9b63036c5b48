"""Sections 4 and 5 (issue 5): the browser path against the API path, and a long browser crawl's memory.

Section 4 crawls the demo site's 1,200-comment thread (`big-thread-article`) on both paths, one right
after the other, and compares their comments/s and what they stored. Section 5 crawls a bench site of
browser pages while sampling the memory of the whole process tree (Scrapy, Playwright's driver and
every Chromium process) from /proc, maps each sample to the pages done so far, and checks that no
Chromium process outlives the crawl.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from statistics import median

from benchmarks import processes
from benchmarks.crawls import CrawlResult, crawl_articles, serve_bench_site, serve_site, write_urls_file
from benchmarks.report import Section, count, per_second, seconds, size
from benchmarks.results import query, stored_comments, thread_loads_so_far
from crawler.replica import build_demo_site
from crawler.replica.demo_site import BIG_THREAD_SLUG

#: Issue 5: the API path at least 1,000 comments/s, and at least 10x the browser path.
API_COMMENTS_GOAL = 1000.0
API_OVER_BROWSER_GOAL = 10.0
#: Issue 5: Scrapy and all its Chromium processes under 1.5 GB (10^9 bytes) at their peak ...
MEMORY_GOAL = 1.5e9
#: ... and no growth as the crawl goes on: memory near its end at most 1.2x memory near page 20.
GROWTH_GOAL = 1.2
#: Section 5's bench site: comments per article page, and the browser settings of the issue.
BROWSER_COMMENTS = 20
BROWSER_SETTINGS = {"CONCURRENT_REQUESTS_PER_DOMAIN": "4", "BROWSER_CONTEXT_PAGES": "20"}
#: Items the spider emits for one rendered page besides its comments: the article and its thread.
ITEMS_BESIDES_COMMENTS = 2
#: The early point of the growth check, as a share of the pages (page 20 of 100; the late point is
#: the last page), and how many samples, the nearest to each point in pages done, give its median.
EARLY_SHARE, WINDOW_SAMPLES = 0.2, 5
#: Pss is read at every PSS_EVERY-th sample (about every 0.8 s), VmRSS at every one.
PSS_EVERY = 3
#: How long after the crawl exits no Chromium process of it may be left.
LEFTOVER_WAIT_SECONDS = 10


# -- section 4: API vs browser ------------------------------------------------------------------


@dataclass
class PathRuns:
    """The crawls of the thread on one path ("api" or "browser"), and the comments each stored."""

    render: str
    crawls: list[CrawlResult] = field(default_factory=list)
    stored: list[set[tuple]] = field(default_factory=list)

    @property
    def name(self) -> str:
        return "API" if self.render == "api" else self.render

    def crawl(self, urls_file: Path, db_path: Path) -> None:
        """Crawl the thread once more into a fresh `db_path`, and read back what it stored."""
        self.crawls.append(crawl_articles(urls_file, db_path, render=self.render))
        self.stored.append(stored_comments(db_path))

    def sizes(self) -> list[int]:
        return [len(comments) for comments in self.stored]

    def rates(self, wall: bool = False) -> list[float]:
        """Comments stored per second of Scrapy's elapsed_time_seconds, or of the process's wall time."""
        return [
            len(comments) / (crawl.process.wall_seconds if wall else crawl.stats["elapsed_time_seconds"])
            for crawl, comments in zip(self.crawls, self.stored, strict=True)
        ]


def _add_path_rows(section: Section, path: PathRuns, expected: int, goal: float | None) -> None:
    """Rows of one path: comments stored, times, responses, and comments/s both ways."""
    crawls, name = path.crawls, path.name
    sizes = path.sizes()
    section.add(
        f"{name}: comments stored",
        count(min(sizes)),
        map(count, sizes),
        count(expected),
        all(n == expected for n in sizes),
    )
    elapsed = [crawl.stats["elapsed_time_seconds"] for crawl in crawls]
    section.add_median(f"{name}: crawl time (Scrapy's elapsed_time_seconds)", elapsed, seconds)
    section.add_median(
        f"{name}: wall time of the crawl process", [c.process.wall_seconds for c in crawls], seconds
    )
    cpu = [crawl.process.cpu_seconds for crawl in crawls]
    section.add_median(f"{name}: CPU time, crawl process and children", cpu, seconds)
    section.add_median(f"{name}: responses", [c.stats["downloader/response_count"] for c in crawls], count)
    section.add_median(f"{name}: comments/s (stored / elapsed_time_seconds)", path.rates(), per_second, goal)
    section.add_median(f"{name}: comments/s (stored / wall time)", path.rates(wall=True), per_second)


def _request_notes(api: PathRuns, browser: PathRuns) -> list[str]:
    """What each path asked for, from the last pair's stats."""
    api_stats, browser_stats = api.crawls[-1].stats, browser.crawls[-1].stats
    calls = ", ".join(
        f"{name.rsplit('/', 1)[1]} {value}"
        for name, value in sorted(api_stats.items())
        if name.startswith("article_spider/follow_up/")
    )
    return [
        f"API path: robots.txt, the page, then comment-API calls: {calls}",
        f"browser path: {browser_stats.get('browser/clicks', 0)} clicks in one page; the requests they "
        "cause are Chromium's own, not among Scrapy's responses",
    ]


def api_vs_browser(repeats: int, workdir: Path) -> Section:
    """Section 4: the 1,200-comment thread crawled by API and in Chromium, pair by pair."""
    site = build_demo_site()
    expected = sum(not comment.deleted for comment in site.article(BIG_THREAD_SLUG).comments)
    api, browser = PathRuns("api"), PathRuns("browser")
    with serve_site(site) as urls:
        url = next(u for u in urls if u.endswith(f"/{BIG_THREAD_SLUG}/"))
        urls_file = write_urls_file([url], workdir / "big-thread.txt")
        for repeat in range(repeats):
            for path in (api, browser):
                path.crawl(urls_file, workdir / f"big-{path.render}-{repeat}.db")
    section = Section(f"4. API vs browser (issue 5): {BIG_THREAD_SLUG}, {count(expected)} comments")
    _add_path_rows(section, api, expected, API_COMMENTS_GOAL)
    _add_path_rows(section, browser, expected, None)
    section.add_ratio("API / browser, comments/s", api.rates(), browser.rates(), API_OVER_BROWSER_GOAL)
    section.add_ratio("API / browser, comments/s by wall time", api.rates(True), browser.rates(True))
    same = ["yes" if a == b else "no" for a, b in zip(api.stored, browser.stored, strict=True)]
    verdict = "no" if "no" in same else "yes"
    section.add("same comments stored by both paths", verdict, same, "yes", verdict == "yes")
    section.notes.extend(_request_notes(api, browser))
    return section


# -- section 5: a long browser crawl ----------------------------------------------------------------


@dataclass
class TreeWatch:
    """Called with the crawl's pid while it runs: samples its process tree and the pages done.

    VmRSS is read at every call (every WATCH_INTERVAL seconds), Pss at every PSS_EVERY-th only: it
    costs the benchmark process tens of milliseconds of CPU each time, on a machine of two cores.
    """

    db_path: Path
    calls: int = 0
    #: (pages done so far or None, memory of the tree), one per call
    samples: list[tuple[int | None, processes.TreeSample]] = field(default_factory=list)
    #: every Chromium process seen in the tree
    chromium: set[processes.Identity] = field(default_factory=set)
    #: seconds spent taking the samples
    busy_seconds: float = 0.0

    def __call__(self, pid: int) -> None:
        started = time.perf_counter()
        tree = processes.descendants(pid, processes.process_table())
        self.chromium.update(process.identity for process in tree if process.kind == "chromium")
        memory = processes.sample(tree, with_pss=self.calls % PSS_EVERY == 0)
        self.samples.append((thread_loads_so_far(self.db_path), memory))
        self.calls += 1
        self.busy_seconds += time.perf_counter() - started


@dataclass
class BrowserRun:
    """One watched browser crawl: its result, its samples, and what was left of it afterwards."""

    crawl: CrawlResult
    watch: TreeWatch
    pages: int
    left_marked: list[int]
    left_seen: list[int]

    def near(self, page: float, measure: str) -> list[tuple[int, processes.TreeSample]]:
        """(pages done, sample) of the WINDOW_SAMPLES samples nearest to `page` in pages done.

        Only samples that have `measure` ("rss" or "pss") and were taken while Chromium was running.
        """
        usable = [
            (done, tree)
            for done, tree in self.watch.samples
            if done is not None and getattr(tree, measure) is not None and tree.rss_by_kind.get("chromium")
        ]
        return sorted(usable, key=lambda pair: abs(pair[0] - page))[:WINDOW_SAMPLES]

    def early(self, measure: str) -> list[tuple[int, processes.TreeSample]]:
        return self.near(self.pages * EARLY_SHARE, measure)

    def late(self, measure: str) -> list[tuple[int, processes.TreeSample]]:
        return self.near(self.pages, measure)

    def peak(self, measure: str) -> processes.TreeSample:
        """The sample with the most memory by `measure` ("rss" or "pss")."""
        return max((tree for _, tree in self.watch.samples), key=lambda tree: getattr(tree, measure) or 0)


def _watched_browser_crawl(urls_file: Path, pages: int, db_path: Path) -> BrowserRun:
    """Crawl every page in Chromium while watching its tree; then wait and look for leftovers."""
    marker = f"--pandawatch-bench={uuid.uuid4().hex}"
    settings = {
        **BROWSER_SETTINGS,
        "BROWSER_EXTRA_ARGS": marker,
        # one page's items per transaction, so that thread_loads counts the pages done one by one
        "STORE_BATCH_SIZE": str(BROWSER_COMMENTS + ITEMS_BESIDES_COMMENTS),
    }
    watch = TreeWatch(db_path)
    crawl = crawl_articles(urls_file, db_path, settings, render="browser", watch=watch)
    time.sleep(LEFTOVER_WAIT_SECONDS)
    return BrowserRun(
        crawl, watch, pages, processes.with_marker(marker), processes.still_alive(watch.chromium)
    )


def _median_of(samples: list[tuple[int, processes.TreeSample]], measure: str) -> float:
    """Median memory of `samples` by `measure` ("rss" or "pss"); NaN when there is none."""
    values = [getattr(tree, measure) for _, tree in samples]
    return median(values) if values else float("nan")


def _pages_of(samples: list[tuple[int, processes.TreeSample]]) -> str:
    """The range of pages done over which `samples` were taken: "17-22"."""
    pages = [done for done, _ in samples]
    return f"{min(pages)}-{max(pages)}" if pages else "none"


def _add_memory_rows(section: Section, runs: list[BrowserRun], measure: str, label: str) -> None:
    """Peak, early, late and late / early rows of one memory measure ("rss" or "pss")."""
    peaks = [getattr(run.peak(measure), measure) or 0 for run in runs]
    section.add(
        f"peak memory, {label} (highest run)",
        size(max(peaks)),
        map(size, peaks),
        f"<= {size(MEMORY_GOAL)}",
        max(peaks) <= MEMORY_GOAL,
    )
    early = [_median_of(run.early(measure), measure) for run in runs]
    late = [_median_of(run.late(measure), measure) for run in runs]
    pages = runs[0].pages
    section.add_median(f"{label} at ~{pages * EARLY_SHARE:.0f} pages", early, size)
    section.add_median(f"{label} at ~{pages} pages", late, size)
    section.add_ratio(
        f"{label}, at ~{pages} / at ~{pages * EARLY_SHARE:.0f} pages", late, early, GROWTH_GOAL, at_most=True
    )
    last = runs[-1]
    section.notes.append(
        f"{label} of the last run: the samples near page {pages * EARLY_SHARE:.0f} were taken at pages "
        f"{_pages_of(last.early(measure))}, those near page {pages} at pages {_pages_of(last.late(measure))}"
    )


def _add_leftover_rows(section: Section, runs: list[BrowserRun]) -> None:
    """Rows of the processes found alive LEFTOVER_WAIT_SECONDS after each crawl exited (goal: none)."""
    marked = [len(run.left_marked) for run in runs]
    seen = [len(run.left_seen) for run in runs]
    wait = LEFTOVER_WAIT_SECONDS
    section.add_zero(f"processes with the crawl's marker alive {wait} s after exit", marked)
    section.add_zero(f"Chromium processes of the crawl's tree alive {wait} s after exit", seen)


def _peak_note(run: BrowserRun) -> str:
    """Where the memory is at the Pss peak of a run, by kind of process."""
    peak = run.peak("pss")
    kinds = ", ".join(f"{kind} {size(value)}" for kind, value in sorted(peak.pss_by_kind.items()))
    return f"at the Pss peak of the last run, {peak.processes} processes: {kinds}"


def _add_crawl_rows(section: Section, runs: list[BrowserRun]) -> None:
    """Rows of what each crawl did: complete threads, pages/s, crawl time and wall time."""
    pages = runs[0].pages
    complete = [
        query(run.crawl.db_path, "SELECT count(*) FROM thread_loads WHERE complete = 1")[0][0] for run in runs
    ]
    section.add(
        "pages with the thread loaded completely",
        f"{min(complete)}/{pages}",
        map(str, complete),
        "all",
        min(complete) == pages,
    )
    elapsed = [run.crawl.stats["elapsed_time_seconds"] for run in runs]
    section.add_median("pages/s (pages / elapsed_time_seconds)", [pages / e for e in elapsed], per_second)
    section.add_median("crawl time (Scrapy's elapsed_time_seconds)", elapsed, seconds)
    walls = [run.crawl.process.wall_seconds for run in runs]
    section.add_median("wall time of the crawl process", walls, seconds)


def _add_concurrency_rows(section: Section, runs: list[BrowserRun]) -> None:
    """Rows of how many pages and contexts scrapy-playwright had open at once, at most."""
    for what, stat in (("pages", "page_count"), ("contexts", "context_count")):
        values = [run.crawl.stats[f"playwright/{stat}/max_concurrent"] for run in runs]
        section.add_median(f"browser {what} open at once, at most", values, count)


def browser_crawl(pages: int, repeats: int, workdir: Path) -> Section:
    """Section 5: `pages` bench articles crawled in Chromium, the tree's memory sampled throughout."""
    with serve_bench_site(pages, BROWSER_COMMENTS) as urls:
        urls_file = write_urls_file(urls, workdir / "browser-urls.txt")
        runs = [_watched_browser_crawl(urls_file, pages, workdir / f"browser-{n}.db") for n in range(repeats)]
    section = Section(f"5. {pages}-page browser crawl (issue 5): {BROWSER_COMMENTS} comments a page")
    _add_crawl_rows(section, runs)
    _add_memory_rows(section, runs, "rss", "sum of VmRSS")
    _add_memory_rows(section, runs, "pss", "sum of Pss")
    _add_leftover_rows(section, runs)
    _add_concurrency_rows(section, runs)
    section.notes.extend([_peak_note(runs[-1]), _sampling_note(runs)])
    return section


def _sampling_note(runs: list[BrowserRun]) -> str:
    """How many samples were taken, and what they cost the benchmark process."""
    samples = [len(run.watch.samples) for run in runs]
    busy = sum(run.watch.busy_seconds for run in runs) / sum(samples)
    return (
        f"samples a run: {' '.join(map(str, samples))} (VmRSS in each, Pss in one of {PSS_EVERY}), "
        f"{busy * 1000:.0f} ms each to take on average"
    )
