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

from crawler.items import CommentItem, ThreadItem


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
    #: the depth of every comment of the thread placed so far, by id (a learned recipe's flat list
    #: names only each reply's parent, which may have come on an earlier page: see `place`)
    depths: dict[str, int] = field(default_factory=dict)
    #: replies read before their parent (depth None), by the parent's id: emitted once it comes
    unplaced: dict[str | None, list[CommentItem]] = field(default_factory=dict)

    def place(self, comments: list[CommentItem]) -> list[CommentItem]:
        """The comments that can be emitted now, each at its depth; the rest wait for their parent.

        A reply whose depth is not known yet (None: its parent has not come, see
        crawler.recipes.execute._flat_depths) is held until its parent is placed, then sits one level
        below it, and so do the replies held below it in turn. Which answer comes first (Scrapy
        interleaves them; an API ordered newest first lists replies before their parents) changes
        when a reply is emitted, never its depth. Nothing is emitted at a guessed depth: what is still
        held when the thread's requests are done is `unplaced_rest`'s business."""
        ready: list[CommentItem] = []
        for comment in comments:
            if comment.depth is None:
                depth = self.depths.get(comment.comment_id)  # placed before (its full text comes now)
                if depth is None and comment.parent_id in self.depths:
                    depth = self.depths[comment.parent_id] + 1
                if depth is None:
                    self.unplaced.setdefault(comment.parent_id, []).append(comment)
                    continue
                comment.depth = depth
            self._placed(comment, ready)
        return ready

    def _placed(self, comment: CommentItem, ready: list[CommentItem]) -> None:
        """`comment` at its depth, then the replies that waited for it (and theirs), one level each."""
        queue = [comment]
        while queue:
            placed = queue.pop(0)
            self.depths[placed.comment_id] = placed.depth
            ready.append(placed)
            for child in self.unplaced.pop(placed.comment_id, []):
                child.depth = placed.depth + 1
                queue.append(child)

    def unplaced_rest(self, stored: set[str]) -> list[CommentItem]:
        """Replies whose parent never came in this load (deleted, or on a page never reached), once
        nothing of the thread is pending: their depth is not known. One stored before (`stored`: ids
        the database holds) keeps the depth stored then (None: the store keeps what it has); one new
        to the database gets 1, the least a reply has (the schema has no NULL depth), and the
        replies held below it one level each. The caller counts and reports them."""
        out: list[CommentItem] = []
        held = {c.comment_id for waiting in self.unplaced.values() for c in waiting}
        while self.unplaced:
            # a parent that is itself held waits for its own (a cycle of parents starts anywhere)
            parent = next((p for p in self.unplaced if p not in held), next(iter(self.unplaced)))
            for orphan in self.unplaced.pop(parent):
                orphan.depth = 1
                self._placed(orphan, out)
        for comment in out:
            if comment.comment_id in stored:
                comment.depth = None  # type: ignore[assignment]
        return out

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
