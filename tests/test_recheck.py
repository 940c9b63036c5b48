"""Cheaper re-checks: a cut comment's full text is fetched again only when it can have changed.

Real crawls of the replica's 1,200-comment thread into one SQLite file; requests counted by Scrapy.
"""

from __future__ import annotations

from crawler.replica.demo_site import BIG_THREAD_SLUG
from crawler.replica.render import CUT_OVER
from crawler.replica.seed import SEED_SLUG
from tests.crawling import article_url, crawl, model_thread

#: re-check the thread on every run (the page itself may be unchanged)
RECHECK = {"COMMENTS_RECHECK_AFTER": "0"}


def requests(result) -> int:
    return result.stats["downloader/request_count"]


def test_recheck_finds_five_visible_edits_with_a_quarter_of_the_requests(replica, replica_site, tmp_path):
    db = tmp_path / "c.db"
    url = article_url(replica, BIG_THREAD_SLUG)
    first = crawl(db, [url], settings=RECHECK)
    assert first.returncode == 0, first.stderr[-3000:]
    assert first.stats["article_spider/follow_up/full_text"] > 100  # the first crawl reads every cut text
    article = replica_site.article(BIG_THREAD_SLUG)
    live = [c for c in article.comments if not c.deleted]
    cut = [c for c in live if len(c.text) > CUT_OVER][:3]
    short = [c for c in live if len(c.text) <= CUT_OVER][:2]
    edits = {c.id: f"EDITED at the start, so the visible part changes. {c.text}" for c in cut}
    edits.update({c.id: f"{c.text} (edited)" for c in short})
    for comment_id, text in edits.items():
        replica_site.edit_comment(comment_id, text)
    voted = short[0]
    replica_site.set_votes(voted.id, voted.upvotes + 7, voted.downvotes)
    new_id = replica_site.add_comment(BIG_THREAD_SLUG, "A new comment posted between the two runs.")

    second = crawl(db, [url], settings=RECHECK)
    assert second.returncode == 0, second.stderr[-3000:]
    assert requests(second) <= 0.25 * requests(first), (requests(second), requests(first))
    assert second.stats["article_spider/follow_up/full_text"] == 3  # exactly the cut comments edited
    edited = second.query(
        "SELECT entity_id FROM changes WHERE run_id = 2 AND kind = 'edited' AND entity_type = 'comment'"
    )
    assert {r["entity_id"] for r in edited} == {f"boredpanda:{i}" for i in edits}
    stored = {r["comment_id"]: r for r in second.query("SELECT * FROM comments")}
    expected = model_thread(replica_site, BIG_THREAD_SLUG)
    # every stored text is the whole text, the edited ones included: nothing was replaced by a cut
    assert {k: v["text"] for k, v in stored.items()} == {k: v["text"] for k, v in expected.items()}
    assert not any(r["text_truncated"] for r in stored.values())
    votes = second.query("SELECT entity_id FROM changes WHERE run_id = 2 AND kind = 'votes'")
    assert votes == [{"entity_id": f"boredpanda:{voted.id}"}]
    added = second.query("SELECT entity_id FROM changes WHERE run_id = 2 AND kind = 'added'")
    assert added == [{"entity_id": f"boredpanda:{new_id}"}]
    assert second.query("SELECT complete FROM thread_loads WHERE run_id = 2") == [{"complete": 1}]


def test_full_text_fetched_again_once_older_than_the_setting(replica, tmp_path):
    db = tmp_path / "c.db"
    url = article_url(replica, SEED_SLUG)
    first = crawl(db, [url], settings=RECHECK)
    assert first.stats["article_spider/follow_up/full_text"] >= 2
    again = crawl(db, [url], settings={**RECHECK, "COMMENTS_FULL_TEXT_RECHECK": "0"})
    assert (
        again.stats["article_spider/follow_up/full_text"] == first.stats["article_spider/follow_up/full_text"]
    )
    assert "article_spider/full_text/skipped" not in again.stats
    assert again.query("SELECT count(*) AS n FROM changes WHERE run_id = 2") == [{"n": 0}]


def test_full_text_due_rules():
    from datetime import UTC, datetime, timedelta

    from crawler.items import CommentItem
    from crawler.spiders.comment_state import full_text_due

    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    day = timedelta(days=1)
    full = "The whole text of a long comment, which the page cuts after a few words and more."
    cut = CommentItem("c1", text="The whole text of a long…", truncated=True)
    known = {"text": full, "text_truncated": 0, "full_text_at": (now - timedelta(hours=2)).isoformat()}
    assert not full_text_due(cut, known, now, day)  # recent, visible part unchanged
    assert full_text_due(cut, None, now, day)  # new comment
    assert full_text_due(cut, {**known, "text_truncated": 1}, now, day)  # only a cut stored
    assert full_text_due(cut, {**known, "full_text_at": None}, now, day)  # never fetched in full
    assert full_text_due(cut, {**known, "full_text_at": (now - 2 * day).isoformat()}, now, day)  # old
    edited = CommentItem("c1", text="An edited start of a long…", truncated=True)
    assert full_text_due(edited, known, now, day)  # the visible part changed
