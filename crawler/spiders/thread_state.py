"""Book-keeping of one article's comment thread while its follow-up requests are in flight.

The thread is complete only with evidence (design notes §3, §7): every follow-up answered, the comment
list reached its end (an API said so, or a static thread has no "more" control left), the number of
comments loaded matches the site's reported total within a tolerance, and the HTML parser did not
lose part of the page. Anything else is recorded as incomplete with the reason, so that the store never
treats a comment missing from a partial load as deleted. A page without a comment section, or with a
comment widget we cannot read, has no thread to judge: `complete` is None (NULL) with the reason.
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
    #: the adapter that read the page (follow-up answers go to it)
    site: str = ""
    #: the page has a comment section (thread, widget, form or count)
    section: bool = False
    #: an unread script/iframe comment widget
    widget: str | None = None
    #: why the HTML parser may have lost part of the page
    parse_lost: str | None = None
    #: render=auto already sent this page to the browser
    browser_tried: bool = False
    finished: bool = False
    failures: list[str] = field(default_factory=list)
    #: why loading stopped early (a thread time limit, the crawl stopping): the thread is incomplete
    stopped_by: str | None = None

    def admit(self, key: str, comments_page: bool, max_pages: int) -> bool:
        """Count one more request of this thread, or refuse it: asked for already, or a comment page
        past the page cap (COMMENTS_MAX_PAGES: a list that never ends must not page forever, and the
        thread is then `capped`, so incomplete). Every request path of the spider asks here."""
        if key in self.requested:
            return False
        if comments_page and self.pages_requested >= max_pages:
            self.capped = True
            return False
        if comments_page:
            self.pages_requested += 1
        self.requested.add(key)
        self.requests_total += 1
        self.pending += 1
        return True

    def shortfall(self) -> int:
        """How many comments the site reports beyond what was loaded, allowing for the tolerance."""
        if self.reported_total is None:
            return 0
        allowed = math.floor(self.reported_total * self.tolerance)
        return max(0, self.reported_total - len(self.seen) - allowed)

    def unread(self) -> str | None:
        """Why there is no thread to judge (no section, an unread widget), None when there is one."""
        if self.seen or self.parse_lost or self.needs_browser or self.requests_total:
            return None
        if self.widget:
            return f"unread: {self.widget}"
        if self.reported_total:
            return None  # comments reported and none loaded: incomplete, not "no thread"
        if not self.section:
            return "no comment section"
        if self.reported_total is None:
            # a section (a form, an empty list) but no count: nothing says the thread is empty
            return "no comments shown and no count on the page"
        return None

    def reason(self) -> str | None:
        reasons = [self.stopped_by] if self.stopped_by else []
        if self.parse_lost:
            reasons.append(f"{self.parse_lost}: the comment block may be cut")
        if self.needs_browser:
            reasons.append("comments load only with JavaScript: use -a render=browser or render=auto")
            return "; ".join(reasons)
        if self.requests_failed:
            first = f" (first: {self.failures[0]})" if self.failures else ""
            reasons.append(f"{self.requests_failed} of {self.requests_total} comment requests failed{first}")
        if self.browser_stop not in (None, "done"):
            reasons.append(f"browser stopped before the end of the thread: {self.browser_stop}")
        elif self.capped:
            reasons.append("stopped at the COMMENTS_MAX_PAGES cap")
        elif not self.end_reached:
            reasons.append("end of the comment list not reached")
        if self.reported_total and not self.seen:
            reasons.append(f"the page reports {self.reported_total} comments and none were loaded")
        elif self.shortfall():
            reasons.append(f"loaded {len(self.seen)} of {self.reported_total} reported comments")
        return "; ".join(reasons) or None

    def item(self, fetched_at: str) -> ThreadItem:
        unread = self.unread()
        reason = unread or self.reason()
        return ThreadItem(
            article_id=self.article_id,
            url=self.url,
            reported_total=self.reported_total,
            loaded=len(self.seen),
            requests_total=self.requests_total,
            requests_failed=self.requests_failed,
            end_reached=self.end_reached,
            complete=None if unread else reason is None,
            reason=reason,
            method=self.method,
            fetched_at=fetched_at,
            seen_ids=sorted(self.seen),
        )
