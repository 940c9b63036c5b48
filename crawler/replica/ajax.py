"""The replica's comment API: the three admin-ajax actions of the replica contract.

`POST /blog/wp-admin/admin-ajax.php` with a form-encoded `action` lands in `answer`, which returns the
`data` of a successful answer or raises `AjaxError` carrying the HTTP status and message of a failure.
Nobody knows how the real site pages its comments (see the design notes), so everything about this API
lives in this one module and the thread queries it calls.
"""

from __future__ import annotations

import json
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .model import Article, Comment, Site
from .render import render_comment, render_comments
from .thread import (
    DEFAULT_PER_PAGE,
    MAX_PER_PAGE,
    SORT_KEYS,
    replies_page,
    thread_index,
    top_level_page,
)

AJAX_PATH = "/blog/wp-admin/admin-ajax.php"
#: replies come in smaller batches than top-level comments, so a hub takes several requests
DEFAULT_REPLIES_PER_PAGE = 10


@dataclass
class AjaxConfig:
    """Where the comment API lives right now and what its page parameter is called (a test renames
    either between two crawls, the way a site redeploys its widget: `rename_ajax`)."""

    path: str = AJAX_PATH
    page_param: str = "page"
    #: a WordPress-style nonce every action must carry (the page's script reads it from the page), None:
    #: none asked for
    nonce: str | None = None


_CONFIGS: weakref.WeakKeyDictionary[Site, AjaxConfig] = weakref.WeakKeyDictionary()


def config_of(site: Site) -> AjaxConfig:
    return _CONFIGS.setdefault(site, AjaxConfig())


def rename_ajax(site: Site, path: str | None = None, page_param: str | None = None) -> None:
    """Move the comment API to `path` and/or rename load_comments' page parameter. The pages' script
    follows (script_config); a client still using the old path gets a 404, the old parameter is
    ignored (page 1 again)."""
    config = config_of(site)
    if path is not None:
        if not path.startswith("/") or path.startswith("/_replica/"):
            raise ValueError(f"not a path for the comment API: {path!r}")
        config.path = path
    if page_param is not None:
        config.page_param = page_param


def require_nonce(site: Site, nonce: str | None) -> None:
    """Make every action answer 403 unless its form carries `nonce`, which the pages then carry in their
    script config (as WordPress pages carry the nonce of their admin-ajax calls); None: no nonce."""
    config_of(site).nonce = nonce


def script_config(site: Site) -> str:
    """The script that tells the page's own script where the API moved ("" while it has not)."""
    config = config_of(site)
    if config == AjaxConfig():
        return ""
    fields = {"url": config.path, "page": config.page_param}
    if config.nonce:
        fields["nonce"] = config.nonce
    value = json.dumps(fields).replace("</", "<\\/")
    return f"<script>window.__REPLICA_AJAX__ = {value};</script>\n"


class AjaxError(Exception):
    """A failed action: answered as {"success": false, "data": {"message": …}} with `status`."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


Form = Mapping[str, str]


def answer(site: Site, form: Form) -> dict[str, Any]:
    """Run the form's action against the site (the caller holds the site lock)."""
    action = form.get("action", "")
    nonce = config_of(site).nonce
    if nonce is not None and form.get("nonce") != nonce:
        raise AjaxError(403, "the nonce is missing or wrong")
    if action not in _ACTIONS:
        raise AjaxError(400, f"unknown action {action!r}")
    return _ACTIONS[action](site, form)


def load_comments(site: Site, form: Form) -> dict[str, Any]:
    article = _article(site, form)
    page = _int_field(form, config_of(site).page_param, default=1, minimum=1)
    per_page = min(_int_field(form, "per_page", default=DEFAULT_PER_PAGE, minimum=1), MAX_PER_PAGE)
    sort = form.get("sort", "")
    if sort not in SORT_KEYS:
        raise AjaxError(400, f"unknown sort {sort!r}")
    if page in article.fail_comment_pages:
        raise AjaxError(500, "internal error while loading comments")
    if article.api_max_per_page is not None and per_page > article.api_max_per_page:
        raise AjaxError(400, f"per_page must be at most {article.api_max_per_page}")
    comments, has_more = top_level_page(article, page, per_page, sort)
    if article.api_dropped:
        comments = [c for c in comments if c.id not in article.api_dropped]  # the page still shows them
    if article.api_silent_page_cap is not None:
        comments = comments[: article.api_silent_page_cap]  # still paged by per_page: the rest is skipped
    thread = thread_index(article)
    answer = {
        "html": render_comments(comments, thread),
        "has_more": has_more,
        "total": thread.total,
        "page": page,
    }
    for comment_id in article.delete_after_page.pop(page, []):
        site.delete_comment(comment_id)  # after this answer: the next page shifts
    return answer


def load_replies(site: Site, form: Form) -> dict[str, Any]:
    article, comment = _visible_comment(site, form)
    offset = _int_field(form, "offset", default=0, minimum=0)
    per_page = min(_int_field(form, "per_page", default=DEFAULT_REPLIES_PER_PAGE, minimum=1), MAX_PER_PAGE)
    if comment.id in article.fail_replies:
        raise AjaxError(500, "internal error while loading replies")
    replies, has_more, remaining = replies_page(article, comment.id, offset, per_page)
    return {
        "html": render_comments(replies, thread_index(article)),
        "has_more": has_more,
        "remaining": remaining,
    }


def load_comment(site: Site, form: Form) -> dict[str, Any]:
    article, comment = _visible_comment(site, form)
    if comment.id in article.fail_full_text:
        raise AjaxError(500, "internal error while loading the comment")
    return {"html": render_comment(comment, thread_index(article), full=True)}


_ACTIONS: dict[str, Callable[[Site, Form], dict[str, Any]]] = {
    "load_comments": load_comments,
    "load_replies": load_replies,
    "load_comment": load_comment,
}


def _int_field(form: Form, name: str, *, default: int, minimum: int) -> int:
    raw = form.get(name, "")
    if raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise AjaxError(400, f"{name} must be an integer, not {raw!r}") from None
    if value < minimum:
        raise AjaxError(400, f"{name} must be at least {minimum}")
    return value


def _article(site: Site, form: Form) -> Article:
    raw = form.get("post_id", "")
    try:
        return site.article_by_post_id(int(raw))
    except (ValueError, KeyError):
        raise AjaxError(400, f"bad post id {raw!r}") from None


def _visible_comment(site: Site, form: Form) -> tuple[Article, Comment]:
    """The comment named by comment_id, if a reader could see it (not deleted, not hidden)."""
    raw = form.get("comment_id", "")
    try:
        article, comment = site.find_comment(raw)
    except KeyError:
        raise AjaxError(400, f"bad comment id {raw!r}") from None
    if comment.id not in thread_index(article).depth:
        raise AjaxError(400, f"bad comment id {raw!r}")
    return article, comment
