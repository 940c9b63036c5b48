"""Never lose a batch: two crawls into one database, a full disk, a read-only database, `crawler ingest`.

Every test crawls the replica for real into a real SQLite file; the faults are real too (a small tmpfs
that fills up, a filesystem mounted read-only). Tests that need `mount` skip where it is not allowed.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from crawler.cli.main import cli
from crawler.replica.demo_site import BIG_THREAD_SLUG, NORMAL_SLUG
from crawler.replica.generate import generated_article
from tests.crawling import FAST, ROOT, article_url, crawl, model_thread, query

SECOND_SLUG = "second-big-thread"


@contextlib.contextmanager
def tmpfs(mount_point: Path, size: str):
    """A small filesystem of its own at `mount_point` (root only); skips the test where impossible."""
    mount_point.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def remount(mount_point: Path, options: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{options}", str(mount_point)], check=True)


def crawl_command(db: Path, url: str, settings: dict[str, str]) -> list[str]:
    command = [sys.executable, "-m", "scrapy", "crawl", "article", "-a", f"url={url}"]
    for name, value in {**FAST, "SQLITE_PATH": str(db), **settings}.items():
        command += ["-s", f"{name}={value}"]
    return command


def stored_ids(db: Path, article_id: str) -> set[str]:
    return {
        r["comment_id"]
        for r in query(db, "SELECT comment_id FROM comments WHERE article_id = ?", [article_id])
    }


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "Error:" in line]


def test_two_crawls_into_one_database_at_once_lose_nothing(replica, replica_site, tmp_path):
    replica_site.add_article(generated_article(SECOND_SLUG, 8300001, 1000, seed=3))
    db = tmp_path / "c.db"
    env = {**os.environ, "SCRAPY_SETTINGS_MODULE": "crawler.settings"}
    env.pop("PANDAWATCH_DB", None)
    settings = {"STORE_BATCH_SIZE": "50"}
    processes = [
        subprocess.Popen(
            crawl_command(db, article_url(replica, slug), settings),
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for slug in (BIG_THREAD_SLUG, SECOND_SLUG)
    ]
    outputs = [p.communicate(timeout=240)[1] for p in processes]
    assert [p.returncode for p in processes] == [0, 0], outputs[0][-2000:] + outputs[1][-2000:]
    assert not any("database is locked" in out for out in outputs)
    runs = query(db, "SELECT status, comments_seen, threads_complete FROM runs ORDER BY run_id")
    assert [r["status"] for r in runs] == ["ok", "ok"]
    for slug, post_id in ((BIG_THREAD_SLUG, 8200004), (SECOND_SLUG, 8300001)):
        expected = set(model_thread(replica_site, slug))
        assert stored_ids(db, f"boredpanda:{post_id}") == expected
    assert [r["threads_complete"] for r in runs] == [1, 1]
    # one added event per article, no comment events (both first crawls)
    assert query(db, "SELECT entity_type, kind, count(*) AS n FROM changes GROUP BY 1, 2") == [
        {"entity_type": "article", "kind": "added", "n": 2}
    ]


def test_disk_full_fails_loudly_spills_and_ingest_replays(replica, replica_site, tmp_path, monkeypatch):
    spill_dir = tmp_path / "tmp"
    spill_dir.mkdir()
    monkeypatch.setenv("TMPDIR", str(spill_dir))  # where the spill goes when the full disk refuses it
    url = article_url(replica, BIG_THREAD_SLUG)
    with tmpfs(tmp_path / "small", "640k") as small:
        db = small / "c.db"
        result = crawl(db, [url], settings={"STORE_BATCH_SIZE": "50", "STORE_RETRY_DELAY": "0.05"})
        assert result.returncode == 1, result.stderr[-3000:]
        errors = error_lines(result.stderr)
        assert len(errors) == 1, errors
        assert "is full" in errors[0] and str(db) in errors[0]
        assert "Traceback" not in result.stderr
        [run] = query(db, "SELECT run_id, status FROM runs")
        assert run["status"] != "ok"
        spills = sorted(small.glob("*.jsonl")) + sorted(spill_dir.glob("*.jsonl"))
        assert len(spills) == 1 and spills[0].parent == spill_dir
        stored_before = stored_ids(db, "boredpanda:8200004")
        expected = set(model_thread(replica_site, BIG_THREAD_SLUG))
        assert len(stored_before) < len(expected)  # the disk really filled up mid-crawl

        remount(small, "size=64m")  # room again
        out = CliRunner().invoke(cli, ["ingest", str(spills[0]), "--db", str(db)])
        assert out.exit_code == 0, out.output
        assert stored_ids(db, "boredpanda:8200004") == expected
        # written as the run that spilled them, and finished as it would have finished
        assert query(db, "SELECT run_id, spider, status, threads_complete FROM runs") == [
            {"run_id": run["run_id"], "spider": "article", "status": "ok", "threads_complete": 1}
        ]
        [notes] = query(db, "SELECT notes FROM runs")
        assert any("replayed from" in note for note in json.loads(notes["notes"]))
        # a first crawl, replayed: still one `added` event, not one per comment
        assert query(db, "SELECT entity_type, kind, count(*) AS n FROM changes GROUP BY 1, 2") == [
            {"entity_type": "article", "kind": "added", "n": 1}
        ]
        assert query(db, "SELECT complete, loaded FROM thread_loads") == [
            {"complete": 1, "loaded": len(expected)}
        ]
        # replaying the same file again adds nothing
        again = CliRunner().invoke(cli, ["ingest", str(spills[0]), "--db", str(db)])
        assert again.exit_code == 0 and "0 changes" in again.output


def test_read_only_database_is_one_clear_error(replica, tmp_path):
    url = article_url(replica, NORMAL_SLUG)
    env = {**os.environ, "SCRAPY_SETTINGS_MODULE": "crawler.settings"}
    with tmpfs(tmp_path / "ro", "16m") as mount_point:
        db = mount_point / "c.db"
        first = crawl(db, [url])
        assert first.returncode == 0 and first.run["status"] == "ok"
        remount(mount_point, "ro")
        result = subprocess.run(crawl_command(db, url, {}), cwd=ROOT, env=env, capture_output=True, text=True)
        assert result.returncode == 1
        errors = error_lines(result.stderr)
        assert len(errors) == 1 and errors[0].startswith(f"Error: {db} is on a read-only filesystem ("), (
            errors
        )
        assert "Traceback" not in result.stderr
        # refused before anything was fetched: nothing to lose
        assert "Spider opened" not in result.stderr
        out = CliRunner().invoke(cli, ["crawl", url, "--db", str(db)])
        assert out.exit_code == 1
        run = subprocess.run(
            [str(Path(sys.executable).parent / "crawler"), "run", "--db", str(db)],
            capture_output=True,
            text=True,
            env=env,
        )
        assert run.returncode == 1 and len(error_lines(run.stderr)) == 1, run.stderr[-2000:]
        assert "Traceback" not in run.stderr
        remount(mount_point, "rw")
        # and no run claims success
        assert query(db, "SELECT run_id, status FROM runs") == [{"run_id": 1, "status": "ok"}]


def test_ingest_rejects_a_file_that_is_not_a_spill(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"type": "CommentItem", "item": {"comment_id": "x:1"}}) + "\nnot json\n")
    out = CliRunner().invoke(cli, ["ingest", str(bad), "--db", str(tmp_path / "c.db")])
    assert out.exit_code == 1
    assert out.output.strip().splitlines() == [
        f"Error: {bad} line 2: Expecting value: line 1 column 1 (char 0)"
    ]
    assert not (tmp_path / "c.db").exists()


def test_database_made_read_only_mid_run_spills_and_ingest_replays(replica, replica_site, tmp_path):
    db, url = tmp_path / "c.db", article_url(replica, BIG_THREAD_SLUG)
    files = [db, Path(f"{db}-wal")]
    env = {**os.environ, "SCRAPY_SETTINGS_MODULE": "crawler.settings"}
    settings = {"STORE_BATCH_SIZE": "25", "CONCURRENT_REQUESTS_PER_DOMAIN": "1", "STORE_RETRY_DELAY": "0.05"}
    process = subprocess.Popen(
        crawl_command(db, url, settings),
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    held = False
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.02)
            with contextlib.suppress(sqlite3.OperationalError):
                if query(db, "SELECT count(*) AS n FROM comments")[0]["n"] >= 100:
                    # mid-run whatever the machine's speed: the replica answers nothing more while
                    # the test holds the site's lock, so the crawl cannot end before the database
                    # is made read-only
                    replica_site.lock.acquire()
                    held = True
                    break
        assert process.poll() is None, "the crawl ended before the database became read-only"
        # immutable: not even root may write it any more, through the crawl's open files either
        done = subprocess.run(["chattr", "+i", *map(str, files)], capture_output=True, text=True)
        if done.returncode != 0:
            process.kill()
            pytest.skip(f"chattr +i is not possible here: {done.stderr.strip()}")
        replica_site.lock.release()
        held = False
        _, stderr = process.communicate(timeout=240)
    finally:
        if held:
            replica_site.lock.release()
        subprocess.run(["chattr", "-i", *map(str, files)], capture_output=True)
    assert process.returncode == 1, stderr[-3000:]
    errors = error_lines(stderr)
    assert len(errors) == 1 and errors[0].split("Error: ", 1)[1].startswith(f"{db} is read-only ("), errors
    assert "Traceback" not in stderr
    [run] = query(db, "SELECT run_id, status FROM runs")
    assert run["status"] != "ok"
    [spill] = tmp_path.glob("*.jsonl")  # beside the database: its directory stayed writable
    out = CliRunner().invoke(cli, ["ingest", str(spill), "--db", str(db)])
    assert out.exit_code == 0, out.output
    assert stored_ids(db, "boredpanda:8200004") == set(model_thread(replica_site, BIG_THREAD_SLUG))
    assert query(db, "SELECT status FROM runs") == [{"status": "ok"}]
    assert query(db, "SELECT entity_type, kind, count(*) AS n FROM changes GROUP BY 1, 2") == [
        {"entity_type": "article", "kind": "added", "n": 1}
    ]
