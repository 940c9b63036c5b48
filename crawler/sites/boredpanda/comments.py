"""Bored Panda comments: the comment markup and the comment API (`admin-ajax.php`).

How the real site pages its comments is not public; this module implements the replica's contract
(design notes, `boredpanda.md`), built the way WordPress sites commonly do it. Every detail of that
contract (URL, action names, field names, answer shape) lives here and nowhere else.
"""

from __future__ import annotations

import json
from urllib.parse import urljoin

from lxml.html import HtmlElement

from crawler.items import CommentItem
from crawler.sites.errors import BadAnswer
from crawler.sites.html import attr, child, children, first, parse_fragment, select, text_of, to_int
from crawler.sites.thread import FollowUp, ThreadPage

AJAX_PATH = "/blog/wp-admin/admin-ajax.php"
COMMENTS_PER_PAGE = 50  # the endpoint's maximum: fewest requests per thread
REPLIES_PER_PAGE = 50
SITE = "boredpanda"


def comment_key(site_comment_id: str) -> str:
    """Site comment ids are unique per site only; the stored id carries the site."""
    return f"{SITE}:{site_comment_id}"


def _parent_key(raw: str | None) -> str | None:
    return None if raw in (None, "", "0") else comment_key(raw)


def _comment_from(el: HtmlElement, article_id: str | None, base_url: str) -> CommentItem:
    header = child(el, "comment-header")
    scope = header if header is not None else el
    author_el = first(scope, ".comment-author-name")
    time_el = first(scope, "time.comment-time, .comment-time")
    text_el = child(el, "comment-text")
    truncated = attr(text_el, "data-truncated") == "true" or (
        text_el is not None and bool(select(text_el, "a.read-more"))
    )
    votes = child(el, "comment-votes")
    replies = child(el, "comment-replies")
    datetime_attr = attr(time_el, "datetime")
    return CommentItem(
        comment_id=comment_key(el.get("data-comment-id")),
        source_id=el.get("data-comment-id").strip(),
        article_id=article_id,
        parent_id=_parent_key(el.get("data-parent-id")),
        depth=to_int(el.get("data-depth")) or 0,
        author=text_of(author_el),
        author_role=text_of(first(scope, ".comment-author-role")),
        author_url=urljoin(base_url, attr(author_el, "href")) if attr(author_el, "href") else None,
        posted_at=datetime_attr or None,
        posted_at_precision="exact" if datetime_attr else None,
        relative_time=text_of(time_el),
        text=text_of(text_el, skip=("a.read-more",)),
        truncated=truncated,
        upvotes=to_int(attr(first(votes, ".upvotes"), "data-count")) if votes is not None else None,
        downvotes=to_int(attr(first(votes, ".downvotes"), "data-count")) if votes is not None else None,
        # absent (a full-text answer omits replies) is unknown, not zero
        reply_count=to_int(attr(replies, "data-reply-count")) if replies is not None else None,
    )


def replies_request(base_url: str, comment_id: str, offset: int) -> FollowUp:
    site_id = comment_id.split(":", 1)[1]
    return FollowUp(
        kind="replies",
        url=urljoin(base_url, AJAX_PATH),
        formdata={
            "action": "load_replies",
            "comment_id": site_id,
            "offset": str(offset),
            "per_page": str(REPLIES_PER_PAGE),
        },
        key=f"replies:{site_id}:{offset}",
    )


def comments_page_request(base_url: str, post_id: str, page: int) -> FollowUp:
    return FollowUp(
        kind="comments_page",
        url=urljoin(base_url, AJAX_PATH),
        formdata={
            "action": "load_comments",
            "post_id": post_id,
            "page": str(page),
            "per_page": str(COMMENTS_PER_PAGE),
            "sort": "new",
        },
        key=f"comments:{post_id}:{page}:{COMMENTS_PER_PAGE}",
    )


def full_text_request(base_url: str, comment_id: str) -> FollowUp:
    site_id = comment_id.split(":", 1)[1]
    return FollowUp(
        kind="full_text",
        url=urljoin(base_url, AJAX_PATH),
        formdata={"action": "load_comment", "comment_id": site_id},
        key=f"full:{site_id}",
        comment_id=comment_id,
    )


def parse_comments_html(containers: list[HtmlElement], article_id: str | None, base_url: str) -> ThreadPage:
    """All comments under `containers` (any depth), deduplicated by id, with their follow-ups.

    Follow-ups: more replies wherever a "Load More Replies" button (or a reply count above the
    replies shown) says so, and the full text of every cut comment.
    """
    page = ThreadPage()
    seen: set[str] = set()
    elements = [el for c in containers for el in select(c, "div.comment[data-comment-id]")]
    for el in elements:
        if not el.get("data-comment-id", "").strip():
            continue
        comment = _comment_from(el, article_id, base_url)
        if comment.comment_id in seen:  # the seed page carries its comment block twice
            continue
        seen.add(comment.comment_id)
        page.comments.append(comment)
        replies = child(el, "comment-replies")
        shown = len(children(replies, "comment", "div"))
        button = child(replies, "load-more-replies", "button")
        if button is not None:
            offset = to_int(button.get("data-offset"))
            page.follow_ups.append(
                replies_request(base_url, comment.comment_id, offset if offset is not None else shown)
            )
        elif comment.reply_count and comment.reply_count > shown:
            page.follow_ups.append(replies_request(base_url, comment.comment_id, shown))
        if comment.truncated:
            page.follow_ups.append(full_text_request(base_url, comment.comment_id))
    return page


def initial_thread(
    root: HtmlElement, article_id: str, post_id: str | None, base_url: str, reported: int | None = None
) -> ThreadPage:
    """The thread as the article page shows it: page 1 of comments, and what to request next.

    `reported` is the page's own comment count when the comment block does not state one. A block
    that shows no comment but reports some is loaded from page 1 of the API (whatever made it empty:
    lazy loading, a script); without a post id only a browser can load it.
    """
    blocks = select(root, "div.post-comments")
    if not blocks:
        return ThreadPage(reported_total=reported, section=bool(reported))
    block = blocks[0]
    count = to_int(block.get("data-comments-count"))
    reported = count if count is not None else reported
    post_id = block.get("data-post-id") or post_id
    page = parse_comments_html(blocks, article_id, base_url)
    page.reported_total = reported
    page.section = True
    page.reader = SITE
    more = any(select(b, "button.load-more-comments") for b in blocks)
    if not page.comments and reported:
        if post_id:
            page.follow_ups.insert(0, comments_page_request(base_url, post_id, 1))
        else:
            page.needs_browser = True
    elif more and post_id:
        # The page shows page 1 at the default 20 per page; paging at 50 must start again at page 1
        # (page 2 at 50 per page starts at the 51st comment). Repeats are deduplicated.
        page.follow_ups.insert(0, comments_page_request(base_url, post_id, 1))
    elif more:
        page.needs_browser = True
    else:
        page.end_reached = True
    return page


def _data(body: str | bytes) -> dict:
    try:
        answer = json.loads(body)
    except (ValueError, TypeError) as exc:
        raise BadAnswer(f"comment API answer is not JSON: {exc}") from exc
    if not isinstance(answer, dict) or not answer.get("success") or not isinstance(answer.get("data"), dict):
        message = answer.get("data", {}).get("message") if isinstance(answer, dict) else None
        raise BadAnswer(f"comment API answered failure: {message or str(answer)[:200]}")
    return answer["data"]


def parse_answer(follow_up: FollowUp, body: str | bytes, article_id: str, base_url: str) -> ThreadPage:
    """Parse the comment-API answer to `follow_up` into comments and further follow-ups."""
    data = _data(body)
    page = parse_comments_html([parse_fragment(data.get("html") or "")], article_id, base_url)
    if follow_up.kind == "comments_page":
        page.reported_total = to_int(str(data.get("total"))) if data.get("total") is not None else None
        if data.get("has_more"):
            next_page = int(follow_up.formdata["page"]) + 1
            page.follow_ups.insert(
                0, comments_page_request(base_url, follow_up.formdata["post_id"], next_page)
            )
        else:
            page.end_reached = True
    elif follow_up.kind == "replies":
        offset = int(follow_up.formdata["offset"])
        direct = [c for c in page.comments if c.parent_id == comment_key(follow_up.formdata["comment_id"])]
        if data.get("has_more") and direct:
            page.follow_ups.insert(
                0,
                replies_request(
                    base_url, comment_key(follow_up.formdata["comment_id"]), offset + len(direct)
                ),
            )
    elif follow_up.kind == "full_text":
        for comment in page.comments:
            if comment.truncated:
                raise BadAnswer(f"full text of {comment.comment_id} is still cut")
        # A full-text answer repeats the comment itself; its replies come through their own requests.
        page.follow_ups = [f for f in page.follow_ups if f.kind != "replies"]
    return page


# -- confirming a deletion: the site's single-comment request ------------------------------------

#: answers of the single-comment request that mean "no such comment" (a failure naming the id)
GONE_STATUSES = (400, 404, 410)


def confirm_request(base_url: str, comment_id: str) -> FollowUp:
    """The single-comment request (`load_comment`) that tells whether a comment absent from a
    complete load still exists. Its key differs from the full-text request of the same comment."""
    site_id = comment_id.split(":", 1)[1]
    return FollowUp(
        kind="confirm",
        url=urljoin(base_url, AJAX_PATH),
        formdata={"action": "load_comment", "comment_id": site_id},
        key=f"confirm:{site_id}",
    )


def parse_confirmation(
    follow_up: FollowUp, status: int, body: str | bytes, article_id: str, base_url: str
) -> tuple[bool | None, ThreadPage | None]:
    """(gone, page) from the answer to `confirm_request`.

    gone is True when the site answers that it has no such comment (a 400/404/410 failure answer, or
    a success without that comment), False when it shows the comment (`page` holds it, parsed like any
    thread answer), None when the answer says nothing either way (5xx, not JSON): the comment then
    stays a deletion candidate.
    """
    wanted = comment_key(follow_up.formdata["comment_id"])
    if status in GONE_STATUSES:
        try:
            answer = json.loads(body)
        except (ValueError, TypeError):
            return (True if status in (404, 410) else None), None
        failed = isinstance(answer, dict) and answer.get("success") is False
        return (True if failed else None), None
    if status != 200:
        return None, None
    try:
        data = _data(body)
    except BadAnswer:
        return None, None
    page = parse_comments_html([parse_fragment(data.get("html") or "")], article_id, base_url)
    page.follow_ups = []  # the comment's replies come through their own requests
    if not any(c.comment_id == wanted for c in page.comments):
        return True, None
    return False, page
