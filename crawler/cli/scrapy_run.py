"""Running `scrapy crawl` from the CLI: one crawl per child process.

Twisted's reactor cannot be restarted in one process, and `crawler demo` crawls twice; a child process
per crawl also keeps the CLI's own state out of the crawl. The child finds the project through
SCRAPY_SETTINGS_MODULE, so it works from any directory once the package is installed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

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


@dataclass
class CrawlOutcome:
    """A `scrapy crawl` child as the CLI sees it: its exit code and the summary it wrote."""

    spider: str
    returncode: int
    summary: dict = field(default_factory=dict)

    @property
    def run_id(self) -> int | None:
        return self.summary.get("run_id")

    @property
    def failed_urls(self) -> dict[str, str]:
        return self.summary.get("failed_urls", {})

    @property
    def skipped(self) -> int:
        return sum(v for k, v in self.summary.get("skipped", {}).items() if k.startswith("article_spider/"))

    @property
    def exit_code(self) -> int:
        """0 when everything asked for was fetched and stored; 1 when the crawl failed, a URL failed
        (HTTP error, refused or unreachable host) or a page was skipped (not an article); the child's
        own code (2: bad argument) when it did not start."""
        if self.returncode:
            return self.returncode
        if self.run_id is None or self.summary.get("status") in ("failed", "running"):
            return 1
        return 1 if self.failed_urls or self.skipped else 0

    def lines(self) -> list[str]:
        from crawler.extensions.summary import lines

        return lines(self.summary) if self.summary else []


def crawl_with_summary(
    spider: str, args: Mapping[str, str], settings: Mapping[str, str], progress: bool = True
) -> CrawlOutcome:
    """`scrapy crawl` with a progress line on stderr, quiet logs, and the crawl's summary read back."""
    with tempfile.TemporaryDirectory(prefix="pandawatch-") as tmp:
        summary_file = Path(tmp) / "summary.json"
        extra = {
            **settings,
            "SUMMARY_FILE": str(summary_file),
            "PROGRESS_ENABLED": "True" if progress else "False",
        }
        result = scrapy_crawl(spider, args, extra, quiet="LOG_LEVEL" not in settings)
        summary = json.loads(summary_file.read_text(encoding="utf-8")) if summary_file.exists() else {}
    return CrawlOutcome(spider, result.returncode, summary)
