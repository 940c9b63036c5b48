"""The last item pipeline of a worker, in place of the SQLite store (set when REDIS_URL is set).

A worker writes nothing itself: the items of an article check are gathered by the check tracker
(crawler.distributed.tracking, on `item_scraped`) and sent to the results stream in one entry when the
check is finished, for `crawler ingest --redis` to store. This stage makes sure every item can make
that trip (a flat dataclass of JSON values) and drops, with a named reason, one that cannot, instead
of losing the whole check's entry later.
"""

from __future__ import annotations

import json

from scrapy.exceptions import DropItem, NotConfigured

from crawler.distributed.tracking import item_record
from crawler.pipelines.dedupe import DedupePipeline


class NotSendable(DropItem):
    """The item cannot be sent to the results stream (not a dataclass, or not JSON)."""


class StreamPipeline:
    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        if not crawler.settings.get("REDIS_URL"):
            raise NotConfigured("REDIS_URL is not set: items go to the SQLite store")
        return cls(crawler)

    def process_item(self, item):
        try:
            json.dumps(item_record(item))
        except (TypeError, ValueError) as exc:
            raise NotSendable(f"cannot send {type(item).__name__} to the results stream: {exc}") from exc
        self.crawler.stats.inc_value(f"distributed/items/{type(item).__name__}")
        return item


class CheckDedupePipeline(DedupePipeline):
    """Dedupe within one article check. A worker lives through many runs: the single-process
    pipeline's memory (one run) would drop the next run's copy of every comment as a duplicate.
    When a check is finished its article's keys are forgotten."""

    def check_finished(self, records: list[dict]) -> None:
        articles = {r["fields"].get("article_id") for r in records}
        for record in records:
            if record["type"] == "CommentItem":
                self.comments.pop(record["fields"]["comment_id"], None)
        self.articles -= articles
        self.list_items = {key for key in self.list_items if key[0] not in articles}
