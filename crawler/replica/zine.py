"""The Daily Zine: a second replica site whose comment widget has nothing in common with Bored Panda's.

It exists so the browser path can be tested on a site the crawler has no adapter for, only a site
profile (`crawler/sites/profiles/zine.toml`). Its stories are ordinary `Article`/`Comment` objects kept
in a `Site` of their own, attached to the Bored Panda site with `attach_zine`, so Bored Panda pages,
listings, feeds and sitemaps stay exactly as they were, and the usual `Site` mutations
(`edit_comment`, `delete_comment`, `add_comment`, `set_votes`, …) called on the zine's `Site` change
what the zine serves.

The page itself carries no comment: an inline script fetches them from a cursor-paged JSON API (a
different style from Bored Panda's form-encoded admin-ajax on purpose) and builds the DOM. Without a
browser, `?expanded=1` prints the page as the browser shows it after every click and `?expanded=partial`
as it shows it after the first automatic batch. The markup and the API are in MARKUP.md.
"""

from __future__ import annotations

import random
import weakref
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from .generate import REFERENCE_NOW, comment_text, generated_article, person, relative_time
from .model import Article, Comment, Site
from .render import CUT_OVER, cut_text, esc, human_date, json_for_script, slugify
from .thread import ThreadIndex, thread_index

ZINE_PREFIX = "/zine"
COMMENTS_API_PATH = "/zine/api/comments"
TEXT_API_PATH = "/zine/api/text"
#: "Show more comments" brings this many top-level comments, "View N replies" this many replies
TOP_PER_PAGE = 10
REPLIES_PER_PAGE = 5
MAX_LIMIT = 50

QUIET_HARBOUR_SLUG = "quiet-harbour-story"
EMPTY_SLUG = "empty-story"
ZINE_SLUGS = (QUIET_HARBOUR_SLUG, EMPTY_SLUG)
#: post ids of the zine live far from the Bored Panda demo's 8.1M-8.2M, so ids never look alike
QUIET_HARBOUR_POST_ID = 7300001
EMPTY_POST_ID = 7300002
#: the quiet harbour story's first top-level comment gets this many direct replies: three
#: "View N replies" clicks (5 at a time)
HUB_REPLIES = 12

#: ?expanded= values: the live page (comments by JavaScript), after the first batch, after every click
VIEWS = {"": "live", "0": "live", "partial": "partial", "1": "expanded"}

# Zines hang off the Bored Panda site they are served with; weak keys, so a dropped Site takes its
# zine along (tests build hundreds of sites).
_ZINES: weakref.WeakKeyDictionary[Site, Site] = weakref.WeakKeyDictionary()


class ZineError(Exception):
    """A request the zine API refuses: answered as {"error": message} with `status`."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


# -- the zine's site --------------------------------------------------------------------------------


def attach_zine(site: Site, zine: Site) -> None:
    """Serve `zine`'s stories under /zine/ wherever `site` is served."""
    _ZINES[site] = zine


def zine_of(site: Site) -> Site | None:
    """The zine served with `site`, None when it has none (its /zine/ paths are then 404)."""
    return _ZINES.get(site)


def build_zine_site(seed: int = 0) -> Site:
    """The Daily Zine's stories: quiet-harbour-story (60 comments, replies to depth 3, a hub of 12
    replies, cut texts) and empty-story (no comments)."""
    zine = Site()
    zine.add_article(_quiet_harbour(seed))
    zine.add_article(
        generated_article(
            EMPTY_SLUG,
            EMPTY_POST_ID,
            0,
            seed=seed,
            title="Town Council Meeting Ends Early, Nobody Complains",
            published_at=REFERENCE_NOW - timedelta(days=2, hours=5),
        )
    )
    return zine


def _quiet_harbour(seed: int) -> Article:
    article = generated_article(
        QUIET_HARBOUR_SLUG,
        QUIET_HARBOUR_POST_ID,
        60 - HUB_REPLIES,
        max_depth=3,
        seed=seed,
        top_level=22,
        title="A Seal Moves Into The Quiet Harbour And The Whole Town Takes Notes",
        published_at=REFERENCE_NOW - timedelta(days=6, hours=3),
    )
    article.comments += _reply_hub(article, random.Random(f"{seed}:zine-hub"), HUB_REPLIES)
    return article


def _reply_hub(article: Article, rng: random.Random, count: int) -> list[Comment]:
    """`count` short replies to the first top-level comment, posted after every other comment.

    The generator only makes hubs of 21+ replies in threads of 60+ replies; the zine wants one a
    reader opens in a few clicks, so it is added here.
    """
    parent = next(c for c in article.comments if c.parent_id is None)
    last_id = max(int(c.id) for c in article.comments)
    replies = []
    for n in range(1, count + 1):
        posted = REFERENCE_NOW - timedelta(minutes=37 * (count + 1 - n))
        replies.append(
            Comment(
                id=str(last_id + n),
                parent_id=parent.id,
                author=person(rng),
                text=comment_text(rng, long=False),
                posted_at=posted,
                relative_time=relative_time(posted),
                upvotes=rng.randint(0, 25),
                downvotes=rng.randint(0, 3),
            )
        )
    return replies


def zine_url(base: str, article: Article, view: str = "") -> str:
    return f"{base}{ZINE_PREFIX}/{article.slug}/" + (f"?expanded={view}" if view else "")


# -- JSON API ---------------------------------------------------------------------------------------


def message_json(comment: Comment, thread: ThreadIndex, *, full: bool = False) -> dict[str, Any]:
    """One comment as the API sends it; the text is cut unless `full` (see render.cut_text)."""
    cut = not full and len(comment.text) > CUT_OVER
    return {
        "id": comment.id,
        "reply_to": comment.parent_id,
        "author": comment.author,
        "posted_at": comment.posted_at.isoformat() if comment.posted_at else None,
        "ago": comment.relative_time,
        "text": cut_text(comment.text) if cut else comment.text,
        "cut": cut,
        "likes": comment.upvotes,
        "dislikes": comment.downvotes,
        "reply_count": len(thread.replies(comment.id)),
    }


def api_answer(zine: Site, name: str, query: Mapping[str, str]) -> dict[str, Any]:
    """Answer `GET /zine/api/<name>` (the caller holds the zine's lock); raises ZineError."""
    if name == "comments":
        return comments_answer(zine, query)
    if name == "text":
        return text_answer(zine, query)
    raise ZineError(404, f"no API {name!r}")


def comments_answer(zine: Site, query: Mapping[str, str]) -> dict[str, Any]:
    """`?story=&parent=&cursor=&limit=`: the next comments after `cursor`, oldest first.

    Without `parent`, top-level comments (TOP_PER_PAGE by default); with it, that comment's direct
    replies (REPLIES_PER_PAGE). The cursor is the id of the last comment delivered, so a deletion
    between two requests shifts nothing.
    """
    article = _story(zine, query.get("story", ""))
    thread = thread_index(article)
    parent = query.get("parent") or None
    if parent is not None:
        _visible_comment(zine, parent, article)
    cursor = _int_param(query, "cursor", default=0, minimum=0)
    limit = min(
        _int_param(query, "limit", default=REPLIES_PER_PAGE if parent else TOP_PER_PAGE, minimum=1), MAX_LIMIT
    )
    after = [c for c in thread.children.get(parent, []) if int(c.id) > cursor]
    shown = after[:limit]
    return {
        "story": str(article.post_id),
        "parent": parent,
        "total": thread.total,
        "items": [message_json(c, thread) for c in shown],
        "cursor": {
            "next": shown[-1].id if shown else query.get("cursor", ""),
            "has_next": len(after) > limit,
        },
        "remaining": len(after) - len(shown),
    }


def text_answer(zine: Site, query: Mapping[str, str]) -> dict[str, Any]:
    """`?msg=`: the full text of one comment ("…see more")."""
    comment = _visible_comment(zine, query.get("msg", ""))
    return {"id": comment.id, "text": comment.text}


def _story(zine: Site, raw: str) -> Article:
    try:
        post_id = int(raw)
    except ValueError:
        raise ZineError(400, f"story must be an integer, not {raw!r}") from None
    try:
        return zine.article_by_post_id(post_id)
    except KeyError:
        raise ZineError(404, f"no story {post_id}") from None


def _visible_comment(zine: Site, raw: str, article: Article | None = None) -> Comment:
    """The comment `raw` if a reader could see it (not deleted or hidden), in `article` if given."""
    try:
        owner, comment = zine.find_comment(raw)
    except KeyError:
        raise ZineError(404, f"no comment {raw!r}") from None
    if (article is not None and owner is not article) or comment.id not in thread_index(owner).depth:
        raise ZineError(404, f"no comment {raw!r}")
    return comment


def _int_param(query: Mapping[str, str], name: str, *, default: int, minimum: int) -> int:
    raw = query.get(name, "")
    if raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ZineError(400, f"{name} must be an integer, not {raw!r}") from None
    if value < minimum:
        raise ZineError(400, f"{name} must be at least {minimum}")
    return value


# -- pages ------------------------------------------------------------------------------------------
# render_message prints exactly the DOM that message() in ZINE_SCRIPT builds, so the ?expanded= views
# equal what a browser shows after clicking. Change both together.


def replies_label(count: int, more: bool = False) -> str:
    return f"View {count} {'more ' if more else ''}{'reply' if count == 1 else 'replies'}"


def _paragraphs(text: str) -> str:
    return "".join(f"<p>{esc(part)}</p>" for part in text.split("\n\n"))


def _says(item: Mapping[str, Any]) -> str:
    if not item["cut"]:
        return f'<div class="says">{_paragraphs(item["text"])}</div>'
    return (
        f'<div class="says" data-cut="true">{_paragraphs(item["text"])}'
        f'<span class="zine-expand" data-msg-id="{esc(item["id"])}">…see more</span></div>'
    )


def _replies_button(comment_id: str, count: int) -> str:
    return (
        f'<button class="zine-replies" data-msg-id="{esc(comment_id)}" data-cursor="">'
        f"{replies_label(count)}</button>"
    )


def render_message(item: Mapping[str, Any], replies: str = "", button: str = "") -> str:
    """One comment from its API form, with its rendered `replies` and its "View N replies" `button`."""
    reply_to = f' data-reply-to="{esc(item["reply_to"])}"' if item["reply_to"] else ""
    when = f' datetime="{esc(item["posted_at"])}"' if item["posted_at"] else ""
    return (
        f'<li class="msg" data-msg-id="{esc(item["id"])}"{reply_to}>'
        f'<span class="who">{esc(item["author"])}</span>'
        f"<time{when}>{esc(item['ago'])}</time>{_says(item)}"
        f'<span class="likes" data-n="{item["likes"]}">{item["likes"]} likes</span>'
        f'<span class="dislikes" data-n="{item["dislikes"]}">{item["dislikes"]} dislikes</span>'
        f'<ol class="replies">{replies}</ol>{button}</li>'
    )


def _expanded(comment: Comment, thread: ThreadIndex) -> str:
    """A comment after every click: full text, every reply (recursively), no button."""
    replies = "".join(_expanded(reply, thread) for reply in thread.replies(comment.id))
    return render_message(message_json(comment, thread, full=True), replies)


def _collapsed(comment: Comment, thread: ThreadIndex) -> str:
    """A comment as the API delivers it: cut text, replies behind "View N replies"."""
    count = len(thread.replies(comment.id))
    button = _replies_button(comment.id, count) if count else ""
    return render_message(message_json(comment, thread), "", button)


def _discussion(article: Article, view: str) -> str:
    thread = thread_index(article)
    top_level = thread.children[None]
    if view == "expanded":
        shown, messages = top_level, "".join(_expanded(c, thread) for c in top_level)
    elif view == "partial":
        shown = top_level[:TOP_PER_PAGE]
        messages = "".join(_collapsed(c, thread) for c in shown)
    else:
        shown, messages = [], ""
    more = '<button class="zine-more">Show more comments</button>' if len(top_level) > len(shown) else ""
    cursor = shown[-1].id if shown else ""
    return (
        f'<section class="discussion" id="discussion" data-story="{article.post_id}" '
        f'data-total="{thread.total}" data-cursor="{cursor}">\n'
        f'<h2 class="discussion-title">Discussion</h2>\n<ol class="msgs">{messages}</ol>{more}\n</section>\n'
    )


def _story_body(article: Article) -> str:
    """Paragraphs and pictures of the body; the zine prints none of Bored Panda's furniture blocks."""
    parts = []
    for kind, *args in article.body:
        if kind == "p":
            parts.append(f"<p>{esc(args[0])}</p>")
        elif kind == "image":
            src, _credit, caption = (*args, "", "")[:3]
            parts.append(
                f'<figure><img src="{esc(src)}" alt=""><figcaption>{esc(caption)}</figcaption></figure>'
            )
    return "\n".join(parts)


def render_zine_page(article: Article, base: str, expanded: str = "") -> str:
    """The story page; `expanded` is a key of VIEWS (anything else is a ValueError)."""
    if expanded not in VIEWS:
        raise ValueError(f"expanded must be one of {sorted(VIEWS)}, not {expanded!r}")
    url = zine_url(base, article)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head>\n<meta charset="utf-8">\n'
        f"<title>{esc(article.title)} · The Daily Zine</title>\n"
        f'<link rel="canonical" href="{esc(url)}">\n'
        f'<meta name="description" content="{esc(article.description)}">\n'
        f'<meta property="og:title" content="{esc(article.title)}">\n'
        '<meta property="og:site_name" content="The Daily Zine">\n</head>\n'
        '<body class="zine">\n'
        '<header class="masthead"><a class="brand" href="/zine/">The Daily Zine</a></header>\n'
        f'<main>\n<article class="story" data-story-id="{article.post_id}">\n'
        f'<h1 class="headline">{esc(article.title)}</h1>\n'
        f'<p class="byline">By <a href="/zine/people/{slugify(article.author)}/">{esc(article.author)}</a> · '
        f'<time class="pubdate" datetime="{article.published_at.isoformat()}">'
        f"{human_date(article.published_at)}</time></p>\n"
        f'<div class="story-body">\n{_story_body(article)}\n</div>\n</article>\n'
        f"{_discussion(article, VIEWS[expanded])}</main>\n"
        f"<script>var ZINE = {json_for_script(_script_config())};{ZINE_SCRIPT}</script>\n</body></html>\n"
    )


def _script_config() -> dict[str, str]:
    return {"comments": COMMENTS_API_PATH, "text": TEXT_API_PATH}


#: What a reader's browser does on a zine page: the first batch of comments loads when the discussion
#: scrolls into view, "Show more comments" appends the next TOP_PER_PAGE, "View N replies" the next
#: REPLIES_PER_PAGE replies of one comment (and stays while more follow), "…see more" swaps a cut text
#: for the full one. message() builds what render_message prints.
ZINE_SCRIPT = r"""
(function () {
  "use strict";

  function getJSON(path, params) {
    var url = path + "?" + new URLSearchParams(params).toString();
    return fetch(url, {headers: {"Accept": "application/json"}}).then(function (response) {
      return response.json().then(function (body) {
        if (!response.ok) { throw new Error(body.error || "HTTP " + response.status); }
        return body;
      });
    });
  }

  function report(error) { console.warn("zine comments:", error); }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function repliesLabel(count, more) {
    return "View " + count + " " + (more ? "more " : "") + (count === 1 ? "reply" : "replies");
  }

  function paragraphs(box, text) {
    text.split("\n\n").forEach(function (part) { box.appendChild(element("p", "", part)); });
  }

  function says(item) {
    var box = element("div", "says");
    if (item.cut) { box.dataset.cut = "true"; }
    paragraphs(box, item.text);
    if (item.cut) {
      var expand = element("span", "zine-expand", "\u2026see more");
      expand.dataset.msgId = item.id;
      box.appendChild(expand);
    }
    return box;
  }

  function counter(className, count, noun) {
    var node = element("span", className, count + " " + noun);
    node.dataset.n = String(count);
    return node;
  }

  function repliesButton(item) {
    var button = element("button", "zine-replies", repliesLabel(item.reply_count, false));
    button.dataset.msgId = item.id;
    button.dataset.cursor = "";
    return button;
  }

  function message(item) {
    var li = element("li", "msg");
    li.dataset.msgId = item.id;
    if (item.reply_to) { li.dataset.replyTo = item.reply_to; }
    li.appendChild(element("span", "who", item.author));
    var time = element("time", "", item.ago);
    if (item.posted_at) { time.setAttribute("datetime", item.posted_at); }
    li.appendChild(time);
    li.appendChild(says(item));
    li.appendChild(counter("likes", item.likes, "likes"));
    li.appendChild(counter("dislikes", item.dislikes, "dislikes"));
    li.appendChild(element("ol", "replies"));
    if (item.reply_count > 0) { li.appendChild(repliesButton(item)); }
    return li;
  }

  // Appends the batch after `holder`'s cursor to `list`; the button goes when the API has no more.
  // A disabled button is mid-request: a second click (or the automatic first batch) must not load
  // the same batch twice.
  function loadBatch(button, holder, list, params, after) {
    if (button.disabled) { return; }
    button.disabled = true;
    params.cursor = holder.dataset.cursor || "";
    getJSON(ZINE.comments, params)
      .then(function (page) {
        page.items.forEach(function (item) { list.appendChild(message(item)); });
        holder.dataset.cursor = page.cursor.next;
        if (page.cursor.has_next) { after(page); } else { button.remove(); }
      })
      .catch(report)
      .finally(function () { button.disabled = false; });
  }

  function onMoreComments(button) {
    var section = button.closest("section.discussion");
    loadBatch(button, section, section.querySelector("ol.msgs"), {story: section.dataset.story},
      function (page) { section.dataset.total = String(page.total); });
  }

  function onMoreReplies(button) {
    var section = button.closest("section.discussion");
    var list = button.closest("li.msg").querySelector(":scope > ol.replies");
    loadBatch(button, button, list, {story: section.dataset.story, parent: button.dataset.msgId},
      function (page) { button.textContent = repliesLabel(page.remaining, true); });
  }

  function onExpand(expand) {
    if (expand.dataset.busy) { return; }
    expand.dataset.busy = "true";
    var box = expand.closest("div.says");
    getJSON(ZINE.text, {msg: expand.dataset.msgId})
      .then(function (answer) {
        var full = element("div", "says");
        paragraphs(full, answer.text);
        box.replaceWith(full);
      })
      .catch(function (error) { delete expand.dataset.busy; report(error); });
  }

  document.addEventListener("click", function (event) {
    var target = event.target.closest("button.zine-more, button.zine-replies, span.zine-expand");
    if (!target) { return; }
    event.preventDefault();
    if (target.matches("button.zine-more")) { onMoreComments(target); }
    else if (target.matches("button.zine-replies")) { onMoreReplies(target); }
    else { onExpand(target); }
  });

  // An empty discussion loads its first batch by itself once it scrolls into view.
  function watch(section) {
    var button = section.querySelector("button.zine-more");
    if (!button || section.querySelector("ol.msgs > li")) { return; }
    var observer = new IntersectionObserver(function (entries) {
      if (!entries.some(function (entry) { return entry.isIntersecting; })) { return; }
      observer.disconnect();
      if (button.isConnected && !section.querySelector("ol.msgs > li")) { onMoreComments(button); }
    });
    observer.observe(section);
  }

  document.querySelectorAll("section.discussion").forEach(watch);
})();
"""
