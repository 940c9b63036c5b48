"""Glue between the site readers and the pure induction: what the DOM showed, and how to read fragments.

The induction compares API answers with the comments the page showed; both are read by the site's own
reader (the Bored Panda adapter, or a TOML profile), so a recipe agrees with the browser path by
construction. Comments are handed to the induction as plain dicts with the site's own ids.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from crawler.items import CommentItem
from crawler.sites import boredpanda, registry
from crawler.sites.boredpanda.comments import parse_comments_html
from crawler.sites.errors import NotAnArticle, NotHTML
from crawler.sites.html import parse_fragment
from crawler.sites.profile import Profile, load_profile, parse_rendered


def source_id(comment_id: str | None) -> str | None:
    """The site's own id of a stored id ("zine:123" -> "123")."""
    if comment_id is None:
        return None
    return comment_id.split(":", 1)[1] if ":" in comment_id else comment_id


def as_dict(comment: CommentItem) -> dict[str, Any]:
    return {
        "id": source_id(comment.comment_id),
        "parent": source_id(comment.parent_id),
        "author": comment.author,
        "text": comment.text,
        "posted_at": comment.posted_at,
        "upvotes": comment.upvotes,
        "downvotes": comment.downvotes,
        "truncated": bool(comment.truncated),
    }


@lru_cache(maxsize=32)
def _profile(reader: str) -> Profile:
    return load_profile(reader)


def _fragment_profile(reader: str) -> Profile:
    profile = _profile(reader)
    # a fragment has no container of its own: the wrapper document's body stands in for it
    return dataclasses.replace(profile, comments=dataclasses.replace(profile.comments, container="body"))


def read_comments(html: str, url: str, reader: str) -> list[CommentItem]:
    """Comments of a whole page (as served, or as rendered) read by `reader` (a registry site name)."""
    try:
        return registry.parse_page(html, url, site=reader).thread.comments
    except (NotHTML, NotAnArticle, ValueError):
        return []


def read_fragment_items(fragment: str, url: str, reader: str) -> list[CommentItem]:
    """Comments of an HTML fragment (an API answer) read by `reader`."""
    if reader == boredpanda.NAME:
        return parse_comments_html([parse_fragment(fragment)], None, url).comments
    try:
        page = parse_rendered(f"<html><body>{fragment}</body></html>", url, _fragment_profile(reader))
    except NotHTML:
        return []
    return page.thread.comments


def dom_comments(html: str, url: str, reader: str) -> list[dict[str, Any]]:
    return [as_dict(c) for c in read_comments(html, url, reader)]


def fragment_reader(url: str, reader: str) -> Callable[[str], list[dict[str, Any]]]:
    return lambda fragment: [as_dict(c) for c in read_fragment_items(fragment, url, reader)]


def path_prefix(path: str) -> str:
    """Article URLs of one site share the learned page's directory: /zine/story/ -> /zine/; up to
    the first segment that is the article's own (a date or an id: /2025/10/story/ -> /, WordPress's
    default permalinks; /news/4521/story -> /news/), or no other article would match it."""
    parts = [p for p in path.split("/") if p][:-1]
    kept = []
    for part in parts:
        if any(ch.isdigit() for ch in part):
            break
        kept.append(part)
    return "/" + "".join(f"{p}/" for p in kept)


def learn(
    exchanges: list[dict],
    served_html: str,
    dom_html: str,
    url: str,
    reader: str,
    allow_credentials: bool = False,
) -> dict:
    """The recipe of `reader`'s site from one recorded expansion of the article at `url`.

    `served_html` is the page as plain HTTP serves it (what a later crawl starts from), `dom_html`
    the DOM after every click. Raises InductionError when the exchanges do not show the API.
    """
    from crawler.recipes.induce import InductionError, induce

    name = reader if reader == boredpanda.NAME else _profile(reader).name
    shown = dom_comments(served_html, url, reader)
    dom = dom_comments(dom_html, url, reader)
    recipe = induce(
        exchanges, served_html, shown, dom, fragment_reader(url, reader), site=name,
        allow_credentials=allow_credentials, page_url=url,
    )  # fmt: skip
    page = urlsplit(url)
    recipe["reader"] = reader
    for role in ("comments", "replies", "full_text"):
        endpoint = recipe.get(role)
        if endpoint:
            endpoint["same_host"] = endpoint["host"] == page.netloc
    recipe["match"] = {"host": page.netloc, "path_prefix": path_prefix(page.path)}
    recipe["learned_comments"] = len(dom)
    replayed = replay(recipe, exchanges, url, {c["id"] for c in dom})
    if not replayed:
        raise InductionError("the recipe reads no comment from the recorded answers")
    check_fields(recipe, exchanges, url, dom)
    return recipe


def check_fields(recipe: dict, exchanges: list[dict], url: str, dom: list[dict[str, Any]]) -> None:
    """Read the recorded comment pages back with the recipe, as a later crawl will, and compare every
    field it reads with what the page showed: a parent, a text, an author or a vote count that
    disagrees on any comment means the recipe would store wrong data, and it is refused (the site
    stays on the browser path). A field the recipe does not read (None) is not compared: a later
    crawl leaves it unknown."""
    from crawler.recipes.execute import RecipeFailure, _comments_of, wrap_id
    from crawler.recipes.induce import InductionError, params_of
    from crawler.text import normalise_whitespace

    shown = {c["id"]: c for c in dom}
    learned_from = recipe.get("learned_from") or {}
    roles = {seq: role for role in ("comments", "replies") for seq in learned_from.get(role) or []}
    wrong = []
    for exchange in exchanges:
        role = roles.get(exchange["seq"])
        if role is None or not exchange.get("body") or not recipe.get(role):
            continue
        endpoint, parent = recipe[role], None
        if role == "replies":
            # a replies answer's outermost comments hang under the comment the request names
            raw = params_of(exchange).get(endpoint["parent_param"])
            parent = f"{recipe['site']}:{wrap_id(recipe, raw)}" if raw else None
        try:
            _, comments = _comments_of(
                recipe, endpoint, exchange["body"].encode(), url, parent, 1 if parent else 0
            )
        except RecipeFailure:
            continue
        for comment in comments:
            page = shown.get(source_id(comment.comment_id))
            if page is None:
                continue
            checks = {"parent": (source_id(comment.parent_id), page["parent"])}
            if comment.text is not None and not comment.truncated and not page.get("truncated"):
                checks["text"] = (
                    normalise_whitespace(comment.text),
                    normalise_whitespace(page["text"] or ""),
                )
            if comment.author is not None and page.get("author"):
                checks["author"] = (
                    normalise_whitespace(comment.author),
                    normalise_whitespace(page["author"]),
                )
            for votes in ("upvotes", "downvotes"):
                if getattr(comment, votes) is not None and page.get(votes) is not None:
                    checks[votes] = (getattr(comment, votes), page[votes])
            wrong += [
                f"{comment.comment_id} {name}" for name, (mine, theirs) in checks.items() if mine != theirs
            ]
    # not one comment may disagree: the recipe would store it otherwise than the browser path, and
    # every browser re-check would then record an edit that never happened
    if wrong:
        raise InductionError(
            f"the recipe reads {len(wrong)} field(s) the page shows otherwise ({', '.join(wrong[:3])}, …): "
            "it would store wrong data"
        )


def replay(recipe: dict, exchanges: list[dict], url: str, dom_ids: set[str]) -> int:
    """Read the recorded comment-page answers with the recipe; every id must be one the DOM showed."""
    from crawler.recipes.execute import RecipeFailure, _comments_of, path_matches
    from crawler.recipes.induce import InductionError

    endpoint = recipe["comments"]
    count = 0
    for exchange in exchanges:
        if not path_matches(endpoint, exchange["path"]) or exchange["method"] != endpoint["method"]:
            continue
        if not exchange.get("body") or exchange.get("status") != 200:
            continue
        try:
            _, comments = _comments_of(recipe, endpoint, exchange["body"].encode(), url, None, 0)
        except RecipeFailure:
            continue  # a replies or full-text answer of the same endpoint
        ids = {source_id(c.comment_id) for c in comments}
        if ids - dom_ids:
            raise InductionError(f"the recipe reads ids the page never showed: {sorted(ids - dom_ids)[:3]}")
        count += len(ids)
    return count
