"""Run a recipe over plain HTTP: the requests it makes and how its answers become comments. Pure.

`first_calls` turns an article page into the first requests (the next comment page after what the
page shows, replies of shown comments that have more, full texts of shown cut comments); `read_answer`
turns one answer (its body, and its response headers: a `Link` header may name the next page) into
comments and the further requests it calls for. Both raise RecipeFailure when
the site no longer behaves as the recipe says (an article key the page does not carry, an answer of
another shape, ids that disagree with what the page shows, a cursor that repeats): the spider then
marks the recipe stale and falls back to the browser. No I/O here; the spider sends the requests.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode, urljoin, urlsplit, urlunsplit

from lxml.cssselect import CSSSelector

from crawler.items import CommentItem
from crawler.recipes.induce import next_link, url_key
from crawler.recipes.learn import read_fragment_items, source_id
from crawler.recipes.paths import JSON_SEPARATOR, PATH_PARAM, as_text, as_time, get, loads_json, scalar_text
from crawler.sites.html import parse_html
from crawler.text import strip_truncation

CUT_MARKS = ("…", "...")


class RecipeFailure(ValueError):
    """The site did not answer the way the recipe says; the message says how."""


#: what a bug of ours does with an answer of a shape nobody foresaw (a list where an object was, a
#: number where a text was): the answer does not fit the recipe, so the recipe fails like any answer
#: of another shape (stale, the article to the browser, nothing deleted) instead of the callback
SHAPE_ERRORS = (TypeError, AttributeError, IndexError, KeyError, ValueError, RecursionError)


@dataclass
class Call:
    """One request of a recipe, described without Scrapy."""

    role: str  # "comments", "replies" or "full_text"
    method: str
    url: str
    body: bytes | None
    content_type: str | None
    key: str
    context: dict[str, Any] = field(default_factory=dict)
    #: request headers the page's script sent (Accept, X-Requested-With, a CSRF header it carries)
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Answer:
    comments: list[CommentItem] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    end_reached: bool = False
    reported_total: int | None = None
    #: site ids of the top-level comments of a comment page (to check against what the page shows)
    top_ids: list[str] = field(default_factory=list)


def article_key(recipe: dict, page_html: str, page_url: str | None = None) -> str:
    """The article's key in the comment requests, read where the learned page carried it (or taken
    from the article's own address, for a widget that keys threads by URL: induce.URL_PARTS), behind
    the constant prefix the requests put before it ("ident:{}", induce._article_param)."""
    source = recipe.get("article_key") or {}
    key = _article_key(source, page_html, page_url)
    return source["template"].replace("{}", key) if source.get("template") else key


def _article_key(source: dict, page_html: str, page_url: str | None) -> str:
    if source.get("kind") == "url" and page_url:
        return url_key(page_url, source.get("part", "path"))
    if source.get("kind") == "attr":
        root = parse_html(page_html)
        for el in CSSSelector(source["css"], translator="html")(root):
            value = el.get(source["attr"])
            if value and source.get("pattern"):
                # the key is a part of the attribute ("post-123"): induce.article_key_source
                found = re.search(source["pattern"], value)
                value = found.group(1) if found else None
            if value:
                return value
    elif source.get("kind") == "script":
        found = re.search(source["regex"], page_html)
        if found:
            return found.group(1)
    raise RecipeFailure(f"the page does not carry the article key where the recipe says ({source})")


def _url(endpoint: dict, page_url: str, path: str) -> str:
    page = urlsplit(page_url)
    # an endpoint on the host the recipe was learned on follows the article's own host and scheme
    scheme, host = (
        (page.scheme, page.netloc) if endpoint.get("same_host") else (endpoint["scheme"], endpoint["host"])
    )
    return urlunsplit((scheme, host, path, "", ""))


def _path(endpoint: dict, values: dict[str, str]) -> str:
    """The endpoint's path with the segments the request names ("path:N") set to their values: the
    learned article's key, page or parent in a REST path is replaced by this request's."""
    segments = endpoint["path"].split("/")
    for name in [n for n in values if n.startswith(PATH_PARAM)]:
        index = int(name[len(PATH_PARAM) :])
        value = values.pop(name)
        if not 0 < index < len(segments):
            raise RecipeFailure(f"the recipe names path segment {index} of {endpoint['path']!r}")
        segments[index] = quote(value, safe="")
    return "/".join(segments)


def path_pattern(endpoint: dict) -> str:
    """The endpoint's path with the segments a request sets as "{}" (to compare two recipes' endpoints
    and to tell an endpoint's requests from others': /api/stories/{}/comments)."""
    segments = endpoint["path"].split("/")
    paging = endpoint.get("paging") or {}
    for name in (endpoint.get(k) for k in ("article_param", "parent_param", "id_param")):
        if name and name.startswith(PATH_PARAM):
            segments[int(name[len(PATH_PARAM) :])] = "{}"
    if (paging.get("param") or "").startswith(PATH_PARAM):
        segments[int(paging["param"][len(PATH_PARAM) :])] = "{}"
    return "/".join(segments)


def path_matches(endpoint: dict, path: str) -> bool:
    pattern = path_pattern(endpoint).split("/")
    segments = path.split("/")
    if len(pattern) != len(segments):
        return False
    return all(p in ("{}", s) for p, s in zip(pattern, segments, strict=True))


def _nest(values: dict[str, str]) -> dict:
    """A JSON body from parameters named by their paths ("variables.after" -> {"variables": {...}})."""
    body: dict = {}
    for name, value in values.items():
        *parents, last = name.split(JSON_SEPARATOR)
        node = body
        for key in parents:
            node = node.setdefault(key, {})
        node[last] = value
    return body


def _typed(value: str, kind: str | None) -> Any:
    """A JSON body parameter as the type the page sent it (recipes keep values as strings)."""
    try:
        if kind == "int":
            return int(value)
        if kind == "float":
            return float(value)
    except ValueError:
        return value  # a cursor where the page sent a number first: send what we have
    if kind == "bool":
        return value == "true"
    if kind == "null" and value in ("", "None"):
        return None
    return value


def _page_params(recipe: dict, role: str) -> dict:
    """The page tokens a role's requests carry (see induce._page_params). The single-comment request
    that confirms deletions (`confirm`) carries its own, or else those of the part that calls the same
    endpoint (the seed's confirm is its full-text request): the page's script sends them there too."""
    endpoint = recipe.get(role) or {}
    if endpoint.get("page_params") or role != "confirm" or not endpoint:
        return endpoint.get("page_params") or {}
    for other in ("full_text", "replies", "comments"):
        part = recipe.get(other) or {}
        if part.get("page_params") and _same_endpoint(part, endpoint):
            return part["page_params"]
    return {}


def _same_endpoint(a: dict, b: dict) -> bool:
    where = ("method", "scheme", "host", "same_host")
    return all(a.get(k) == b.get(k) for k in where) and path_pattern(a) == path_pattern(b)


def page_values(recipe: dict, page_html: str) -> dict[str, dict[str, str]]:
    """Per role, the tokens the recipe reads from each article page (see induce._page_params)."""
    values: dict[str, dict[str, str]] = {}
    for role in ("comments", "replies", "full_text", "confirm"):
        for name, source in _page_params(recipe, role).items():
            try:
                values.setdefault(role, {})[name] = article_key({"article_key": source}, page_html)
            except RecipeFailure:
                raise RecipeFailure(f"the page does not carry the {name!r} the API asks for") from None
    return values


def make_call(role: str, endpoint: dict, params: dict[str, str], page_url: str, context: dict) -> Call:
    """A request of `endpoint` with `params` (constants first, then the tokens this article's page
    carries), placed as the page placed them."""
    tokens = (context.get("page_values") or {}).get(role, {})
    values = {
        **endpoint.get("constants", {}),
        **{k: v for k, v in tokens.items() if not _header(k)},
        **params,
    }
    headers = {**endpoint.get("headers", {}), **{_header(k): v for k, v in tokens.items() if _header(k)}}
    url = _url(endpoint, page_url, _path(endpoint, values))
    values = _json_in_url(endpoint, values)
    body = content_type = None
    if endpoint["body"] == "query":
        url += "?" + urlencode(values) if values else ""
    else:
        in_url = {k: v for k, v in values.items() if k in (endpoint.get("query_params") or [])}
        rest = {k: v for k, v in values.items() if k not in in_url}
        if in_url:
            url += "?" + urlencode(in_url)
        if endpoint["body"] == "json":
            typed = {k: _typed(v, (endpoint.get("json_kinds") or {}).get(k)) for k, v in rest.items()}
            payload = _nest(typed) if endpoint.get("json_nested") else typed
            body = json.dumps(payload).encode()
            content_type = endpoint.get("content_type") or "application/json"
        else:
            body, content_type = urlencode(rest).encode(), "application/x-www-form-urlencoded"
    key = f"{role}:{endpoint['method']}:{url}:{body.decode() if body else ''}"
    return Call(role, endpoint["method"], url, body, content_type, key, context, headers)


def _json_in_url(endpoint: dict, values: dict[str, str]) -> dict[str, str]:
    """URL parameters that carry JSON (a GraphQL GET's `variables={…}`), rebuilt from the values
    named by their paths ("variables.after"), each with the JSON type the page sent it with."""
    names = endpoint.get("json_query") or []
    if not names:
        return values
    out = dict(values)
    kinds = endpoint.get("json_kinds") or {}
    for prefix in names:
        nested = {k: out.pop(k) for k in [k for k in out if k.startswith(prefix + JSON_SEPARATOR)]}
        if nested:
            typed = {k: _typed(v, kinds.get(k)) for k, v in nested.items()}
            out[prefix] = json.dumps(_nest(typed).get(prefix, {}), separators=(",", ":"))
    return out


def _header(name: str) -> str | None:
    """The header a page value goes to ("header:x-csrf-token"), None for a parameter."""
    return name.removeprefix("header:") if name.startswith("header:") else None


def _top_call(recipe: dict, key: str, page_url: str, value: str | None, context: dict) -> Call:
    endpoint = recipe["comments"]
    params = {endpoint["article_param"]: key}
    if endpoint.get("paging") and value is not None:
        params[endpoint["paging"]["param"]] = value
    return make_call("comments", endpoint, params, page_url, {"article_key": key, **context})


def _replies_call(
    recipe: dict, key: str, page_url: str, parent: CommentItem, shown: int, value=None, tokens=None
) -> Call | None:
    endpoint = recipe.get("replies")
    if not endpoint:
        return None
    paging = endpoint.get("paging")
    params = {endpoint["parent_param"]: bare_id(recipe, parent.comment_id)}
    if endpoint.get("article_param"):
        params[endpoint["article_param"]] = key
    if paging:
        start = paging.get("start") or {}
        if value is None and paging["kind"] == "offset":
            value = str(shown)
        elif value is None and start.get("kind") != "absent":
            value = start.get("value", "")
        if value is not None and paging["param"]:
            params[paging["param"]] = value
    context = {"article_key": key, "parent": parent.comment_id, "depth": parent.depth, "known": shown,
               "page_values": tokens or {}}  # fmt: skip
    return make_call("replies", endpoint, params, page_url, context)


_COMMENT_FIELDS = tuple(f.name for f in dataclasses.fields(CommentItem))


def _full_text_call(recipe: dict, key: str, page_url: str, comment: CommentItem, tokens=None) -> Call | None:
    endpoint = recipe.get("full_text")
    if not endpoint:
        return None
    params = {endpoint["id_param"]: bare_id(recipe, comment.comment_id)}
    # the comment's fields as they are now (all scalars: a shallow copy is asdict's deep one, at a
    # fraction of its cost once per cut comment)
    fields = {name: getattr(comment, name) for name in _COMMENT_FIELDS}
    context = {"article_key": key, "comment": fields, "page_values": tokens or {}}
    return make_call("full_text", endpoint, params, page_url, context)


def _is_cut(comment: CommentItem, recipe: dict | None = None) -> bool:
    """Cut by the reader's flag; unless the recipe says its reader flags every cut (`"cut": "flag"`),
    also a text that ends in an ellipsis (JSON items often carry no flag)."""
    if comment.truncated:
        return True
    if recipe is not None and recipe.get("cut") == "flag":
        return False
    return (comment.text or "").rstrip().endswith(CUT_MARKS)


def _follow_ups(
    recipe: dict, key: str, page_url: str, comments: list[CommentItem], tokens=None
) -> list[Call]:
    """Replies still to load (a reply count above the replies at hand) and full texts of cut comments."""
    direct: dict[str, int] = {}
    for comment in comments:
        if comment.parent_id:
            direct[comment.parent_id] = direct.get(comment.parent_id, 0) + 1
    calls = []
    for comment in comments:
        have = direct.get(comment.comment_id, 0)
        # nested answers may carry only a comment's first replies (Isso's nested_limit): a reply
        # count above the replies at hand asks for the rest all the same
        if comment.reply_count and comment.reply_count > have:
            call = _replies_call(recipe, key, page_url, comment, have, tokens=tokens)
            if call:
                calls.append(call)
        if _is_cut(comment, recipe):
            call = _full_text_call(recipe, key, page_url, comment, tokens=tokens)
            if call:
                calls.append(call)
    return calls


def first_calls(
    recipe: dict, page_html: str, page_url: str, shown: list[CommentItem], page_ended: bool = False
) -> list[Call]:
    """The requests that load the rest of a thread the page shows `shown` of.

    `page_ended`: the site's reader says the page shows the end of the top-level list (no "more"
    control, no comment count beyond what it shows); a recipe with `only_if_more` then asks for no
    comment page (the hand-written contract did not either), only for replies and full texts.
    Raises RecipeFailure when the page does not fit the recipe (as read_answer does for answers).
    """
    try:
        return _first_calls(recipe, page_html, page_url, shown, page_ended)
    except RecipeFailure:
        raise
    except SHAPE_ERRORS as exc:  # the last line of defence (see read_answer)
        raise RecipeFailure(f"the page does not fit the recipe ({type(exc).__name__}: {exc})") from exc


def _first_calls(
    recipe: dict, page_html: str, page_url: str, shown: list[CommentItem], page_ended: bool
) -> list[Call]:
    key = article_key(recipe, page_html, page_url)
    endpoint = recipe["comments"]
    if page_ended and endpoint.get("only_if_more"):
        return _follow_ups(recipe, key, page_url, shown)
    paging = endpoint.get("paging")
    top = [c for c in shown if not c.parent_id]
    top_ids = [source_id(c.comment_id) for c in top]
    tokens = page_values(recipe, page_html)
    context: dict[str, Any] = {"known": len(top), "cursors": [], "page_values": tokens}
    value: str | None = None
    if paging:
        start = paging.get("start") or {}
        if start.get("kind") == "absent":
            value = None  # the page's first request leaves the parameter out
        elif paging["kind"] == "page":
            value = start.get("value", "1")
            if top and int(value) > 1:
                # ask again for the page the article shows: its ids must be the ones shown
                value = str(int(value) - 1)
                context["verify"] = top_ids
        elif paging["kind"] == "offset":
            value = str(len(top))
            if top:
                value, context["verify"], context["known"] = "0", top_ids, 0
        elif start.get("kind") == "last_shown":
            value = bare_id(recipe, top[-1].comment_id) if top else ""
        elif start.get("kind") == "attr":
            value = article_key({"article_key": start}, page_html)
        else:
            value = start.get("value", "")
        if top and ("verify" in context or (recipe.get("seed") and start.get("kind") == "value")):
            # the recipe's pages cover what the page shows: it asks again for the page shown (a learned
            # recipe), or a seed (a written contract) starts at the first page of the whole list
            context["shown_top"] = top_ids
    calls = [_top_call(recipe, key, page_url, value, {**context, "value": value})]
    return calls + _follow_ups(recipe, key, page_url, shown, tokens=tokens)


def shown_to_list(calls: list[Call]) -> set[str]:
    """The site ids of the page's top-level comments that the recipe's comment pages must list by the
    time the thread's paging is complete (empty: the recipe starts after them and cannot be compared).

    The one check of a recipe against what the page itself shows, for seed and learned recipes alike:
    independent of the API's page size and order (the page may show 20 oldest, the API page 50 newest),
    so judged once the whole list is paged, over sets, never by the order in which answers arrive."""
    first = next((c for c in calls if c.role == "comments"), None)
    return set(first.context.get("shown_top") or ()) if first is not None else set()


# -- answers -----------------------------------------------------------------------------------


def _json(body: bytes) -> Any:
    try:
        return loads_json(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise RecipeFailure(f"the answer is not JSON: {exc}") from None


def wrap_id(recipe: dict, raw: str) -> str:
    """An id of the API as the page shows it ("123" -> "comment-123", see induce.id_affix)."""
    form = recipe.get("id_format") or {}
    return f"{form.get('prefix', '')}{raw}{form.get('suffix', '')}"


def bare_id(recipe: dict, comment_id: str | None) -> str | None:
    """A stored comment's id as the API takes it in a request (the inverse of wrap_id)."""
    value = source_id(comment_id)
    form = recipe.get("id_format") or {}
    prefix, suffix = form.get("prefix", ""), form.get("suffix", "")
    if value and (prefix or suffix) and value.startswith(prefix) and value.endswith(suffix):
        return value[len(prefix) : len(value) - len(suffix)]
    return value


def _joined(fields: dict, item: dict, data: Any) -> Any:
    """An item's author kept apart in the answer, in a map by id (induce._joined_author)."""
    join = fields.get("author_join")
    if not join:
        return None
    table = get(data, join["map"])
    if join.get("by") and isinstance(table, list):
        table = _indexed(table, tuple(join["by"]))  # a list of resources (JSON:API's `included`)
    key = scalar_text(get(item, join["key"]))
    entry = table.get(key) if isinstance(table, dict) and key is not None else None
    return get(entry, join["field"]) if isinstance(entry, dict) else None


#: the last list indexed by `_indexed` (every item of an answer looks its author up in one list)
_INDEXED: dict = {}


def _indexed(entries: list, by: tuple) -> dict:
    memo = _INDEXED.get("memo")
    if memo is not None and memo[0] is entries and memo[1] == by:
        return memo[2]
    table = {scalar_text(get(e, by)): e for e in entries if isinstance(e, dict)}
    _INDEXED["memo"] = (entries, by, table)  # holds the list: its id cannot be reused meanwhile
    return table


def _item_comment(
    recipe: dict, item: dict, parent: str | None, depth: int | None, data: Any = None
) -> CommentItem:
    site, fields = recipe["site"], recipe["item"]
    raw_id = scalar_text(get(item, fields["id"]))
    if not raw_id:
        raise RecipeFailure("an answer item has no id where the recipe says")
    raw_id = wrap_id(recipe, raw_id)
    if fields.get("parent"):
        raw_parent = scalar_text(get(item, fields["parent"]))
        top = (None, "", "0", fields.get("parent_root"))  # parent_root: Commento's "root"
        parent = f"{site}:{wrap_id(recipe, raw_parent)}" if raw_parent not in top else parent
    text = _string(get(item, fields.get("text")), "text")
    cut = bool(get(item, fields["cut"])) if fields.get("cut") else False
    posted = get(item, fields.get("time"))
    count = get(item, fields.get("reply_count"))
    author = get(item, fields.get("author")) if fields.get("author") else _joined(fields, item, data)
    return CommentItem(
        comment_id=f"{site}:{raw_id}",
        parent_id=parent,
        depth=depth,  # type: ignore[arg-type]  # None: not known yet (see _flat_depths)
        author=_string(author, "author"),
        # a string as the API gives it (the page shows the same); a Unix time as ISO-8601
        posted_at=posted if isinstance(posted, str) else as_time(posted),
        posted_at_precision="exact" if isinstance(posted, str) or as_time(posted) else None,
        text=strip_truncation(as_text(text)) if cut and isinstance(text, str) else as_text(text),
        truncated=cut,
        upvotes=_int(get(item, fields.get("upvotes"))),
        downvotes=_int(get(item, fields.get("downvotes"))),
        reply_count=_int(count),
    )


def _string(value: Any, name: str) -> str | None:
    """A text field as the recipe reads it: a string, or None where the API gives none. Anything else
    (a number, a list, an object where the page showed a text) is an answer of another shape: stored
    as it comes, it would record an edit or an author change that never happened."""
    if value is None or isinstance(value, str):
        return value
    raise RecipeFailure(f"a comment's {name} is a {type(value).__name__}, not a text, where the recipe says")


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    text = scalar_text(value)
    # ASCII digits only: str.isdigit() also takes "²", which int() refuses
    digits = text.lstrip("-") if text else ""
    return int(text) if digits.isascii() and digits.isdigit() else None


def _items(
    recipe: dict,
    items: list,
    parent: str | None,
    depth: int | None,
    data: Any = None,
    known: Mapping[str, int | None] | None = None,
) -> list[CommentItem]:
    """Comments of a list of JSON items, replies nested in them included (in page order).

    `depth` is that of the list's own items (None: not known yet); `known` the depths of the thread's
    comments read before this answer (the page's and earlier answers'), for a flat list's replies."""
    fields = recipe["item"]
    out: list[CommentItem] = []
    # an explicit stack, not recursion: a nested answer's depth is the site's to choose
    stack: list[tuple[Any, str | None, int | None]] = [(node, parent, depth) for node in reversed(items)]
    while stack:
        node, parent_id, level = stack.pop()
        if not isinstance(node, dict):
            raise RecipeFailure("a comment in the answer is not an object")
        comment = _item_comment(recipe, node, parent_id, level, data)
        out.append(comment)
        children = get(node, fields.get("replies")) if fields.get("replies") else None
        if isinstance(children, list):
            below = None if level is None else level + 1
            stack += [(child, comment.comment_id, below) for child in reversed(children)]
    if fields.get("parent"):
        _flat_depths(out, parent, depth, known or {})
    return out


def _flat_depths(
    comments: list[CommentItem], asked: str | None, asked_depth: int | None, known: Mapping[str, int | None]
) -> None:
    """Depths from the parent each item names (Commento, WordPress, Disqus list replies flat).

    A reply sits one level below its parent wherever the parent came: earlier in this answer, later
    in it (an answer ordered newest first lists replies before their parents), on an earlier page
    (`known`), or the comment whose replies were asked for (`asked`, at `asked_depth` - 1). A reply
    whose parent has not been seen (it may come on a later page, or never) gets None, never a guess:
    the spider places it once its parent arrives (crawler.spiders.thread_state.ThreadState.place)."""
    by_id = {c.comment_id: c for c in comments}
    resolved: dict[str, int | None] = {}
    for comment in comments:
        trail: list[CommentItem] = []
        on_trail: set[str] = set()
        node: CommentItem | None = comment
        base: int | None = None
        while node is not None:
            if node.comment_id in resolved:
                base = resolved[node.comment_id]
                break
            trail.append(node)
            on_trail.add(node.comment_id)
            up = node.parent_id
            if up is None:
                base, trail = node.depth, trail[:-1]  # a top-level item: its own level
                resolved[node.comment_id] = base
                break
            if asked is not None and up == asked:
                base, trail = asked_depth, trail[:-1]
                resolved[node.comment_id] = base
                break
            if up in known:
                parent_depth = known[up]
                base, trail = (None if parent_depth is None else parent_depth + 1), trail[:-1]
                resolved[node.comment_id] = base
                break
            nxt = by_id.get(up)
            if nxt is None or nxt.comment_id in on_trail:
                # the parent is not here (or the answer's parents form a cycle): not known yet
                base, trail = None, trail[:-1]
                resolved[node.comment_id] = None
                break
            node = nxt
        # `base` is the depth of the last node resolved; the trail hangs below it, one level each
        for step, below in enumerate(reversed(trail), start=1):
            resolved[below.comment_id] = None if base is None else base + step
    for comment in comments:
        comment.depth = resolved[comment.comment_id]  # type: ignore[assignment]


def _comments_of(
    recipe: dict, endpoint: dict, body: bytes, page_url: str, parent, depth: int | None, known=None
) -> tuple[Any, list]:
    answer = endpoint["answer"]
    if answer["format"] == "html":
        return None, _fragment(recipe, body.decode("utf-8", "replace"), page_url, parent, depth, known)
    data = _json(body)
    if answer["format"] == "json-html":
        html = get(data, answer.get("html"))
        if not isinstance(html, str):
            raise RecipeFailure("the answer has no HTML where the recipe says")
        return data, _fragment(recipe, html, page_url, parent, depth, known)
    items = get(data, answer.get("items"))
    if not isinstance(items, list):
        raise RecipeFailure("the answer has no list of comments where the recipe says")
    return data, _items(recipe, items, parent, depth, data, known)


def _fragment(
    recipe: dict,
    html: str,
    page_url: str,
    parent: str | None,
    depth: int | None,
    known: Mapping[str, int | None] | None = None,
) -> list[CommentItem]:
    """Comments of an HTML answer. The reader sees the fragment alone: its depths count from the
    fragment's outermost comments, and a reply whose parent came in another answer is one level
    below nothing it knows. So replies are placed as in a flat JSON list (_flat_depths): below
    their parent in the fragment, the comment asked for, or one known from earlier answers
    (`known`), else not known yet; top-level comments keep the reader's depth."""
    comments = read_fragment_items(html, page_url, recipe.get("reader") or recipe["site"])
    for comment in comments:
        # the fragment's outermost comments hang under the comment whose replies were asked for
        comment.parent_id = comment.parent_id or parent
    _flat_depths(comments, parent, depth, known or {})
    return comments


def _ended(
    endpoint: dict, data: Any, items: list, value: str | None = None, link: str | bool | None = None
) -> tuple[bool, str | None]:
    """(the list ended, the next cursor) by the recipe's end signal; no items always ends. `value`:
    the paging value of the request answered (a page number, against the answer's count of pages);
    `link`: the next page the answer's Link header names, "" when the header names none, False
    when there is no Link header, None when the answer's headers are not known."""
    end = endpoint.get("end") or {}
    paging = endpoint.get("paging") or {}
    cursor = get(data, paging.get("cursor_path")) if paging.get("cursor_path") else None
    if paging.get("kind") == "link":
        if link is None:
            raise RecipeFailure("the recipe pages by the Link header, but the answer's headers are unknown")
        cursor = link or None  # no Link header at all: a list of one page (GitHub sends none then)
    if paging.get("cursor_item"):
        # keyset paging: the next value is a field of this answer's last comment (old Isso's `after`)
        raw = get(data, (endpoint.get("answer") or {}).get("items"))
        cursor = get(raw[-1], paging["cursor_item"]) if isinstance(raw, list) and raw else None
    if not items:
        return True, None
    if end.get("has_more"):
        flag = get(data, end["has_more"])
        if not isinstance(flag, bool):
            raise RecipeFailure("the answer has no has-more flag where the recipe says")
        if not flag:
            return True, None
    if end.get("cursor_null") and cursor in (None, ""):
        return True, None
    if end.get("null_at") and get(data, end["null_at"]) in (None, ""):
        return True, None
    if end.get("zero_at") and get(data, end["zero_at"]) == 0:
        return True, None  # nothing left to show (Isso's hidden_replies)
    if paging.get("kind") == "link" and not link:
        return True, None  # no next page named: the last
    if end.get("link_next") and link == "":
        # a Link header that names no next page: the last (induce._end_signal); an answer without
        # one says nothing (a proxy may strip it), and the other signals decide
        return True, None
    if end.get("last_page"):
        # the page answered is the last the answer counts (Cusdis's pageCount, induce._last_page)
        pages, page = _int(get(data, end["last_page"])), _int(value if value is not None else "1")
        if pages is not None and page is not None and page >= pages:
            return True, None
    if end.get("page_size"):
        # a page shorter than the page size is the last (WordPress answers the page after it 400)
        size = _int((endpoint.get("constants") or {}).get(end["page_size"]))
        if size and len(items) < size:
            return True, None
    if not paging:
        return True, None  # a single page the recipe cannot continue
    text = scalar_text(cursor)
    if text is not None and paging.get("template"):
        return False, paging["template"].replace("{}", text)  # a filter holding it (induce._paging)
    return False, text


def read_answer(
    recipe: dict,
    call: Call,
    body: bytes,
    page_url: str,
    depths: Mapping[str, int | None] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Answer:
    """Comments in the answer to `call` and the requests that continue from it.

    `depths`: the depths of the thread's comments known so far (the page's and earlier answers'), by
    id: a flat list's reply whose parent came before sits below it; one whose parent has not come yet
    gets depth None (see _flat_depths). `headers`: the answer's response headers (names in any case):
    its Link header may name the next page or say there is none, and a count header the thread's
    total; None when they are not known (a Link-paged recipe then fails, and no end is read from
    them). Raises RecipeFailure for any answer that does not fit."""
    try:
        named = None if headers is None else response_headers(headers)
        return _read_answer(recipe, call, body, page_url, depths or {}, named)
    except RecipeFailure:
        raise
    except SHAPE_ERRORS as exc:  # the last line of defence: the causes are fixed where found
        raise RecipeFailure(f"the answer does not fit the recipe ({type(exc).__name__}: {exc})") from exc


def response_headers(headers: Mapping) -> dict[str, str]:
    """Response headers by lower-case name, as text: a dict of texts, or Scrapy's Headers (bytes
    names, each with a list of bytes values, joined by commas as RFC 9110 allows)."""

    def text(value: Any) -> str:
        return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)

    named = {}
    for name, value in headers.items():
        values = value if isinstance(value, (list, tuple)) else [value]
        named[text(name).lower()] = ",".join(text(v) for v in values)
    return named


def _read_answer(
    recipe: dict,
    call: Call,
    body: bytes,
    page_url: str,
    depths: Mapping[str, int | None],
    headers: Mapping[str, str] | None,
) -> Answer:
    key = call.context["article_key"]
    if call.role == "full_text":
        return _full_text(recipe, call, body, page_url)
    endpoint = recipe[call.role]
    if (recipe.get("item") or {}).get("parent_root_is") == "article_key":
        # top-level comments name this article's own key as their parent (induce._root_of_article)
        recipe = {**recipe, "item": {**recipe["item"], "parent_root": key}}
    parent = call.context.get("parent")
    depth: int | None = 0
    if parent:
        # the asked comment's depth as known now (it may have been placed since the call was made)
        above = depths.get(parent, call.context.get("depth"))
        depth = None if above is None else above + 1
    data, comments = _comments_of(recipe, endpoint, body, page_url, parent, depth, depths)
    if call.role == "comments":
        level = [c for c in comments if not c.parent_id]
    else:
        level = [c for c in comments if c.parent_id == parent]
    answer = Answer(comments=comments, top_ids=[source_id(c.comment_id) for c in level])
    if call.role == "comments" and endpoint.get("total"):
        answer.reported_total = _int(get(data, endpoint["total"]))
    elif call.role == "comments" and endpoint.get("total_header") and headers is not None:
        # a count the response headers carry where the body has none (induce._total_header)
        answer.reported_total = _int(headers.get(endpoint["total_header"]))
    verify = call.context.get("verify")
    # as sets: a page may order its first comments differently from the API's first page
    if verify is not None and answer.top_ids and set(answer.top_ids) != set(verify):
        raise RecipeFailure(
            f"page 1 of the recipe ({len(answer.top_ids)} comments) disagrees with the page "
            f"({len(verify)} shown)"
        )
    listed = _listed(recipe, endpoint, data, comments)
    # what the API's list holds decides its paging (a flat list pages replies and comments alike);
    # an HTML answer, every comment it holds (as induce._add_page_size counts them): a thread-order
    # pager's page may hold only replies of a comment an earlier page held, and is no empty page
    link = None if headers is None else "link" in headers and (next_link(headers, call.url) or "")
    ended, cursor = _ended(
        endpoint, data, comments if listed is None else listed, call.context.get("value"), link
    )
    paging = endpoint.get("paging")
    repeats = paging and paging["kind"] in ("page", "offset") and answer.top_ids
    if repeats and answer.top_ids == call.context.get("previous_top"):
        # the same comments as the page before: a server that ignores the page number or offset
        # would be asked for ever
        raise RecipeFailure("a page repeats the one before it: the paging parameter is not honoured")
    if not ended and paging:
        known = call.context.get("known", 0) + len(_counted(paging, level, listed, comments))
        cursors = list(call.context.get("cursors", []))
        if paging["kind"] == "page":
            value = str(int(call.context["value"] or 1) + 1)
        elif paging["kind"] == "offset":
            value = str(known)
            if value == call.context.get("value"):
                # an answer with comments that moves the offset by none (a page of replies only, the
                # offset counting top-level comments): the same request would be sent for ever
                raise RecipeFailure(f"the offset does not move past {value}: it counts otherwise")
        else:
            value = cursor or ""
            if value in cursors or value == call.context.get("value"):
                raise RecipeFailure(f"the cursor repeats ({value!r}): the paging parameter is not honoured")
            cursors.append(call.context.get("value") or "")
        context = {**{k: v for k, v in call.context.items() if k != "verify"}, "known": known, "value": value,
                   "cursors": cursors, "previous_top": answer.top_ids}  # fmt: skip
        if paging["kind"] in ("next_url", "link"):
            # the answer names the next page's address itself (in its body or its Link header): its
            # host must be the API's own, so the host guard that allowed the first holds for it
            answer.calls.append(_next_url_call(call, value, context))
        elif call.role == "comments":
            answer.calls.append(_top_call(recipe, key, page_url, value, context))
        else:
            parent_item = CommentItem(comment_id=parent, depth=None if depth is None else depth - 1)  # type: ignore[arg-type]
            nxt = _replies_call(
                recipe, key, page_url, parent_item, known, value, call.context.get("page_values")
            )
            if nxt:
                nxt.context.update(cursors=cursors)
                answer.calls.append(nxt)
    elif call.role == "comments":
        answer.end_reached = True
    answer.calls += _follow_ups(recipe, key, page_url, comments, call.context.get("page_values"))
    return answer


def _counted(paging: dict, level: list, listed: list | None, comments: list) -> list:
    """The comments an offset counts past in one answer (induce.COUNTS): those of the level paged, or
    every comment of the answer, nested replies included; a recipe that does not say (learned before
    the two were told apart) counts the items of the answer's list."""
    counts = paging.get("counts")
    if counts == "all":
        return comments
    if counts == "level":
        return level
    return level if listed is None else listed


def _listed(recipe: dict, endpoint: dict, data: Any, comments: list[CommentItem]) -> list[CommentItem] | None:
    """The comments that are items of a JSON answer's list itself (not replies nested in them), or
    None for an HTML answer."""
    if endpoint["answer"]["format"] != "json":
        return None
    raw = get(data, endpoint["answer"].get("items"))
    if not isinstance(raw, list):
        return None
    site, id_path = recipe["site"], recipe["item"]["id"]
    ids = {f"{site}:{wrap_id(recipe, scalar_text(get(i, id_path)))}" for i in raw if isinstance(i, dict)}
    return [c for c in comments if c.comment_id in ids]


def _next_url_call(call: Call, value: str, context: dict) -> Call:
    url = urljoin(call.url, value)
    if urlsplit(url).scheme not in ("http", "https"):
        raise RecipeFailure(f"the next-page address is not http(s): {url[:100]}")
    if urlsplit(url).netloc != urlsplit(call.url).netloc:
        raise RecipeFailure(f"the next-page address leaves the API's host: {url[:100]}")
    key = f"{call.role}:GET:{url}:"
    return Call(call.role, "GET", url, None, None, key, {**call.context, **context}, call.headers)


def _full_text(recipe: dict, call: Call, body: bytes, page_url: str) -> Answer:
    endpoint = recipe["full_text"]
    original = CommentItem(**call.context["comment"])
    answer = endpoint["answer"]
    if answer["format"] == "json":
        text = as_text(get(_json(body), answer.get("text")))
        if not isinstance(text, str):
            raise RecipeFailure("the full-text answer has no text where the recipe says")
        return Answer(comments=[dataclasses.replace(original, text=text, truncated=False)])
    _, comments = _comments_of(recipe, endpoint, body, page_url, original.parent_id, original.depth or 0)
    mine = [c for c in comments if c.comment_id == original.comment_id]
    if not mine:
        raise RecipeFailure(f"the full-text answer does not hold {original.comment_id}")
    full = mine[0]
    if _is_cut(full, recipe) and (
        full.truncated or len(full.text or "") <= len(strip_truncation(original.text or ""))
    ):
        # (a whole text may end in "…" itself: still cut only when flagged, or no longer than the cut)
        raise RecipeFailure(f"the full text of {original.comment_id} is still cut")
    return Answer(
        comments=[
            dataclasses.replace(
                original, text=full.text, truncated=False, author=full.author or original.author
            )
        ]
    )


# -- confirming a deletion: the recipe's single-comment request -----------------------------------


def confirm_call(
    recipe: dict, page_url: str, comment_id: str, tokens: dict[str, dict[str, str]] | None = None
) -> Call | None:
    """The recipe's single-comment request (its `confirm` part) for a comment a complete load missed,
    or None when the recipe has none. Its key differs from the full-text request of the same comment.

    `tokens`: what `page_values` read from the article's own page (a nonce, a CSRF token): the confirm
    request carries them like the thread's other requests (a site checking them would refuse it)."""
    endpoint = recipe.get("confirm")
    if not endpoint:
        return None
    params = {endpoint["id_param"]: bare_id(recipe, comment_id)}
    return make_call(
        "confirm", endpoint, params, page_url, {"comment": comment_id, "page_values": tokens or {}}
    )


def gone_statuses(recipe: dict) -> list[int]:
    """HTTP statuses the confirm request answers with when the comment may be gone (not errors)."""
    return list(((recipe.get("confirm") or {}).get("gone") or {}).get("statuses") or [])


def read_confirmation(
    recipe: dict, call: Call, status: int, body: bytes, page_url: str
) -> tuple[bool | None, list[CommentItem]]:
    """(gone, comments) from the answer to `confirm_call`.

    gone is True when the site says it has no such comment (a gone status with the recipe's failure
    answer, a gone status without an answer where the recipe allows that, or a success without the
    comment), False when it shows the comment (`comments` hold what it shows), None when the answer
    says nothing either way (5xx, another shape): the comment then stays a deletion candidate.
    """
    endpoint = recipe["confirm"]
    gone = endpoint.get("gone") or {}
    wanted = call.context["comment"]
    if status in (gone.get("statuses") or []):
        try:
            answer = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return (True if status in (gone.get("without_answer") or []) else None), []
        failure = gone.get("failure")
        failed = failure is not None and get(answer, failure["path"]) == failure["value"]
        return (True if failed else None), []
    if status != 200:
        return None, []
    try:
        _, comments = _comments_of(recipe, endpoint, body, page_url, None, 0)
    except RecipeFailure:
        return None, []
    if not any(c.comment_id == wanted for c in comments):
        return True, []
    return False, comments
