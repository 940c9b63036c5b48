"""The browser's only way out: a small HTTP proxy of ours that connects where the host guard said.

Chromium resolves host names itself. Checking a browser request before Chromium sends it (the
`RequestFilter` of crawler/browser/setup.py, PLAYWRIGHT_ABORT_REQUEST) is a check, not the connection:
a name whose DNS answer changes between that check and Chromium's own lookup (DNS rebinding) reaches
loopback or the private network, and requests that filter does not look at (stylesheets, scripts,
beacons, Chromium's own redirects of them) are not checked at all. So Chromium is launched with this
proxy as its only way to the network (`--proxy-server`, and `--proxy-bypass-list=<-loopback>` so that
loopback goes through it too), and the proxy makes every connection itself:

- each request names its host and port (an absolute-URI request for http://, a CONNECT tunnel for
  https:// and WebSockets); the proxy resolves the name once through the crawl's own resolver
  (`GuardedResolver.addresses`: HOSTGUARD_RESOLVE, the DNS cache, the system) and the host guard's
  policy checks that answer (crawler/hostguard.py: globally routable, or the (host, port) the user
  named, or ALLOW_PRIVATE_HOSTS);
- it connects to exactly those addresses, never to a name, so no second lookup can answer otherwise;
- a refused host gets 403 (the same one log line per host and a `hostguard/refused/browser_private_host`
  count as Scrapy's side of the guard), an unresolvable or unreachable one 502.

Chromium itself is also told to resolve nothing (`--host-resolver-rules=MAP * ~NOTFOUND`, the proxy is
a literal address) and to send no UDP past the proxy (WebRTC), so nothing leaves it but through here.

Why a proxy and not something else: `--host-resolver-rules` with pre-resolved answers is fixed at
launch and cannot follow the names a page meets later; fulfilling every browser request from Scrapy's
downloader (route.fulfill) costs a round trip through Playwright for every subresource and has no
answer for WebSockets or streamed bodies; a check in the abort hook keeps the race. A proxy in the
crawl process is one connection hop on loopback and sees every TCP connection Chromium makes.

It runs on the crawl's asyncio loop (Scrapy's asyncio reactor; scrapy-playwright drives Playwright on
that same loop except on Windows), so lookups go through the Twisted resolver directly: it starts
listening when the crawler is built (Chromium's launch options need its port), serves from
`engine_started`, and closes with every open connection at `engine_stopped`, after the browser.

Plain http:// requests are forwarded one per connection (`Connection: close` both ways), so a
connection approved for one host never carries a request for another.

Not done: an operator's upstream proxy (http_proxy / https_proxy in the environment) is not chained;
the browser path then connects directly, and says so once in the log.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from contextlib import suppress
from urllib.parse import urlsplit
from urllib.request import getproxies

from scrapy import signals
from scrapy.utils.defer import maybe_deferred_to_future

from crawler.hostguard import POLICY, GuardedResolver, HostRefused, origins

logger = logging.getLogger(__name__)

REFUSED_REASON = "browser_private_host"
#: A request head larger than this is refused (431); Chromium's are a few kB.
MAX_HEAD = 64 * 1024
#: An answer's head may be as large as Chromium itself accepts.
MAX_ANSWER_HEAD = 256 * 1024
#: Headers that belong to one hop (the browser to us), not to the request sent on.
_HOP_BY_HOP = {b"connection", b"keep-alive", b"proxy-connection", b"proxy-authorization", b"te", b"trailer"}


def _answer(status: int, reason: str, text: str) -> bytes:
    body = text.encode()
    return (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode() + body


def split_authority(authority: str) -> tuple[str, int] | None:
    """("host", port) of a CONNECT target "host:port" / "[v6]:port"; None when malformed."""
    try:
        parts = urlsplit(f"//{authority}")
        port = parts.port
    except ValueError:
        return None
    if not parts.hostname or port is None:
        return None
    return parts.hostname.lower(), port


def _header_lines(head: bytes) -> tuple[bytes, list[bytes]]:
    first, *lines = head[:-4].split(b"\r\n")
    return first, [line for line in lines if line]


def _name(line: bytes) -> bytes:
    return line.split(b":", 1)[0].strip().lower()


def _tokens(lines: list[bytes], name: bytes) -> set[bytes]:
    found: set[bytes] = set()
    for line in lines:
        if _name(line) == name and b":" in line:
            found |= {t.strip().lower() for t in line.split(b":", 1)[1].split(b",")}
    return found


def _close_hop(lines: list[bytes]) -> list[bytes]:
    """The end-to-end headers of `lines` followed by `Connection: close` (one exchange per connection)."""
    named = _tokens(lines, b"connection")  # headers the Connection header itself calls hop-by-hop
    kept = [line for line in lines if _name(line) not in _HOP_BY_HOP and _name(line) not in named]
    return [*kept, b"Connection: close"]


class GuardProxy:
    """The browser's proxy: one per crawler that launches Chromium."""

    def __init__(self, crawler, connect_timeout: float = 30.0):
        self.crawler = crawler
        self.connect_timeout = connect_timeout
        # Bound now: the port goes into Chromium's launch options before the engine starts.
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(128)
        self.sock.setblocking(False)
        self.port: int = self.sock.getsockname()[1]
        self.server: asyncio.AbstractServer | None = None
        self.resolver: GuardedResolver | None = None
        self._tasks: set[asyncio.Task] = set()
        # held by the signals (weak=False): nothing else keeps the proxy alive
        crawler.signals.connect(self.start, signals.engine_started, weak=False)
        crawler.signals.connect(self.stop, signals.engine_stopped, weak=False)

    @classmethod
    def from_crawler(cls, crawler) -> GuardProxy:
        return cls(crawler, crawler.settings.getfloat("DOWNLOAD_TIMEOUT", 30.0))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- life cycle ---------------------------------------------------------------------------------

    async def start(self) -> None:
        from twisted.internet import reactor

        # The resolver Scrapy connects through (HostGuardMiddleware installs it when TWISTED_DNS_RESOLVER
        # names another one): the same cache, the same HOSTGUARD_RESOLVE answers, the same policy.
        resolver = reactor.nameResolver
        self.resolver = (
            resolver
            if isinstance(resolver, GuardedResolver)
            else GuardedResolver.from_crawler(self.crawler, reactor)
        )
        self.server = await asyncio.start_server(self._serve, sock=self.sock, limit=MAX_HEAD)
        logger.debug("Browser proxy of the host guard listening on %s", self.url)
        configured = [v for k, v in getproxies().items() if k in ("http", "https", "all")]
        upstream = origins(v if "://" in v else f"http://{v}" for v in configured)
        if upstream:
            # Scrapy's own requests use them (HttpProxyMiddleware); the browser's proxy connects itself.
            # Named by host and port only: a proxy URL may carry a password.
            logger.warning(
                "The browser path connects directly, not through the configured proxy %s",
                ", ".join(sorted(f"{host}:{port}" for host, port in upstream)),
            )

    async def stop(self) -> None:
        if self.server is None:
            self.sock.close()
            return
        self.server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.server.wait_closed()
        self.server = None

    # -- one browser connection ---------------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        streams: list[asyncio.StreamWriter] = [writer]
        try:
            await self._exchange(reader, writer, streams)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError, OSError):
            pass  # the browser or the site went away, or the crawl is closing
        except asyncio.LimitOverrunError:
            with suppress(ConnectionError, OSError):
                writer.write(_answer(431, "Request Header Fields Too Large", "request head too large"))
        finally:
            for stream in streams:
                stream.close()
            if task is not None:
                self._tasks.discard(task)

    async def _exchange(self, reader, writer, streams: list) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        first, lines = _header_lines(head)
        try:
            method, target, version = first.split(b" ")
        except ValueError:
            writer.write(_answer(400, "Bad Request", "not an HTTP request"))
            return
        if method == b"CONNECT":
            where = split_authority(target.decode("latin-1"))
            if where is None:
                writer.write(_answer(400, "Bad Request", "CONNECT needs host:port"))
                return
            opened = await self._open(*where, writer)
            if opened is None:
                return
            up_reader, up_writer = opened
            streams.append(up_writer)
            writer.write(b"HTTP/1.1 200 Connection Established\r\n\r\n")
            await self._relay(reader, writer, up_reader, up_writer)
            return
        url = urlsplit(target.decode("latin-1"))
        try:
            port = url.port or 80
        except ValueError:
            port = None
        if url.scheme.lower() != "http" or not url.hostname or port is None:
            writer.write(_answer(400, "Bad Request", "only absolute http:// URLs and CONNECT are proxied"))
            return
        opened = await self._open(url.hostname.lower(), port, writer)
        if opened is None:
            return
        up_reader, up_writer = opened
        streams.append(up_writer)
        path = (url.path or "/") + (f"?{url.query}" if url.query else "")
        # a protocol switch (Upgrade) keeps its Connection/Upgrade headers
        sent = lines if b"upgrade" in _tokens(lines, b"connection") else _close_hop(lines)
        request_line = b" ".join([method, path.encode("latin-1"), version])
        up_writer.write(b"\r\n".join([request_line, *sent]) + b"\r\n\r\n")
        await self._relay(reader, writer, up_reader, up_writer, answer_head=True)

    async def _open(self, host: str, port: int, writer):
        """A connection to (host, port) at an address the guard approved, or None (answered 403/502)."""
        assert self.resolver is not None
        try:
            addresses = await maybe_deferred_to_future(self.resolver.addresses(host, port, REFUSED_REASON))
        except HostRefused:
            crawler_stats = getattr(self.crawler, "stats", None)
            # POLICY counts for the crawlers bound to it (HostGuardMiddleware binds them)
            if crawler_stats is not None and self.crawler not in POLICY.crawlers:
                crawler_stats.inc_value(f"hostguard/refused/{REFUSED_REASON}")
            writer.write(
                _answer(
                    403,
                    "Forbidden",
                    f"Refused by Panda Watch's host guard: {host}:{port} is not globally routable "
                    "and nobody named it (ALLOW_PRIVATE_HOSTS is off)",
                )
            )
            return None
        errors = []
        for address in addresses:
            try:
                return await asyncio.wait_for(
                    asyncio.open_connection(address, port, limit=MAX_ANSWER_HEAD), self.connect_timeout
                )
            except (OSError, TimeoutError) as exc:
                errors.append(f"{address}: {exc or type(exc).__name__}")
        why = "; ".join(errors) if errors else "the name does not resolve"
        writer.write(_answer(502, "Bad Gateway", f"cannot connect to {host}:{port}: {why}"))
        return None

    async def _relay(self, reader, writer, up_reader, up_writer, answer_head: bool = False) -> None:
        """Bytes both ways until either side is done (then the connection ends)."""
        pumps = {
            asyncio.ensure_future(self._pipe(reader, up_writer)),
            asyncio.ensure_future(self._pipe(up_reader, writer, answer_head)),
        }
        try:
            await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for pump in pumps:
                pump.cancel()
            await asyncio.gather(*pumps, return_exceptions=True)

    @staticmethod
    async def _pipe(source, sink, answer_head: bool = False) -> None:
        with suppress(ConnectionError, OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            while answer_head:
                # The answer's head says `Connection: close`: the browser sends its next request on a
                # new connection, checked on its own. Interim answers (1xx) pass as they are.
                head = await source.readuntil(b"\r\n\r\n")
                first, lines = _header_lines(head)
                status = first.split(b" ", 2)[1] if first.count(b" ") else b""
                if status == b"101":
                    sink.write(head)
                    break
                if status.startswith(b"1"):
                    sink.write(head)
                    continue
                sink.write(b"\r\n".join([first, *_close_hop(lines)]) + b"\r\n\r\n")
                break
            while data := await source.read(65536):
                sink.write(data)
                await sink.drain()
            await sink.drain()
