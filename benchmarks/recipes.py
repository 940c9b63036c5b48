"""Section 11 (issue 12): a learned comment API (recipe) next to the browser path, and what learning costs.

The recipe is learned once, in Chromium, from another Bored Panda article of the demo site
(`two-page-comments-article`, `-a profile=boredpanda`); that crawl's time and browser pages are the
one-time cost. Then the 1,200-comment thread (`big-thread-article`) is crawled, each repeat three ways
one after the other: with the default command into a copy of the learning database (the recipe pages
the thread over plain HTTP, no browser), in Chromium (`render=browser`, recording off) into a fresh
one, and with the default command into a fresh database (no recipe stored: the site's own comment-API
path). Each must store every comment, the recipe the same ones as the browser; comments/s are
compared pair by pair.

Like with like: every crawl runs with the same settings (crawls.FAST_SETTINGS, politeness off because
the replica is ours, and SAME_SETTINGS); the notes print them, and what the default command's
politeness would cost each path.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from benchmarks.crawls import FAST_SETTINGS, crawl_articles, scrapy_crawl, serve_site, write_urls_file
from benchmarks.report import Section, count, per_second, seconds
from benchmarks.results import query, stored_comments
from crawler import settings as defaults
from crawler.replica import build_demo_site
from crawler.replica.demo_site import BIG_THREAD_SLUG, NORMAL_SLUG

#: Issue 12: a learned recipe at least 10x the browser path's comments/s.
RECIPE_OVER_BROWSER_GOAL = 10.0
#: Pairs measured at least (the full profile's 3 are few: a recipe crawl of the thread takes about a
#: second, and on this shared machine the same crawl varies by a third from one run to the next).
RECIPE_PAIRS = 5
#: On top of FAST_SETTINGS, for every crawl of the section (the learning one too): the browser's page
#: and the plain-HTTP requests get the same per-domain concurrency.
SAME_SETTINGS = {"CONCURRENT_REQUESTS_PER_DOMAIN": "4"}


def _thread(db: Path, article_id: str) -> set:
    """stored_comments of the measured thread only (the learning database holds another article's)."""
    return {row for row in stored_comments(db) if row[1] == article_id}


def _rate(crawl, stored: set) -> float:
    return len(stored) / crawl.stats["elapsed_time_seconds"]


def _core(stored: set) -> set:
    """(comment_id, parent_id, text, upvotes, downvotes) of stored_comments' rows."""
    return {(row[0], row[2], row[9], row[12], row[13]) for row in stored}


def recipe_vs_browser(repeats: int, workdir: Path) -> Section:
    site = build_demo_site()
    expected = sum(not comment.deleted for comment in site.article(BIG_THREAD_SLUG).comments)
    article_id = f"boredpanda:{site.article(BIG_THREAD_SLUG).post_id}"
    recipe_runs, browser_runs, api_runs = [], [], []
    with serve_site(site) as urls:
        big = next(u for u in urls if u.endswith(f"/{BIG_THREAD_SLUG}/"))
        teacher = next(u for u in urls if u.endswith(f"/{NORMAL_SLUG}/"))
        learn_db = workdir / "recipe-learned.db"
        learned = scrapy_crawl(
            "article",
            learn_db,
            {"url": teacher, "profile": "boredpanda", "render": "browser"},
            SAME_SETTINGS,
        )
        [(learn_seconds, _pages, status)] = query(
            learn_db, "SELECT learn_seconds, learn_browser_pages, status FROM site_apis"
        )
        urls_file = write_urls_file([big], workdir / "recipe-big.txt")
        for repeat in range(repeats):
            db = workdir / f"recipe-{repeat}.db"
            shutil.copy(learn_db, db)
            for suffix in ("-wal", "-shm"):
                if Path(f"{learn_db}{suffix}").exists():
                    shutil.copy(f"{learn_db}{suffix}", f"{db}{suffix}")
            run = crawl_articles(urls_file, db, SAME_SETTINGS)
            recipe_runs.append((run, _thread(db, article_id)))
            db = workdir / f"recipe-browser-{repeat}.db"
            run = crawl_articles(
                urls_file,
                db,
                {**SAME_SETTINGS, "RECIPES_LEARN": "False"},
                render="browser",
            )
            browser_runs.append((run, _thread(db, article_id)))
            db = workdir / f"recipe-api-{repeat}.db"
            run = crawl_articles(urls_file, db, SAME_SETTINGS)  # no recipe stored: the site's API path
            api_runs.append((run, _thread(db, article_id)))
    section = Section(
        f"11. Learned comment API vs browser (issue 12): {BIG_THREAD_SLUG}, {count(expected)} comments"
    )
    section.add(
        "one-time learning: browser pages",
        count(learned.stats.get("browser/pages_opened", 0)),
    )
    section.add_median(
        "one-time learning: crawl time (elapsed_time_seconds)",
        [learned.stats["elapsed_time_seconds"]],
        seconds,
    )
    section.add_median(
        "one-time learning: expansion + induction (site_apis.learn_seconds)", [learn_seconds], seconds
    )
    paths = (("recipe", recipe_runs), ("browser", browser_runs), ("site's API path", api_runs))
    for name, runs in paths:
        sizes = [len(stored) for _, stored in runs]
        section.add(f"{name}: comments stored", count(min(sizes)), map(count, sizes), count(expected),
                    all(n == expected for n in sizes))  # fmt: skip
        section.add_median(
            f"{name}: crawl time (elapsed_time_seconds)",
            [r.stats["elapsed_time_seconds"] for r, _ in runs],
            seconds,
        )
        section.add_median(
            f"{name}: wall time of the crawl process", [r.process.wall_seconds for r, _ in runs], seconds
        )
        section.add_median(
            f"{name}: CPU time of the crawl process", [r.process.cpu_seconds for r, _ in runs], seconds
        )
        section.add_median(
            f"{name}: responses (Scrapy's)", [r.stats["downloader/response_count"] for r, _ in runs], count
        )
        section.add_median(
            f"{name}: comments/s (stored / elapsed)", [_rate(r, s) for r, s in runs], per_second
        )
        section.add_median(
            f"{name}: browser pages opened", [r.stats.get("browser/pages_opened", 0) for r, _ in runs], count
        )
    section.add_ratio(
        "recipe / browser, comments/s",
        [_rate(r, s) for r, s in recipe_runs],
        [_rate(r, s) for r, s in browser_runs],
        RECIPE_OVER_BROWSER_GOAL,
    )
    section.add_ratio(
        "site's API path / browser, comments/s (the same machine state)",
        [_rate(r, s) for r, s in api_runs],
        [_rate(r, s) for r, s in browser_runs],
    )
    section.add_ratio(
        "recipe / site's API path, comments/s",
        [_rate(r, s) for r, s in recipe_runs],
        [_rate(r, s) for r, s in api_runs],
    )
    same = [
        "yes" if _core(a) == _core(b) else "no"
        for (_, a), (_, b) in zip(recipe_runs, browser_runs, strict=True)
    ]
    verdict = "no" if "no" in same else "yes"
    section.add("same ids, parents, texts, votes on both paths", verdict, same, "yes", verdict == "yes")
    every = ["yes" if a == b else "no" for (_, a), (_, b) in zip(recipe_runs, browser_runs, strict=True)]
    section.add("same rows in every stored column", "no" if "no" in every else "yes", every)
    stats = recipe_runs[-1][0].stats
    calls = ", ".join(
        f"{k.rsplit('/', 1)[1]} {v}" for k, v in sorted(stats.items()) if k.startswith("recipes/requests/")
    )
    section.notes.append(f"recipe path: the page, then the learned API's requests: {calls}")
    section.notes.append(f"recipe learned from {NORMAL_SLUG} (status {status}), not from the thread measured")
    section.notes.append(_politeness_note(stats["downloader/response_count"], expected))
    return section


def _politeness_note(responses: int, comments: int) -> str:
    """The settings every crawl ran with, and what the default command's politeness costs each path."""
    fast = {**FAST_SETTINGS, **SAME_SETTINGS}
    shown = ", ".join(f"{k}={v}" for k, v in fast.items() if k != "LOG_LEVEL")
    floor = responses * defaults.DOWNLOAD_DELAY
    return (
        f"every crawl: {shown} (robots.txt obeyed). The browser's clicks are paced by the page's download "
        f"slot like the plain-HTTP requests: at most CONCURRENT_REQUESTS_PER_DOMAIN elements clicked at "
        f"once, DOWNLOAD_DELAY apart (crawler/browser/expand.py). With the default command's politeness "
        f"(DOWNLOAD_DELAY={defaults.DOWNLOAD_DELAY}, AutoThrottle on, "
        f"{defaults.CONCURRENT_REQUESTS_PER_DOMAIN} per domain) the recipe's {responses} requests take "
        f"at least {floor:.0f} s ({comments / floor:.1f} comments/s); each round of the browser's clicks "
        f"waits that delay too"
    )


#: Per replica site (issue 12's first must-show): (profile, article learned from, two other articles).
SITES = (
    ("boredpanda", "/two-page-comments-article/", ("/one-page-article/", "/plain-article-3/")),
    ("zine", "/zine/quiet-harbour-story/", ("/zine/harbour-fair-story/", "/zine/night-ferry-story/")),
    ("square", "/square/ferry-timetable-story/",
     ("/square/bakery-queue-story/", "/square/lighthouse-paint-story/")),
)  # fmt: skip


def _of_urls(db: Path, urls: list[str]) -> set:
    """(comment_id, parent_id, text, upvotes, downvotes) of the comments of the articles at `urls`."""
    marks = ",".join("?" * len(urls))
    return set(
        query(
            db,
            "SELECT c.comment_id, c.parent_id, c.text, c.upvotes, c.downvotes FROM comments c "
            f"JOIN articles a USING (article_id) WHERE a.url IN ({marks})",
            urls,
        )
    )


def recipes_per_site(repeats: int, workdir: Path) -> Section:
    """Each replica site: learn its recipe in Chromium from one article, then crawl two *other*
    articles with the default command (recipe, no browser) and in Chromium, one after the other."""
    from crawler.replica.demo_site import add_zine_stories

    section = Section("13. Learned comment APIs on each replica site (issue 12): two other articles each")
    with serve_site(add_zine_stories(build_demo_site())) as urls:
        base = urls[0].split("/", 3)[:3]
        origin = "/".join(base)
        for profile, teacher, others in SITES:
            learn_db = workdir / f"site-{profile}-learned.db"
            learned = scrapy_crawl(
                "article", learn_db, {"url": origin + teacher, "profile": profile, "render": "browser"},
                SAME_SETTINGS,
            )  # fmt: skip
            targets = [origin + path for path in others]
            urls_file = write_urls_file(targets, workdir / f"site-{profile}.txt")
            recipe_runs, browser_runs = [], []
            for repeat in range(repeats):
                db = workdir / f"site-{profile}-recipe-{repeat}.db"
                for suffix in ("", "-wal", "-shm"):
                    if Path(f"{learn_db}{suffix}").exists():
                        shutil.copy(f"{learn_db}{suffix}", f"{db}{suffix}")
                run = scrapy_crawl("article", db, {"urls_file": str(urls_file)}, SAME_SETTINGS)
                recipe_runs.append((run, _of_urls(db, targets)))
                db = workdir / f"site-{profile}-browser-{repeat}.db"
                run = scrapy_crawl(
                    "article", db, {"urls_file": str(urls_file), "profile": profile, "render": "browser"},
                    {**SAME_SETTINGS, "RECIPES_LEARN": "False"},
                )  # fmt: skip
                browser_runs.append((run, _of_urls(db, targets)))
            stored = len(browser_runs[0][1])
            section.add(f"{profile}: learned from one article, browser pages",
                        count(learned.stats.get("browser/pages_opened", 0)))  # fmt: skip
            section.add_median(
                f"{profile}: recipe, browser pages opened",
                [r.stats.get("browser/pages_opened", 0) for r, _ in recipe_runs],
                count,
            )
            for name, runs in (("recipe", recipe_runs), ("browser", browser_runs)):
                section.add_median(
                    f"{profile}: {name}, crawl time",
                    [r.stats["elapsed_time_seconds"] for r, _ in runs],
                    seconds,
                )
            section.add_ratio(
                f"{profile}: recipe / browser, comments/s ({count(stored)} comments)",
                [_rate(r, s) for r, s in recipe_runs],
                [_rate(r, s) for r, s in browser_runs],
                RECIPE_OVER_BROWSER_GOAL,
            )
            same = [
                "yes" if a == b else "no" for (_, a), (_, b) in zip(recipe_runs, browser_runs, strict=True)
            ]
            verdict = "no" if "no" in same or not stored else "yes"
            section.add(f"{profile}: same ids, parents, texts, votes", verdict, same, "yes", verdict == "yes")
    section.notes.append(
        "every crawl: " + ", ".join(f"{k}={v}" for k, v in {**FAST_SETTINGS, **SAME_SETTINGS}.items())
    )
    return section
