"""The replica's HTTP server: a threaded loopback server in a daemon thread, with request counters.

`ReplicaServer(site)` serves a `Site` on a free port (`base_url` says which) for the demo, the tests and
the benchmarks. It speaks HTTP/1.1 with keep-alive, answers conditional GETs of cacheable responses
with 304, and counts what it served (`stats`) so tests can assert how a crawl behaved on the wire: how
many requests per path, how many 304s, how many bytes.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from datetime import datetime
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from .ajax import AJAX_PATH
from .model import Site
from .routes import Request, Response, Router, html_page

logger = logging.getLogger(__name__)


class RequestStats:
    """Thread-safe counters of the responses sent."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._requests: Counter[tuple[str, str]] = Counter()
            self._statuses: Counter[int] = Counter()
            self._ajax: Counter[str] = Counter()
            self._bytes_sent = 0
            self._timeline: list[tuple[float, float, str, str]] = []
            #: (time.monotonic(), method, path) of every request, in order: gaps between requests
            self._times: list[tuple[float, str, str]] = []
            #: TCP connections accepted (a client reusing its connections opens few)
            self._connections = 0

    def connected(self) -> None:
        with self._lock:
            self._connections += 1

    def timed(self, started: float, request: Request) -> None:
        """Log when a request arrived and when its answer was sent (time.time(), for politeness tests)."""
        with self._lock:
            self._timeline.append((started, time.time(), request.method, request.path))

    def timeline(self) -> list[tuple[float, float, str, str]]:
        """(arrived, answered, method, path) of every request, in order of arrival."""
        with self._lock:
            return sorted(self._timeline)

    def record(self, request: Request, status: int, body_bytes: int) -> None:
        with self._lock:
            self._requests[(request.method, request.path)] += 1
            self._statuses[status] += 1
            self._bytes_sent += body_bytes
            self._times.append((time.monotonic(), request.method, request.path))
            if request.path == AJAX_PATH:
                self._ajax[request.form.get("action", "")] += 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "total": sum(self._statuses.values()),
                "requests": dict(self._requests),
                "statuses": dict(self._statuses),
                "ajax": dict(self._ajax),
                "bytes_sent": self._bytes_sent,
                "not_modified": self._statuses[304],
                "times": list(self._times),
                "connections": self._connections,
            }


def is_not_modified(headers: Any, etag: str | None, last_modified: datetime | None) -> bool:
    """RFC 9110 conditional GET: If-None-Match decides when present, else If-Modified-Since."""
    if_none_match = headers.get("If-None-Match")
    if if_none_match is not None:
        tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return etag is not None and (etag in tags or "*" in tags)
    if_modified_since = headers.get("If-Modified-Since")
    if if_modified_since is None or last_modified is None:
        return False
    try:
        return last_modified <= parsedate_to_datetime(if_modified_since)
    except (TypeError, ValueError):
        return False  # an unreadable date means "send it"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # headers and body go out as separate writes; with Nagle's algorithm on, each keep-alive
    # response would wait for the client's delayed ACK (about 40 ms)
    disable_nagle_algorithm = True
    server: _HTTPServer

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s " + format, self.address_string(), *args)

    def _serve(self, method: str) -> None:
        started = time.time()
        url = urlsplit(self.path)
        # the body is read even when unused, or it would be taken for the next request on the connection
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {k.lower(): v for k, v in self.headers.items()}
        request = Request(method, url.path, dict(parse_qsl(url.query)), body, headers)
        try:
            response = self.server.router.handle(request)
        except Exception:
            logger.exception("replica failed to answer %s %s", method, self.path)
            response = html_page("Internal Server Error", "The replica failed.", 500)
        self._send(request, response)
        self.server.stats.timed(started, request)

    def _send(self, request: Request, response: Response) -> None:
        status, body = response.status, response.body
        if request.method == "GET" and is_not_modified(self.headers, response.etag, response.last_modified):
            status, body = 304, b""
        self.send_response(status)
        if status != 304:
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(body)))
        if response.etag:
            self.send_header("ETag", response.etag)
        if response.last_modified:
            self.send_header("Last-Modified", format_datetime(response.last_modified, usegmt=True))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        # counted before the body goes out, so a client that has read it sees it counted
        self.server.stats.record(request, status, len(body))
        if self.server.body_delay and request.path == AJAX_PATH:
            # a slow network or server: the answer's headers arrive well before its body
            self.wfile.flush()
            time.sleep(self.server.body_delay)
        self.wfile.write(body)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    # crawlers open many connections at once; the default backlog of 5 would refuse some
    request_queue_size = 128

    router: Router
    #: seconds between the headers and the body of every comment-API answer (0: none)
    body_delay: float = 0.0

    def __init__(self, address: tuple[str, int], stats: RequestStats) -> None:
        self.stats = stats
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        self.stats.connected()  # once per accepted connection (each gets a thread of its own)
        super().process_request(request, client_address)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # a client that hangs up early (a timed-out crawl request) is normal here, not an error
        logger.debug("connection from %s ended with an error", client_address, exc_info=True)


class ReplicaServer:
    """Serve a Site over HTTP on host:port (port 0: a free one) from a daemon thread.

    Use as a context manager, or call start() and stop(). `stats` is a snapshot of the counters:
    {"total", "requests": {(method, path): n}, "statuses": {status: n}, "ajax": {action: n},
    "bytes_sent" (bodies only), "not_modified"}.
    """

    def __init__(self, site: Site, host: str = "127.0.0.1", port: int = 0, body_delay: float = 0.0) -> None:
        self.site = site
        self._stats = RequestStats()
        self._httpd = _HTTPServer((host, port), self._stats)
        self._httpd.body_delay = body_delay
        host_name, bound_port = self._httpd.server_address[:2]
        self.host, self.port = str(host_name), int(bound_port)
        self.base_url = f"http://{self.host}:{self.port}"
        # the router renders absolute URLs, which are known only once the port is bound
        self._httpd.router = Router(site, self.base_url)
        self._thread: threading.Thread | None = None

    def start(self) -> ReplicaServer:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True,
                name=f"replica-{self.port}",
            )  # fmt: skip
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join()
            self._thread = None
        self._httpd.server_close()

    @property
    def stats(self) -> dict[str, Any]:
        return self._stats.snapshot()

    @property
    def timeline(self) -> list[tuple[float, float, str, str]]:
        """(arrived, answered, method, path) of every request served, in order of arrival."""
        return self._stats.timeline()

    def reset_stats(self) -> None:
        self._stats.reset()

    def serve(self, site: Site, body_delay: float = 0.0) -> ReplicaServer:
        """Serve another site from now on, with fresh counters (one server reused by many tests)."""
        self.site = site
        self._httpd.router = Router(site, self.base_url)
        self._httpd.body_delay = body_delay
        self.reset_stats()
        return self

    def __enter__(self) -> ReplicaServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
