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
#: robots.txt's Crawl-delay is honoured per domain, up to this many seconds (crawler/politeness.py).
ROBOTSTXT_CRAWL_DELAY_MAX = 30.0
#: A Retry-After of at most this many seconds is waited for before the retry; a longer one is not retried.
RETRY_AFTER_MAX = 60.0
# Items of one response processed at once. Our pipelines are synchronous: one at a time is all they
# can use, and Scrapy starts this many tasks for every response (100 by default; 16 here cost 9% of
# the function calls of a thread paged over its comment API). Raise it for a pipeline that awaits.
CONCURRENT_ITEMS = 1

# -- Limits and safety -------------------------------------------------------------------------------
DOWNLOAD_MAXSIZE = 16 * 1024 * 1024
DOWNLOAD_WARNSIZE = 4 * 1024 * 1024
DOWNLOAD_TIMEOUT = 60
TELNETCONSOLE_ENABLED = False
# Scrapy's remote-control HTTP server, like the telnet console, would let anyone on the machine
# drive a cron-run crawler: off.
REMOTE_CONTROL_ENABLED = False
# Never fetch local files, data: URLs or anything but the web.
DOWNLOAD_HANDLERS = {
    "file": None,
    "data": None,
    "s3": None,
    "ftp": None,
    # Scrapy's, keeping its connections for reuse when requests come in bursts (crawler/connections.py)
    "http": "crawler.connections.HTTPDownloadHandler",
    "https": "crawler.connections.HTTPDownloadHandler",
}
# -- Host guard (crawler/hostguard.py) ----------------------------------------------------------------
HOSTGUARD_ENABLED = True
#: Allow requests to hosts that are not globally routable (private, loopback, CGNAT…) that the user did
#: not name, or named on another port.
ALLOW_PRIVATE_HOSTS = False
#: Fixed DNS answers, like an /etc/hosts of the crawl: {"name": ["first answer", "later answers"…]}.
HOSTGUARD_RESOLVE = {}
#: The name resolver every connection goes through: it checks the addresses it hands out.
TWISTED_DNS_RESOLVER = "crawler.hostguard.GuardedResolver"
DOWNLOADER_MIDDLEWARES = {
    "crawler.hostguard.HostGuardMiddleware": 50,
    # off unless EVIDENCE (NotConfigured); it records on the response_downloaded signal, so its
    # place in the chain only matters for the browser listener it adds to playwright requests
    "crawler.evidence.capture.EvidenceMiddleware": 60,
    # before RetryMiddleware (550) sees the failure: a refused host is not retried
    "crawler.hostguard.HostGuardErrorsMiddleware": 560,
    # Scrapy's own robots.txt, retry and redirect middlewares, with Crawl-delay, Retry-After and
    # redirect loops (crawler/politeness.py), in their places
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "crawler.politeness.CrawlDelayRobotsTxtMiddleware": 100,
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawler.politeness.RetryAfterMiddleware": 550,
    "scrapy.downloadermiddlewares.redirect.RedirectMiddleware": None,
    "crawler.politeness.LoopRedirectMiddleware": 600,
}
SPIDER_MIDDLEWARES = {"crawler.evidence.capture.EvidenceStampMiddleware": 950}

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

# -- Store failures and run limits (issue 10) ---------------------------------------------------------
#: A write transaction that fails is retried this many times, waiting STORE_RETRY_DELAY seconds
#: (doubling) while another writer holds the lock; then the run fails and its items are spilled.
STORE_WRITE_RETRIES = 4
STORE_RETRY_DELAY = 1.0
#: Where the spill file of a failed run goes; empty: beside the database, else the temp directory.
STORE_SPILL_DIR = None
#: Single-comment requests per thread at most, asking whether comments a complete load missed are
#: really gone (the rest stay deletion candidates until a later run asks).
COMMENTS_CONFIRM_MAX = 100
#: Seconds one article's comment thread may take; then no more of its requests are sent and the
#: thread is recorded as incomplete (0: no limit).
COMMENTS_THREAD_TIME_LIMIT = 600
#: Whole-run time limit of `scrapy crawl monitor` (what `crawler run` runs), in seconds, unless
#: CLOSESPIDER_TIMEOUT is set: a stalled site cannot hold the run's lock against later cron runs.
#: Threads still loading then are recorded incomplete. (`scrapy crawl article`: CLOSESPIDER_TIMEOUT.)
MONITOR_RUN_TIME_LIMIT = 1800

# -- Comments ----------------------------------------------------------------------------------------
#: Fraction of the site's reported comment total that may be missing from a load still called
#: complete (comments deleted between the page load and the last API page). 0.01 = 1%, rounded down.
COMMENTS_TOTAL_TOLERANCE = 0.01
#: Comment-API pages per article at most (50 comments each): a list that never ends stops here and
#: the thread is recorded as incomplete.
COMMENTS_MAX_PAGES = 400
#: A cut comment's full text is fetched again only when the comment is new, its visible text changed,
#: or the stored full text is older than this (see crawler/spiders/comment_state.py).
COMMENTS_FULL_TEXT_RECHECK = "1d"

# -- Monitoring (scrapy crawl monitor / discover, crawler run) ----------------------------------------
#: Age-decay schedule: "quiet-for=check-every" tiers, in increasing order (see crawler/monitor/schedule.py).
MONITOR_SCHEDULE = ["3h=15m", "1d=1h", "7d=3h", "30d=1d"]
MONITOR_INTERVAL_BEYOND = "7d"
#: Retire an article published this long ago once it has also been quiet for MONITOR_RETIRE_QUIET.
MONITOR_RETIRE_AFTER = "90d"
MONITOR_RETIRE_QUIET = "30d"
#: Random spread of each interval (0.1 = ±10%).
MONITOR_JITTER = 0.1
#: Articles crawled per monitor run at most (the most overdue first).
MONITOR_MAX_ARTICLES = 500
#: Consecutive failed fetches after which a watch-list entry retires.
MONITOR_MAX_FAILURES = 5
#: An unchanged article page (304, or the same body) skips its comment thread unless the thread's last
#: complete load is older than this.
COMMENTS_RECHECK_AFTER = "1h"
#: Send If-None-Match / If-Modified-Since with article pages fetched before.
CONDITIONAL_GET = True
#: Run-over-run warnings: comments loaded below this share of the previous run, thread coverage below
#: this share of the reported total, more than this share of requests failed.
MONITOR_DROP_WARN = 0.7
MONITOR_COVERAGE_WARN = 0.9
MONITOR_ERROR_RATE_WARN = 0.05
#: A complete load missing more than this share of an article's comments (and more than 5) marks
#: nothing deleted and warns instead: a vanished half-thread is a layout change, not a purge.
MONITOR_MASS_DELETE = 0.3
#: Discovery limits: new articles per run, oldest publication date (days), URL patterns (regexes),
#: listing pages followed per source.
DISCOVER_MAX_NEW = 100
DISCOVER_MAX_AGE_DAYS = 30
DISCOVER_ALLOW = []
DISCOVER_DENY = [r"/(tag|author|category)/", r"/page/\d+/?$"]
DISCOVER_MAX_LISTING_PAGES = 5

# -- Browser (render=browser / render=auto) ------------------------------------------------------------
#: Chromium to launch; empty means $PANDAWATCH_CHROMIUM, else a system chromium, else Playwright's own.
BROWSER_EXECUTABLE = None
#: Extra Chromium command-line switches.
BROWSER_EXTRA_ARGS = []
BROWSER_HEADLESS = True
#: Stop conditions of the "Load More" clicking, per page: clicks, seconds, seconds for one round's
#: requests, seconds for a lazy block to start showing comments. The clicks are paced by the site's
#: download slot (crawler/browser/expand.py): at the default politeness a 1,200-comment thread with
#: 170 "Read more" links takes about two minutes, hence the budget.
BROWSER_MAX_CLICKS = 2000
BROWSER_TIME_BUDGET = 300
BROWSER_SETTLE_TIMEOUT = 15
BROWSER_LAZY_WAIT = 3
#: Seconds without requests or page changes before a round of clicks counts as settled (a site's click
#: handler may start its request a moment after the click).
BROWSER_QUIET = 0.2
#: A new browser context (cookies, cache, memory) every this many pages; old ones are closed.
BROWSER_CONTEXT_PAGES = 20
BROWSER_MAX_PAGES_PER_CONTEXT = 4
BROWSER_NAVIGATION_TIMEOUT = 30

# -- Scale-out on Redis (crawler/distributed; `crawler worker`, `crawler ingest --redis`) -----------------
#: Redis URL; set, the monitor spider becomes a worker of the shared check queue (None: single process).
REDIS_URL = None
#: Prefix of every Redis key Panda Watch uses (several deployments can share one Redis).
REDIS_KEY_PREFIX = "pandawatch"
#: Article checks one worker crawls at once.
DISTRIBUTED_CHECKS_PER_WORKER = 16
#: Seconds a check's lease lasts; a live worker renews it every third of this, a dead one's expires.
DISTRIBUTED_LEASE_TIME = 120
#: A check whose lease expired this many times (its workers died) is abandoned and recorded as failed.
DISTRIBUTED_MAX_ATTEMPTS = 3
#: Seconds between a worker's looks at the queue while it has room for more checks.
DISTRIBUTED_POLL_INTERVAL = 1.0
#: scrapy-redis: seconds a worker waits with nothing queued or leased anywhere before it exits (0: forever).
MAX_IDLE_TIME_BEFORE_CLOSE = 0
#: Cluster-wide per-domain limits; None: CONCURRENT_REQUESTS_PER_DOMAIN and DOWNLOAD_DELAY, enforced
#: across all workers (a worker's own DOWNLOAD_DELAY is then 0: the cluster's replaces it). A longer
#: robots.txt Crawl-delay wins, up to DISTRIBUTED_MAX_CRAWL_DELAY seconds.
DISTRIBUTED_DOMAIN_CONCURRENCY = None
DISTRIBUTED_DOMAIN_DELAY = None
DISTRIBUTED_MAX_CRAWL_DELAY = 60

# -- Learned comment APIs (crawler/recipes, crawler/spiders/recipes.py) --------------------------------
#: Page a site's learned comment API over plain HTTP when a recipe for the article's site is stored.
RECIPES_ENABLED = True
#: Record the page's fetch/XHR traffic in every browser crawl and learn (or re-learn) the site's recipe.
RECIPES_LEARN = True
#: Every this many crawls that used a site's recipe, one article of that site is re-read in the browser
#: (the recipe re-learned and compared); 0 switches the re-check off.
RECIPES_RECHECK_EVERY = 20
#: Keep request parameters that look like credentials (token, nonce, csrf, session, key …) in a learned
#: recipe. Off by default: the recipe would then store a secret of the page in the database. Cookies and
#: request headers are never recorded at all.
RECIPES_ALLOW_CREDENTIALS = False

# -- Evidence (WARC) ---------------------------------------------------------------------------------
#: Keep every response a crawl used (article pages, comment API answers, the XHR answers a browser page
#: received) in a gzip WARC file per run and link comments and change events to their records.
#: `crawler run` turns it on unless set; `scrapy crawl` and `crawler crawl` leave it off unless set.
EVIDENCE = os.environ.get("PANDAWATCH_EVIDENCE", "").lower() in ("1", "true", "yes", "on")
#: Directory of the WARC files; empty means `warc/` beside the database.
EVIDENCE_DIR = None
#: Also write a WARC request record per response (for replay tools that match POST bodies). Off: the
#: response record names its request (method and form body) in a WARC-Pandawatch-Request header, and
#: the evidence stays within 1.5x the compressed bytes downloaded.
EVIDENCE_REQUEST_RECORDS = False
#: Retention (applied after each `crawler run`, or by `crawler evidence --prune`): records of runs
#: older than this go, and the oldest go first while all WARC files together exceed EVIDENCE_MAX_BYTES
#: (0: no size limit). Records that back a recorded deletion or edit are always kept.
EVIDENCE_MAX_AGE = "90d"
EVIDENCE_MAX_BYTES = 0

# -- Notifications (Apprise) ---------------------------------------------------------------------------
#: Apprise URLs that get one digest per run with change events (json://host/path for webhooks,
#: mailto://, …); space- or comma-separated in $PANDAWATCH_NOTIFY_URLS. `crawler notify add URL` adds
#: targets (with filters) kept in the database's notify_targets table.
NOTIFY_URLS = os.environ.get("PANDAWATCH_NOTIFY_URLS", "").replace(",", " ").split()
#: Attempts per target and run (then the failure is logged and recorded on the run), the first pause
#: between attempts in seconds (doubling), and the most events listed in one digest's text.
NOTIFY_ATTEMPTS = 3
NOTIFY_RETRY_DELAY = 2.0
NOTIFY_MAX_LISTED = 50

LOG_LEVEL = "INFO"
#: Scrapy's formatter, minus the DEBUG "Crawled"/"Scraped from" records no handler emits (crawler/extensions).
LOG_FORMATTER = "crawler.extensions.logformatter.QuietLogFormatter"
FEED_EXPORT_ENCODING = "utf-8"

# -- Progress and summary (crawler/extensions) --------------------------------------------------------
EXTENSIONS = {
    "crawler.extensions.summary.CrawlSummary": 500,
    "crawler.extensions.progress.CrawlProgress": 510,
    "crawler.extensions.gcfreeze.FreezeStartupObjects": 900,
}
#: gc.freeze() the objects alive when the spider opens: collections then skip Scrapy's and the
#: project's start-up objects (crawler/extensions/gcfreeze.py).
GC_FREEZE = True
#: A short readable summary on stderr at the end of a crawl (what was stored, what failed and why).
SUMMARY_ENABLED = True
#: Write the summary as JSON to this file instead of printing it (the `crawler` command reads it).
SUMMARY_FILE = None
#: Skipped pages named in the summary at most (all of them are in runs.warnings).
SUMMARY_MAX_LINES = 10
#: A progress line on stderr (the `crawler` command turns it on): redrawn every PROGRESS_REFRESH
#: seconds on a terminal, a plain line every PROGRESS_INTERVAL seconds otherwise.
PROGRESS_ENABLED = False
PROGRESS_REFRESH = 1.0
PROGRESS_INTERVAL = 10.0
