"""`crawler apis` and the site_apis table: recipes stored, listed, marked stale, shown to Datasette."""

from __future__ import annotations

import json
import sqlite3

from click.testing import CliRunner

from crawler.cli.main import cli
from crawler.datasette import TEMPLATE_DB, metadata
from crawler.recipes import store
from tests.test_recipes_induce import load, recipe_of


def test_recipes_are_stored_listed_and_marked_stale(tmp_path):
    db = tmp_path / "crawl.db"
    recipe = recipe_of(load("square-nested"))
    recipe["match"] = {"host": "replica", "path_prefix": "/square/"}
    store.save_recipe(db, recipe, "http://replica/square/ferry-timetable-story/", seconds=1.5, pages=1)
    store.count_use(db, "square")
    [row] = store.load_recipes(db)
    assert (row["site"], row["status"], row["uses"], row["learn_seconds"]) == ("square", "active", 1, 1.5)
    assert row["recipe"] == json.loads(json.dumps(recipe))
    assert store.matching([row], "http://replica/square/bakery-queue-story/") is row
    assert store.matching([row], "http://replica/zine/quiet-harbour-story/") is None
    assert store.matching([row], "http://other/square/bakery-queue-story/") is None

    runner = CliRunner()
    listed = runner.invoke(cli, ["apis", "--db", str(db)], env={"COLUMNS": "300"})
    assert listed.exit_code == 0, listed.output
    assert (
        "square" in listed.output
        and "/square/api/v2/comments" in listed.output
        and "after=cursor" in listed.output
    )

    store.mark_stale(db, "square", "comments request failed: HTTP 404")
    as_json = runner.invoke(cli, ["apis", "--db", str(db), "--json"])
    [line] = as_json.output.splitlines()
    shown = json.loads(line)
    assert (shown["status"], shown["stale_reason"]) == ("stale", "comments request failed: HTTP 404")
    assert shown["recipe"]["comments"]["paging"]["param"] == "after"

    missing = runner.invoke(cli, ["apis", "--db", str(db), "--site", "nope"])
    assert missing.exit_code == 1 and "Error: no learned comment API for site 'nope'" in missing.output

    # the canned query Datasette ships runs on the table
    sql = metadata()["databases"][TEMPLATE_DB]["queries"]["learned_comment_apis"]["sql"]
    with sqlite3.connect(db) as conn:
        rows = conn.execute(sql).fetchall()
    assert rows[0][:2] == ("square", "stale") and rows[0][-3:] == (
        "GET /square/api/v2/comments",
        "after",
        "cursor",
    )


def test_no_database_is_an_error(tmp_path):
    result = CliRunner().invoke(cli, ["apis", "--db", str(tmp_path / "none.db")])
    assert result.exit_code == 1 and result.output.startswith("Error: no database at")


def test_paging_named_by_the_answer_is_listed_by_its_kind(tmp_path):
    db = tmp_path / "crawl.db"
    recipe = recipe_of(load("square-nested"))
    recipe["match"] = {"host": "replica", "path_prefix": "/square/"}
    # a Link header names the next page: there is no paging parameter to show
    recipe["comments"]["paging"] = {"kind": "link", "param": None}
    store.save_recipe(db, recipe, "http://replica/square/ferry-timetable-story/", seconds=1.0, pages=1)
    listed = CliRunner().invoke(cli, ["apis", "--db", str(db)], env={"COLUMNS": "300"})
    assert listed.exit_code == 0, listed.output
    assert f"GET {recipe['comments']['path']} (link)" in listed.output
    assert "None=link" not in listed.output and " =link" not in listed.output
