"""The project's Scrapy settings as the CLI sees them: crawler/settings.py plus `-s NAME=VALUE` overrides.

Commands that act outside a crawl (notifications, evidence retention) read the same settings a crawl
would, so a value set once (in settings.py, the environment or with -s) means the same everywhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scrapy.settings import Settings


def project_settings(overrides: Mapping[str, str] | None = None) -> Settings:
    # imported when needed: Scrapy takes ~0.5 s to import, which every `crawler` command paid at start
    from scrapy.settings import Settings

    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    if overrides:
        settings.update(dict(overrides), priority="cmdline")
    return settings
