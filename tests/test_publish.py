"""Atom feed and HTML report of real crawls: parsed with feedparser, opened in Chromium.

The replica article is crawled, then changed (a comment deleted, one edited, votes moved twice, a
hostile comment and a hostile title added) and crawled again, three times in all, so a deletion holds
under either deletion rule. The report is opened in Debian's Chromium through Playwright: it must
show the changes, and nothing the hostile strings carry may run or fetch anything.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import feedparser
import pytest
from click.testing import CliRunner

from crawler.cli.main import cli
from crawler.replica import ReplicaServer, build_demo_site
from crawler.replica.demo_site import NORMAL_SLUG
from tests.crawling import article_url, crawl, query

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
HOSTILE = (
    "<script>alert('xss')</script> <img src=x onerror=\"alert('img')\"> "
    "<a href=\"javascript:alert('link')\">click me</a> & more"
)
HOSTILE_TITLE = "Town <img src=y onerror=alert(3)> Mayor"


@pytest.fixture(scope="module")
def changed_db(tmp_path_factory) -> dict:
    site = build_demo_site()
    db = tmp_path_factory.mktemp("publish") / "c.db"
    with ReplicaServer(site) as server:
        url = article_url(server, NORMAL_SLUG)
        comments = site.article(NORMAL_SLUG).comments
        top = [c for c in comments if c.parent_id is None]
        victim = next(c for c in top if not any(r.parent_id == c.id for r in comments))
        edited, voted, voted_once = [c for c in top if c is not victim][:3]
        runs = [crawl(db, [url], settings={"EVIDENCE": "True"})]
        site.delete_comment(victim.id)
        site.edit_comment(edited.id, edited.text + " Edited later with new words.")
        site.set_votes(voted.id, voted.upvotes + 5, voted.downvotes)
        site.set_votes(voted_once.id, voted_once.upvotes + 1, voted_once.downvotes + 2)
        hostile = site.add_comment(NORMAL_SLUG, HOSTILE)
        site.edit_article(NORMAL_SLUG, title=HOSTILE_TITLE)
        runs.append(crawl(db, [url], settings={"EVIDENCE": "True"}))
        site.set_votes(voted.id, voted.upvotes + 9, voted.downvotes + 1)
        runs.append(crawl(db, [url], settings={"EVIDENCE": "True"}))
    for r in runs:
        assert r.returncode == 0 and r.run["status"] == "ok", r.stderr[-3000:]
    return {
        "db": db,
        "victim": f"boredpanda:{victim.id}",
        "victim_text": victim.text,
        "edited": f"boredpanda:{edited.id}",
        "hostile": f"boredpanda:{hostile}",
        "voted": {f"boredpanda:{voted.id}": 2, f"boredpanda:{voted_once.id}": 1},
    }


def test_atom_feed_parses_one_entry_per_event_with_stable_ids(changed_db, tmp_path):
    db = str(changed_db["db"])
    runner = CliRunner()
    for name in ("a.atom", "b.atom"):
        result = runner.invoke(cli, ["feed", "--db", db, "-o", str(tmp_path / name)])
        assert result.exit_code == 0, result.output
    first, second = (feedparser.parse(str(tmp_path / n)) for n in ("a.atom", "b.atom"))
    assert not first.bozo, first.bozo_exception
    events = query(changed_db["db"], "SELECT * FROM changes ORDER BY change_id DESC")
    assert len(first.entries) == len(events)
    ids = [e.id for e in first.entries]
    assert ids == [e.id for e in second.entries] and len(set(ids)) == len(ids)
    assert ids == [f"tag:pandawatch,2024:run-{e['run_id']}/change-{e['change_id']}" for e in events]
    [hostile] = [e for e in first.entries if changed_db["hostile"].split(":")[1] in e.title]
    assert HOSTILE in hostile.content[0].value  # text, as it was written
    deletions = runner.invoke(cli, ["feed", "--db", db, "--kind", "deleted", "-o", str(tmp_path / "d.atom")])
    assert deletions.exit_code == 0
    parsed = feedparser.parse(str(tmp_path / "d.atom"))
    assert {e.tags[0].term for e in parsed.entries} == {"deleted"}
    assert len(parsed.entries) == len([e for e in events if e["kind"] == "deleted"])


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium")
def test_html_report_in_chromium_shows_the_changes_and_runs_nothing(changed_db, tmp_path):
    from playwright.sync_api import sync_playwright

    out = tmp_path / "report.html"
    result = CliRunner().invoke(
        cli, ["report", "--db", str(changed_db["db"]), "--since", "all", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    html = out.read_text()
    assert "<script" not in html.lower() and "<img" not in html.lower()  # only as &lt;script, &lt;img
    dialogs, requests, errors = [], [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page()
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.on("request", lambda r: requests.append(r.url))
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(out.as_uri())
            page.wait_for_load_state("load")
            # a click on the hostile link must not run it either
            page.get_by_text("click me").first.click()
            page.wait_for_timeout(200)
            articles = page.locator("section.article h2").all_inner_texts()
            deleted = page.locator(f'.change.deleted[data-comment="{changed_db["victim"]}"] .last-text')
            deleted_text = deleted.inner_text()
            diff_ins = page.locator(
                f'.change.edited[data-comment="{changed_db["edited"]}"] ins'
            ).all_inner_texts()
            hostile_text = page.locator(f'.change.added[data-comment="{changed_db["hostile"]}"] blockquote')
            hostile_shown = hostile_text.inner_text()
            charts = {
                c.get_attribute("data-comment"): int(c.get_attribute("data-samples"))
                for c in page.locator("svg.votes-chart").all()
            }
            scripts = page.locator("script").count()
            images = page.locator("img").count()
            csp = page.locator('meta[http-equiv="Content-Security-Policy"]').get_attribute("content")
        finally:
            browser.close()
    assert HOSTILE_TITLE in articles  # the article, under its (hostile) title, as text
    assert deleted_text == changed_db["victim_text"]
    assert "Edited later with new words." in " ".join(diff_ins)
    assert hostile_shown == HOSTILE
    # one chart per comment with vote samples; its points: the counts first seen, then each sample
    rows = query(changed_db["db"], "SELECT entity_id, count(*) AS n FROM vote_samples GROUP BY entity_id")
    samples = {s["entity_id"]: s["n"] for s in rows}
    # a sample at first sight (issue 10), then one per change
    assert {cid: samples[cid] for cid in changed_db["voted"]} == {
        cid: n + 1 for cid, n in changed_db["voted"].items()
    }
    assert {n for cid, n in samples.items() if cid not in changed_db["voted"]} == {1}
    assert charts == {cid: n + 1 for cid, n in changed_db["voted"].items()}
    assert (scripts, images, dialogs, errors) == (0, 0, [], [])
    assert requests == [out.as_uri()]  # the file itself, nothing else
    assert "default-src 'none'" in csp and "img-src data:" in csp and "script-src" not in csp


def test_scraped_strings_are_escaped_and_only_web_links_are_links():
    from crawler.publish.feed import build_feed
    from crawler.publish.report import word_diff
    from crawler.publish.safe import web_link

    assert word_diff("a <b> c", "a <i> c") == "a <del>&lt;b&gt;</del><ins>&lt;i&gt;</ins> c"
    assert word_diff("same words", "same words") == "same words"
    for bad in (
        "javascript:alert(1)",
        " JavaScript:alert(1)",
        "data:text/html,x",
        "file:///etc/passwd",
        "java\tscript:x",
        "//host/x",
    ):
        assert web_link(bad) is None, bad
    assert web_link("https://www.boredpanda.com/a/") == "https://www.boredpanda.com/a/"
    event = {
        "run_id": 1,
        "change_id": 7,
        "at": "2026-01-01T00:00:00+00:00",
        "kind": "added",
        "entity_type": "comment",
        "entity_id": "s:1",
        "article_id": "s:a",
        "field": "text",
        "old_value": None,
        "new_value": "nul\x00 and \x1b[31m <x> & ]]>",
        "article_url": "javascript:x",
        "article_title": "T",
    }
    parsed = feedparser.parse(build_feed([event], "all", "t"))
    assert not parsed.bozo and parsed.entries[0].content[0].value.endswith("<x> & ]]>")
    assert "links" not in parsed.entries[0] or not parsed.entries[0].links
