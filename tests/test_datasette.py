"""Datasette serves the shipped canned queries over a database a real crawl wrote."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request

import pytest

from crawler.datasette import metadata, metadata_for
from crawler.replica.demo_site import NORMAL_SLUG
from tests.conftest import free_port
from tests.crawling import article_url, crawl

PARAMS = {
    "changes_since": {"since": "2000-01-01T00:00:00"},
    "article_history": {"article_id": "boredpanda:8200001"},
    "substantial_article_edits": {"min_chars": "1"},
}


@pytest.fixture
def crawled_db(replica, replica_site, tmp_path):
    db = tmp_path / "monitor.db"
    crawl(db, [article_url(replica, NORMAL_SLUG)])
    comment = next(c for c in replica_site.article(NORMAL_SLUG).comments if c.parent_id is None)
    replica_site.edit_comment(comment.id, "Edited so that the canned queries have something to show.")
    replica_site.delete_comment(
        next(
            c
            for c in replica_site.article(NORMAL_SLUG).comments
            if c.parent_id is None and c.id != comment.id
        ).id
    )
    crawl(db, [article_url(replica, NORMAL_SLUG)])
    return db


def _get(url: str) -> list[dict]:
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.status == 200
        return json.loads(response.read())


def test_datasette_serves_every_canned_query(crawled_db, tmp_path):
    meta = tmp_path / "metadata.json"
    meta.write_text(json.dumps(metadata_for(crawled_db)))
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "datasette",
            "serve",
            str(crawled_db),
            "--metadata",
            str(meta),
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}/monitor"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/-/versions.json", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        queries = metadata()["databases"]["crawl"]["queries"]
        results = {}
        for name in queries:
            params = "&".join(f"{k}={v}" for k, v in PARAMS.get(name, {}).items())
            results[name] = _get(f"{base}/{name}.json?_shape=array&{params}")
        latest = results["changes_in_latest_run"]
        assert {(r["kind"], r["entity_type"]) for r in latest} == {
            ("edited", "comment"),
            ("deleted", "comment"),
        }
        assert len(results["deleted_comments"]) == 1
        assert results["most_edited_comments"][0]["edits"] == 1
        assert {r["kind"] for r in results["article_history"]} == {"added", "edited", "deleted"}
        assert len(results["changes_since"]) == 3
    finally:
        server.terminate()
        server.wait(timeout=10)
