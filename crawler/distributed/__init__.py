"""Scale-out on Redis: many crawl workers on one queue of article checks, one writer of the store.

The unit of work is an *article check*: an article page and its whole comment thread, crawled by one
worker, so thread accounting (crawler/spiders/thread_state.py) never spans processes. Requests of a
check stay in the worker's own Scrapy scheduler; only checks travel through Redis.

- `queue`: the check queue with leases (a check whose worker died returns to the queue when its lease
  expires) and the results stream.
- `spider`: the worker side of `scrapy crawl monitor -s REDIS_URL=…` / `crawler worker` (scrapy-redis's
  RedisMixin, fed from the leased queue instead of a plain LPOP that loses what a dead worker held).
- `tracking`: which requests and items belong to which check, and when a check is finished.
- `pipeline`: replaces the SQLite store pipeline in a worker: a finished check goes to the stream.
- `politeness`: per-domain concurrency and delay (robots.txt Crawl-delay included) across all workers.
- `ingest`: `crawler ingest --redis URL`, the only writer: stream -> crawler.store.Store -> XACK.
- `schedule`: `crawler run --redis URL` enqueues what is due instead of crawling it.
"""
