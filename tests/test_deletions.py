"""Deletions you can publish: absent from a complete load is a candidate; the site's single-comment
answer (or, without one, a second complete load) confirms it. Crawls of the replica into real files."""

from __future__ import annotations

import json

from crawler.items import ArticleItem, CommentItem, ThreadItem
from crawler.replica.generate import generated_article
from crawler.replica.seed import SEED_SLUG
from crawler.store import Store
from crawler.store.changes import removal_reason
from tests.crawling import article_url, model_thread, query
from tests.crawling import crawl as _crawl

TWO_HUNDRED = "two-hundred-comments"
PAGED = "paged-thread"


def crawl(db, urls):
    # every crawl re-reads the thread (faults and scheduled deletions do not change the page's ETag)
    return _crawl(db, urls, settings={"CONDITIONAL_GET": "False"})


def key(comment_id: str) -> str:
    return f"boredpanda:{comment_id}"


def events(result) -> list[tuple]:
    rows = result.query(
        "SELECT entity_id, kind, reason FROM changes WHERE run_id = ? AND entity_type = 'comment' "
        "ORDER BY entity_id, kind",
        [result.run["run_id"]],
    )
    return [(r["entity_id"], r["kind"], r["reason"]) for r in rows]


def lonely_top_level(site, slug):
    """Top-level comments without replies, newest first (the order the spider pages them)."""
    article = site.article(slug)
    parents = {c.parent_id for c in article.comments}
    top = [c for c in article.comments if c.parent_id is None and not c.deleted and c.id not in parents]
    return sorted(top, key=lambda c: -int(c.id))


def test_a_deletion_between_two_page_fetches_deletes_no_live_comment(replica, replica_site, tmp_path):
    replica_site.add_article(generated_article(PAGED, 8400002, 160, seed=7, cut_every=0, top_level=130))
    db, url = tmp_path / "c.db", article_url(replica, PAGED)
    first = crawl(db, [url])
    assert first.run["status"] == "ok"
    # The spider pages newest first, 50 a page. Deleting a page-1 comment right after page 1 was
    # answered shifts page 2 by one: its first comment moves onto page 1, which was fetched already.
    top = sorted(
        (c for c in replica_site.article(PAGED).comments if c.parent_id is None), key=lambda c: -int(c.id)
    )
    victim = next(c for c in lonely_top_level(replica_site, PAGED) if top.index(c) < 50)
    shifted = top[50]
    replica_site.delete_after_page(PAGED, 1, victim.id)
    second = crawl(db, [url])
    assert replica_site.article(PAGED).delete_after_page == {}  # the deletion did happen
    assert second.run["status"] == "ok" and second.run["threads_complete"] == 1
    # the page shift hid `shifted`; the single-comment request says it is there: nothing deleted
    assert events(second) == []
    assert second.stats["article_spider/confirm/present"] == 1
    assert second.query(
        "SELECT status, missing_loads FROM comments WHERE comment_id = ?", [key(shifted.id)]
    ) == [{"status": "live", "missing_loads": 0}]
    assert second.query("SELECT count(*) AS n FROM comments WHERE status = 'deleted'") == [{"n": 0}]
    # The next crawl does not see the victim; the site confirms it is gone: deleted, once.
    third = crawl(db, [url])
    assert events(third) == [(key(victim.id), "deleted", "the site's single-comment answer says it is gone")]
    live = {r["comment_id"] for r in third.query("SELECT comment_id FROM comments WHERE status = 'live'")}
    assert live == set(model_thread(replica_site, PAGED))
    fourth = crawl(db, [url])
    assert events(fourth) == []


def test_one_comment_missing_of_200_within_tolerance(replica, replica_site, tmp_path):
    replica_site.add_article(generated_article(TWO_HUNDRED, 8400001, 200, seed=5, cut_every=0))
    db, url = tmp_path / "c.db", article_url(replica, TWO_HUNDRED)
    assert crawl(db, [url]).run["status"] == "ok"
    lonely = lonely_top_level(replica_site, TWO_HUNDRED)
    missing = lonely[len(lonely) // 2]
    assert len(model_thread(replica_site, TWO_HUNDRED)) == 200

    # The listing leaves one comment out; the site still counts it (200) and still answers for it.
    replica_site.set_faults(TWO_HUNDRED, unlisted=[missing.id])
    present = crawl(db, [url])
    [load] = present.query(
        "SELECT complete, loaded, reported_total FROM thread_loads WHERE run_id = ?", [present.run["run_id"]]
    )
    assert load == {"complete": 1, "loaded": 200, "reported_total": 200}
    assert events(present) == []
    assert present.stats["article_spider/confirm/present"] == 1

    # Its single-comment request fails: 199 of 200 is complete within the 1% tolerance, but nothing
    # confirms the deletion: a candidate, still live.
    replica_site.set_faults(TWO_HUNDRED, full_text=[missing.id])
    unknown = crawl(db, [url])
    [load] = unknown.query(
        "SELECT complete, loaded FROM thread_loads WHERE run_id = ?", [unknown.run["run_id"]]
    )
    assert load == {"complete": 1, "loaded": 199}
    assert events(unknown) == []
    assert unknown.query(
        "SELECT status, missing_loads, missing_since IS NOT NULL AS candidate FROM comments "
        "WHERE comment_id = ?",
        [key(missing.id)],
    ) == [{"status": "live", "missing_loads": 1, "candidate": 1}]
    assert "deletion candidates" in unknown.run["notes"]
    # a second complete load without it: still no deletion (the site has a direct fetch; only it decides)
    again = crawl(db, [url])
    assert events(again) == []

    # Really deleted: the single-comment answer confirms it.
    replica_site.set_faults(TWO_HUNDRED, full_text=[], unlisted=[])
    replica_site.delete_comment(missing.id)
    confirmed = crawl(db, [url])
    assert events(confirmed) == [
        (key(missing.id), "deleted", "the site's single-comment answer says it is gone")
    ]
    assert confirmed.query("SELECT deleted_reason FROM deleted_comments") == [
        {"deleted_reason": "the site's single-comment answer says it is gone"}
    ]


def test_replies_of_a_removed_comment_record_the_reason(replica, replica_site, tmp_path):
    db, url = tmp_path / "c.db", article_url(replica, SEED_SLUG)
    crawl(db, [url])
    parent = next(c for c in replica_site.article(SEED_SLUG).comments if c.author == "Ilya Nosov")
    replies = [c.id for c in replica_site.article(SEED_SLUG).comments if c.parent_id == parent.id]
    assert replies
    replica_site.delete_comment(parent.id)
    result = crawl(db, [url])
    gone = "the site's single-comment answer says it is gone"
    assert events(result) == sorted(
        [(key(parent.id), "deleted", gone)]
        + [(key(r), "deleted", f"parent deleted: {gone}") for r in replies]
    )


def _thread(n: int, seen: list[str], at: str) -> ThreadItem:
    return ThreadItem(
        article_id="x:a",
        url="https://e.com/a/",
        reported_total=n,
        loaded=len(seen),
        requests_total=1,
        requests_failed=0,
        end_reached=True,
        complete=True,
        fetched_at=at,
        seen_ids=seen,
    )


def test_a_placeholder_is_a_deletion_with_the_sites_reason(tmp_path):
    path = tmp_path / "s.db"
    texts = {"x:1": "A real comment.", "x:2": "Another one.", "x:3": "Third."}
    for at, shown in [
        ("2026-11-26T10:00:00+00:00", texts),
        (
            "2026-11-26T11:00:00+00:00",
            {**texts, "x:2": "[deleted]", "x:3": "This comment was removed by a moderator"},
        ),
        (
            "2026-11-26T12:00:00+00:00",
            {**texts, "x:2": "[deleted]", "x:3": "This comment was removed by a moderator"},
        ),
    ]:
        store = Store.open(path)
        store.start_run("test")
        store.add(ArticleItem(url="https://e.com/a/", article_id="x:a", title="A", fetched_at=at))
        for cid, text in shown.items():
            store.add(CommentItem(comment_id=cid, article_id="x:a", text=text, fetched_at=at))
        store.add(_thread(3, list(shown), at))
        store.finish_run("finished")
        store.close()
    assert query(
        path, "SELECT run_id, entity_id, kind, reason, old_value FROM changes WHERE entity_type = 'comment'"
    ) == [
        {
            "run_id": 2,
            "entity_id": "x:2",
            "kind": "deleted",
            "reason": "deleted (the site's placeholder)",
            "old_value": "Another one.",
        },
        {
            "run_id": 2,
            "entity_id": "x:3",
            "kind": "deleted",
            "reason": "removed by a moderator (the site's placeholder)",
            "old_value": "Third.",
        },
    ]
    # the text we knew is kept, not replaced by the placeholder; no edit, no version
    assert query(
        path, "SELECT comment_id, text, status, deleted_reason FROM comments ORDER BY comment_id"
    ) == [
        {"comment_id": "x:1", "text": "A real comment.", "status": "live", "deleted_reason": None},
        {"comment_id": "x:2", "text": "Another one.", "status": "deleted", "deleted_reason": "deleted"},
        {
            "comment_id": "x:3",
            "text": "Third.",
            "status": "deleted",
            "deleted_reason": "removed by a moderator",
        },
    ]
    assert query(path, "SELECT count(*) AS n FROM comment_versions") == [{"n": 0}]
    runs = query(path, "SELECT notes FROM runs WHERE run_id = 3")
    assert json.loads(runs[0]["notes"]) == []


def test_placeholder_texts():
    assert removal_reason("[deleted]") == "deleted"
    assert removal_reason("[removed]") == "deleted"
    assert removal_reason("Comment removed by moderator") == "removed by a moderator"
    assert removal_reason("This comment has been deleted by its author.") == "deleted by its author"
    assert removal_reason("I deleted my account and came back") is None
    assert removal_reason("Removed") == "deleted"
    assert removal_reason(None) is None
