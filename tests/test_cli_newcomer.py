"""The `crawler` command for someone trying it the first time: no traceback, one `Error:` line and a
documented exit code for every bad input and environment fault, scraped text that the terminal never
interprets, help that is not cut, URL files read as people write them (issue 11, items 2, 5, 6, 10,
12, 13). No crawl here: every test is fast."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from crawler.cli.dbfile import DatabaseFileError, check_db_path
from crawler.cli.main import _human, cli
from crawler.cli.output import clean, json_line, safe
from crawler.cli.worddiff import snippet, word_diff
from crawler.datasette import install_hint
from crawler.monitor.run import _cli_hint
from crawler.spiders.args import parse_targets, url_lines
from tests.crawling import ROOT

HOSTILE = "[/bold] [bold red]red?[/bold red] \x1b]0;pwned\x07\x1b[2Jcleared \x9b31m \u202eevil\r over"


def invoke(*args, env=None):
    return CliRunner().invoke(cli, list(args), env=env)


def one_error_line(result) -> str:
    """The output of a failed command: exactly one `Error:` line and no traceback."""
    output = result.output
    assert "Traceback" not in output, output
    errors = [line for line in output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, output
    return errors[0]


@pytest.fixture
def watch_db(tmp_path) -> Path:
    """A real database made by the CLI itself (a watch-list entry, no crawl)."""
    path = tmp_path / "w.db"
    assert invoke("watch", "add", "https://example.com/story/", "--db", str(path)).exit_code == 0
    return path


@pytest.fixture
def corrupt_db(tmp_path) -> Path:
    path = tmp_path / "corrupt.db"
    path.write_bytes(b"this is not a database, it is a text file someone moved here\n" * 20)
    return path


# -- item 2: scraped text is data ------------------------------------------------------------------


def test_clean_removes_terminal_control_and_safe_escapes_markup():
    cleaned = clean(HOSTILE)
    assert "\x1b" not in cleaned and "\x07" not in cleaned and "\x9b" not in cleaned
    assert "\u202e" not in cleaned and "\r" not in cleaned
    assert "pwned" not in cleaned  # the OSC window-title payload goes with its sequence
    assert "[/bold]" in cleaned and "cleared" in cleaned and "over" in cleaned
    from rich.console import Console

    console = Console(record=True, width=200, force_terminal=True)
    console.print(safe(HOSTILE))  # would raise MarkupError for "[/bold]" unescaped
    assert "[/bold] [bold red]red?[/bold red]" in console.export_text()
    # valid JSON, same data once parsed, nothing raw for the terminal
    line = json_line({"text": HOSTILE})
    assert "\x1b" not in line and "\x9b" not in line and "\u202e" not in line
    import json

    assert json.loads(line) == {"text": HOSTILE}


# -- item 4: word-level edit snippets --------------------------------------------------------------


def test_word_diff_shows_the_changed_words_past_any_cut():
    old = "North Korean Troops Sent To Russia Immediately Desert The Frontlines: First Step To War"
    new = old + " (Updated)"
    assert snippet(old, new).plain == "… First Step To War {+(Updated)+}"
    assert word_diff("a b c d e f g h i j", "a b c d X f g h i j") == [
        ("same", "a b c d"),
        ("removed", "e"),
        ("added", "X"),
        ("same", "f g h i"),
        ("gap", "…"),
    ]
    assert "whitespace" in snippet("same  words", "same words").plain


# -- item 5: one Error line and a documented exit code ----------------------------------------------


#: every command that reads an existing database, the ones in modules of their own included
READERS = [["changes"], ["history", "x"], ["runs"], ["export", "comments"], ["apis"], ["feed"], ["report"],
           ["evidence"], ["notify", "list"]]  # fmt: skip


@pytest.mark.parametrize("command", READERS)
def test_a_corrupt_database_is_one_error_line_with_exit_code_3(corrupt_db, command):
    result = invoke(*command, "--db", str(corrupt_db))
    assert result.exit_code == 3
    assert "is not a SQLite database" in one_error_line(result)


def test_a_database_path_that_is_a_directory(tmp_path):
    result = invoke("runs", "--db", str(tmp_path))
    assert result.exit_code == 3 and "is a directory" in one_error_line(result)
    result = invoke("runs", env={"PANDAWATCH_DB": str(tmp_path)})
    assert result.exit_code == 3 and "is a directory" in one_error_line(result)


@pytest.mark.parametrize("command", READERS)
def test_every_reader_takes_the_group_db_and_says_the_same_of_a_missing_file(tmp_path, command):
    result = invoke(*command, "--db", str(tmp_path))
    assert result.exit_code == 3 and "is a directory" in one_error_line(result)
    if command == ["notify", "list"]:
        return  # targets may come from NOTIFY_URLS alone: listing them needs no database yet
    missing = tmp_path / "none.db"
    for result in (invoke("--db", str(missing), *command), invoke(*command, "--db", str(missing))):
        assert result.exit_code == 1 and "no database at" in one_error_line(result)
    assert not missing.exists()


def test_a_missing_folder_is_not_created(tmp_path):
    target = tmp_path / "nonexistent" / "dir" / "x.db"
    for command in (["crawl", "https://example.com/a/"], ["watch", "add", "https://example.com/a/"]):
        result = invoke(*command, "--db", str(target))
        assert result.exit_code == 3 and "does not exist" in one_error_line(result)
    assert not (tmp_path / "nonexistent").exists()
    with pytest.raises(DatabaseFileError):
        check_db_path(target, create=True)


def _scrapy_crawl(tmp_path, *settings: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "SCRAPY_SETTINGS_MODULE": "crawler.settings"}
    env.pop("PANDAWATCH_DB", None)
    command = [sys.executable, "-m", "scrapy", "crawl", "article", "-a", "url=https://example.com/a/"]
    for setting in settings:
        command += ["-s", setting]
    return subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)


def test_scrapy_crawl_checks_the_database_before_crawling(tmp_path, corrupt_db):
    done = _scrapy_crawl(tmp_path, f"SQLITE_PATH={corrupt_db}")
    assert done.returncode == 3
    assert "Traceback" not in done.stderr
    assert [line for line in done.stderr.splitlines() if line.startswith("Error:")] == [
        f"Error: {corrupt_db} is not a SQLite database (corrupt, or another kind of file: "
        "file is not a database); move it away or pass another --db"
    ]
    done = _scrapy_crawl(tmp_path, f"SQLITE_PATH={tmp_path}")
    assert done.returncode == 3 and "is a directory" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("every", "message"),
    [("garbage", "is not an interval"), ("0m", "too short"), ("1", "has no unit"), ("-5m", "interval")],
)
def test_run_every_rejects_bad_intervals(tmp_path, every, message):
    result = invoke("run", "--every", every, "--db", str(tmp_path / "x.db"))
    assert result.exit_code == 2 and message in one_error_line(result)
    assert not (tmp_path / "x.db").exists()


def test_the_next_run_is_named_with_its_unit():
    assert [_human(timedelta(minutes=15)), _human(timedelta(hours=1)), _human(timedelta(seconds=90))] == [
        "15m",
        "1h",
        "90s",
    ]


def test_demo_port_out_of_range_or_in_use(tmp_path):
    result = invoke("demo", "--port", "99999", "--db", str(tmp_path / "d.db"))
    assert result.exit_code == 2 and "not a TCP port" in one_error_line(result)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = invoke("demo", "--port", str(port), "--db", str(tmp_path / "d.db"))
    assert result.exit_code == 3 and f"port {port}" in one_error_line(result)
    assert not (tmp_path / "d.db").exists()


@pytest.mark.parametrize("command", [["crawl", "https://example.com/a/"], ["run"]])
def test_a_setting_without_equals_sign(tmp_path, command):
    result = invoke(*command, "-s", "FOO", "--db", str(tmp_path / "x.db"))
    assert result.exit_code == 2 and "'FOO' is not NAME=VALUE" in one_error_line(result)


def test_demo_refuses_a_database_that_is_not_a_demo(watch_db):
    result = invoke("demo", "--db", str(watch_db))
    assert result.exit_code == 1 and "not the demo's" in one_error_line(result)
    assert sqlite3.connect(watch_db).execute("SELECT count(*) FROM watchlist").fetchone() == (1,)


# -- item 6: URL files and URL arguments as people write them -------------------------------------


def test_url_lines_strip_trailing_comments_and_whitespace():
    text = (
        "# my list\n"
        "http://example.com/story/  # second\n"
        "   https://example.com/a/#comments\t\n"
        "\n"
        "https://example.com/b/ https://example.com/c/\n"
    )
    assert url_lines(text) == [
        (2, "http://example.com/story/"),
        (3, "https://example.com/a/#comments"),
        (5, "https://example.com/b/"),
        (5, "https://example.com/c/"),
    ]
    assert parse_targets("https://example.com/a/ https://example.com/b/") == [
        "https://example.com/a/",
        "https://example.com/b/",
    ]


def test_watch_import_reports_the_bad_line_and_goes_on(tmp_path):
    db = tmp_path / "w.db"
    urls = tmp_path / "urls.txt"
    urls.write_text(
        "https://example.com/a/  # first\nnot a url\nftp://example.com/x\nhttps://example.com/b/\n"
    )
    result = invoke("watch", "import", str(urls), "--db", str(db))
    assert result.exit_code == 1
    assert f"{urls}:2: skipped" in result.output and f"{urls}:3: skipped" in result.output
    assert "2 added, 0 already watched" in result.output
    assert "2 line(s)" in one_error_line(result)
    stored = sorted(r[0] for r in sqlite3.connect(db).execute("SELECT url FROM watchlist"))
    assert stored == ["https://example.com/a/", "https://example.com/b/"]


# -- item 12: Datasette install hint ---------------------------------------------------------------


def test_datasette_install_hint_works_from_a_checkout():
    assert install_hint().startswith(f"pip install -e '{ROOT}[datasette]'")


# -- item 13: the small things ---------------------------------------------------------------------


def test_help_shows_whole_descriptions():
    result = invoke("--help")
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    assert "Crawl article URLs and their comments (same as `scrapy crawl article -a url=…`)." in text
    assert "Exit codes: 0 done" in text
    assert "JSON lines" in invoke("watch", "list", "--help").output


def test_db_is_also_a_group_option(watch_db):
    result = invoke("--db", str(watch_db), "changes")
    assert result.exit_code == 0 and result.output.strip() == "No changes."
    result = invoke("--db", str(watch_db), "watch", "list", "--json")
    assert '"url": "https://example.com/story/"' in result.output


def test_a_closed_pipe_is_not_a_failure(watch_db):
    """`crawler changes | head`: the reader went away before the output was written."""
    for command in (["changes"], ["changes", "--json"], ["watch", "list", "--json"], ["runs"]):
        child = subprocess.Popen(
            [sys.executable, "-m", "crawler.cli", *command, "--db", str(watch_db)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        child.stdout.close()
        assert child.wait(timeout=60) == 0, (command, child.stderr.read())
        child.stderr.close()


def test_render_hint_inside_crawler_run_names_its_option():
    reason = "comments load only with JavaScript: use -a render=browser or render=auto"
    assert _cli_hint(reason) == "comments load only with JavaScript: use --render browser or --render auto"


def test_readme_says_where_the_database_lives_and_what_versions_hold():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "### Where the database lives" in readme
    assert "`output/crawl.db` **in the directory you run the command from**" in readme
    assert "hold the **superseded** versions" in readme
    assert "### How long the tests take" in readme and "TEST_TIME_PLACEHOLDER" not in readme
    assert "Crawl the replica yourself" in readme
