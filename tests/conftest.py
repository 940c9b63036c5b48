"""Shared test fixtures: a fresh replica site and a running replica server per test."""

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


@pytest.fixture
def replica(replica_site: Site) -> Iterator[ReplicaServer]:
    """The demo site served on a free loopback port for the duration of one test."""
    with ReplicaServer(replica_site) as server:
        yield server
