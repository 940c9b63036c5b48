"""Expand a comment thread in a live page: scroll it into view, click "Load More …" until done.

Works on any site: what to click is a `ClickPlan` (container, comment item, load-more selectors).
Each round clicks the visible load-more elements, then waits until the page's own requests (fetch /
XHR, counted by a script installed before the page loads) have finished. It stops when nothing is
left to click, when a round adds nothing (no growth), at the click cap or at the time budget; the
result says which, so a thread cut short is never mistaken for a complete one.

Polite like the crawl's own requests: a click's request never passes through Scrapy's downloader, so
its per-domain limit and delay are applied here. A round clicks at most `Limits.clicks_per_round`
elements and the next one starts `Limits.round_delay` seconds after the page went quiet: the page's
download slot's concurrency and delay (crawler/spiders/rendering.py `paced_limits`). Without that, a
thread with 170 "Read more" links sent 170 requests at once.

In every frame that holds the comments: a widget in an `<iframe>` (another origin's too) is clicked
and waited for in its frame; the top document is always looked at, frames without comments (ads,
embedded posts) never (crawler/browser/frames.py reads the frames' documents afterwards).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from dataclasses import dataclass

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import TimeoutError as PlaywrightTimeout

from crawler.browser.frames import FRAME_TIMEOUT, frames_of
from crawler.sites.thread import ClickPlan

#: Installed before any page script runs: counts the page's in-flight fetch/XHR requests and
#: remembers when the page last did anything (a request started or ended, the DOM changed).
INFLIGHT_SCRIPT = """
(() => {
  if (window.__pandaWatch) return;
  const state = window.__pandaWatch = {inflight: 0, started: 0, lastActivity: performance.now()};
  const touch = () => { state.lastActivity = performance.now(); };
  const fetch = window.fetch;
  // A fetch() promise settles when the headers arrive; the page's handler then reads the body and
  // only after that changes the DOM. Reading the body counts as in flight too, so "nothing in flight"
  // means the answer was handled (the handler runs in the same microtask checkpoint), however slow
  // the machine is.
  const BODY_READERS = ["json", "text", "arrayBuffer", "blob", "formData"];
  const counted = (response) => {
    for (const name of BODY_READERS) {
      const read = response[name];
      if (typeof read !== "function") continue;
      response[name] = function (...a) {
        state.inflight++; touch();
        return read.apply(this, a).finally(() => { state.inflight--; touch(); });
      };
    }
    return response;
  };
  window.fetch = function (...args) {
    state.inflight++; state.started++; touch();
    return fetch.apply(this, args).then(counted).finally(() => { state.inflight--; touch(); });
  };
  const send = XMLHttpRequest.prototype.send;
  XMLHttpRequest.prototype.send = function (...args) {
    state.inflight++; state.started++; touch();
    this.addEventListener("loadend", () => { state.inflight--; touch(); });
    return send.apply(this, args);
  };
  new MutationObserver(touch).observe(document, {childList: true, subtree: true, characterData: true});
})();
"""

#: The page is settled when no request is in flight and nothing happened for a quiet time
#: (Limits.quiet, BROWSER_QUIET: 0.2 s by default): a click handler may start its request a moment
#: after the click, so "no request right now" is not enough.
SETTLED = """
(quietMs) => !window.__pandaWatch || (window.__pandaWatch.inflight === 0
       && performance.now() - window.__pandaWatch.lastActivity > quietMs)
"""

#: Click the enabled elements matching the selectors, in selector then document order, at most
#: `limit` of them (0: all); returns how many were clicked.
CLICK_ALL_SCRIPT = """
([selectors, limit]) => {
  let clicked = 0;
  for (const selector of selectors) {
    for (const el of document.querySelectorAll(selector)) {
      if (limit && clicked >= limit) return clicked;
      if (el.disabled || el.dataset.pandaWatchClicked === "1" || !el.isConnected) continue;
      el.dataset.pandaWatchClicked = "1";
      el.click();
      clicked++;
    }
  }
  return clicked;
}
"""

#: How many elements CLICK_ALL_SCRIPT would click now, with no limit (nothing is clicked).
CLICKABLE_SCRIPT = """
(selectors) => selectors.reduce((n, s) => n + [...document.querySelectorAll(s)].filter(
  el => !el.disabled && el.dataset.pandaWatchClicked !== "1" && el.isConnected).length, 0)
"""

#: Elements still waiting to be clicked (not clicked yet, or clicked but still on the page).
STATE_SCRIPT = """
([item, selectors]) => ({
  items: document.querySelectorAll(item).length,
  pending: selectors.reduce((n, s) => n + document.querySelectorAll(s).length, 0),
  busy: selectors.reduce((n, s) => n + [...document.querySelectorAll(s)].filter(e => e.disabled).length, 0),
  inflight: window.__pandaWatch ? window.__pandaWatch.inflight : 0,
  started: window.__pandaWatch ? window.__pandaWatch.started : 0,
})
"""

#: An infinite list loads more when its end comes into view: the last comment at the top of the
#: viewport, so that what follows it (a sentinel, a spinner) is in view too.
#: The scroll counts as activity: the settle after it then waits a quiet time from the scroll, for
#: the observer's callback (run at a later frame) to start its request.
SCROLL_SCRIPT = """
(item) => {
  const items = document.querySelectorAll(item);
  if (items.length) items[items.length - 1].scrollIntoView({block: "start"});
  if (window.__pandaWatch) window.__pandaWatch.lastActivity = performance.now();
  return items.length;
}
"""
#: After a scroll, a round settles after at least this quiet time; the list counts as whole after
#: IDLE_SCROLLS scrolls in a row that made the page ask for nothing (an observer fires a frame or more
#: after the scroll, later on a busy machine: one quick look is no evidence of the end).
SCROLL_QUIET = 0.5
IDLE_SCROLLS = 2

#: True once no load-more element is disabled (a site disables its button while it loads), or once
#: the page has been idle for a second (a button the site keeps disabled for good).
READY_SCRIPT = """
(selectors) => {
  const state = window.__pandaWatch;
  const idle = !state || (state.inflight === 0 && performance.now() - state.lastActivity > 1000);
  return idle || selectors.every(s => [...document.querySelectorAll(s)].every(e => !e.disabled));
}
"""

#: A button the site keeps after a click ("Load More" that stays) gets clicked again next round.
RESET_SCRIPT = """
(selectors) => {
  for (const selector of selectors)
    for (const el of document.querySelectorAll(selector)) delete el.dataset.pandaWatchClicked;
}
"""


@dataclass
class Limits:
    max_clicks: int = 2000
    time_budget: float = 300.0
    settle_timeout: float = 15.0  # for one round's requests to finish
    lazy_wait: float = 3.0  # for a lazily loaded block to show its first comment or button
    no_growth_rounds: int = 2  # rounds in a row without new comments before giving up
    quiet: float = 0.2  # seconds without requests or DOM changes before a round counts as settled
    #: elements clicked at once at most (0: every one visible); see the module docstring
    clicks_per_round: int = 0
    #: seconds between the page going quiet and the next clicks
    round_delay: float = 0.0


@dataclass
class Expansion:
    items: int
    clicks: int
    rounds: int
    pending: int
    stopped_by: str  # "done", "no_growth", "max_clicks", "time_budget"
    seconds: float

    @property
    def exhausted(self) -> bool:
        """True when nothing was left to click: the page shows the whole thread."""
        return self.stopped_by == "done"


async def install(page, request=None) -> None:
    """scrapy-playwright page init callback: count requests from the very first page script on.

    A request with meta "pandawatch_record" also gets a Recorder of the page's fetch/XHR traffic
    (crawler.browser.record), attached before the page loads.
    """
    await page.add_init_script(INFLIGHT_SCRIPT)
    if request is not None and request.meta.get("pandawatch_record"):
        from crawler.browser import record

        await record.install(page, request)


# -- every frame: a comment widget may live in an <iframe> (crawler/browser/frames.py) -------------


async def _in_frames(frames: list, script: str, arg) -> list:
    """`script(arg)` in each of `frames` (_comment_frames); a frame that went away meanwhile (or
    navigates) has nothing to click and is skipped."""
    results = []
    for frame in frames:
        try:
            results.append(await frame.evaluate(script, arg))
        except PlaywrightError:
            continue
    return results


async def _state(frames: list, item: str, selectors: list[str]) -> dict:
    totals = {"items": 0, "pending": 0, "busy": 0, "inflight": 0, "started": 0}
    for state in await _in_frames(frames, STATE_SCRIPT, [item, selectors]):
        for key in totals:
            totals[key] += state.get(key, 0)
    return totals


async def _click(frames: list, selectors: list[str], budget: int) -> int:
    """CLICK_ALL_SCRIPT frame by frame, the budget (0: none) shared by all frames."""
    clicked = 0
    for frame in frames:
        if budget and clicked >= budget:
            break
        try:
            clicked += await frame.evaluate(CLICK_ALL_SCRIPT, [selectors, budget - clicked if budget else 0])
        except PlaywrightError:
            continue
    return clicked


async def _wait_in_frames(frames: list, script: str, arg, timeout: float) -> None:
    """Wait until `script` holds in every frame (each within `timeout`; a gone frame holds)."""
    for frame in frames:
        try:
            await frame.wait_for_function(script, arg=arg, timeout=timeout * 1000, polling=50)
        except PlaywrightTimeout:
            raise
        except PlaywrightError:
            continue


async def _settle(frames: list, limits: Limits) -> None:
    await _wait_in_frames(frames, SETTLED, limits.quiet * 1000, limits.settle_timeout)


async def _click_round(frames: list, selectors: list[str], recorder, limits: Limits) -> int:
    """One round of clicks (at most limits.clicks_per_round). While recording, one selector at a
    time with a settle (and the delay) in between, so every request the page makes is tied to the
    kind of click that caused it."""
    budget = limits.clicks_per_round
    if recorder is None:
        await _pause(limits)
        return await _click(frames, selectors, budget)
    clicked = 0
    for selector in selectors:
        if budget and clicked >= budget:
            break
        if limits.round_delay > 0 and not sum(await _in_frames(frames, CLICKABLE_SCRIPT, [selector])):
            continue  # nothing of this kind to click: no request to wait for
        recorder.mark(selector)
        await _pause(limits)
        n = await _click(frames, [selector], budget - clicked if budget else 0)
        if n:
            clicked += n
            await _settle(frames, limits)
    return clicked


async def _comment_frames(page, wanted: str) -> list:
    """The frames an expansion clicks and waits in: the top document, and each frame that holds the
    comment block or a comment (`wanted`). An ad's or an embedded post's frame is never clicked in,
    whatever its buttons are called."""
    frames = frames_of(page)
    found = frames[:1]
    for frame in frames[1:]:
        try:
            # bounded: a frame still loading (an ad that never finishes) must not hold the expansion
            if await asyncio.wait_for(frame.query_selector(wanted), FRAME_TIMEOUT) is not None:
                found.append(frame)
        except (PlaywrightError, TimeoutError):
            continue
    return found


async def _into_view(page, container: str) -> None:
    """Scroll the comment block into view; where the top document has none, the page's frames
    (a widget in an <iframe> may start loading when it is seen)."""
    element = await page.query_selector(container)
    if element is not None:
        await element.scroll_into_view_if_needed()
        return
    for frame in frames_of(page)[1:]:
        with contextlib.suppress(PlaywrightError):
            found = await frame.query_selector(container)
            holder = await frame.frame_element()
            await (found or holder).scroll_into_view_if_needed(timeout=1000)
            if found is not None:
                return


async def _pause(limits: Limits) -> None:
    if limits.round_delay > 0:
        await asyncio.sleep(limits.round_delay)


async def expand_thread(page, plan: ClickPlan, limits: Limits, recorder=None) -> Expansion:
    """Click the plan's load-more elements until none is left or a limit stops it.

    With a `recorder` (crawler.browser.record.Recorder), every fetch/XHR is recorded with its click.
    """
    start = time.monotonic()
    selectors = list(plan.load_more)
    wanted = f"{plan.container}, {plan.item}"
    await _into_view(page, plan.container)
    # A lazy block starts loading when it scrolls into view, a moment after the scroll: wait for its
    # first comment or button, in whichever frame it is. An empty thread shows neither: this waits
    # lazy_wait then.
    waited_until = time.monotonic() + limits.lazy_wait
    frames = await _comment_frames(page, wanted)
    state = await _state(frames, plan.item, selectors)
    while not (state["items"] or state["pending"]) and time.monotonic() < waited_until:
        await asyncio.sleep(0.1)
        frames = await _comment_frames(page, wanted)
        state = await _state(frames, plan.item, selectors)
    await _settle(frames, limits)
    state = await _state(frames, plan.item, selectors)
    clicks = rounds = stale = idle_scrolls = 0
    stopped_by = "done"
    while state["pending"] or plan.scroll:
        if clicks >= limits.max_clicks:
            stopped_by = "max_clicks"
            break
        if time.monotonic() - start >= limits.time_budget:
            stopped_by = "time_budget"
            break
        if state.get("busy"):
            # A disabled button is a site still at work, not a thread without growth: wait for it
            # (bounded) instead of judging the round by the clock.
            with contextlib.suppress(PlaywrightTimeout):
                await _wait_in_frames(frames, READY_SCRIPT, selectors, limits.settle_timeout)
            await _settle(frames, limits)
            waited_from = state["items"]
            state = await _state(frames, plan.item, selectors)
            if state["items"] > waited_from:
                stale = 0
            if not state["pending"]:
                break
        frames = await _comment_frames(page, wanted)  # a widget's frame may have come since
        started = state["started"]
        await _in_frames(frames, RESET_SCRIPT, selectors)
        clicked = await _click_round(frames, selectors, recorder, limits) if state["pending"] else 0
        scrolled = plan.scroll and not (limits.clicks_per_round and clicked >= limits.clicks_per_round)
        if scrolled:
            # what a scroll makes the widget ask for is one more request of the round (paced alike)
            if recorder is not None:
                recorder.mark("scroll")
            if not clicked:
                await _pause(limits)
            await _in_frames(frames, SCROLL_SCRIPT, plan.item)
        clicks += clicked + scrolled  # a scroll counts as a click (BROWSER_MAX_CLICKS bounds both)
        rounds += 1
        await _settle(
            frames, dataclasses.replace(limits, quiet=max(limits.quiet, SCROLL_QUIET)) if scrolled else limits
        )
        before, pending_before = state["items"], state["pending"]
        state = await _state(frames, plan.item, selectors)
        # "Read more" replaces text without adding comments, so growth also counts fewer pending
        # (than before the round: a capped round leaves the rest of them for the next)
        grew = state["items"] > before or state["pending"] < pending_before
        asked = state["started"] != started
        idle_scrolls = idle_scrolls + 1 if scrolled and not grew and not asked and not state["pending"] else 0
        if idle_scrolls >= IDLE_SCROLLS:
            # scrolled to the end, nothing left to click, and the page asked for nothing more, twice:
            # the list is whole (a request that brought nothing is no such evidence: no_growth below)
            break
        if idle_scrolls:
            continue  # look once more before judging growth
        stale = 0 if grew else stale + 1
        if not (clicked or scrolled) or stale >= limits.no_growth_rounds:
            stopped_by = "no_growth"
            break
    if recorder is not None:
        await recorder.drain()
    return Expansion(
        items=state["items"],
        clicks=clicks,
        rounds=rounds,
        pending=state["pending"],
        stopped_by=stopped_by,
        seconds=round(time.monotonic() - start, 3),
    )
