"""The `crawler` command line: export, documentation of every command, clear errors."""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner

from crawler.cli.main import cli
from crawler.replica import build_demo_site
from crawler.replica.demo_site import ONE_PAGE_SLUG
from tests.crawling import article_url, crawl, query


@pytest.fixture(scope="module")
def db(replica_server, tmp_path_factory):
    """One crawl of a fresh demo site, shared by the tests here: they only read the database."""
    server = replica_server.serve(build_demo_site())
    path = tmp_path_factory.mktemp("cli") / "crawl.db"
    crawl(path, [article_url(server, ONE_PAGE_SLUG)])
    return path


def test_every_command_is_documented_with_an_example():
    runner = CliRunner()
    commands = [([name], command) for name, command in cli.commands.items()]
    commands += [
        ([group, name], sub)
        for group, command in cli.commands.items()
        for name, sub in getattr(command, "commands", {}).items()
    ]
    assert len(commands) > 15
    for path, command in commands:
        result = runner.invoke(cli, [*path, "--help"])
        assert result.exit_code == 0, path
        assert command.help and "Example" in command.help, path


def test_watch_and_sources_commands(tmp_path, replica):
    runner = CliRunner()
    db = ["--db", str(tmp_path / "w.db")]
    url = f"{replica.base_url}/one-page-article/"
    assert (
        runner.invoke(cli, ["watch", "add", url, url + "#comments", *db]).output.strip()
        == "1 added, 1 already watched"
    )
    urls = tmp_path / "urls.txt"
    urls.write_text(f"# mine\n{url}\n{replica.base_url}/no-comments-article/\n")
    assert "1 added, 1 already watched" in runner.invoke(cli, ["watch", "import", str(urls), *db]).output
    listed = [
        json.loads(line) for line in runner.invoke(cli, ["watch", "list", "--json", *db]).output.splitlines()
    ]
    assert sorted(e["url"] for e in listed) == sorted([url, f"{replica.base_url}/no-comments-article/"])
    assert runner.invoke(cli, ["watch", "remove", url, *db]).exit_code == 0
    result = runner.invoke(cli, ["watch", "remove", url, *db])
    assert result.exit_code == 1 and "not on the watch list" in result.output
    result = runner.invoke(cli, ["watch", "add", "file:///etc/passwd", *db])
    assert result.exit_code == 1 and "not an http(s) URL" in result.output
    assert runner.invoke(cli, ["sources", "add", f"{replica.base_url}/feed/", *db]).output.strip() == "added"
    assert f"{replica.base_url}/feed/" in runner.invoke(cli, ["sources", "list", *db]).output
    assert runner.invoke(cli, ["sources", "remove", f"{replica.base_url}/feed/", *db]).exit_code == 0


@pytest.mark.parametrize("fmt", ["csv", "json", "jsonl"])
def test_export_writes_every_row(db, fmt):
    result = CliRunner().invoke(cli, ["export", "--db", str(db), "--format", fmt, "comments"])
    assert result.exit_code == 0, result.output
    stored = query(db, "SELECT * FROM comments")
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(result.output)))
        assert [r["comment_id"] for r in rows] == [r["comment_id"] for r in stored]
        assert rows[0]["text"] == stored[0]["text"]
    elif fmt == "json":
        assert json.loads(result.output) == stored
    else:
        assert [json.loads(line) for line in result.output.splitlines()] == stored


def test_export_of_a_view(db):
    result = CliRunner().invoke(cli, ["export", "--db", str(db), "--format", "jsonl", "latest_changes"])
    assert result.exit_code == 0
    assert [json.loads(line)["kind"] for line in result.output.splitlines()] == ["added"]


def test_unknown_table_and_missing_database_are_clear_errors(db, tmp_path):
    runner = CliRunner()
    result = runner.invoke(cli, ["export", "--db", str(db), "sqlite_master"])
    assert result.exit_code == 1 and "unknown table or view 'sqlite_master'" in result.output
    result = runner.invoke(cli, ["changes", "--db", str(tmp_path / "nope.db")])
    assert result.exit_code == 1 and "no database at" in result.output
    assert not (tmp_path / "nope.db").exists()


def test_runs_lists_the_crawl(db):
    result = CliRunner().invoke(cli, ["runs", "--db", str(db)])
    assert result.exit_code == 0 and "article" in result.output and "ok" in result.output


def test_history_of_an_unknown_article(db):
    result = CliRunner().invoke(cli, ["history", "https://example.com/nothing/", "--db", str(db)])
    assert result.exit_code == 1 and "no article" in result.output
