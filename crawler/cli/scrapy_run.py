"""Running `scrapy crawl` from the CLI: one crawl per child process.

Twisted's reactor cannot be restarted in one process, and `crawler demo` crawls twice; a child process
per crawl also keeps the CLI's own state out of the crawl. The child finds the project through
SCRAPY_SETTINGS_MODULE, so it works from any directory once the package is installed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping

#: Settings for crawling a site we serve ourselves on loopback: no reason to be slow with it.
LOCAL_SITE_SETTINGS = {
    "AUTOTHROTTLE_ENABLED": "False",
    "DOWNLOAD_DELAY": "0",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "8",
    "RETRY_TIMES": "0",
}


def scrapy_crawl(
    spider: str, args: Mapping[str, str], settings: Mapping[str, str], quiet: bool = True
) -> subprocess.CompletedProcess:
    """Run `scrapy crawl SPIDER -a k=v … -s K=V …` in a child process and wait for it."""
    command = [sys.executable, "-m", "scrapy", "crawl", spider]
    for key, value in args.items():
        command += ["-a", f"{key}={value}"]
    for key, value in settings.items():
        command += ["-s", f"{key}={value}"]
    if quiet:
        command += ["-s", "LOG_LEVEL=WARNING"]
    env = {**os.environ, "SCRAPY_SETTINGS_MODULE": "crawler.settings"}
    return subprocess.run(command, env=env, check=False)
