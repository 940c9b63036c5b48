"""README "Your first crawl", run as written: the demo with --serve, every command the demo prints and
every command and SQL recipe of that section, on the demo's own database (issue 11, items 3 and 11,
and "Must show": the README's commands run in the test suite)."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from crawler.cli.main import cli
from crawler.dates import iso, now_utc
from tests.conftest import free_port
from tests.crawling import ROOT, query

README_PORT = "8765"  # the port the README's commands use; the test serves on a free one instead


def first_crawl_section() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("## Your first crawl")
    return readme[start : readme.index("\n## ", start + 1)]


def blocks(kind: str) -> list[str]:
    return re.findall(rf"```{kind}\n(.*?)```", first_crawl_section(), flags=re.S)


def env_for(tmp: Path) -> dict:
    env = {**os.environ, "HOME": str(tmp / "home"), "COLUMNS": "100"}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    for name in ("PANDAWATCH_DB", "SCRAPY_SETTINGS_MODULE", "XDG_CONFIG_HOME"):
        env.pop(name, None)
    return env


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """`crawler demo --serve` exactly as the README starts it (on a free port), in a fresh directory."""
    tmp = tmp_path_factory.mktemp("first-crawl")
    (tmp / "home").mkdir()
    port = str(free_port())
    [command] = [line for block in blocks("sh") for line in block.splitlines() if line.endswith("&")]
    assert command == f"crawler demo --serve --port {README_PORT} &"
    argv = shlex.split(command.rstrip("&").replace(README_PORT, port))
    child = subprocess.Popen(
        argv, cwd=tmp, env=env_for(tmp), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    lines = []
    deadline = time.monotonic() + 280
    for line in child.stdout:
        lines.append(line)
        if line.startswith("Serving ") or time.monotonic() > deadline:
            break
    output = "".join(lines)
    assert "Serving" in output, output
    yield {"tmp": tmp, "port": port, "output": output, "db": tmp / "output" / "demo.db"}
    child.send_signal(signal.SIGINT)
    try:
        child.wait(timeout=30)
    except subprocess.TimeoutExpired:
        child.kill()
    child.stdout.close()


def run_line(line: str, demo) -> subprocess.CompletedProcess:
    line = line.replace(README_PORT, demo["port"])
    return subprocess.run(
        ["bash", "-c", line],
        cwd=demo["tmp"],
        env=env_for(demo["tmp"]),
        capture_output=True,
        text=True,
        timeout=280,
    )


def test_demo_writes_its_own_database_and_prints_distinct_counts(demo):
    db = demo["db"]
    assert db.exists() and not (demo["tmp"] / "output" / "crawl.db").exists()
    lines = demo["output"].splitlines()
    first = next(line for line in lines if line.startswith("First crawl"))
    second = " ".join(" ".join(lines).split("Second crawl", 1)[1].split()[:30])
    new = query(db, "SELECT count(*) AS n FROM comments WHERE first_seen_run_id = 1")[0]["n"]
    articles = query(db, "SELECT count(*) AS n FROM articles WHERE first_seen_run_id = 1")[0]["n"]
    assert f"{articles} articles checked, {new} comments seen" in first
    seen = query(db, "SELECT count(*) AS n FROM comments WHERE last_seen_run_id = 2")[0]["n"]
    unchanged = query(db, "SELECT articles_unchanged AS n FROM runs WHERE run_id = 2")[0]["n"]
    assert f"({unchanged} unchanged, not re-read), {seen} comments seen" in second
    assert query(db, "SELECT count(*) AS n FROM comments")[0]["n"] == 1305  # 1,301 first, 4 added later
    assert "1301 comments seen" in demo["output"]


def test_every_command_the_demo_prints_runs(demo):
    commands = [line.strip()[2:] for line in demo["output"].splitlines() if line.strip().startswith("$ ")]
    assert len(commands) >= 6 and any(c.startswith("sqlite3 ") for c in commands)
    if shutil.which("sqlite3") is None:
        commands = [c for c in commands if not c.startswith("sqlite3 ")]
    for command in commands:
        if "--serve" in command or command.startswith("crawler crawl"):
            continue  # the crawl-it-yourself line is the README's, run below
        done = run_line(command, demo)
        assert done.returncode == 0, (command, done.stderr[-2000:])
        assert done.stdout.strip(), command
        assert "Traceback" not in done.stderr


def test_readme_first_crawl_commands_run(demo):
    lines = [line for block in blocks("sh") for line in block.splitlines() if line and not line.endswith("&")]
    assert any(line.startswith("crawler crawl ") for line in lines)
    for line in lines:
        done = run_line(line, demo)
        assert done.returncode == 0, (line, done.stderr[-2000:])
        if not line.startswith(("export ", "mkdir ", "printf ")):
            assert done.stdout.strip() or done.stderr.strip(), line
        assert "Traceback" not in done.stderr, line
    mine = demo["tmp"] / "output" / "mine.db"
    assert query(mine, "SELECT count(*) AS n FROM comments")[0]["n"] == 11 + 1200


def test_readme_sql_recipes_answer_on_the_demo_database(demo):
    recipes = blocks("sql")
    assert len(recipes) == 5
    conn = sqlite3.connect(demo["db"])
    try:
        answers = [conn.execute(sql).fetchall() for sql in recipes]
    finally:
        conn.close()
    deleted, movers, history, incomplete, edited = answers
    assert [row[0] for row in deleted] == ["boredpanda:820000100003"]
    assert len(movers) == 5 and all(row[-1] == 11 for row in movers)  # +10 up, +1 down each
    assert [row[0] for row in history] == [1, 2] and history[1][2].endswith("(Updated)")
    # the lazy block states its post id and count: page 1 of the API loads it (issue 9), no thread is cut
    assert incomplete == []
    assert sorted(row[0] for row in edited) == ["boredpanda:820000100001", "boredpanda:820000100002"]


def test_stored_times_compare_through_sqlite_date_functions(tmp_path):
    """The README's rule: `datetime(at) >= datetime('now', '-1 day')`. A plain text comparison is
    wrong on the boundary day (the stored 'T' sorts after SQLite's space)."""
    conn = sqlite3.connect(tmp_path / "t.db")
    now = now_utc()
    before, after = (
        iso(now - timedelta(days=1, minutes=5)),
        iso(now - timedelta(days=1) + timedelta(minutes=5)),
    )
    rows = [(before,), (after,)]
    conn.execute("CREATE TABLE t (at TEXT)")
    conn.executemany("INSERT INTO t VALUES (?)", rows)
    recent = conn.execute("SELECT at FROM t WHERE datetime(at) >= datetime('now', '-1 day')").fetchall()
    assert recent == [(after,)]
    assert conn.execute("SELECT datetime(?)", [after]).fetchone()[0] == after[:19].replace("T", " ")


def test_a_second_demo_replaces_its_database_instead_of_recording_fake_history(demo, tmp_path):
    db = tmp_path / "demo.db"
    shutil.copy(demo["db"], db)
    result = CliRunner().invoke(cli, ["demo", "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert query(db, "SELECT run_id FROM runs") == [{"run_id": 1}, {"run_id": 2}]
    kinds = query(db, "SELECT entity_type, kind, count(*) AS n FROM changes WHERE run_id = 2 GROUP BY 1, 2")
    assert {(k["entity_type"], k["kind"]): k["n"] for k in kinds} == {
        ("article", "edited"): 1,
        ("comment", "added"): 4,
        ("comment", "deleted"): 1,
        ("comment", "edited"): 2,
        ("comment", "votes"): 5,
    }
    assert query(db, "SELECT count(*) AS n FROM changes WHERE field = 'image_url' OR kind = 'restored'") == [
        {"n": 0}
    ]
