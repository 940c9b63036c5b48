"""Scrapy settings of Panda Watch: polite and safe by default.

Tests and benchmarks switch politeness off with `-s NAME=VALUE` / `Crawler(settings=…)`, never by
editing this file. Project settings (not Scrapy's) are documented where they are defined.
"""

import os

BOT_NAME = "pandawatch"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"
COMMANDS_MODULE = "crawler.commands"

# -- Identity ----------------------------------------------------------------------------------------
#: Where site owners can read what this crawler is and how to reach its operator.
CONTACT_URL = os.environ.get("PANDAWATCH_CONTACT_URL", "https://github.com/panda-watch/panda-watch")
USER_AGENT = f"PandaWatch/0.1 (+{CONTACT_URL})"

# -- Politeness --------------------------------------------------------------------------------------
ROBOTSTXT_OBEY = True
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 0.5
RETRY_TIMES = 2

# -- Limits and safety -------------------------------------------------------------------------------
DOWNLOAD_MAXSIZE = 16 * 1024 * 1024
DOWNLOAD_WARNSIZE = 4 * 1024 * 1024
DOWNLOAD_TIMEOUT = 60
TELNETCONSOLE_ENABLED = False
# Never fetch local files, data: URLs or anything but the web.
DOWNLOAD_HANDLERS = {"file": None, "data": None, "s3": None, "ftp": None}
#: Allow requests to private/loopback/link-local hosts that the user did not name (see hostguard).
ALLOW_PRIVATE_HOSTS = False
DOWNLOADER_MIDDLEWARES = {"crawler.hostguard.HostGuardMiddleware": 50}

# -- Pipelines ---------------------------------------------------------------------------------------
ITEM_PIPELINES = {
    "crawler.pipelines.clean.CleanPipeline": 100,
    "crawler.pipelines.validate.ValidatePipeline": 200,
    "crawler.pipelines.dedupe.DedupePipeline": 300,
    "crawler.pipelines.store.StorePipeline": 900,
}

# -- Store -------------------------------------------------------------------------------------------
#: SQLite database file; empty means $PANDAWATCH_DB, else output/crawl.db.
SQLITE_PATH = None
#: Items per write transaction.
STORE_BATCH_SIZE = 500

# -- Comments ----------------------------------------------------------------------------------------
#: Fraction of the site's reported comment total that may be missing from a load still called
#: complete (comments deleted between the page load and the last API page). 0.01 = 1%, rounded down.
COMMENTS_TOTAL_TOLERANCE = 0.01
#: Comment-API pages per article at most (50 comments each): a list that never ends stops here and
#: the thread is recorded as incomplete.
COMMENTS_MAX_PAGES = 400

# -- Browser (render=browser / render=auto) ------------------------------------------------------------
#: Chromium to launch; empty means $PANDAWATCH_CHROMIUM, else a system chromium, else Playwright's own.
BROWSER_EXECUTABLE = None
#: Extra Chromium command-line switches.
BROWSER_EXTRA_ARGS = []
BROWSER_HEADLESS = True
#: Stop conditions of the "Load More" clicking, per page: clicks, seconds, seconds for one round's
#: requests, seconds for a lazy block to start showing comments.
BROWSER_MAX_CLICKS = 2000
BROWSER_TIME_BUDGET = 120
BROWSER_SETTLE_TIMEOUT = 15
BROWSER_LAZY_WAIT = 3
#: A new browser context (cookies, cache, memory) every this many pages; old ones are closed.
BROWSER_CONTEXT_PAGES = 20
BROWSER_MAX_PAGES_PER_CONTEXT = 4
BROWSER_NAVIGATION_TIMEOUT = 30

LOG_LEVEL = "INFO"
FEED_EXPORT_ENCODING = "utf-8"
