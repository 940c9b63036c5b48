"""Scale-out on Redis end to end: workers, leases, one ingester, cluster-wide politeness, restarts.

Every test runs a real redis-server (Debian's) on a free loopback port, real worker and ingester
processes, the replica site, and reads the results back from SQLite. Waits are bounded; the only
timing assert is the politeness minimum gap, which the design guarantees (see
crawler/distributed/politeness.py), not a speed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from crawler.cli.main import cli
from crawler.distributed.ingest import Ingester
from crawler.distributed.queue import CheckQueue, connect
from crawler.replica import ReplicaServer, Site, build_bench_site
from crawler.replica.generate import generated_article
from crawler.store import open_db
from crawler.store import watch as watchlist
from tests.crawling import FAST, ROOT, crawl, query
from tests.redis_server import REDIS_SERVER, RedisServer

pytestmark = pytest.mark.skipif(
    not os.path.exists(REDIS_SERVER), reason="redis-server not installed (apt-get install redis-server)"
)

#: Workers on the replica: fast, with short leases so a killed worker's checks come back quickly.
WORKER = {**FAST, "DISTRIBUTED_LEASE_TIME": "3", "DISTRIBUTED_POLL_INTERVAL": "0.2"}
ENV = {**os.environ, "SCRAPY_SETTINGS_MODULE": "crawler.settings"}
ENV.pop("PANDAWATCH_DB", None)


#: every worker and ingester a test started; whatever still runs when the test ends is killed
_STARTED: list[subprocess.Popen] = []


@pytest.fixture(autouse=True)
def _no_leftover_processes():
    yield
    while _STARTED:
        process = _STARTED.pop()
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def _popen(command: list[str], log: Path, mode: str = "w") -> subprocess.Popen:
    process = subprocess.Popen(command, cwd=ROOT, env=ENV, stdout=log.open(mode), stderr=subprocess.STDOUT)
    _STARTED.append(process)
    return process


@pytest.fixture
def redis_server(tmp_path):
    server = RedisServer(tmp_path / "redis", appendonly=True).start()
    yield server
    server.stop()


def start_worker(redis_url: str, log: Path, settings: dict | None = None, idle_exit: int = 2, scrapy=False):
    """A worker process: `crawler worker`, or (scrapy=True) `scrapy crawl monitor -s REDIS_URL=…`."""
    values = {**WORKER, **(settings or {})}
    if scrapy:
        command = [sys.executable, "-m", "scrapy", "crawl", "monitor", "-s", f"REDIS_URL={redis_url}",
                   "-s", f"MAX_IDLE_TIME_BEFORE_CLOSE={idle_exit}"]  # fmt: skip
    else:
        command = [
            sys.executable,
            "-m",
            "crawler.cli",
            "worker",
            "--redis",
            redis_url,
            "--idle-exit",
            str(idle_exit),
        ]
    for key, value in values.items():
        command += ["-s", f"{key}={value}"]
    return _popen(command, log)


def start_ingester(redis_url: str, db: Path, log: Path, batch: int = 10, idle_exit: int = 2):
    command = [sys.executable, "-m", "crawler.cli", "ingest", "--redis", redis_url, "--db", str(db),
               "--batch", str(batch), "--idle-exit", str(idle_exit)]  # fmt: skip
    return _popen(command, log, "a")


def wait_for(predicate, timeout: float, what: str, logs: list[Path] = ()):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    tails = "\n".join(f"--- {p}\n{p.read_text()[-3000:]}" for p in logs if p.exists())
    raise AssertionError(f"timed out after {timeout}s waiting for {what}\n{tails}")


def wait_exit(process: subprocess.Popen, timeout: float, log: Path) -> int:
    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        raise AssertionError(f"process did not exit in {timeout}s:\n{log.read_text()[-3000:]}") from None


def enqueue(db: Path, redis_url: str, *extra: str) -> str:
    result = CliRunner().invoke(cli, ["run", "--redis", redis_url, "--db", str(db), *extra])
    assert result.exit_code == 0, result.output
    return result.output


def watch(db: Path, urls: list[str]) -> None:
    handle = open_db(db)
    try:
        watchlist.add(handle, urls)
    finally:
        handle.close()


def stored_checks(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        return query(db, "SELECT count(*) AS n FROM distributed_checks")[0]["n"]
    except Exception:  # the ingester has not created its tables yet
        return 0


def runs_finished(db: Path) -> bool:
    try:
        rows = query(db, "SELECT finished_at FROM distributed_runs")
    except Exception:
        return False
    return bool(rows) and all(r["finished_at"] for r in rows)


# -- comparing two databases ------------------------------------------------------------------------


#: per-run bookkeeping that legitimately differs between two crawls of the same site
def _stable(row: dict) -> dict:
    out = {k: v for k, v in row.items() if not k.endswith("_at") and "run_id" not in k}
    out.pop("at", None)
    out.pop("missing_since", None)  # a wall-clock time like the *_at columns (when this crawl missed it)
    out.pop("change_id", None)
    if row.get("posted_at_precision") not in (None, "exact"):
        out.pop("posted_at", None)  # "2 days ago" is estimated from the moment of each fetch
    return out


def table(db: Path, name: str, order: str) -> list[dict]:
    return [_stable(r) for r in query(db, f"SELECT * FROM {name} ORDER BY {order}")]


COMPARED = {
    "articles": "article_id",
    "comments": "comment_id",
    "list_items": "article_id, position",
    "thread_loads": "article_id",
    "http_cache": "url_key",
    "article_versions": "article_id, version",
    "comment_versions": "comment_id, version",
}


def assert_same_store(single: Path, scaled: Path) -> None:
    for name, order in COMPARED.items():
        assert table(single, name, order) == table(scaled, name, order), name
    change_kinds = "SELECT entity_type, kind, count(*) AS n FROM changes GROUP BY 1, 2 ORDER BY 1, 2"
    assert query(single, change_kinds) == query(scaled, change_kinds)
    assert table(single, "watchlist", "url_key") == table(scaled, "watchlist", "url_key")


RUN_COUNTS = (
    "status", "articles_seen", "comments_seen", "threads_complete", "threads_incomplete",
    "changes_recorded", "requests_failed", "articles_unchanged",
)  # fmt: skip


def run_counts(db: Path, run_id: int | None = None) -> dict:
    row = query(db, "SELECT * FROM runs ORDER BY run_id DESC LIMIT 1")[0] if run_id is None else query(
        db, "SELECT * FROM runs WHERE run_id = ?", [run_id])[0]  # fmt: skip
    return {k: row[k] for k in RUN_COUNTS}


def bench_site(n_articles: int, comments_each: int, first_post_id: int) -> Site:
    """Like build_bench_site, with post ids of its own (another site's articles are other articles)."""
    site = Site()
    for number in range(n_articles):
        site.add_article(
            generated_article(f"other-article-{number:04d}", first_post_id + number, comments_each)
        )
    return site


# -- the tests ----------------------------------------------------------------------------------------


def test_three_workers_and_one_ingester_store_what_one_process_stores_despite_kill_9(redis_server, tmp_path):
    """300 articles: 3 workers and an ingester; one worker and the ingester are killed with -9 mid-run
    (the ingester is restarted). Every article and comment is stored exactly once, and the tables are
    the same as a single-process crawl's."""
    site = build_bench_site(300, 3)
    with ReplicaServer(site) as replica:
        urls = [f"{replica.base_url}/{a.slug}/" for a in site.articles()]
        single, scaled = tmp_path / "single.db", tmp_path / "scaled.db"
        watch(single, urls)
        watch(scaled, urls)
        reference = crawl(single, spider="monitor")
        assert reference.run["status"] == "ok", reference.stderr[-2000:]

        assert "queued 300 of 300" in enqueue(scaled, redis_server.url)
        logs = [tmp_path / f"worker{n}.log" for n in range(3)] + [tmp_path / "ingest.log"]
        workers = [start_worker(redis_server.url, logs[n], idle_exit=2, scrapy=(n == 2)) for n in range(3)]
        ingester = start_ingester(redis_server.url, scaled, logs[3])
        client = redis_server.client()
        victim = workers[0]

        # kill -9 one worker while it holds leases on checks it has not finished
        def victim_leases():
            finished = client.xlen("pandawatch:results") + stored_checks(scaled)
            owned = [
                c for c, w in client.hgetall("pandawatch:owners").items() if w.endswith(f":{victim.pid}")
            ]
            return owned if finished >= 30 and owned else None

        wait_for(victim_leases, 120, "the first worker to hold leases mid-run", logs)
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=10)
        # the leases the kill left behind: a check the victim completed between the look above and
        # the kill is its own (completing hands the lease back in the same step), not orphaned
        orphaned = [c for c, w in client.hgetall("pandawatch:owners").items() if w.endswith(f":{victim.pid}")]
        assert orphaned, "the killed worker held no lease any more"

        # kill -9 the ingester mid-run, then start it again
        wait_for(lambda: stored_checks(scaled) >= 100, 120, "100 checks stored", logs)
        assert stored_checks(scaled) < 300, "the run ended before the ingester could be killed mid-run"
        ingester.send_signal(signal.SIGKILL)
        ingester.wait(timeout=10)
        ingester = start_ingester(redis_server.url, scaled, logs[3])

        wait_for(lambda: runs_finished(scaled), 180, "the run to finish", logs)
        for process, log in zip([*workers[1:], ingester], logs[1:], strict=True):
            assert wait_exit(process, 60, log) == 0, log.read_text()[-3000:]

    # the killed worker's checks were leased again and completed by the others
    by_check = {r["check_id"]: r for r in query(scaled, "SELECT * FROM distributed_checks")}
    assert len(by_check) == 300
    assert all(by_check[c]["outcome"] == "stored" for c in orphaned)
    assert not [c for c in orphaned if by_check[c]["worker"].endswith(f":{victim.pid}")]
    assert Counter(r["outcome"] for r in by_check.values()) == {"stored": 300}

    # exactly once, nothing deleted, the same rows and counts as one process
    assert query(scaled, "SELECT count(*) AS n FROM articles")[0]["n"] == 300
    assert query(scaled, "SELECT count(*) AS n FROM comments")[0]["n"] == 900
    assert query(scaled, "SELECT count(*) AS n FROM comments WHERE status != 'live'")[0]["n"] == 0
    assert query(scaled, "SELECT count(*) AS n FROM changes WHERE kind = 'deleted'")[0]["n"] == 0
    assert_same_store(single, scaled)
    assert run_counts(scaled) == run_counts(single) == {
        "status": "ok", "articles_seen": 300, "comments_seen": 900, "threads_complete": 300,
        "threads_incomplete": 0, "changes_recorded": 300, "requests_failed": 0, "articles_unchanged": 0,
    }  # fmt: skip
    # nothing left behind in Redis: no queued or leased check, no unacknowledged entry
    assert client.llen("pandawatch:queue") == 0
    assert client.zcard("pandawatch:leases") == 0
    assert client.hlen("pandawatch:checks") == 0
    assert client.xpending("pandawatch:results", "ingest")["pending"] == 0


def test_three_workers_keep_to_the_per_domain_limit_and_the_robots_crawl_delay(redis_server, tmp_path):
    """Per-domain limit 1 and a 0.3 s delay; a second domain whose robots.txt says Crawl-delay: 0.6.
    Three workers together never have two requests in flight to one domain, nor start two closer
    than the delay (as the replica logged them; without the cluster's limits, they would start
    within milliseconds of each other)."""
    plain, slow = build_bench_site(6, 2), bench_site(3, 2, first_post_id=9_100_000)
    slow.crawl_delay = 0.6
    db = tmp_path / "c.db"
    with ReplicaServer(plain) as one, ReplicaServer(slow, host="127.0.0.2") as two:
        watch(
            db,
            [f"{s.base_url}/{a.slug}/" for s, site in ((one, plain), (two, slow)) for a in site.articles()],
        )
        enqueue(db, redis_server.url)
        polite = {
            "DISTRIBUTED_DOMAIN_CONCURRENCY": "1", "DISTRIBUTED_DOMAIN_DELAY": "0.3",
            "ROBOTSTXT_OBEY": "True",
            "DISTRIBUTED_CHECKS_PER_WORKER": "1",  # the three workers compete for every check
        }  # fmt: skip
        logs = [tmp_path / f"worker{n}.log" for n in range(3)] + [tmp_path / "ingest.log"]
        workers = [start_worker(redis_server.url, logs[n], polite) for n in range(3)]
        ingester = start_ingester(redis_server.url, db, logs[3])
        wait_for(lambda: runs_finished(db), 150, "the run to finish", logs)
        for process, log in zip([*workers, ingester], logs, strict=True):
            assert wait_exit(process, 60, log) == 0
        timelines = {"plain": one.timeline, "crawl-delay": two.timeline}

    assert run_counts(db)["articles_seen"] == 9
    for name, delay in (("plain", 0.3), ("crawl-delay", 0.6)):
        timeline = timelines[name]
        paths = Counter(path for *_, path in timeline)
        assert paths["/robots.txt"] >= 1 and len(paths) == 1 + (6 if name == "plain" else 3), paths
        for (arrived, answered, *_), (next_arrived, *_) in zip(timeline, timeline[1:], strict=False):
            assert next_arrived > answered, f"{name}: two requests in flight at once"
            # Redis times are whole milliseconds: allow one
            assert next_arrived - arrived >= delay - 0.001, f"{name}: {next_arrived - arrived:.3f}s apart"


def test_workers_and_ingester_ride_out_a_redis_restart(redis_server, tmp_path):
    """Redis shut down and started again mid-run (its append-only file keeps the queue, leases and
    stream): the workers and the ingester reconnect and finish; every article is stored once."""
    site = build_bench_site(40, 2)
    db = tmp_path / "c.db"
    with ReplicaServer(site) as replica:
        watch(db, [f"{replica.base_url}/{a.slug}/" for a in site.articles()])
        enqueue(db, redis_server.url)
        # slow enough that the restart falls mid-run: 40 pages at least 0.1 s apart
        slow = {
            "DISTRIBUTED_DOMAIN_CONCURRENCY": "1",
            "DISTRIBUTED_DOMAIN_DELAY": "0.1",
            "DISTRIBUTED_LEASE_TIME": "20",
        }
        logs = [tmp_path / f"worker{n}.log" for n in range(2)] + [tmp_path / "ingest.log"]
        workers = [start_worker(redis_server.url, logs[n], slow, idle_exit=3) for n in range(2)]
        ingester = start_ingester(redis_server.url, db, logs[2], idle_exit=3)
        wait_for(lambda: stored_checks(db) >= 5, 120, "5 checks stored", logs)
        # the domain delay leaves at least 3.5 s of crawling: the restart falls mid-run
        assert stored_checks(db) < 40
        redis_server.restart(down_for=1.0)
        wait_for(lambda: runs_finished(db), 180, "the run to finish after the restart", logs)
        for process, log in zip([*workers, ingester], logs, strict=True):
            assert wait_exit(process, 60, log) == 0, log.read_text()[-3000:]
        assert replica.stats["total"] >= 40

    assert stored_checks(db) == 40
    assert query(db, "SELECT count(*) AS n FROM articles")[0]["n"] == 40
    assert query(db, "SELECT count(*) AS n FROM comments")[0]["n"] == 80
    assert run_counts(db)["articles_seen"] == 40
    assert run_counts(db)["status"] == "ok"


# -- the queue and the ingester, piece by piece ---------------------------------------------------------


def test_a_dead_workers_lease_expires_and_the_check_is_leased_again_then_abandoned(redis_server):
    queue = CheckQueue(connect(redis_server.url), prefix="t")
    token, queued = queue.enqueue_run([("https://example.org/a/", "example.org/a", None)])
    assert queued == 1
    # the same article is not queued again while its check is open
    assert queue.enqueue_run([("https://example.org/a/", "example.org/a", None)])[1] == 0
    first = queue.lease("w1", 5, ttl=0.2, max_attempts=2)
    assert [c.url for c in first] == ["https://example.org/a/"]
    assert queue.lease("w2", 5, ttl=0.2, max_attempts=2) == []  # held by w1
    time.sleep(0.3)  # w1 died: no renewal
    second = queue.lease("w2", 5, ttl=0.2, max_attempts=2)
    assert [c.id for c in second] == [first[0].id]
    assert queue.renew("w1", [first[0].id], ttl=5) == [first[0].id]  # w1 lost it to w2
    time.sleep(0.3)
    assert queue.lease("w3", 5, ttl=0.2, max_attempts=2) == []  # two attempts died: abandoned
    entries = queue.redis.xrange(queue.results)
    assert [e[1]["kind"] for e in entries] == ["run", "abandoned"]
    assert json.loads(entries[1][1]["data"])["url"] == "https://example.org/a/"


def _result(check, token: str, worker: str, article_id: str) -> dict:
    """What a worker sends for a check: a fetch and an article."""
    fields = {"url": check.url, "article_id": article_id, "title": "A", "body_text": "B"}
    fetch = {"url": check.url, "url_key": check.url_key, "status": 200, "article_id": article_id}
    return {
        "check": check.id, "run": token, "url": check.url, "url_key": check.url_key, "worker": worker,
        "requests": 1,
        "items": [{"type": "FetchItem", "fields": fetch}, {"type": "ArticleItem", "fields": fields}],
    }  # fmt: skip


def test_a_check_that_arrives_twice_is_stored_once(redis_server, tmp_path):
    client = connect(redis_server.url)
    queue = CheckQueue(client, prefix="t")
    token, _ = queue.enqueue_run([("https://example.org/a/", "example.org/a", None)])
    check = queue.lease("w1", 1, ttl=60)[0]
    queue.complete("w1", check.id, _result(check, token, "w1", "x:1"))
    # a slow worker whose lease was taken over sends the same check again
    queue.complete("w2", check.id, _result(check, token, "w2", "x:1"))
    db = tmp_path / "c.db"
    writer = Ingester(client, db, prefix="t", batch=1)
    counts = writer.run(idle_exit=0.5)
    writer.close()
    assert (counts.checks, counts.duplicates, counts.finished) == (1, 1, [1])
    assert query(db, "SELECT check_id, worker FROM distributed_checks") == [
        {"check_id": check.id, "worker": "w1"}
    ]
    assert query(db, "SELECT articles_seen, status FROM runs") == [{"articles_seen": 1, "status": "ok"}]
    assert client.xlen(queue.results) == 0  # acknowledged and deleted
    # the run is finished: the article may be queued again
    assert queue.enqueue_run([("https://example.org/a/", "example.org/a", None)])[1] == 1


def test_an_ingester_killed_between_commit_and_acknowledgement_counts_nothing_twice(redis_server, tmp_path):
    """The narrowest crash window, made deterministic: a batch committed, its entries not acknowledged."""
    client = connect(redis_server.url)
    queue = CheckQueue(client, prefix="t")
    urls = [(f"https://example.org/{n}/", f"example.org/{n}", None) for n in range(2)]
    token, _ = queue.enqueue_run(urls)
    for number, check in enumerate(queue.lease("w1", 2, ttl=60)):
        queue.complete("w1", check.id, _result(check, token, "w1", f"x:{number}"))
    db = tmp_path / "c.db"
    first = Ingester(client, db, prefix="t", batch=10)
    first._ensure_group()
    entries = first._read(backlog=False)  # delivered to this consumer...
    first._write(entries)  # ...and committed; the process dies before XACK
    first.close()
    assert client.xpending(queue.results, "ingest")["pending"] == 3
    assert query(db, "SELECT stored FROM distributed_runs") == [{"stored": 2}]

    again = Ingester(client, db, prefix="t", batch=10)
    counts = again.run(idle_exit=0.3)
    again.close()
    assert (counts.runs, counts.checks, counts.duplicates, counts.finished) == (0, 0, 2, [1])
    assert client.xpending(queue.results, "ingest")["pending"] == 0
    assert query(db, "SELECT articles_seen, status FROM runs") == [{"articles_seen": 2, "status": "ok"}]
    assert query(db, "SELECT count(*) AS n FROM changes") == [{"n": 2}]  # one `added` per article


def test_long_lived_workers_record_a_second_run_as_one_process_does(redis_server, tmp_path):
    """The same workers and ingester serve two runs; between them comments are edited, deleted and
    voted on. The second run's history is the same as a single-process second run's (the same change
    rules, and a worker's dedupe memory does not carry over from one run to the next)."""
    site = build_bench_site(12, 6)
    with ReplicaServer(site) as replica:
        urls = [f"{replica.base_url}/{a.slug}/" for a in site.articles()]
        single, scaled = tmp_path / "single.db", tmp_path / "scaled.db"
        watch(single, urls)
        watch(scaled, urls)
        logs = [tmp_path / f"worker{n}.log" for n in range(2)] + [tmp_path / "ingest.log"]
        workers = [start_worker(redis_server.url, logs[n], idle_exit=0) for n in range(2)]
        ingester = start_ingester(redis_server.url, scaled, logs[2], idle_exit=0)

        assert crawl(single, spider="monitor").run["status"] == "ok"
        enqueue(scaled, redis_server.url)
        wait_for(lambda: runs_finished(scaled), 120, "run 1", logs)
        assert "nothing is due" in enqueue(scaled, redis_server.url)  # rescheduled by the age-decay policy

        first, second = site.articles()[0], site.articles()[1]
        site.edit_comment(first.comments[0].id, "An edited comment, with other words in it.")
        site.delete_comment(first.comments[-1].id)
        site.set_votes(second.comments[1].id, 99, 1)
        assert crawl(single, spider="monitor", args={"all": "1"}).run["status"] == "ok"
        assert "queued 12 of 12" in enqueue(scaled, redis_server.url, "--all")
        wait_for(
            lambda: len(query(scaled, "SELECT finished_at FROM distributed_runs")) == 2, 60, "run 2", logs
        )
        wait_for(lambda: runs_finished(scaled), 120, "run 2 to finish", logs)
        for process in workers:
            process.send_signal(signal.SIGTERM)  # a normal stop
        for process, log in zip([*workers, ingester], logs, strict=True):
            if process is ingester:
                process.send_signal(signal.SIGTERM)
            assert wait_exit(process, 60, log) in (0, -signal.SIGTERM)

    second_run = "SELECT entity_type, kind, entity_id FROM changes WHERE run_id = 2 ORDER BY 1, 2, 3"
    assert query(scaled, second_run) == query(single, second_run)
    assert {r["kind"] for r in query(scaled, second_run)} >= {"edited", "votes"}
    assert_same_store(single, scaled)
    assert run_counts(scaled, 2) == run_counts(single, 2)
    assert run_counts(scaled, 2)["comments_seen"] > 0  # the second run's comments were not dropped
