"""Per-domain politeness across all workers: concurrency and delay, robots.txt Crawl-delay included.

Scrapy's own per-domain slots (CONCURRENT_REQUESTS_PER_DOMAIN, DOWNLOAD_DELAY) are per process: N
workers would hit a site N times as hard. This downloader middleware, last before the download, takes
a per-domain slot in Redis before each request and gives it back when the answer (or the error) comes:

- at most DISTRIBUTED_DOMAIN_CONCURRENCY requests to a domain in flight across the cluster;
- a request starts at least the domain's delay after the previous request to that domain started
  *and* after it ended, so the site sees that gap between requests whatever the network does. The
  delay is DISTRIBUTED_DOMAIN_DELAY, or the domain's robots.txt Crawl-delay when that is longer
  (learned from the robots.txt answer any worker fetched, capped at DISTRIBUTED_MAX_CRAWL_DELAY).

Slots are leases (DOWNLOAD_TIMEOUT + 30 s): a worker killed mid-request does not block the domain.
Times come from the Redis server's clock, shared by every worker.
"""

from __future__ import annotations

import logging
import uuid

from protego import Protego
from scrapy.exceptions import NotConfigured
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet import defer, reactor, task

from crawler.distributed.queue import DEFAULT_PREFIX, connect

logger = logging.getLogger(__name__)
SLOT = "pandawatch_domain_slot"
STATS = "distributed/politeness"

# KEYS: slots (sorted set token -> expiry), next start (ms), crawl delays (hash)
# ARGV: token, concurrency, delay ms, slot ttl ms, domain, max crawl delay ms
# Returns 0 when granted, else the ms to wait before asking again.
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local delay = tonumber(ARGV[3])
local robots = tonumber(redis.call('HGET', KEYS[3], ARGV[5]) or '0')
if robots > delay then delay = math.min(robots, tonumber(ARGV[6])) end
local nxt = tonumber(redis.call('GET', KEYS[2]) or '0')
if now < nxt then return nxt - now end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return math.max(20, math.floor(delay / 2)) end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[4]), ARGV[1])
redis.call('SET', KEYS[2], now + delay, 'PX', delay + 60000)
return 0
"""

# KEYS: slots, next start, crawl delays; ARGV: token, delay ms, domain, max crawl delay ms
_RELEASE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREM', KEYS[1], ARGV[1])
local delay = tonumber(ARGV[2])
local robots = tonumber(redis.call('HGET', KEYS[3], ARGV[3]) or '0')
if robots > delay then delay = math.min(robots, tonumber(ARGV[4])) end
local nxt = tonumber(redis.call('GET', KEYS[2]) or '0')
if now + delay > nxt then redis.call('SET', KEYS[2], now + delay, 'PX', delay + 60000) end
return 1
"""


class ClusterPoliteness:
    """Downloader middleware: a Redis-held per-domain slot for every request (see module doc)."""

    def __init__(self, crawler, client, prefix: str):
        settings = crawler.settings
        self.crawler = crawler
        self.redis = client
        self.prefix = prefix
        concurrency = settings.get("DISTRIBUTED_DOMAIN_CONCURRENCY")
        delay = settings.get("DISTRIBUTED_DOMAIN_DELAY")
        self.concurrency = int(concurrency if concurrency not in (None, "") else settings.getint(
            "CONCURRENT_REQUESTS_PER_DOMAIN", 2))  # fmt: skip
        self.delay_ms = int(
            1000 * float(delay if delay not in (None, "") else settings.getfloat("DOWNLOAD_DELAY", 0))
        )
        self.max_crawl_delay_ms = int(1000 * settings.getfloat("DISTRIBUTED_MAX_CRAWL_DELAY", 60))
        self.slot_ttl_ms = int(1000 * (settings.getfloat("DOWNLOAD_TIMEOUT", 180) + 30))
        self.user_agent = settings.get("USER_AGENT") or "*"
        self.crawl_delays = f"{prefix}:crawl_delay"
        #: one request per domain per worker asks Redis at a time; the others queue behind it here
        self._gates: dict[str, defer.DeferredLock] = {}
        self._acquire = client.register_script(_ACQUIRE)
        self._release = client.register_script(_RELEASE)
        if self.concurrency < 1:
            raise NotConfigured("DISTRIBUTED_DOMAIN_CONCURRENCY must be at least 1")

    @classmethod
    def from_crawler(cls, crawler):
        url = crawler.settings.get("REDIS_URL")
        if not url:
            raise NotConfigured("REDIS_URL is not set")
        prefix = crawler.settings.get("REDIS_KEY_PREFIX") or DEFAULT_PREFIX
        return cls(crawler, connect(url), prefix)

    def _keys(self, domain: str) -> list[str]:
        return [
            f"{self.prefix}:polite:{domain}:slots",
            f"{self.prefix}:polite:{domain}:next",
            self.crawl_delays,
        ]

    async def process_request(self, request):
        domain = urlparse_cached(request).hostname or ""
        gate = self._gates.setdefault(domain, defer.DeferredLock())
        await maybe_deferred_to_future(gate.acquire())
        try:
            await self._take_slot(request, domain)
        finally:
            gate.release()
        return None

    async def _take_slot(self, request, domain: str) -> None:
        token = uuid.uuid4().hex
        waited = 0.0
        while True:
            try:
                wait_ms = int(
                    self._acquire(
                        keys=self._keys(domain),
                        args=[
                            token,
                            self.concurrency,
                            self.delay_ms,
                            self.slot_ttl_ms,
                            domain,
                            self.max_crawl_delay_ms,
                        ],
                    )  # fmt: skip
                )
            except Exception as exc:  # Redis down longer than the client's retries: wait, never skip
                logger.warning("Politeness slot for %s not available (%s); retrying", domain, exc)
                wait_ms = 1000
            if wait_ms <= 0:
                break
            waited += wait_ms / 1000
            await maybe_deferred_to_future(task.deferLater(reactor, min(wait_ms, 1000) / 1000, lambda: None))
        if waited:
            self.crawler.stats.inc_value(f"{STATS}/waited", waited)
        request.meta[SLOT] = (domain, token)

    def _give_back(self, request) -> None:
        slot = request.meta.pop(SLOT, None)
        if slot is None:
            return
        domain, token = slot
        try:
            self._release(
                keys=self._keys(domain), args=[token, self.delay_ms, domain, self.max_crawl_delay_ms]
            )
        except Exception as exc:  # the slot's lease expires by itself
            logger.warning("Could not release the politeness slot for %s: %s", domain, exc)

    def process_response(self, request, response):
        if urlparse_cached(request).path == "/robots.txt" and response.status == 200:
            # learned before the slot is given back: the very next request already keeps the delay
            self._learn_crawl_delay(request, response)
        self._give_back(request)
        return response

    def process_exception(self, request, exception):
        self._give_back(request)
        return None

    def _learn_crawl_delay(self, request, response) -> None:
        try:
            delay = Protego.parse(response.body.decode("utf-8", "replace")).crawl_delay(self.user_agent)
        except Exception:  # an unreadable robots.txt is the robots middleware's business
            return
        domain = urlparse_cached(request).hostname or ""
        if delay:
            self.redis.hset(self.crawl_delays, domain, int(float(delay) * 1000))
            self.crawler.stats.set_value(f"{STATS}/crawl_delay/{domain}", float(delay))
        else:
            self.redis.hdel(self.crawl_delays, domain)
