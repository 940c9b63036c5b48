"""Change tracking, end to end: the replica changes between crawls, `changes` must say exactly what.

Each scenario crawls the replica, changes it through the replica's mutation API, crawls again, and
asserts the exact set of change rows (and versions / vote samples) read back from the SQLite file.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time

from crawler.replica.demo_site import BIG_THREAD_SLUG, NORMAL_SLUG
from crawler.replica.seed import SEED_SLUG
from tests.crawling import FAST, ROOT, article_url, crawl, query

HISTORY = ("changes", "comment_versions", "article_versions", "vote_samples")


def changes_of(result, run_id=None) -> set[tuple]:
    run_id = run_id or result.run["run_id"]
    return {
        (r["entity_type"], r["entity_id"], r["kind"], r["field"])
        for r in result.query("SELECT * FROM changes WHERE run_id = ?", [run_id])
    }


def history_counts(result) -> dict[str, int]:
    return {t: result.query(f"SELECT count(*) AS n FROM {t}")[0]["n"] for t in HISTORY}


def key(comment_id: str) -> str:
    return f"boredpanda:{comment_id}"


def top_level(site, slug):
    return [c for c in site.article(slug).comments if c.parent_id is None and not c.deleted]


def test_first_crawl_records_articles_added_only(replica, tmp_path):
    result = crawl(tmp_path / "c.db", [article_url(replica, SEED_SLUG), article_url(replica, NORMAL_SLUG)])
    assert changes_of(result) == {
        ("article", "boredpanda:8123456", "added", None),
        ("article", "boredpanda:8200001", "added", None),
    }
    comments = result.query("SELECT comment_id FROM comments")
    assert history_counts(result) == {
        "changes": 2,
        "comment_versions": 0,
        "article_versions": 0,
        "vote_samples": len(comments) + 2,  # first sight: one sample per comment and article, no event
    }
    samples = result.query("SELECT entity_type, entity_id, upvotes FROM vote_samples")
    assert {(s["entity_type"], s["entity_id"]) for s in samples} == {
        ("comment", c["comment_id"]) for c in comments
    } | {("article", "boredpanda:8123456"), ("article", "boredpanda:8200001")}
    assert len(samples) == 39


def test_identical_recrawl_adds_no_row_anywhere(replica, tmp_path):
    urls = [article_url(replica, s) for s in (SEED_SLUG, NORMAL_SLUG, BIG_THREAD_SLUG, "funny-cats-list")]
    first = crawl(tmp_path / "c.db", urls)
    before = history_counts(first)
    second = crawl(tmp_path / "c.db", urls)
    assert second.run["status"] == "ok"
    assert history_counts(second) == before
    assert second.run["changes_recorded"] == 0


def test_added_comments_and_a_nested_reply(replica, replica_site, tmp_path):
    url = article_url(replica, NORMAL_SLUG)
    crawl(tmp_path / "c.db", [url])
    reply_to = next(c for c in replica_site.article(NORMAL_SLUG).comments if c.parent_id)
    new = [replica_site.add_comment(NORMAL_SLUG, f"Fresh comment {n}") for n in range(3)]
    new.append(replica_site.add_comment(NORMAL_SLUG, "A reply to a reply", parent_id=reply_to.id))
    result = crawl(tmp_path / "c.db", [url])
    assert changes_of(result) == {("comment", key(i), "added", "text") for i in new}
    [nested] = result.query("SELECT parent_id, depth FROM comments WHERE comment_id = ?", [key(new[-1])])
    assert nested == {"parent_id": key(reply_to.id), "depth": 2}


def test_comment_edited_twice_keeps_two_versions(replica, replica_site, tmp_path):
    url = article_url(replica, NORMAL_SLUG)
    comment = top_level(replica_site, NORMAL_SLUG)[0]
    original = comment.text
    crawl(tmp_path / "c.db", [url])
    replica_site.edit_comment(comment.id, "Second version of this comment.")
    second = crawl(tmp_path / "c.db", [url])
    replica_site.edit_comment(comment.id, "Third version, now much longer than the second one was.")
    third = crawl(tmp_path / "c.db", [url])
    assert changes_of(second) == changes_of(third) == {("comment", key(comment.id), "edited", "text")}
    versions = third.query(
        "SELECT version, text, run_id FROM comment_versions WHERE comment_id = ? ORDER BY version",
        [key(comment.id)],
    )
    assert [(v["version"], v["text"]) for v in versions] == [
        (1, original),
        (2, "Second version of this comment."),
    ]
    [row] = third.query("SELECT text, version FROM comments WHERE comment_id = ?", [key(comment.id)])
    assert row == {"text": "Third version, now much longer than the second one was.", "version": 3}
    [event] = third.query("SELECT * FROM changes WHERE run_id = ?", [third.run["run_id"]])
    assert event["old_value"] == "Second version of this comment."
    old, new = "Second version of this comment.", "Third version, now much longer than the second one was."
    assert event["chars_added"] > 0 and event["chars_added"] - event["chars_removed"] == len(new) - len(old)
    assert third.query("SELECT edits FROM most_edited_comments LIMIT 1") == [{"edits": 2}]


def test_deleted_only_on_a_complete_load_then_restored(replica, replica_site, tmp_path):
    url = article_url(replica, BIG_THREAD_SLUG)
    db = tmp_path / "c.db"
    crawl(db, [url])
    victim = top_level(replica_site, BIG_THREAD_SLUG)[-1]  # newest first: on comment page 1
    replica_site.delete_comment(victim.id)
    replica_site.set_faults(BIG_THREAD_SLUG, comment_pages=[2])
    # no browser to fall back to (a failing recipe request re-reads the article in one where there is)
    partial = crawl(db, [url], settings={"BROWSER_EXECUTABLE": "/nonexistent/chromium"})
    assert changes_of(partial) == set()
    assert partial.run["status"] == "incomplete" and partial.run["threads_incomplete"] == 1
    assert "nothing marked deleted" in partial.run["notes"]
    [status] = partial.query("SELECT status FROM comments WHERE comment_id = ?", [key(victim.id)])
    assert status == {"status": "live"}

    replica_site.set_faults(BIG_THREAD_SLUG, comment_pages=[])
    complete = crawl(db, [url])
    assert changes_of(complete) == {("comment", key(victim.id), "deleted", "text")}
    assert complete.query("SELECT comment_id FROM deleted_comments") == [{"comment_id": key(victim.id)}]

    replica_site.restore_comment(victim.id)
    restored = crawl(db, [url])
    assert changes_of(restored) == {("comment", key(victim.id), "restored", None)}
    assert restored.query("SELECT status FROM comments WHERE comment_id = ?", [key(victim.id)]) == [
        {"status": "live"}
    ]


def test_deleting_a_comment_with_replies_deletes_the_replies_too(replica, replica_site, tmp_path):
    url = article_url(replica, SEED_SLUG)
    crawl(tmp_path / "c.db", [url])
    parent = next(c for c in top_level(replica_site, SEED_SLUG) if c.author == "Ilya Nosov")
    replies = [c.id for c in replica_site.article(SEED_SLUG).comments if c.parent_id == parent.id]
    replica_site.delete_comment(parent.id)
    result = crawl(tmp_path / "c.db", [url])
    assert changes_of(result) == {("comment", key(i), "deleted", "text") for i in [parent.id, *replies]}


def test_vote_changes_on_five_comments(replica, replica_site, tmp_path):
    url = article_url(replica, NORMAL_SLUG)
    crawl(tmp_path / "c.db", [url])
    moved = top_level(replica_site, NORMAL_SLUG)[:5]
    for c in moved:
        replica_site.set_votes(c.id, c.upvotes + 7, c.downvotes + 2)
    result = crawl(tmp_path / "c.db", [url])
    assert changes_of(result) == {("comment", key(c.id), "votes", "votes") for c in moved}
    samples = result.query(
        "SELECT entity_id, upvotes, downvotes FROM vote_samples WHERE run_id = ?", [result.run["run_id"]]
    )
    assert {(s["entity_id"], s["upvotes"], s["downvotes"]) for s in samples} == {
        (key(c.id), c.upvotes, c.downvotes) for c in moved
    }
    assert len(result.query("SELECT * FROM vote_movers")) == 5


def test_title_edit_and_whitespace_only_body_edit_make_one_event(replica, replica_site, tmp_path):
    url = article_url(replica, SEED_SLUG)
    first = crawl(tmp_path / "c.db", [url])
    [before] = first.query("SELECT title, body_text FROM articles")
    article = replica_site.article(SEED_SLUG)
    spaced = [("p", "  " + b[1].replace(" ", "   ") + "\n") if b[0] == "p" else b for b in article.body]
    # edit_article also moves modified_at, so the page's "Updated …" line changes: not an edit either.
    replica_site.edit_article(SEED_SLUG, title="A New Title For The Article", body=spaced)
    result = crawl(tmp_path / "c.db", [url])
    assert changes_of(result) == {("article", "boredpanda:8123456", "edited", "title")}
    [event] = result.query(
        "SELECT old_value, new_value FROM changes WHERE run_id = ?", [result.run["run_id"]]
    )
    assert event == {"old_value": before["title"], "new_value": "A New Title For The Article"}
    versions = result.query("SELECT version, title, body_text FROM article_versions")
    assert versions == [{"version": 1, "title": before["title"], "body_text": before["body_text"]}]


def test_body_edit_records_size_of_change(replica, replica_site, tmp_path):
    url = article_url(replica, SEED_SLUG)
    crawl(tmp_path / "c.db", [url])
    article = replica_site.article(SEED_SLUG)
    replica_site.edit_article(SEED_SLUG, body=[*article.body, ("p", "A correction was added to this story.")])
    result = crawl(tmp_path / "c.db", [url])
    [event] = result.query(
        "SELECT field, chars_added, chars_removed FROM changes WHERE run_id = ?", [result.run["run_id"]]
    )
    assert event == {
        "field": "body_text",
        "chars_added": len("\n\nA correction was added to this story."),
        "chars_removed": 0,
    }


def test_cut_comment_seen_in_full_later_is_not_an_edit(replica, replica_site, tmp_path):
    url = article_url(replica, SEED_SLUG)
    sharpe = next(c for c in top_level(replica_site, SEED_SLUG) if c.author == "Steve Sharpe")
    replica_site.set_faults(SEED_SLUG, full_text=[sharpe.id])
    first = crawl(tmp_path / "c.db", [url])
    [cut] = first.query("SELECT text, text_truncated FROM comments WHERE comment_id = ?", [key(sharpe.id)])
    assert cut["text_truncated"] == 1 and cut["text"].endswith("…")
    replica_site.set_faults(SEED_SLUG, full_text=[])
    second = crawl(tmp_path / "c.db", [url])
    assert changes_of(second) == set()
    [full] = second.query("SELECT text, text_truncated FROM comments WHERE comment_id = ?", [key(sharpe.id)])
    assert full["text_truncated"] == 0 and "distancing themselves from" in full["text"]
    # and the page's cut copy seen again later does not undo the full text
    replica_site.set_faults(SEED_SLUG, full_text=[sharpe.id])
    third = crawl(tmp_path / "c.db", [url])
    assert changes_of(third) == set()
    assert third.query("SELECT text FROM comments WHERE comment_id = ?", [key(sharpe.id)]) == [
        {"text": full["text"]}
    ]


def test_cli_changes_and_history_read_the_same_rows(replica, replica_site, tmp_path):
    from click.testing import CliRunner

    from crawler.cli.main import cli

    url = article_url(replica, NORMAL_SLUG)
    db = tmp_path / "c.db"
    crawl(db, [url])
    comment = top_level(replica_site, NORMAL_SLUG)[0]
    replica_site.edit_comment(comment.id, "Edited for the CLI test.")
    result = crawl(db, [url])
    runner = CliRunner()
    out = runner.invoke(cli, ["changes", "--db", str(db), "--json"])
    assert out.exit_code == 0, out.output
    import json

    rows = [json.loads(line) for line in out.output.splitlines()]
    assert [(r["kind"], r["entity_id"]) for r in rows] == [("edited", key(comment.id))]
    out = runner.invoke(cli, ["changes", "--db", str(db), "--since", "1", "--kind", "deleted", "--json"])
    assert out.exit_code == 0 and out.output == ""
    out = runner.invoke(cli, ["history", url + "?utm_source=x#comments", "--db", str(db), "--json"])
    assert out.exit_code == 0, out.output
    events = json.loads(out.output)["events"]
    assert [e["kind"] for e in events] == ["added", "edited"]
    out = runner.invoke(cli, ["changes", "--db", str(db), "--since", "99"])
    assert out.exit_code == 1 and "no run 99" in out.output
    out = runner.invoke(cli, ["changes", "--db", str(db), "--since", "yesterday"])
    assert out.exit_code == 1 and "duration" in out.output
    assert result.run["changes_recorded"] == 1


def test_sigkill_mid_crawl_leaves_a_consistent_database(replica, replica_site, tmp_path):
    db = tmp_path / "c.db"
    url = article_url(replica, BIG_THREAD_SLUG)
    crawl(db, [url])
    for comment in replica_site.article(BIG_THREAD_SLUG).comments[::3]:
        replica_site.edit_comment(comment.id, f"Edited {comment.id} before the killed crawl.")
        replica_site.set_votes(comment.id, comment.upvotes + 1, comment.downvotes)
    settings = {
        **FAST,
        "SQLITE_PATH": str(db),
        "STORE_BATCH_SIZE": "25",
        "CONCURRENT_REQUESTS_PER_DOMAIN": "1",
        "DOWNLOAD_DELAY": "0.02",
    }
    command = [sys.executable, "-m", "scrapy", "crawl", "article", "-a", f"url={url}"]
    for name, value in settings.items():
        command += ["-s", f"{name}={value}"]
    env = {**os.environ, "SCRAPY_SETTINGS_MODULE": "crawler.settings"}
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 60
    written = 0
    while time.monotonic() < deadline and written < 100:
        time.sleep(0.05)
        try:
            written = query(db, "SELECT count(*) AS n FROM changes WHERE run_id = 2")[0]["n"]
        except sqlite3.OperationalError:
            written = 0
    assert process.poll() is None, "the crawl ended before it could be killed"
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert written >= 100
    assert query(db, "PRAGMA integrity_check") == [{"integrity_check": "ok"}]
    # Every change row has its data: the comment exists, and an edit's new text is the stored text
    # unless a later event of the same batch replaced it.
    orphans = query(
        db,
        "SELECT c.change_id FROM changes c LEFT JOIN comments m ON m.comment_id = c.entity_id "
        "WHERE c.entity_type = 'comment' AND m.comment_id IS NULL",
    )
    assert orphans == []
    edits = query(
        db,
        "SELECT c.entity_id, c.new_value, m.text, m.version FROM changes c "
        "JOIN comments m ON m.comment_id = c.entity_id WHERE c.kind = 'edited' AND c.run_id = 2",
    )
    assert edits and all(e["new_value"] == e["text"] and e["version"] == 2 for e in edits)
    versions = query(db, "SELECT count(*) AS n FROM comment_versions WHERE run_id = 2")[0]["n"]
    assert versions == len(edits)
    [run] = query(db, "SELECT status FROM runs WHERE run_id = 2")
    assert run["status"] == "running"  # killed: never finished, and says so
