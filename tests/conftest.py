"""Shared test fixtures: a fresh replica site per test, served by one replica server per test process.

Under pytest-xdist every worker is its own process, so "session" means "this worker": each worker
starts one server on a free loopback port (port 0: the system picks it) and hands it a fresh site for
every test, so tests stay independent and never share a port with another worker.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from crawler.replica import ReplicaServer, Site, build_demo_site


def free_port() -> int:
    """A TCP port nothing listens on right now (for servers that must be told their port)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def replica_site() -> Site:
    """A fresh demo site; tests may mutate it freely."""
    return build_demo_site()


@pytest.fixture(scope="session")
def replica_server() -> Iterator[ReplicaServer]:
    """This worker's replica server (use `replica`, which gives it the test's own site)."""
    with ReplicaServer(Site()) as server:
        yield server


@pytest.fixture
def replica(replica_server: ReplicaServer, replica_site: Site) -> ReplicaServer:
    """The worker's server, serving this test's fresh demo site with fresh counters."""
    return replica_server.serve(replica_site)


#: Tests of 5 s and more (measured with the fork server on a loaded 2-core machine), longest first, and
#: modules whose tests share a module fixture: they start first, and with --maxschedchunk=1 (pyproject)
#: each worker takes the next test when it is free, so the two workers end within a short test of
#: each other instead of one running a 20 s test alone at the end. xdist hands the first two tests to
#: one worker and the next two to the other (then one at a time), so the two longest are 1st and 3rd.
RUN_FIRST = (
    "tests/test_distributed.py::test_three_workers_and_one_ingester_store_what_one_process_stores",
    "tests/test_browser.py::test_browser_and_api_store_the_same_thread",
    "tests/test_browser.py::test_many_pages_in_five_contexts_all_closed_and_no_chromium_left",
    "tests/test_distributed.py::test_workers_and_ingester_ride_out_a_redis_restart",
    "tests/test_distributed.py::test_three_workers_keep_to_the_per_domain_limit",
    "tests/test_browser.py::test_navigation_timeout_is_retried_and_the_page_closed",
    "tests/test_browser_guard.py::",
    "tests/test_recipes_rename.py::",
    "tests/test_politeness.py::test_crawl_delay_is_honoured_per_domain",
    "tests/test_monitor.py::test_unchanged_recrawl_of_200_articles_is_answered_304",
    "tests/test_run_end.py::test_thread_time_limit_ends_a_stalled_thread_as_incomplete",
    "tests/test_run_end.py::test_whole_run_time_limit_ends_the_crawl_with_the_thread_incomplete",
    "tests/test_recipes_crawl.py::test_square_learned_paged_renamed_relearned",
    "tests/test_monitor.py::test_run_every_repeats_in_the_foreground",
    "tests/test_recipes_crawl.py::test_learned_in_browser_then_paged_without_browser",
    "tests/test_recipes_recheck.py::",
    "tests/test_recipes_unseen_crawl.py::",
    "tests/test_recipes_fallback.py::",
    "tests/test_store_faults.py::test_database_made_read_only_mid_run_spills_and_ingest_replays",
    "tests/test_evidence.py::test_evidence_of_a_200_article_run",
    "tests/test_first_crawl.py::",
    "tests/test_browser.py::",
    "tests/test_distributed.py::",
    "tests/test_run_end.py::",
    "tests/test_monitor.py::",
    "tests/test_politeness.py::",
    "tests/test_changes.py::test_cut_comment_seen_in_full_later_is_not_an_edit",
    "tests/test_changes.py::test_deleted_only_on_a_complete_load_then_restored",
)


def pytest_collection_modifyitems(config, items):
    def rank(item) -> int:
        ranks = (i for i, prefix in enumerate(RUN_FIRST) if item.nodeid.startswith(prefix))
        return next(ranks, len(RUN_FIRST))

    items.sort(key=rank)  # stable: the rest keeps pytest's order


def pytest_configure(config):
    # `python -m scrapy …` / `python -m crawler.cli …` children start through a fork server that has
    # the modules imported already (tests/forkserver.py): the same processes, without 1-4 s of imports
    from tests import forkserver

    forkserver.install()
