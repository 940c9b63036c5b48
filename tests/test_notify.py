"""Notifications end to end: `crawler run` sends one Apprise digest per run to webhooks on loopback.

A tiny HTTP server in the test process receives the json:// posts (one path answers 500 to play a
target that is down); the runs are real `crawler run` subprocesses over the replica, and every assert
compares what was received with the change rows read back from SQLite.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from click.testing import CliRunner

from crawler.cli.main import cli
from crawler.replica.demo_site import NORMAL_SLUG
from tests.crawling import FAST, ROOT, article_url, query


class Receiver:
    """Records every POST body by path; paths starting with /fail answer 500."""

    def __init__(self):
        self.posts: list[tuple[str, dict]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.posts.append((self.path, json.loads(body)))
                self.send_response(500 if self.path.startswith("/fail") else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"json://127.0.0.1:{self.port}{path}"

    def bodies(self, path: str) -> list[dict]:
        return [body for p, body in self.posts if p == path]

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    with Receiver() as r:
        yield r


def crawler_run(db, *extra: str, settings: dict | None = None) -> subprocess.CompletedProcess:
    pairs = {**FAST, "NOTIFY_RETRY_DELAY": "0", "NOTIFY_ATTEMPTS": "3", **(settings or {})}
    args = [a for k, v in pairs.items() for a in ("-s", f"{k}={v}")]
    env = {**os.environ, "PANDAWATCH_DB": str(db)}
    env.pop("PANDAWATCH_NOTIFY_URLS", None)
    return subprocess.run(
        [sys.executable, "-m", "crawler.cli", "run", *extra, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_one_digest_per_run_lists_exactly_its_events_and_a_failing_target_is_retried(
    replica, replica_site, receiver, tmp_path
):
    db = tmp_path / "c.db"
    runner = CliRunner()
    url = article_url(replica, NORMAL_SLUG)
    assert runner.invoke(cli, ["watch", "add", url, "--db", str(db)]).exit_code == 0
    assert runner.invoke(cli, ["notify", "add", receiver.url("/all"), "--db", str(db)]).exit_code == 0
    added = runner.invoke(
        cli, ["notify", "add", receiver.url("/deletions"), "--only-deletions", "--db", str(db)]
    )
    assert added.exit_code == 0, added.output
    failing = {"NOTIFY_URLS": receiver.url("/fail")}  # from the settings, like $PANDAWATCH_NOTIFY_URLS

    first = crawler_run(db, settings=failing)
    assert first.returncode == 0, first.stderr[-3000:]
    top = [c for c in replica_site.article(NORMAL_SLUG).comments if c.parent_id is None]
    replica_site.delete_comment(top[0].id)
    replica_site.edit_comment(top[1].id, "Edited <b>between</b> runs & more.")
    replica_site.set_votes(top[2].id, top[2].upvotes + 4, top[2].downvotes)
    second = crawler_run(db, "--all", settings=failing)
    third = crawler_run(db, "--all", settings=failing)  # a deletion confirmed by a second complete load
    assert second.returncode == third.returncode == 0, second.stderr[-3000:] + third.stderr[-3000:]

    runs = query(db, "SELECT * FROM runs ORDER BY run_id")
    assert [r["status"] for r in runs] == ["ok", "ok", "ok"]  # failed notifications fail no run
    # `crawler run` keeps evidence by default: every run has its WARC records, every event its link
    evidence = query(db, "SELECT run_id, count(*) AS n FROM evidence GROUP BY run_id ORDER BY run_id")
    assert [e["run_id"] for e in evidence] == [1, 2, 3] and all(e["n"] > 0 for e in evidence)
    assert query(db, "SELECT count(*) AS n FROM changes WHERE evidence_id IS NULL") == [{"n": 0}]
    with_changes = [r["run_id"] for r in runs if r["changes_recorded"]]
    digests = receiver.bodies("/all")
    # one digest per run that recorded changes, each listing exactly that run's change events
    assert [d["pandawatch"]["run"]["run_id"] for d in digests] == with_changes
    for digest in digests:
        run_id = digest["pandawatch"]["run"]["run_id"]
        stored = query(
            db, "SELECT change_id, kind, entity_id FROM changes WHERE run_id = ? ORDER BY change_id", [run_id]
        )
        listed = [
            {k: e[k] for k in ("change_id", "kind", "entity_id")} for e in digest["pandawatch"]["events"]
        ]
        assert listed == stored
        assert digest["title"].startswith(f"Panda Watch: {len(stored)} change(s) in run {run_id}")
        assert digest["message"].count("\n  - ") == len(stored)  # the readable text lists them too
    kinds = {e["kind"] for d in digests for e in d["pandawatch"]["events"]}
    assert {"added", "deleted", "edited", "votes"} <= kinds

    # the filtered target hears of deletions only, and of all of them
    deleted = query(db, "SELECT change_id FROM changes WHERE kind = 'deleted' ORDER BY change_id")
    told = [e for d in receiver.bodies("/deletions") for e in d["pandawatch"]["events"]]
    assert deleted and [e["change_id"] for e in told] == [r["change_id"] for r in deleted]
    assert {e["kind"] for e in told} == {"deleted"}

    # the failing target: NOTIFY_ATTEMPTS tries per digest, then recorded on the run and warned about
    assert len(receiver.bodies("/fail")) == 3 * len(with_changes)
    for run in runs:
        if run["run_id"] not in with_changes:
            assert run["notified"] is None
            continue
        notified = {n["target"].split("?")[0]: n for n in json.loads(run["notified"])}
        bad = notified[receiver.url("/fail")]
        assert (bad["ok"], bad["attempts"], len(bad["errors"])) == (False, 3, 3)
        assert notified[receiver.url("/all")]["ok"] is True
        assert any(
            "notification to json://127.0.0.1" in w and "failed after 3" in w
            for w in json.loads(run["warnings"])
        )
    assert "FAILED after 3 attempt(s)" in second.stdout


def test_notify_test_command_reports_each_target(receiver, tmp_path):
    db = str(tmp_path / "c.db")
    runner = CliRunner()
    ok = runner.invoke(cli, ["notify", "test", receiver.url("/ok"), "--db", db, "-s", "NOTIFY_RETRY_DELAY=0"])
    assert ok.exit_code == 0 and ": ok" in ok.output
    [(path, body)] = receiver.posts
    assert path == "/ok" and body["title"] == "Panda Watch: test notification"
    bad = runner.invoke(
        cli,
        [
            "notify",
            "test",
            receiver.url("/fail"),
            "--db",
            db,
            "-s",
            "NOTIFY_RETRY_DELAY=0",
            "-s",
            "NOTIFY_ATTEMPTS=2",
        ],
    )
    assert bad.exit_code == 1 and "FAILED after 2 attempt(s)" in bad.output
    assert len(receiver.bodies("/fail")) == 2
    unknown = runner.invoke(cli, ["notify", "add", "nosuchscheme://x", "--db", db])
    assert unknown.exit_code == 1 and "Error:" in unknown.output


def test_filters_by_kind_site_article_and_vote_change():
    from crawler.notify.targets import Filters, Target, selected

    events = [
        {
            "kind": "votes",
            "entity_type": "comment",
            "article_id": "a1",
            "site": "boredpanda",
            "old_value": "10/1",
            "new_value": "11/1",
            "article_url": "https://x.test/a1/",
        },
        {
            "kind": "votes",
            "entity_type": "comment",
            "article_id": "a1",
            "site": "boredpanda",
            "old_value": "10/1",
            "new_value": "30/2",
            "article_url": "https://x.test/a1/",
        },
        {
            "kind": "deleted",
            "entity_type": "comment",
            "article_id": "a2",
            "site": "zine",
            "old_value": "bye",
            "new_value": None,
            "article_url": "https://y.test/a2/",
        },
    ]
    assert selected(Target("json://h", Filters(min_votes=5)), events) == events[1:]
    assert selected(Target("json://h", Filters(sites=["zine"])), events) == events[2:]
    assert selected(Target("json://h", Filters(articles=["https://X.test/a1"])), events) == events[:2]
    assert selected(Target("json://h", Filters(kinds=["deleted"])), events) == events[2:]
