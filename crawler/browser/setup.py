"""Which browser to launch and the scrapy-playwright settings that launch it.

No machine here can download Playwright's own browser builds, so Debian's Chromium
(`apt-get install chromium`, /usr/bin/chromium) is the default; `BROWSER_EXECUTABLE` (setting) or
`PANDAWATCH_CHROMIUM` (environment) names another one, and a Playwright-installed Chromium is used
when neither is set and no system Chromium exists.

With the host guard on (HOSTGUARD_ENABLED), Chromium reaches the network only through the guard's
proxy (crawler/browser/proxy.py), which resolves every name once and connects to the address it
checked; `RequestFilter` (PLAYWRIGHT_ABORT_REQUEST) refuses early what needs no connection at all.
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

from crawler.hostguard import POLICY, origin, url_allowed

logger = logging.getLogger(__name__)

ENV_EXECUTABLE = "PANDAWATCH_CHROMIUM"
SYSTEM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
# Without the networking flags Chromium keeps calling home; on a closed network each attempt fails
# slowly, and as root it refuses to start without --no-sandbox.
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-gpu",
    "--disable-dev-shm-usage",
)
#: Resource types never downloaded: the comment thread needs none of them.
ABORTED_RESOURCES = frozenset({"image", "font", "media"})


class BrowserNotFound(RuntimeError):
    """No usable browser; the message says how to get one."""


def playwright_chromium_installed() -> bool:
    """True when Playwright's own Chromium build is on disk (`playwright install chromium`)."""
    root = Path(os.environ.get("PLAYWRIGHT_BROWSERS_PATH") or Path.home() / ".cache" / "ms-playwright")
    return root.is_dir() and any(root.glob("chromium*"))


def find_executable(setting: str | None = None) -> str | None:
    """The Chromium to launch: the setting, $PANDAWATCH_CHROMIUM, a system Chromium; None means
    Playwright's own build. Raises BrowserNotFound when none of them exists."""
    explicit = setting or os.environ.get(ENV_EXECUTABLE)
    if explicit:
        path = shutil.which(explicit) or (explicit if Path(explicit).is_file() else None)
        if path is None:
            source = "BROWSER_EXECUTABLE" if setting else ENV_EXECUTABLE
            raise BrowserNotFound(f"{source}={explicit!r} is not an executable file")
        return path
    for name in SYSTEM_CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    if playwright_chromium_installed():
        return None
    raise BrowserNotFound(
        "no browser found for render=browser: install Debian's Chromium (apt-get install -y chromium), "
        f"set BROWSER_EXECUTABLE or ${ENV_EXECUTABLE}, or run `playwright install chromium`"
    )


def proxy_args(proxy_url: str) -> list[str]:
    """Chromium switches that leave it no way out but the proxy at `proxy_url` (a literal address)."""
    host = proxy_url.rsplit("//", 1)[-1].rsplit(":", 1)[0]
    return [
        f"--proxy-server={proxy_url}",
        # Chromium sends loopback past any proxy unless told not to
        "--proxy-bypass-list=<-loopback>",
        # no lookups of its own: the proxy resolves (it is named by its address)
        f"--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE {host}",
        # WebRTC's UDP would go straight to any address a page names
        "--force-webrtc-ip-handling-policy=disable_non_proxied_udp",
    ]


def launch_options(
    executable: str | None,
    headless: bool = True,
    extra_args: list[str] | None = None,
    proxy_url: str | None = None,
) -> dict:
    # BROWSER_EXTRA_ARGS come last: a switch given twice takes its last value
    guard = proxy_args(proxy_url) if proxy_url else []
    options: dict = {"headless": headless, "args": [*CHROMIUM_ARGS, *guard, *(extra_args or [])]}
    if executable:
        options["executable_path"] = executable
    return options


def abort_heavy_resources(request) -> bool:
    """Skip images, fonts and media, and anything not http(s)."""
    return request.resource_type in ABORTED_RESOURCES or not request.url.startswith(("http://", "https://"))


#: Requests that could reach into the network the crawler runs in: pages (redirects included, which
#: Chromium follows itself, past Scrapy's middlewares) and the page scripts' own requests.
GUARDED_RESOURCES = frozenset({"document", "fetch", "xhr", "websocket", "eventsource"})


class RequestFilter:
    """PLAYWRIGHT_ABORT_REQUEST: heavy resources, and an early check of the browser's side of the guard.

    Hosts the user named may be anywhere; any other host a page or its scripts reach that resolves to a
    private, loopback or link-local address is refused unless ALLOW_PRIVATE_HOSTS is set. This is a
    check before Chromium sends the request, not at its connection: the guard's proxy
    (crawler/browser/proxy.py) checks the address every connection really goes to.
    """

    def __init__(self, named_origins: set[tuple[str, int]], allow_private: bool, crawler=None):
        # the spider's own set of (host, port) pairs: kept by reference, so origins the spider learns
        # later (the monitor's watch list) count too
        self.named_origins = named_origins
        self.allow_private = allow_private
        self.crawler = crawler  # for its stats, which exist only once the crawl has started

    def __call__(self, request) -> bool:
        if abort_heavy_resources(request):
            return True
        if self.allow_private or request.resource_type not in GUARDED_RESOURCES:
            return False
        if url_allowed(request.url, self.named_origins, False):
            return False
        found = origin(request.url)
        if found is None:
            return True  # not http(s): never
        # the same policy and the same one log line per host as Scrapy's side of the guard
        POLICY.refuse(*found, "the browser was sent there", "browser_private_host")
        if self.crawler is not None and self.crawler not in POLICY.crawlers:
            self.crawler.stats.inc_value("hostguard/refused/browser_private_host")
        return True


def playwright_settings(settings, named_origins: set | None = None, crawler=None) -> dict:
    """The settings that route `meta["playwright"]` requests through Chromium (raises BrowserNotFound).

    Given the crawler (the crawl that will launch Chromium), it also sets up the guard's proxy that
    Chromium connects through, unless HOSTGUARD_ENABLED is off.
    """
    handler = "scrapy_playwright.handler.ScrapyPlaywrightDownloadHandler"
    executable = find_executable(settings.get("BROWSER_EXECUTABLE"))
    proxy_url = None
    if crawler is not None and settings.getbool("HOSTGUARD_ENABLED", True):
        from crawler.browser.proxy import GuardProxy

        proxy_url = GuardProxy.from_crawler(crawler).url
    retry_exceptions = list(settings.getlist("RETRY_EXCEPTIONS"))
    retry_exceptions.append("playwright.async_api.TimeoutError")
    return {
        "DOWNLOAD_HANDLERS": {**settings.getdict("DOWNLOAD_HANDLERS"), "http": handler, "https": handler},
        "PLAYWRIGHT_BROWSER_TYPE": "chromium",
        "PLAYWRIGHT_LAUNCH_OPTIONS": launch_options(
            executable,
            settings.getbool("BROWSER_HEADLESS", True),
            settings.getlist("BROWSER_EXTRA_ARGS"),
            proxy_url,
        ),
        "PLAYWRIGHT_ABORT_REQUEST": RequestFilter(
            named_origins if named_origins is not None else set(),
            settings.getbool("ALLOW_PRIVATE_HOSTS"),
            crawler,
        ),
        "PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT": settings.getint("BROWSER_NAVIGATION_TIMEOUT", 30) * 1000,
        "PLAYWRIGHT_MAX_PAGES_PER_CONTEXT": settings.getint("BROWSER_MAX_PAGES_PER_CONTEXT", 4),
        "RETRY_EXCEPTIONS": retry_exceptions,
    }
