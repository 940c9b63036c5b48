"""Evidence end to end: WARC files of real crawls, the links from change events to their records, the
`crawler evidence` command and its export, retention, and what the evidence costs.

One replica article is crawled three times with EVIDENCE on; between the first and the second crawl a
comment is deleted and another edited. Three runs make the deletion hold whether one complete load
without the comment records it or a confirming second one is needed.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from warcio.archiveiterator import ArchiveIterator

from crawler.cli.main import cli
from crawler.evidence.retention import protected_records, prune
from crawler.replica import ReplicaServer, build_bench_site, build_demo_site
from crawler.replica.demo_site import NORMAL_SLUG
from crawler.store import open_db
from tests.crawling import article_url, crawl, query

EVIDENCE = {"EVIDENCE": "True"}


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    site = build_demo_site()
    tmp = tmp_path_factory.mktemp("evidence")
    db = tmp / "c.db"
    with ReplicaServer(site) as server:
        url = article_url(server, NORMAL_SLUG)
        top = [c for c in site.article(NORMAL_SLUG).comments if c.parent_id is None]
        victim = next(
            c for c in top if not any(r.parent_id == c.id for r in site.article(NORMAL_SLUG).comments)
        )
        edited = next(c for c in top if c is not victim)
        runs = [crawl(db, [url], settings=EVIDENCE)]
        site.delete_comment(victim.id)
        site.edit_comment(edited.id, "Rewritten after the first crawl.")
        runs.append(crawl(db, [url], settings=EVIDENCE))
        runs.append(crawl(db, [url], settings=EVIDENCE))
    for r in runs:
        assert r.returncode == 0 and r.run["status"] == "ok", r.stderr[-3000:]
    return {
        "db": db,
        "runs": runs,
        "victim": f"boredpanda:{victim.id}",
        "victim_text": victim.text,
        "edited": f"boredpanda:{edited.id}",
        "edited_text": edited.text,
    }


def records_of(path):
    with open(path, "rb") as handle:
        return [
            (r.rec_type, r.rec_headers.get_header("WARC-Record-ID"), r.raw_stream.read())
            for r in ArchiveIterator(handle)
        ]


def test_every_response_of_a_run_is_a_warc_record(scenario):
    first = scenario["runs"][0]
    rows = first.query("SELECT * FROM evidence WHERE run_id = ?", [first.run["run_id"]])
    # article page, comment API pages and replies: every downloaded response, robots.txt included
    assert len(rows) == first.stats["downloader/response_count"] == first.stats["evidence/records"]
    [warc] = {r["warc_path"] for r in rows}
    path = scenario["db"].parent / warc
    responses = {rid: payload for kind, rid, payload in records_of(path) if kind == "response"}
    assert set(responses) == {r["record_id"] for r in rows}
    for row in rows:
        assert hashlib.sha256(responses[row["record_id"]]).hexdigest() == row["sha256"]
    # a comment API answer names the form that asked for it (no separate request records by default)
    with open(path, "rb") as handle:
        asked = [
            r.rec_headers.get_header("WARC-Pandawatch-Request")
            for r in ArchiveIterator(handle)
            if "admin-ajax.php" in (r.rec_headers.get_header("WARC-Target-URI") or "")
        ]
    assert asked and all(a.startswith("POST ") and "action=load_" in a for a in asked)
    # every comment stored, and every change event, names the record it came from
    assert query(scenario["db"], "SELECT count(*) AS n FROM comments WHERE evidence_id IS NULL") == [{"n": 0}]
    assert query(scenario["db"], "SELECT count(*) AS n FROM changes WHERE evidence_id IS NULL") == [{"n": 0}]


def test_evidence_of_a_deleted_comment_names_the_first_runs_record(scenario, tmp_path):
    db, victim = scenario["db"], scenario["victim"]
    [deleted] = query(db, "SELECT * FROM changes WHERE entity_id = ? AND kind = 'deleted'", [victim])
    assert deleted["run_id"] in (2, 3)  # one complete load, or two: either deletion rule
    result = CliRunner().invoke(cli, ["evidence", victim, "--db", str(db), "--json"])
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    [event] = [e for e in shown["changes"] if e["kind"] == "deleted"]
    assert event["evidence_id"] == deleted["evidence_id"] and event["record_run_id"] == 1
    assert {s["seen_in_run"] for s in shown["seen"]} == {1} and all(s["hash_ok"] for s in shown["seen"])

    # the record holds the comment's text, and its payload hashes to what the database says
    [row] = query(db, "SELECT * FROM evidence WHERE record_id = ?", [deleted["evidence_id"]])
    with open(db.parent / row["warc_path"], "rb") as handle:
        handle.seek(row["offset"])
        record = next(iter(ArchiveIterator(handle)))
        assert record.rec_headers.get_header("WARC-Record-ID") == deleted["evidence_id"]
        payload = record.raw_stream.read()
    assert hashlib.sha256(payload).hexdigest() == row["sha256"]
    words = scenario["victim_text"].split()[:4]
    assert " ".join(words).encode() in payload.replace(b"&#039;", b"'").replace(b"&amp;", b"&")

    # the export is a WARC warcio reads, with the very same records
    text = CliRunner().invoke(
        cli, ["evidence", victim.split(":")[1], "--db", str(db), "--export", str(tmp_path)]
    )
    assert text.exit_code == 0, text.output
    assert deleted["evidence_id"] in text.output and row["sha256"] in text.output
    [exported] = list(tmp_path.glob("*.warc.gz"))
    records = records_of(exported)
    assert records[0][0] == "warcinfo"
    assert {rid for kind, rid, _ in records if kind == "response"} == {s["record_id"] for s in shown["seen"]}
    assert {hashlib.sha256(p).hexdigest() for k, _, p in records if k == "response"} == {
        s["sha256"] for s in shown["seen"]
    }


@pytest.mark.parametrize("limit", ["age", "size"])
def test_retention_drops_old_records_but_keeps_those_behind_deletions_and_edits(scenario, tmp_path, limit):
    copy = tmp_path / "c.db"
    shutil.copy(scenario["db"], copy)
    shutil.copytree(scenario["db"].parent / "warc", tmp_path / "warc")
    db = open_db(copy)
    try:
        keep = protected_records(db)
        backing = {
            r["evidence_id"]
            for r in db.query("SELECT evidence_id FROM changes WHERE kind IN ('deleted', 'edited')")
        }
        assert backing and backing <= keep
        before = db.execute("SELECT count(*) FROM evidence").fetchone()[0]
        if limit == "age":
            # every record is old a minute later (fetched_at has seconds precision: "now", right after
            # the scenario's crawl, can fall in the second of its last record)
            later = datetime.now(UTC) + timedelta(minutes=1)
            result = prune(db, copy, max_age=timedelta(seconds=0), now=later)
        else:
            result = prune(db, copy, max_age=None, max_bytes=1)  # all of them are too many bytes
        left = {r["record_id"]: r for r in db.query("SELECT * FROM evidence")}
    finally:
        db.close()
    assert set(left) == keep and result.records_dropped == before - len(keep) > 0
    for row in left.values():  # moved records still read back with their hash
        with open(tmp_path / row["warc_path"], "rb") as handle:
            handle.seek(row["offset"])
            payload = next(iter(ArchiveIterator(handle))).raw_stream.read()
        assert hashlib.sha256(payload).hexdigest() == row["sha256"]
    assert result.bytes_after < result.bytes_before


def test_evidence_of_a_200_article_run_costs_less_than_1_5x_the_compressed_download(tmp_path):
    with ReplicaServer(build_bench_site(200, 5)) as server:
        urls = tmp_path / "urls.txt"
        urls.write_text("".join(f"{server.base_url}/bench-article-{n:04d}/\n" for n in range(200)))
        result = crawl(tmp_path / "c.db", args={"urls_file": str(urls)}, settings=EVIDENCE)
    assert result.run["status"] == "ok" and result.run["articles_seen"] == 200
    [warc] = list((tmp_path / "warc").glob("*.warc.gz"))
    # The replica does not compress: "compressed bytes downloaded" is what the same answers weigh gzipped
    # (as a compressing server sends them).
    payloads = [p for kind, _, p in records_of(warc) if kind == "response"]
    assert len(payloads) == result.stats["downloader/response_count"]
    compressed = sum(len(gzip.compress(p, 6)) for p in payloads)
    assert warc.stat().st_size <= 1.5 * compressed, (warc.stat().st_size, compressed)


@pytest.mark.skipif(not shutil.which("chromium"), reason="needs Debian's chromium")
def test_browser_path_records_the_pages_xhr_answers(replica, tmp_path):
    db = tmp_path / "c.db"
    result = crawl(db, [article_url(replica, NORMAL_SLUG)], args={"render": "browser"}, settings=EVIDENCE)
    assert result.returncode == 0 and result.run["status"] == "ok", result.stderr[-3000:]
    [page] = query(db, "SELECT * FROM evidence WHERE source = 'browser'")
    xhrs = query(db, "SELECT * FROM evidence WHERE source = 'xhr'")
    # the comment API calls the page's "Load More" clicks made, each tied to the page
    assert xhrs and {x["parent_record_id"] for x in xhrs} == {page["record_id"]}
    assert all("admin-ajax.php" in x["url"] for x in xhrs)
    assert query(db, "SELECT DISTINCT evidence_id FROM comments") == [{"evidence_id": page["record_id"]}]
    comment = query(db, "SELECT comment_id FROM comments LIMIT 1")[0]["comment_id"]
    shown = json.loads(CliRunner().invoke(cli, ["evidence", comment, "--db", str(db), "--json"]).output)
    assert {s["record_id"] for s in shown["seen"]} == {page["record_id"], *(x["record_id"] for x in xhrs)}
    assert all(s["hash_ok"] for s in shown["seen"])


def test_evidence_is_off_for_a_plain_scrapy_crawl(replica, tmp_path):
    db = tmp_path / "c.db"
    result = crawl(db, [article_url(replica, NORMAL_SLUG)])
    assert result.run["status"] == "ok"
    assert query(db, "SELECT count(*) AS n FROM evidence") == [{"n": 0}]
    assert query(db, "SELECT count(evidence_id) AS n FROM comments") == [{"n": 0}]
    assert not (tmp_path / "warc").exists() and "evidence/records" not in result.stats
