"""Downloader middleware refusing requests to private, loopback and link-local hosts nobody named.

Hosts the user named (start URLs, watch list) may be anywhere, a test replica on 127.0.0.1 included.
Any other host, reached through a redirect or a discovered link, is refused when it resolves to a
private / loopback / link-local / reserved address: a crawler fed untrusted pages must not become a
way into the network it runs in. `ALLOW_PRIVATE_HOSTS = True` switches the check off.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from functools import lru_cache
from urllib.parse import urlsplit

from scrapy.exceptions import IgnoreRequest, NotConfigured

logger = logging.getLogger(__name__)

ALLOWED_SCHEMES = ("http", "https")


@lru_cache(maxsize=1024)
def _addresses(host: str) -> tuple[str, ...]:
    try:
        return (str(ipaddress.ip_address(host.strip("[]"))),)
    except ValueError:
        pass
    try:
        # Blocking, but once per host per process (cached) and only for hosts nobody named.
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except OSError:
        return ()
    return tuple(sorted({info[4][0] for info in infos}))


def is_internal(host: str) -> bool:
    """True when `host` resolves to an address that is not on the public internet."""
    for address in _addresses(host):
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        if (
            ip.is_private
            or ip.is_loopback
            or ip.is_link_local
            or ip.is_reserved
            or ip.is_multicast
            or ip.is_unspecified
        ):
            return True
    return False


class HostGuardMiddleware:
    """Refuse non-http(s) URLs always, and internal hosts unless the user named them."""

    def __init__(self, crawler, allow_private: bool):
        self.crawler = crawler
        self.allow_private = allow_private

    @classmethod
    def from_crawler(cls, crawler):
        if not crawler.settings.getbool("HOSTGUARD_ENABLED", True):
            raise NotConfigured
        return cls(crawler, crawler.settings.getbool("ALLOW_PRIVATE_HOSTS"))

    def _refuse(self, request, reason: str):
        self.crawler.stats.inc_value(f"hostguard/refused/{reason}")
        logger.warning("Refused %s: %s", request.url, reason.replace("_", " "))
        raise IgnoreRequest(f"hostguard: {reason}")

    def process_request(self, request, spider=None):
        parts = urlsplit(request.url)
        if parts.scheme not in ALLOWED_SCHEMES:
            self._refuse(request, "scheme")
        if self.allow_private:
            return None
        spider = spider or self.crawler.spider
        named = getattr(spider, "user_hosts", set())
        host = (parts.hostname or "").lower()
        if host in named:
            return None
        if is_internal(host):
            self._refuse(request, "private_host")
        return None
