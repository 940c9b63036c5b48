"""The host guard: never reach into the network the crawler runs in unless the user asked for it.

Hosts the user named (start URLs, watch list, discovery sources) may be anywhere, a test replica on
127.0.0.1 included — but only on the port the user named: `http://127.0.0.1:8080/` trusts that port,
not every service of the machine. Any other host and port, reached through a redirect, a discovered
link or a learned API, is refused when one of its addresses is not globally routable (`ipaddress`'s
`is_global`: private, loopback, link-local, carrier-grade NAT 100.64.0.0/10, documentation, reserved,
multicast…). `ALLOW_PRIVATE_HOSTS = True` switches the address check off; non-http(s) URLs are refused
always.

The check sits where names are resolved: `GuardedResolver` is the Twisted name resolver Scrapy
connects through (setting `TWISTED_DNS_RESOLVER`), so the addresses that are checked are the addresses
that are connected to, and a DNS answer that changes between a check and a connection cannot slip
through. The browser's connections go through the same resolver and policy: Chromium's only way out
is the guard's proxy (crawler/browser/proxy.py, `GuardedResolver.addresses`). `HostGuardMiddleware`
refuses early what needs no lookup (schemes, literal addresses) and asks the same resolver before
robots.txt or the request itself goes out, so a refused host costs no connection at all. Every
refused host is logged once; each refused request counts in the stats under
`hostguard/refused/<reason>`.

`HOSTGUARD_RESOLVE` maps names to fixed answers, like an /etc/hosts of the crawl (tests use it to make
a name resolve, or change its answer, without touching the system): `{"name": ["a1", "a2", …]}`
answers a1 to the first lookup, a2 to the second, and the last one from then on.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import socket
from typing import Any
from urllib.parse import urlsplit

from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.utils.datatypes import LocalCache
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet import defer
from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.interfaces import IHostnameResolver, IHostResolution, IResolutionReceiver
from zope.interface import implementer, provider

logger = logging.getLogger(__name__)

ALLOWED_SCHEMES = ("http", "https")
DEFAULT_PORTS = {"http": 80, "https": 443}


# -- the address rule ------------------------------------------------------------------------------


def is_public_address(address: str) -> bool:
    """True for a globally routable unicast address (an IPv4-mapped IPv6 address counts as its IPv4)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0].strip("[]"))
    except ValueError:
        return False
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def literal_address(host: str) -> str | None:
    """`host` itself when it is an IP address, else None."""
    try:
        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        return None


def origin(url: str) -> tuple[str, int] | None:
    """(host, port) of an http(s) URL, the port defaulted by the scheme; None for anything else."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    return parts.hostname.lower(), port or DEFAULT_PORTS[scheme]


def origins(urls) -> set[tuple[str, int]]:
    """The (host, port) pairs of `urls`: what a user names when giving them to a spider."""
    return {o for o in (origin(u) for u in urls) if o is not None}


def _proxy_origins() -> set[tuple[str, int]]:
    # A proxy the operator configured is named by the operator, wherever it is.
    found = set()
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        value = os.environ.get(name)
        if value:
            found |= origins([value if "://" in value else f"http://{value}"])
    return found


# -- the policy, shared by the middleware, the resolver and the browser path ------------------------


class HostPolicy:
    """Who may be reached: the named origins of the running crawl(s), and what was refused."""

    def __init__(self) -> None:
        self.crawlers: list[Any] = []
        self.allow_private = False
        self.static: dict[str, list[str]] = {}
        self._lookups: dict[str, int] = {}
        self.logged: set[tuple[str, int]] = set()
        self.refused: set[tuple[str, int]] = set()

    def configure(self, settings) -> None:
        # HOSTGUARD_ENABLED = False switches the whole guard off, the resolver's side included
        self.allow_private = settings.getbool("ALLOW_PRIVATE_HOSTS") or not settings.getbool(
            "HOSTGUARD_ENABLED", True
        )
        static = settings.get("HOSTGUARD_RESOLVE") or {}
        if isinstance(static, str):
            static = json.loads(static)
        self.static = {
            name.lower(): [answers] if isinstance(answers, str) else list(answers)
            for name, answers in dict(static).items()
        }

    def bind(self, crawler) -> None:
        if crawler not in self.crawlers:
            self.crawlers.append(crawler)

    def named(self) -> set[tuple[str, int]]:
        found = _proxy_origins()
        for crawler in self.crawlers:
            spider = getattr(crawler, "spider", None)
            found |= getattr(spider, "user_origins", set())
        return found

    def static_answer(self, host: str) -> list[str] | None:
        """The fixed answer HOSTGUARD_RESOLVE gives for this lookup of `host`, or None."""
        answers = self.static.get(host.lower())
        if not answers:
            return None
        n = self._lookups.get(host.lower(), 0)
        self._lookups[host.lower()] = n + 1
        return [answers[min(n, len(answers) - 1)]]

    def trusted(self, host: str, port: int) -> bool:
        return self.allow_private or (host.lower(), port) in self.named()

    def allows(self, host: str, port: int, addresses: list[str]) -> bool:
        """May (host, port) be connected to at these addresses?"""
        return self.trusted(host, port) or all(is_public_address(a) for a in addresses)

    def refuse(self, host: str, port: int, detail: str, reason: str = "private_host") -> None:
        """Record a refusal: one log line per host and port, one stats count per refusal."""
        key = (host.lower(), port)
        self.refused.add(key)
        for crawler in self.crawlers:
            if getattr(crawler, "stats", None) is not None:
                crawler.stats.inc_value(f"hostguard/refused/{reason}")
        if key not in self.logged:
            self.logged.add(key)
            logger.warning(
                "Refused host %s:%s: %s (nobody named it; ALLOW_PRIVATE_HOSTS is off)", *key, detail
            )


POLICY = HostPolicy()


def _system_addresses(host: str) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except OSError:
        return []
    return sorted({info[4][0] for info in infos})


def is_internal(host: str) -> bool:
    """True when `host` resolves to an address that is not globally routable (a check, not a connection:
    link enrolment and the browser path use it; Scrapy's own connections are checked by the resolver)."""
    literal = literal_address(host)
    addresses = [literal] if literal else (POLICY.static_answer(host) or _system_addresses(host))
    return any(not is_public_address(a) for a in addresses)


def url_allowed(url: str, named: set[tuple[str, int]], allow_private: bool) -> bool:
    """May `url` be requested when the user named the origins `named`? (a lookup when unnamed)."""
    found = origin(url)
    if found is None:
        return False
    return allow_private or found in named or not is_internal(found[0])


# -- the resolver -----------------------------------------------------------------------------------


@implementer(IHostResolution)
class _Resolution:
    def __init__(self, name: str):
        self.name = name

    def cancel(self) -> None:  # pragma: no cover - Twisted never cancels a resolution today
        pass


def _address(ip: str, port: int):
    return IPv6Address("TCP", ip, port) if ":" in ip else IPv4Address("TCP", ip, port)


@provider(IResolutionReceiver)
class _Collected:
    """Collects a resolution's raw addresses (cached), then hands them to `done` in one list."""

    def __init__(self, resolver: GuardedResolver, host: str, began, done):
        self.resolver, self.host, self.began, self.done = resolver, host, began, done
        self.addresses: list[str] = []

    def resolutionBegan(self, resolution) -> None:
        self.began(resolution)

    def addressResolved(self, address) -> None:
        self.addresses.append(address.host)

    def resolutionComplete(self) -> None:
        if self.addresses and self.resolver.cache.limit:
            self.resolver.cache[self.host] = list(self.addresses)
        self.done(self.addresses)


class HostRefused(Exception):
    """The policy refused every address of (host, port): nothing may connect there."""

    def __init__(self, host: str, port: int, addresses: list[str]):
        super().__init__(f"{host}:{port} resolves to {', '.join(addresses)}, which is not globally routable")
        self.host, self.port, self.addresses = host, port, addresses


@implementer(IHostnameResolver)
class GuardedResolver:
    """Twisted name resolver that drops the answer for a host the policy refuses, so nothing connects.

    Wraps the reactor's own resolver (getaddrinfo in a thread: IPv4 and IPv6), with a cache of raw
    answers (DNSCACHE_ENABLED / DNSCACHE_SIZE); every use of an answer, cached or not, is checked.
    """

    def __init__(self, reactor, cache_size: int = 10000):
        self.reactor = reactor
        original = reactor.nameResolver
        # Installed twice (TWISTED_DNS_RESOLVER, then again by a second crawler or CrawlerProcess.start):
        # wrap the system resolver, not the other guard, so each answer is checked once, for its port.
        self.original = original.original if isinstance(original, GuardedResolver) else original
        self.cache: LocalCache[str, list[str]] = LocalCache(cache_size)
        self.cache.limit = cache_size

    @classmethod
    def from_crawler(cls, crawler, reactor):
        settings = crawler.settings
        POLICY.configure(settings)
        size = settings.getint("DNSCACHE_SIZE", 10000) if settings.getbool("DNSCACHE_ENABLED", True) else 0
        return cls(reactor, size)

    def install_on_reactor(self) -> None:
        self.reactor.installNameResolver(self)

    def deliver(self, receiver, host: str, port: int, addresses: list[str]) -> None:
        if addresses and not POLICY.allows(host, port, addresses):
            POLICY.refuse(host, port, f"resolves to {', '.join(addresses)}")
            addresses = []
        for ip in addresses:
            receiver.addressResolved(_address(ip, port))
        receiver.resolutionComplete()

    def _lookup(self, host: str, port: int, began, done, addressTypes=None, transportSemantics="TCP"):
        """One raw answer for `host` (HOSTGUARD_RESOLVE's, the cache's or the system's) to `done`."""
        static = POLICY.static_answer(host)
        cached = static if static is not None else self.cache.get(host)
        if cached is None:
            return self.original.resolveHostName(
                _Collected(self, host, began, done), host, port, addressTypes, transportSemantics
            )
        resolution = _Resolution(host)
        began(resolution)
        done(list(cached))
        return resolution

    def resolveHostName(
        self,
        resolutionReceiver,
        hostName: str,
        portNumber: int = 0,
        addressTypes=None,
        transportSemantics: str = "TCP",
    ):
        host = hostName.lower()
        return self._lookup(
            host,
            portNumber,
            resolutionReceiver.resolutionBegan,
            lambda addresses: self.deliver(resolutionReceiver, host, portNumber, addresses),
            addressTypes,
            transportSemantics,
        )

    def addresses(self, host: str, port: int, reason: str = "private_host") -> defer.Deferred:
        """The addresses a connection to (host, port) may go to, from one lookup checked once.

        For connections not made by Twisted (the browser's proxy, crawler.browser.proxy): connect to
        exactly these. Fires with the list (empty: the name does not resolve); fails with HostRefused
        (logged once per host, counted under `hostguard/refused/<reason>`) when the policy refuses it.
        """
        host = host.lower().strip("[]")
        result: defer.Deferred = defer.Deferred()

        def done(addresses: list[str]) -> None:
            if addresses and not POLICY.allows(host, port, addresses):
                POLICY.refuse(host, port, f"resolves to {', '.join(addresses)}", reason)
                result.errback(HostRefused(host, port, addresses))
            else:
                result.callback(addresses)

        literal = literal_address(host)
        if literal is not None:
            done([literal])
        else:
            self._lookup(host, port, lambda resolution: None, done)
        return result


def resolve(reactor, host: str, port: int) -> defer.Deferred:
    """Addresses of `host` through the reactor's resolver (ours: already checked), as a Deferred."""
    result: defer.Deferred = defer.Deferred()
    found: list[str] = []

    @provider(IResolutionReceiver)
    class Receiver:
        @staticmethod
        def resolutionBegan(resolution) -> None:
            pass

        @staticmethod
        def addressResolved(address) -> None:
            found.append(address.host)

        @staticmethod
        def resolutionComplete() -> None:
            result.callback(found)

    reactor.nameResolver.resolveHostName(Receiver, host, port)
    return result


# -- the downloader middlewares ---------------------------------------------------------------------


class HostGuardMiddleware:
    """Refuse non-http(s) URLs always, and hosts the policy refuses before any connection to them."""

    def __init__(self, crawler):
        from twisted.internet import reactor

        self.crawler = crawler
        self.reactor = reactor
        POLICY.configure(crawler.settings)
        POLICY.bind(crawler)
        if not isinstance(reactor.nameResolver, GuardedResolver):
            # Run without `scrapy crawl` (CrawlerRunner, another TWISTED_DNS_RESOLVER): the connections
            # must still go through the check.
            GuardedResolver.from_crawler(crawler, reactor).install_on_reactor()

    @classmethod
    def from_crawler(cls, crawler):
        if not crawler.settings.getbool("HOSTGUARD_ENABLED", True):
            raise NotConfigured
        return cls(crawler)

    def _refuse(self, request, reason: str, detail: str):
        found = origin(request.url)
        if found:
            POLICY.refuse(*found, detail, reason)
        else:
            self.crawler.stats.inc_value(f"hostguard/refused/{reason}")
            logger.warning("Refused %s: %s", request.url, detail)
        raise IgnoreRequest(f"hostguard: {detail}")

    async def process_request(self, request, spider=None):
        found = origin(request.url)
        if found is None:
            self._refuse(request, "scheme", "not an http(s) URL")
        if request.meta.get("playwright") or POLICY.trusted(*found):
            # Chromium's connections go through the guard's proxy (crawler.browser.proxy), which checks
            # each address it connects to; crawler.browser.setup.RequestFilter refuses early.
            return None
        host, port = found
        literal = literal_address(host)
        if literal is not None:
            if not is_public_address(literal):
                self._refuse(request, "private_host", f"address {literal} is not globally routable")
            return None
        # Ask the resolver now, so a refused host costs no robots.txt fetch and no connection; the
        # resolver checks its answer again when the download connects.
        addresses = await maybe_deferred_to_future(resolve(self.reactor, host, port))
        if not addresses and (host, port) in POLICY.refused:
            raise IgnoreRequest(f"hostguard: {host} is not globally routable")
        return None


class HostGuardErrorsMiddleware:
    """A connection the resolver refused fails as "cannot resolve": not a reason to retry it."""

    @classmethod
    def from_crawler(cls, crawler):
        if not crawler.settings.getbool("HOSTGUARD_ENABLED", True):
            raise NotConfigured
        return cls()

    def process_exception(self, request, exception, spider=None):
        found = origin(request.url)
        if found is not None and found in POLICY.refused and not POLICY.trusted(*found):
            raise IgnoreRequest(f"hostguard: {found[0]}:{found[1]} is not globally routable") from exception
        return None
