"""The host guard: what nobody named is refused where names are resolved, before any connection.

Crawls are real (`scrapy crawl` in a child process, results read from SQLite and Scrapy's stats); names
are made to resolve through HOSTGUARD_RESOLVE, the crawl's own /etc/hosts, never by editing the system.
"""

from __future__ import annotations

import json

import pytest
from twisted.internet.address import IPv4Address

from crawler.hostguard import POLICY, GuardedResolver, is_public_address, origins
from crawler.replica import ReplicaServer, build_demo_site
from tests.crawling import article_url, crawl

ONE_PAGE = "one-page-article"


def redirect_to(server, target: str) -> str:
    return f"{server.base_url}/fault/redirect/?to={target}"


def exceptions(stats: dict) -> dict:
    return {k: v for k, v in stats.items() if k.startswith("downloader/exception_type_count/")}


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.215.14", True),
        ("2606:2800:21f:cb07:6820:80da:af6b:8b2c", True),
        ("100.64.0.1", False),  # carrier-grade NAT
        ("100.127.255.254", False),
        ("10.1.2.3", False),
        ("127.0.0.1", False),
        ("169.254.169.254", False),
        ("192.0.2.10", False),  # documentation
        ("224.0.0.251", False),  # multicast
        ("::1", False),
        ("::ffff:127.0.0.1", False),  # IPv4-mapped loopback
        ("fd00::1", False),
        ("0.0.0.0", False),
        ("not an address", False),
    ],
)
def test_only_globally_routable_addresses_are_public(address, public):
    assert is_public_address(address) is public


def test_a_named_host_is_trusted_on_its_port_only():
    assert origins(["http://127.0.0.1:8080/a/", "https://Example.com/b"]) == {
        ("127.0.0.1", 8080),
        ("example.com", 443),
    }


def test_redirect_to_carrier_grade_nat_is_refused_before_connecting(replica, tmp_path):
    result = crawl(tmp_path / "c.db", [redirect_to(replica, "http://100.64.0.1/story/")])
    stats = result.stats
    assert stats["hostguard/refused/private_host"] == 1
    # refused, not tried: no connection error, no timeout, no retry
    assert exceptions(stats) == {"downloader/exception_type_count/scrapy.exceptions.IgnoreRequest": 1}
    assert "retry/count" not in stats
    assert result.query("SELECT count(*) AS n FROM articles") == [{"n": 0}]
    assert result.run["status"] != "ok"
    assert result.stderr.count("Refused host 100.64.0.1:80") == 1


def test_redirect_to_another_port_of_a_named_loopback_host_is_refused(replica, tmp_path):
    with ReplicaServer(build_demo_site()) as other:  # "another service" on the same machine
        target = article_url(other, ONE_PAGE)
        assert other.port != replica.port
        refused = crawl(tmp_path / "c.db", [redirect_to(replica, target)])
        assert other.stats["total"] == 0  # not even its robots.txt
        assert refused.stats["hostguard/refused/private_host"] == 1
        assert refused.query("SELECT count(*) AS n FROM articles") == [{"n": 0}]
        # the same page, named by the user with its port, is crawled
        named = crawl(tmp_path / "n.db", [target])
        assert named.query("SELECT count(*) AS n FROM articles") == [{"n": 1}]
        assert other.stats["total"] > 0


def test_a_name_whose_answer_changes_to_loopback_is_refused_at_connection(replica, tmp_path):
    # The first lookup (the middleware's early check) answers a public address; the lookup made when
    # connecting answers loopback, where the replica really listens. No cache: each lookup is asked.
    settings = {
        "HOSTGUARD_RESOLVE": json.dumps({"news.example": ["93.184.215.14", "127.0.0.1"]}),
        "DNSCACHE_ENABLED": "False",
        "ROBOTSTXT_OBEY": "False",
    }
    target = f"http://news.example:{replica.port}/{ONE_PAGE}/"
    replica.reset_stats()
    result = crawl(tmp_path / "c.db", [redirect_to(replica, target)], settings=settings)
    assert result.stats["hostguard/refused/private_host"] == 1
    assert (f"/{ONE_PAGE}/", "GET") not in {(p, m) for (m, p) in replica.stats["requests"]}
    assert replica.stats["total"] == 1  # the redirect only
    assert result.query("SELECT count(*) AS n FROM articles") == [{"n": 0}]
    assert "retry/count" not in result.stats
    # a name that answers loopback from the start is refused by the early check, also without robots.txt
    settings["HOSTGUARD_RESOLVE"] = json.dumps({"news.example": ["127.0.0.1"]})
    settings["ROBOTSTXT_OBEY"] = "True"
    replica.reset_stats()
    early = crawl(tmp_path / "e.db", [redirect_to(replica, target)], settings=settings)
    assert early.stats["hostguard/refused/private_host"] == 1
    assert replica.stats["total"] == 2  # robots.txt and the redirect of the named host


def test_private_hosts_allowed_by_the_setting(replica, tmp_path):
    settings = {"HOSTGUARD_RESOLVE": json.dumps({"news.example": "127.0.0.1"}), "ALLOW_PRIVATE_HOSTS": "True"}
    target = f"http://news.example:{replica.port}/{ONE_PAGE}/"
    result = crawl(tmp_path / "c.db", [redirect_to(replica, target)], settings=settings)
    assert result.query("SELECT count(*) AS n FROM articles") == [{"n": 1}]
    assert "hostguard/refused/private_host" not in result.stats


class _Receiver:
    def __init__(self):
        self.addresses = []
        self.done = False

    def resolutionBegan(self, resolution):
        pass

    def addressResolved(self, address):
        self.addresses.append(address)

    def resolutionComplete(self):
        self.done = True


class _Reactor:
    """Just enough reactor for the resolver's constructor: the answers come from HOSTGUARD_RESOLVE."""

    nameResolver = None


def test_every_answer_is_checked_not_only_the_first(monkeypatch):
    monkeypatch.setattr(POLICY, "static", {"rebind.example": ["93.184.215.14", "127.0.0.1"]})
    monkeypatch.setattr(POLICY, "allow_private", False)
    resolver = GuardedResolver(_Reactor(), cache_size=100)
    first, second = _Receiver(), _Receiver()
    resolver.resolveHostName(first, "rebind.example", 443)
    resolver.resolveHostName(second, "rebind.example", 443)
    assert first.done and first.addresses == [IPv4Address("TCP", "93.184.215.14", 443)]
    assert second.done and second.addresses == []  # nothing to connect to
    assert ("rebind.example", 443) in POLICY.refused
