"""Book-keeping of one article's comment thread while its follow-up requests are in flight.

The thread is complete only with evidence (design notes §3): every follow-up answered, the comment list
reached its end, and the number of comments loaded matches the site's reported total within a
tolerance. Anything else is recorded as incomplete with the reason, so that the store never treats a
comment missing from a partial load as deleted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from crawler.items import ThreadItem


@dataclass
class ThreadState:
    article_id: str
    url: str
    tolerance: float = 0.0
    method: str = "api"
    reported_total: int | None = None
    seen: set[str] = field(default_factory=set)
    requested: set[str] = field(default_factory=set)
    requests_total: int = 0
    pages_requested: int = 0
    requests_failed: int = 0
    pending: int = 0
    end_reached: bool = False
    needs_browser: bool = False
    #: the comment-page cap (COMMENTS_MAX_PAGES) stopped the paging before the list ended
    capped: bool = False
    #: how the browser's expansion ended ("done", "no_growth", "max_clicks", "time_budget", an error)
    browser_stop: str | None = None
    finished: bool = False
    failures: list[str] = field(default_factory=list)
    #: why loading stopped early (a thread time limit, the crawl stopping): the thread is incomplete
    stopped_by: str | None = None

    def shortfall(self) -> int:
        """How many comments the site reports beyond what was loaded, allowing for the tolerance."""
        if self.reported_total is None:
            return 0
        allowed = math.floor(self.reported_total * self.tolerance)
        return max(0, self.reported_total - len(self.seen) - allowed)

    def reason(self) -> str | None:
        if self.needs_browser:
            return "comments load only with JavaScript: use -a render=browser or render=auto"
        reasons = [self.stopped_by] if self.stopped_by else []
        if self.requests_failed:
            first = f" (first: {self.failures[0]})" if self.failures else ""
            reasons.append(f"{self.requests_failed} of {self.requests_total} comment requests failed{first}")
        if self.browser_stop not in (None, "done"):
            reasons.append(f"browser stopped before the end of the thread: {self.browser_stop}")
        elif self.capped:
            reasons.append("stopped at the COMMENTS_MAX_PAGES cap")
        elif not self.end_reached:
            reasons.append("end of the comment list not reached")
        if self.shortfall():
            reasons.append(f"loaded {len(self.seen)} of {self.reported_total} reported comments")
        return "; ".join(reasons) or None

    def item(self, fetched_at: str) -> ThreadItem:
        reason = self.reason()
        return ThreadItem(
            article_id=self.article_id,
            url=self.url,
            reported_total=self.reported_total,
            loaded=len(self.seen),
            requests_total=self.requests_total,
            requests_failed=self.requests_failed,
            end_reached=self.end_reached,
            complete=reason is None,
            reason=reason,
            method=self.method,
            fetched_at=fetched_at,
            seen_ids=sorted(self.seen),
        )
