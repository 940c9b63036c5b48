"""The Redis side of scale-out: the queue of article checks with leases, and the results stream.

Keys (under REDIS_KEY_PREFIX, default `pandawatch`):

| key | type | holds |
|---|---|---|
| `:queue` | list | ids of checks waiting for a worker |
| `:checks` | hash | check id -> payload (JSON: run, url, url_key, fetch state) until the check is stored |
| `:leases` | sorted set | check id -> lease expiry (ms, Redis clock) of checks a worker holds |
| `:owners` | hash | check id -> worker holding its lease |
| `:attempts` | hash | check id -> leases taken (a check that killed MAX_ATTEMPTS workers is abandoned) |
| `:open` | hash | article URL key -> its open check (one check per article at a time, across runs) |
| `:results` | stream | `run` (a run was enqueued), `check` (what a worker found), `abandoned` entries |
| `:run_seq` | counter | run tokens |

Every state change is one Lua script, so a worker killed between two commands cannot leave a check
both queued and leased, or leased by nobody. Lease times use the Redis server's clock (TIME), never
the workers': machines whose clocks disagree still agree on when a lease expired. A check id is
`<run token>:<url key>`: the ingester stores each id at most once, so a check done twice (a slow
worker whose lease expired and was taken over) is stored once.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterable
from dataclasses import dataclass

import redis
from redis.backoff import ExponentialBackoff, NoBackoff
from redis.retry import Retry

DEFAULT_PREFIX = "pandawatch"

# Expired leases go back to the front of the queue (they waited longest), or are abandoned after
# ARGV[4] attempts; then up to ARGV[2] checks are leased to worker ARGV[1] for ARGV[3] ms.
_LEASE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local expired = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now)
for _, id in ipairs(expired) do
  redis.call('ZREM', KEYS[3], id)
  redis.call('HDEL', KEYS[4], id)
  local payload = redis.call('HGET', KEYS[2], id)
  if payload then
    local attempts = tonumber(redis.call('HGET', KEYS[5], id) or '0')
    if attempts >= tonumber(ARGV[4]) then
      redis.call('XADD', KEYS[6], '*', 'kind', 'abandoned', 'data', payload)
      redis.call('HDEL', KEYS[2], id)
    else
      redis.call('LPUSH', KEYS[1], id)
    end
  end
end
local out = {}
local wanted = tonumber(ARGV[2])
while wanted > 0 do
  local id = redis.call('LPOP', KEYS[1])
  if not id then break end
  local payload = redis.call('HGET', KEYS[2], id)
  if payload then
    redis.call('ZADD', KEYS[3], now + tonumber(ARGV[3]), id)
    redis.call('HSET', KEYS[4], id, ARGV[1])
    redis.call('HINCRBY', KEYS[5], id, 1)
    table.insert(out, id)
    table.insert(out, payload)
    wanted = wanted - 1
  end
end
return out
"""

# Extend the leases worker ARGV[1] still holds; returns the ids it lost (expired and taken over).
_RENEW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lost = {}
for i = 3, #ARGV do
  if redis.call('HGET', KEYS[2], ARGV[i]) == ARGV[1] then
    redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[2]), ARGV[i])
  else
    table.insert(lost, ARGV[i])
  end
end
return lost
"""

# A finished check: its result goes on the stream and its lease ends, in one step.
_COMPLETE = """
redis.call('XADD', KEYS[3], '*', 'kind', 'check', 'data', ARGV[3])
if redis.call('HGET', KEYS[2], ARGV[2]) == ARGV[1] then
  redis.call('ZREM', KEYS[1], ARGV[2])
  redis.call('HDEL', KEYS[2], ARGV[2])
end
return 1
"""

# A worker shutting down hands back the checks it holds (not counted as a failed attempt).
_RELEASE = """
local n = 0
for i = 2, #ARGV do
  if redis.call('HGET', KEYS[2], ARGV[i]) == ARGV[1] then
    redis.call('ZREM', KEYS[1], ARGV[i])
    redis.call('HDEL', KEYS[2], ARGV[i])
    redis.call('HINCRBY', KEYS[4], ARGV[i], -1)
    redis.call('LPUSH', KEYS[3], ARGV[i])
    n = n + 1
  end
end
return n
"""

# Enqueue a run: articles that already have an open check are skipped; the `run` entry goes on the
# stream before any of its checks can be leased, so the ingester always meets a run before its checks.
# ARGV: run token, spider, then triples (url key, check id, payload).
_ENQUEUE = """
local ids = {}
for i = 3, #ARGV, 3 do
  if redis.call('HSETNX', KEYS[3], ARGV[i], ARGV[i + 1]) == 1 then
    redis.call('HSET', KEYS[2], ARGV[i + 1], ARGV[i + 2])
    table.insert(ids, ARGV[i + 1])
  end
end
if #ids == 0 then return 0 end
local run = cjson.encode({run = ARGV[1], spider = ARGV[2], expected = #ids})
redis.call('XADD', KEYS[4], '*', 'kind', 'run', 'data', run)
for _, id in ipairs(ids) do redis.call('RPUSH', KEYS[1], id) end
return #ids
"""

# After a check is stored: forget it everywhere (a copy still queued is skipped by _LEASE).
_FORGET = """
for i = 1, #ARGV, 2 do
  redis.call('HDEL', KEYS[1], ARGV[i])
  redis.call('HDEL', KEYS[2], ARGV[i])
  redis.call('ZREM', KEYS[3], ARGV[i])
  redis.call('HDEL', KEYS[4], ARGV[i])
  if ARGV[i + 1] ~= '' and redis.call('HGET', KEYS[5], ARGV[i + 1]) == ARGV[i] then
    redis.call('HDEL', KEYS[5], ARGV[i + 1])
  end
end
return 1
"""


def connect(url: str, retries: int = 40) -> redis.Redis:
    """A client that rides out a Redis restart: commands retry with back-off (about 30 s in all)."""
    from scrapy_redis.connection import get_redis

    return get_redis(
        url=url,
        socket_timeout=30,
        socket_connect_timeout=5,
        health_check_interval=15,
        retry=Retry(ExponentialBackoff(cap=1.0, base=0.05), retries),
        retry_on_error=[redis.ConnectionError, redis.TimeoutError],
        decode_responses=True,
    )


def unreachable(url: str) -> str | None:
    """Why Redis at `url` cannot be used right now (a bad URL, nobody listening), or None."""
    try:
        client = redis.Redis.from_url(
            url, socket_connect_timeout=5, socket_timeout=5, retry=Retry(NoBackoff(), 0)
        )
        client.ping()
    except (ValueError, redis.RedisError) as exc:
        return f"cannot use Redis at {url}: {exc}"
    return None


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True)
class Check:
    id: str
    run: str
    url: str
    url_key: str
    #: the last fetch of this URL as the store knew it when the check was enqueued (conditional GET)
    fetch: dict | None = None
    #: the stored live comments of the article, by article id then comment id (text, text_truncated,
    #: full_text_at): what deletion confirmation and the full-text re-check would read from SQLite
    comments: dict | None = None

    @classmethod
    def from_json(cls, check_id: str, payload: str) -> Check:
        data = json.loads(payload)
        return cls(
            check_id, data["run"], data["url"], data["url_key"], data.get("fetch"), data.get("comments")
        )

    def to_json(self) -> str:
        return json.dumps(
            {"run": self.run, "url": self.url, "url_key": self.url_key, "fetch": self.fetch,
             "comments": self.comments}
        )  # fmt: skip


class CheckQueue:
    """The shared queue of article checks, their leases, and the results stream."""

    def __init__(self, client: redis.Redis, prefix: str = DEFAULT_PREFIX):
        self.redis = client
        self.prefix = prefix
        k = {
            name: f"{prefix}:{name}"
            for name in ("queue", "checks", "leases", "owners", "attempts", "open", "results", "run_seq")
        }
        self.keys = k
        self.results = k["results"]
        self._lease = client.register_script(_LEASE)
        self._renew = client.register_script(_RENEW)
        self._complete = client.register_script(_COMPLETE)
        self._release = client.register_script(_RELEASE)
        self._enqueue = client.register_script(_ENQUEUE)
        self._forget = client.register_script(_FORGET)

    # -- scheduler ---------------------------------------------------------------------------

    def enqueue_run(self, checks: Iterable[tuple], spider: str = "monitor"):
        """Queue one check per (url, url_key, fetch state[, comment state]); returns (run token, checks
        queued).

        Articles with a check still open (queued, leased, or not yet stored) are left out: one
        article is never checked by two runs at once.
        """
        token = str(self.redis.incr(self.keys["run_seq"]))
        argv: list[str] = [token, spider]
        for url, key, fetch, *rest in checks:
            check = Check(f"{token}:{key}", token, url, key, fetch, rest[0] if rest else None)
            argv += [key, check.id, check.to_json()]
        k = self.keys
        queued = self._enqueue(keys=[k["queue"], k["checks"], k["open"], k["results"]], args=argv)
        return token, int(queued)

    # -- workers -----------------------------------------------------------------------------

    def lease(self, worker: str, count: int, ttl: float, max_attempts: int = 3) -> list[Check]:
        if count <= 0:
            return []
        k = self.keys
        flat = self._lease(
            keys=[k["queue"], k["checks"], k["leases"], k["owners"], k["attempts"], k["results"]],
            args=[worker, count, int(ttl * 1000), max_attempts],
        )
        return [Check.from_json(flat[i], flat[i + 1]) for i in range(0, len(flat), 2)]

    def renew(self, worker: str, ids: list[str], ttl: float) -> list[str]:
        """Extend the leases; returns the ids this worker no longer holds."""
        if not ids:
            return []
        return list(
            self._renew(keys=[self.keys["leases"], self.keys["owners"]], args=[worker, int(ttl * 1000), *ids])
        )

    def complete(self, worker: str, check_id: str, result: dict) -> None:
        k = self.keys
        self._complete(
            keys=[k["leases"], k["owners"], k["results"]], args=[worker, check_id, json.dumps(result)]
        )

    def release(self, worker: str, ids: list[str]) -> int:
        if not ids:
            return 0
        k = self.keys
        return int(
            self._release(keys=[k["leases"], k["owners"], k["queue"], k["attempts"]], args=[worker, *ids])
        )

    def outstanding(self) -> int:
        """Checks queued or leased anywhere: work that may still come this worker's way."""
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.llen(self.keys["queue"])
            pipe.zcard(self.keys["leases"])
            queued, leased = pipe.execute()
        return int(queued) + int(leased)

    # -- ingester ----------------------------------------------------------------------------

    def forget(self, done: list[tuple[str, str]]) -> None:
        """Drop stored checks (check id, url key) from Redis; their articles may be queued again."""
        if not done:
            return
        k = self.keys
        args = [v for pair in done for v in pair]
        self._forget(keys=[k["checks"], k["attempts"], k["leases"], k["owners"], k["open"]], args=args)
