"""A small loopback HTTP server for tests that need to see exactly what reached a host, and when.

It answers from a dict of canned pages (or a subclass's `answer`) and records the arrival time
(time.monotonic()) and path of every request; the crawl runs in a child process, the server here.
"""

from __future__ import annotations

import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

#: (status, headers, body) of one answer
Answer = tuple[int, dict[str, str], str]


class Recorder(ThreadingHTTPServer):
    """Serves `pages` (path without query -> Answer) on 127.0.0.1 and records every request."""

    daemon_threads = True

    def __init__(self, pages: dict[str, Answer] | None = None, tls: tuple[str, str] | None = None):
        self.pages = dict(pages or {})
        self.requests: list[tuple[float, str, int]] = []
        #: TCP connections accepted (whatever came over them: a TLS handshake, garbage, nothing)
        self.connections = 0
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)
        self.port = self.server_address[1]
        scheme = "http"
        if tls is not None:  # (certificate file, key file): HTTPS, the handshake in the handler's thread
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            self.socket = context.wrap_socket(self.socket, server_side=True, do_handshake_on_connect=False)
            scheme = "https"
        self.base_url = f"{scheme}://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)

    def verify_request(self, request, client_address) -> bool:
        with self.lock:
            self.connections += 1
        return True

    def __enter__(self) -> Recorder:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.shutdown()
        self.server_close()

    def paths(self) -> list[str]:
        with self.lock:
            return [path for _, path, _ in self.requests]

    def log(self) -> list[tuple[float, str, int]]:
        """(arrival time, path, status answered) of every request, in order of arrival."""
        with self.lock:
            return list(self.requests)

    def handle_error(self, request, client_address) -> None:
        pass  # a refused handshake or a client gone: counted in `connections`, nothing to print

    def answer(self, path: str) -> Answer:
        """The answer to `path`; subclasses may change answers over time (called under no lock)."""
        return self.pages.get(path.split("?", 1)[0], (404, {}, "not here"))


class _Handler(BaseHTTPRequestHandler):
    server: Recorder

    def setup(self) -> None:
        if isinstance(self.request, ssl.SSLSocket):
            self.request.do_handshake()
        super().setup()

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        arrived = time.monotonic()
        status, headers, body = self.server.answer(self.path)
        with self.server.lock:
            self.server.requests.append((arrived, self.path, status))
        data = body.encode()
        headers = dict(headers)
        self.send_response(status)
        self.send_header("Content-Type", headers.pop("Content-Type", "text/html; charset=utf-8"))
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args) -> None:
        pass
