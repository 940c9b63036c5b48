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


def pytest_configure(config):
    # `python -m scrapy …` / `python -m crawler.cli …` children start through a fork server that has
    # the modules imported already (tests/forkserver.py): the same processes, without 1-4 s of imports
    from tests import forkserver

    forkserver.install()
