"""Induce a comment-API recipe from recorded exchanges: pure functions, no I/O.

Input: the fetch/XHR exchanges the browser recorded while it expanded a thread (crawler.browser.record),
the article page as plain HTTP serves it, the comments the page showed before any click and the
comments the expanded DOM showed (dicts: id, parent, author, text, posted_at, upvotes, downvotes, all
as the site shows them, ids without our "site:" prefix), and a `read_fragment` function that reads an
HTML fragment into comments the same way (the site's adapter or profile).

1. Which answers carried comments: JSON whose list of objects has values equal to the DOM's comment
   ids, or HTML (the whole answer, or a string inside the JSON) that `read_fragment` reads into
   comments the DOM showed. Everything else (analytics, presence pings, …) is ignored.
2. Their role: an answer holding the comment named by a request parameter is a full text; one whose
   comments all answer to the comment named by a parameter is replies; the rest are comment pages.
   A parameter that pages (page=1 …) never names a comment, even when it equals one's id.
3. Per role, the request template: method, host, path, operation (one GraphQL endpoint runs several),
   where the parameters go (query, form, JSON body, JSON inside a URL parameter, path segments),
   which are constant, which one carries the article's key (and where the page carries that key: an
   attribute or a part of one, a script value, or the page's own address: its path, origin + path,
   or slug) or the parent's id, and which one pages: a page number (+1 per request), an offset (the
   number of comments known before the request: those of the level it pages, or every comment the
   answers carried, nested replies included, told apart by the recorded offsets: COUNTS) or a
   cursor (a value copied from the previous answer, or a field of its last comment), or else the
   next address the previous answer named (in its body, or in its `Link: <…>; rel="next"` response
   header, wherever on the API's host it leads); and the end signal (a has-more flag that turns
   false, a cursor that turns null, a count of what is left that reaches 0, a Link header that
   names no next page, a page shorter than the page size, an empty page) and the reported total
   (in the body, or a count header: TOTAL_HEADERS). Constant
   ids the page carries are read from each page, never kept as the learned page's values.
4. For JSON, the field path of each comment field, chosen by agreement with the DOM over every item:
   replies nested at any depth of an item, a top-level parent sentinel ("root"), authors kept in a
   separate map by id. What no field agrees on is left NULL; replies that cannot be placed or texts
   no field holds refuse the recipe (crawler.recipes.learn then reads the recorded pages back with
   it and refuses it when they disagree with the page).

The shapes of real comment systems it is tested on (Isso, Remark42, Commento, Coral, Cusdis,
WordPress REST, Drupal's pager, Mastodon, GitHub issue comments, Ghost) are modelled in
tests/comment_systems.py, with the sources they were read from. What it cannot follow it refuses
(InductionError), never a recipe that would read part of a thread as all of it: pages that no
parameter, answer or Link header explains, a top level marked by an id of the learned thread's own.

`induce` returns the recipe as a JSON-able dict, or raises InductionError saying what was missing.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl, unquote, urljoin, urlsplit

from lxml.html import HtmlElement

from crawler.recipes.paths import (
    JSON_SEPARATOR,
    PATH_PARAM,
    as_text,
    as_time,
    dict_lists,
    get,
    leaves,
    loads_json,
    scalar_text,
    strings,
)
from crawler.sites.html import parse_html
from crawler.text import is_prefix_of, normalise_whitespace

RECIPE_VERSION = 1
#: a field path is taken when it agrees with the DOM on at least this share of the items
AGREEMENT = 0.9
#: how deep an answer's cursor, has-more flag or total may sit (GraphQL answers nest them:
#: data.story.comments.pageInfo.endCursor)
ANSWER_DEPTH = 7
#: how deep a comment's field may sit in its item (JSON:API: relationships.pid.data.meta.<id>)
ITEM_DEPTH = 6
#: parameter names that look like credentials: never stored unless a setting allows it, and read
#: from each article's page where it carries them (_page_params). Public keys too (Disqus's
#: `api_key`, Google's `key`, a `data-sitekey`, an `X-Api-Key` header): not secret, but a site's
#: own, and never an article's key (a key the embed carries in an attribute would else be taken
#: for it, and the real thread parameter stored as a constant of the learned article)
CREDENTIAL = re.compile(
    r"(?i)(token|nonce|csrf|xsrf|auth|session|secret|signature|^sig$|^security$|api[_-]?key|^key$"
    r"|(public|site|client|app)[_-]?key$)"
)

Comment = dict[str, Any]
Reader = Callable[[str], list[Comment]]


class InductionError(ValueError):
    """The exchanges do not show how the thread pages; the message says what is missing."""


# -- 1. answers that carried comments -------------------------------------------------------------


def _json(exchange: dict) -> Any:
    body = exchange.get("body")
    if not body or exchange.get("body_truncated"):
        return None
    try:
        return loads_json(body)
    except ValueError:
        return None


def _id_path(items: list[dict], ids: set[str]) -> tuple[tuple, int]:
    """The leaf path whose values are DOM comment ids in the most items, and in how many."""
    hits: Counter[tuple] = Counter()
    for item in items:
        for path, value in leaves(item, max_depth=2):
            if scalar_text(value) in ids:
                hits[path] += 1
    if not hits:
        return (), 0
    path, count = max(hits.items(), key=lambda kv: (kv[1], -len(kv[0])))
    return path, count


def find_comments(exchange: dict, dom: dict[str, Comment], read_fragment: Reader | None) -> dict | None:
    """What comments an answer carried, or None: {"format", "items_path"/"html_path", "items", "ids"}."""
    if not exchange.get("status") or not 200 <= exchange["status"] < 300:
        return None
    ids = set(dom)
    data = _json(exchange)
    if data is not None:
        for path, items in dict_lists(data):
            id_path, count = _id_path(items, ids)
            if count:
                return {"format": "json", "items_path": list(path), "id_path": list(id_path),
                        "items": items, "ids": [scalar_text(get(i, id_path)) for i in items],
                        "data": data}  # fmt: skip
        if read_fragment is not None:
            for path, text in strings(data):
                if "<" in text and ">" in text:
                    found = [c for c in read_fragment(text) if c["id"] in ids]
                    if found:
                        return {"format": "json-html", "html_path": list(path), "comments": found,
                                "ids": [c["id"] for c in found]}  # fmt: skip
        if isinstance(data, dict):  # a single comment object (a full-text answer)
            id_path, count = _id_path([data], ids)
            if count:
                return {"format": "json-object", "id_path": list(id_path), "items": [data],
                        "ids": [scalar_text(get(data, id_path))]}  # fmt: skip
        return None
    if read_fragment is not None and "html" in (exchange.get("content_type") or ""):
        found = [c for c in read_fragment(exchange.get("body") or "") if c["id"] in ids]
        if found:
            return {"format": "html", "html_path": None, "comments": found, "ids": [c["id"] for c in found]}
    return None


def params_of(exchange: dict) -> dict[str, str]:
    """Every value a request carries, as strings, by name: its query and body parameters, the scalars
    of a JSON body (nested ones such as GraphQL `variables` named by their path, "variables.after"),
    and its path segments ("path:3"), because REST APIs carry the article's key, the parent's id or
    the page in the path (/api/stories/123/comments?page=2, /comments/page/3)."""
    params = _path_params(exchange.get("path") or "")
    params.update(exchange.get("query") or {})
    for name, value in json_query(exchange).items():
        # GraphQL over GET (Apollo's persisted queries): variables={"after": …} in the URL
        params.pop(name)
        params.update(_json_params({name: value}))
    if exchange.get("body_kind") == "form":
        params.update(exchange.get("form") or {})
    elif exchange.get("body_kind") == "json" and isinstance(exchange.get("json"), dict):
        params.update(_json_params(exchange["json"]))
    return params


def json_query(exchange: dict) -> dict[str, dict]:
    """Query parameters whose value is a JSON object (`variables`, `extensions` of a GraphQL GET)."""
    out = {}
    for name, value in (exchange.get("query") or {}).items():
        if value.startswith("{"):
            try:
                parsed = json.loads(value)
            except ValueError:
                continue
            if isinstance(parsed, dict):
                out[name] = parsed
    return out


def _path_params(path: str) -> dict[str, str]:
    return {f"{PATH_PARAM}{i}": unquote(s) for i, s in enumerate(path.split("/")) if s}


def _json_leaves(body: dict, prefix: str = "", depth: int = 0) -> dict[str, Any]:
    """A JSON body's values by name, nested objects (GraphQL `variables`) named by their path."""
    values: dict[str, Any] = {}
    for key, value in body.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and depth < 3:
            values.update(_json_leaves(value, f"{name}{JSON_SEPARATOR}", depth + 1))
        else:
            values[name] = value
    return values


def _json_params(body: dict) -> dict[str, str]:
    texts = {name: scalar_text(value) for name, value in _json_leaves(body).items()}
    return {name: text for name, text in texts.items() if text is not None}


#: JSON types a recipe keeps for a body parameter that is not a string: an API that takes
#: `"first": 8` may refuse `"first": "8"`, so a recipe sends each as the page did
_KINDS = ((bool, "bool"), (int, "int"), (float, "float"), (type(None), "null"))


def _json_kinds(body: dict) -> dict[str, str]:
    kinds = {}
    for name, value in _json_leaves(body).items():
        kind = next((k for t, k in _KINDS if isinstance(value, t)), None)
        if kind:
            kinds[name] = kind
    return kinds


def _is_path(name: str) -> bool:
    return name.startswith(PATH_PARAM)


def _keylike(value: str) -> bool:
    """A path segment that could be an article's key (a number, a slug, an opaque id), not a word of
    the API's address ("api", "comments", "threads"): those words also occur in the page's markup."""
    return any(ch.isdigit() for ch in value) or "-" in value or "_" in value or len(value) >= 12


def path_shape(path: str) -> str:
    """A path with the segments that carry values (they have digits) as "*": the requests of one
    endpoint have one shape whatever thread, page or parent they ask for."""
    return "/".join("*" if any(ch.isdigit() for ch in s) else s for s in path.split("/"))


def _shown_parent(dom: dict[str, Comment], comment_id: str | None) -> str | None:
    """The parent the page showed for an answer's item; None for an item the page never showed (an
    answer may list a comment the DOM does not: posted meanwhile, or held for moderation)."""
    comment = dom.get(comment_id) if comment_id is not None else None
    return comment["parent"] if comment is not None else None


def _descends(comment_id: str, ancestor: str, dom: dict[str, Comment]) -> bool:
    seen: set[str] = set()
    while comment_id in dom and comment_id not in seen:
        seen.add(comment_id)
        comment_id = dom[comment_id]["parent"]
        if comment_id == ancestor:
            return True
    return False


#: parameters that page, never name a comment (page=1 is no request for comment 1)
PAGING_NAME = re.compile(
    r"(?i)(^|[._:])(page|p|offset|skip|start|cursor|after|before|since|from|limit|per_?page|count|size"
    r"|first|last)$"
)


def _stepping(exchanges: list[dict]) -> set[str]:
    """Parameters of one endpoint that took consecutive numbers across its requests (1, 2, 3 …):
    a page number, whatever it is called, even where it equals a comment's id."""
    values: dict[tuple, set[int]] = defaultdict(set)
    for exchange in exchanges:
        for name, value in params_of(exchange).items():
            if value.isdigit():
                values[(_endpoint(exchange), name)].add(int(value))
    out = set()
    for (_key, name), numbers in values.items():
        ordered = sorted(numbers)
        # from 0, 1 or 2 (page 1 may be in the article): parents 101, 102, 103 asked in a row are ids
        steps = all(b == a + 1 for a, b in zip(ordered, ordered[1:], strict=False))
        if len(ordered) >= 2 and ordered[0] <= 2 and steps:
            out.add(name)
    return out


def _role(
    exchange: dict, found: dict, dom: dict[str, Comment], stepping=frozenset()
) -> tuple[str, str | None]:
    """("full_text" | "replies" | "comments", the parameter naming the comment or parent)."""
    params = {n: v for n, v in params_of(exchange).items() if n not in stepping and not PAGING_NAME.search(n)}
    returned = set(found["ids"])
    for name, value in params.items():
        # the comment the request names, alone or with replies of its own (not a page starting there)
        named = value in returned and value in dom and found["ids"][0] == value
        if named and all(i == value or _descends(i, value, dom) for i in found["ids"]):
            return "full_text", name
    for name, value in params.items():
        # replies of the named comment, with replies of their own nested in the answer (any depth)
        if value in dom and all(_descends(i, value, dom) for i in found["ids"] if _shown_parent(dom, i)):
            direct = [i for i in found["ids"] if _shown_parent(dom, i) == value]
            if direct:
                return "replies", name
    return "comments", None


# -- 4. field paths of JSON items -------------------------------------------------------------------


def _flatten(items: list[dict], dom: dict[str, Comment], id_path: tuple, nested: tuple | None):
    """(item, its DOM comment) for every item, nested replies included."""
    out = []
    for item in items:
        key = scalar_text(get(item, id_path))
        if key in dom:
            out.append((item, dom[key]))
        if nested:
            children = get(item, nested)
            if isinstance(children, list):
                out += _flatten([c for c in children if isinstance(c, dict)], dom, id_path, nested)
    return out


def _norm(text: Any) -> str | None:
    text = as_text(text)
    return normalise_whitespace(text) if isinstance(text, str) else None


def _same_time(a: Any, b: Any) -> bool:
    """The same moment: an ISO string or a Unix time against the time the page showed."""
    mine = as_time(a)
    return mine is not None and mine == as_time(b)


def _children_count(dom: dict[str, Comment]) -> dict[str, int]:
    counts: Counter[str] = Counter(c["parent"] for c in dom.values() if c["parent"])
    return {key: counts.get(key, 0) for key in dom}


def _best(pairs, test: Callable[[Any, Comment], bool | None], exclude: set, home: tuple = ()) -> list | None:
    """The leaf path that passes `test` on the most pairs (None results do not count), if it agrees
    on at least AGREEMENT of the pairs it could be tested on."""
    agree: Counter[tuple] = Counter()
    tried: Counter[tuple] = Counter()
    for item, comment in pairs:
        for path, value in leaves(item, max_depth=ITEM_DEPTH):
            if path in exclude:
                continue
            verdict = test(value, comment)
            if verdict is None:
                continue
            tried[path] += 1
            agree[path] += bool(verdict)
    # a field beside the id (node.createdAt) before one of the wrapper around it (the edge's cursor)
    ranked = sorted(agree, key=lambda p: (agree[p], p[:-1] == home, -len(p)), reverse=True)
    for path in ranked:
        if agree[path] and agree[path] >= AGREEMENT * tried[path]:
            return list(path)
    return None


def _nested_path(items: list[dict], dom: dict[str, Comment], id_path: tuple) -> tuple | None:
    """The path in an item of the list that holds the item's replies (threads nested in the answer):
    a key of the item ("replies"), or deeper (Coral: node.replies.edges)."""
    for item in items:
        parent = scalar_text(get(item, id_path))
        for path, value in dict_lists(item):
            if not path or len(path) > 4 or any(isinstance(step, int) for step in path):
                continue
            child = scalar_text(get(value[0], id_path))
            if child in dom and dom[child]["parent"] == parent:
                return tuple(path)
    return None


def field_paths(findings: list[dict], dom: dict[str, Comment]) -> dict[str, Any]:
    """Where each comment field is in a JSON item (paths relative to the item)."""
    json_findings = [f for f in findings if f["format"] in ("json", "json-object")]
    if not json_findings:
        return {}
    id_path = tuple(Counter(tuple(f["id_path"]) for f in json_findings).most_common(1)[0][0])
    items = [i for f in json_findings for i in f["items"]]
    nested = _nested_path(items, dom, id_path)
    pairs = _flatten(items, dom, id_path, nested)
    kids = _children_count(dom)
    taken: set[tuple] = {id_path}

    def pick(name: str, test) -> list | None:
        path = _best(pairs, test, taken, id_path[:-1])
        if path is not None:
            taken.add(tuple(path))
        return path

    def number(key: str):
        # a count may come as a string ("12"): the executor reads digits either way
        return lambda v, c: (
            None if c.get(key) is None or isinstance(v, bool) else scalar_text(v) == str(c[key])
        )

    fields: dict[str, Any] = {"id": list(id_path), "replies": list(nested) if nested else None}

    # the field that holds the whole text, before one that agrees only as a prefix (a subject line,
    # an excerpt): that one is taken only for an answer whose texts are cut (a full text follows)
    def whole(v, c):
        return None if not c.get("text") or not isinstance(v, str) else _norm(v) == _norm(c["text"])

    fields["text"] = pick("text", whole) or pick(
        "text",
        lambda v, c: None if not c.get("text") or not isinstance(v, str)
        else _norm(v) == _norm(c["text"]) or (len(v) >= 20 and is_prefix_of(as_text(v), c["text"])),
    )  # fmt: skip
    fields["author"] = pick(
        "author", lambda v, c: None if not c.get("author") else _norm(v) == _norm(c["author"])
    )
    fields["parent"] = pick(
        "parent",
        lambda v, c: False if isinstance(v, bool) else None if c.get("parent") is None and v is None
        else scalar_text(v) == c.get("parent") if c.get("parent") else v in (None, "", 0, "0"),
    )  # fmt: skip
    if fields["parent"] is not None and not any(c.get("parent") for _, c in pairs):
        fields["parent"] = None  # only top-level items seen: a path that is always empty says nothing
    fields["time"] = pick(
        "time", lambda v, c: None if not c.get("posted_at") else _same_time(v, c["posted_at"])
    )
    fields["upvotes"] = pick("upvotes", number("upvotes"))
    fields["downvotes"] = pick("downvotes", number("downvotes"))
    fields["reply_count"] = pick(
        "reply_count",
        lambda v, c: None if isinstance(v, bool) or not isinstance(v, int) else v == kids.get(c["id"]),
    )  # fmt: skip
    if fields["parent"] is None and any(c.get("parent") for _, c in pairs):
        rooted = _rooted_parent(pairs, taken, set(dom))
        if rooted is not None:
            fields["parent"], fields["parent_root"] = rooted
    fields["cut"] = _cut_flag(pairs, fields["text"], taken) if fields["text"] else None
    if fields["author"] is None and any(c.get("author") for _, c in pairs):
        fields["author_join"] = _joined_author(json_findings, dom, id_path, nested)
    return fields


def _rooted_parent(pairs, taken: set, ids: set[str]) -> tuple[list, str] | None:
    """A parent path whose top-level value is one constant that is no comment's id (Commento's
    `"parentHex": "root"`), and the parent's id on every reply: (path, that constant)."""
    replies: Counter[tuple] = Counter()
    roots: dict[tuple, set] = defaultdict(set)
    n_replies = sum(1 for _, c in pairs if c.get("parent"))
    for item, comment in pairs:
        for path, value in leaves(item):
            if path in taken or isinstance(value, bool):
                continue
            text = scalar_text(value)
            if comment.get("parent"):
                replies[path] += text == comment["parent"]
            else:
                roots[path].add(text)
    for path, agree in replies.most_common():
        root = roots.get(path)
        if agree >= AGREEMENT * n_replies and root and len(root) == 1:
            value = next(iter(root))
            if value and value not in ids:
                return list(path), value
    return None


def _root_of_article(item: dict, group: list[tuple[dict, dict]], article_param: str) -> None:
    """Whether the constant a top-level comment names as its parent is the article's own key (a
    Mastodon toot's direct replies name the toot): each call then reads it as its own article's key
    (`parent_root_is`; `parent_root` keeps the learned value, to read the learned answers back). A
    constant like an id that no request named is one thread's own (a conversation id): another
    article's would differ, and its comments would all be stored as replies of a comment that
    does not exist, so the recipe is refused. A word ("root") or zeros are the same everywhere."""
    root = item.get("parent_root")
    if root is None:
        return
    if root in {params_of(e).get(article_param) for e, _ in group}:
        item["parent_root_is"] = "article_key"
    elif any(ch.isdigit() for ch in root) and len(root) >= 4 and set(root) - set("0-"):
        raise InductionError(
            f"the top level is marked by a value of the learned thread's own ({root!r}) that no request "
            "names: another article's comments would be stored as replies of a comment it lacks"
        )


def _maps(data: Any, prefix: tuple = (), depth: int = 0):
    """(path, dict) of every object of an answer whose values are all objects: a map by id."""
    if not isinstance(data, dict) or depth > 3:
        return
    if data and all(isinstance(v, dict) for v in data.values()):
        yield prefix, data
    for key, value in data.items():
        yield from _maps(value, (*prefix, key), depth + 1)


def _tables(data: Any, items_path: tuple):
    """(path, by, {key: entry}) of every table of an answer an item may name an entry of: a map by
    id (by None), or a list of objects indexed by one of their fields whose values are unique
    (JSON:API's `included` resources by `id`)."""
    for path, table in _maps(data):
        if path != items_path:
            yield path, None, table
    for path, entries in dict_lists(data):
        if path == items_path or len(path) > 3:
            continue
        for by in sorted({p for e in entries[:1] for p, _ in leaves(e, max_depth=2)}, key=str):
            keys = [scalar_text(get(e, by)) for e in entries]
            if None not in keys and len(set(keys)) == len(keys):
                yield path, by, dict(zip(keys, entries, strict=True))


def _joined_author(findings: list[dict], dom: dict[str, Comment], id_path: tuple, nested) -> dict | None:
    """Where an item's author is when the answer keeps authors apart, in a map by id (Commento:
    `commenters[comment.commenterHex].name`) or a list of resources (JSON:API's `included`, by
    `id`): {"map", "by", "key", "field"} agreeing with the DOM on at least AGREEMENT of the items,
    or None (the author is then left NULL, never guessed)."""
    hits: Counter[tuple] = Counter()
    tried = 0
    for finding in findings:
        data = finding.get("data")
        tables = list(_tables(data, tuple(finding.get("items_path") or ())))
        if not tables:
            continue
        for item, comment in _flatten(finding["items"], dom, id_path, nested):
            if not comment.get("author"):
                continue
            tried += 1
            for map_path, by, table in tables:
                for key_path, value in leaves(item, max_depth=ITEM_DEPTH):
                    entry = table.get(scalar_text(value)) if scalar_text(value) is not None else None
                    if not isinstance(entry, dict):
                        continue
                    for field_path, name in leaves(entry):
                        if isinstance(name, str) and _norm(name) == _norm(comment["author"]):
                            hits[(map_path, by, key_path, field_path)] += 1
    if not hits or not tried:
        return None
    # on a tie, a table by its id (JSON:API's `id`, its relationship) before one by another field
    # that happens to match (a username the comment repeats)
    (map_path, by, key_path, field_path), agree = max(
        hits.items(), key=lambda kv: (kv[1], kv[0][1] is None or str(kv[0][1][-1]).lower().endswith("id"))
    )
    if agree < AGREEMENT * tried:
        return None
    join = {"map": list(map_path), "key": list(key_path), "field": list(field_path)}
    return {"map": join["map"], "by": list(by), **join} if by is not None else join


def _cut_flag(pairs, text_path: list, taken: set) -> list | None:
    """A boolean path true exactly on the items whose text is shorter than the DOM's full text."""
    agree: Counter[tuple] = Counter()
    tried: Counter[tuple] = Counter()
    for item, comment in pairs:
        cut = _norm(get(item, text_path)) != _norm(comment.get("text"))
        for path, value in leaves(item):
            if isinstance(value, bool) and path not in taken:
                tried[path] += 1
                agree[path] += value == cut
    # items without the flag (a full-text answer's object) do not count against it
    good = [p for p, n in agree.items() if n == tried[p]]
    return (
        list(good[0])
        if good and any(_norm(get(i, text_path)) != _norm(c.get("text")) for i, c in pairs)
        else None
    )


# -- 3. templates --------------------------------------------------------------------------------


def article_key_source(page_html: str, value: str, token: bool = False) -> dict | None:
    """Where the page carries `value` (the article's key in the comment requests, or with `token` a
    per-page token such as a nonce, which pages also keep in `<meta name=… content=…>`)."""
    root: HtmlElement = parse_html(page_html)
    skipped = ("href", "src") if token else ("href", "src", "content")

    def css_of(el, name: str) -> str:
        # classes that hold the value itself ("post-123") are this article's, not the kind's
        classes = ".".join(
            c for c in (el.get("class") or "").split() if re.fullmatch(r"[\w-]+", c) and value not in c
        )
        css = el.tag + (f".{classes}" if classes else "")
        # a form field's or a meta's name tells it from its siblings (input[value] alone
        # would be any input); an id is not used, it is often the article's own
        field_name = el.get("name") if name != "name" else None
        if field_name and re.fullmatch(r"[\w.:-]+", field_name):
            css += f'[name="{field_name}"]'
        return css + f"[{name}]"

    elements = [el for el in root.iter() if isinstance(el.tag, str)]
    for el in elements:
        for name, attr_value in el.attrib.items():
            if attr_value == value and name not in skipped:
                return {"kind": "attr", "css": css_of(el, name), "attr": name}
    if not token and any(ch.isdigit() for ch in value):
        # the key as a part of one attribute token: WordPress marks a post <article id="post-123"
        # class="post-123 …"> and <body class="postid-123 …"> but names 123 nowhere alone
        part = re.compile(rf"(?<![A-Za-z0-9]){re.escape(value)}(?![A-Za-z0-9])")
        for el in elements:
            for name, attr_value in el.attrib.items():
                if name in skipped or name.startswith("on") or len(attr_value) > 200:
                    continue
                for token_text in attr_value.split():
                    found = part.search(token_text)
                    if found and token_text != value:
                        prefix, suffix = token_text[: found.start()], token_text[found.end() :]
                        if not prefix and not suffix:
                            continue
                        pattern = rf"(?:^|\s){re.escape(prefix)}([A-Za-z0-9_]+){re.escape(suffix)}(?:\s|$)"
                        return {"kind": "attr", "css": css_of(el, name), "attr": name, "pattern": pattern}
    for script in root.iter("script"):
        text = script.text or ""
        at = text.find(value)
        while at >= 0:
            before = text[max(0, at - 80) : at]
            key = re.search(r"""["']?([A-Za-z_$][\w$]*)["']?\s*[:=]\s*["']?$""", before)
            if key:
                quote = text[at - 1] if at and text[at - 1] in "\"'" else ""
                end = re.escape(quote) if quote else r"(?=[\s,;}\]])"
                pattern = (
                    rf"""["']?{re.escape(key.group(1))}["']?\s*[:=]\s*{re.escape(quote)}([^"'\s,;}}]+){end}"""
                )
                found = re.search(pattern, text)
                if found and found.group(1) == value:
                    return {"kind": "script", "regex": pattern}
            at = text.find(value, at + 1)
    return None


def _ints(values: list[str]) -> list[int] | None:
    try:
        return [int(v) for v in values]
    except ValueError:
        return None


#: a number this large that goes up by one per request is a time, not a page: jQuery's `cache: false`
#: appends `_=<Date.now() at load>` and adds 1 per request (jquery src/ajax.js `nonce.guid++`)
CACHE_BUSTER = 10**9

#: how an offset counts the comments before it: "level", those of the level it pages (top-level
#: comments, or the direct replies of the parent), or "all", every comment the answers carried,
#: replies nested in them included (a pager over every comment in thread order, such as Drupal's)
COUNTS = ("level", "all")


def _paging(
    sequences: list[list[tuple[dict, dict]]], known_before: Callable, skip: set[str], first_page: int = 0
) -> dict | None:
    """The parameter that pages, from sequences of (exchange, finding) of one thread or parent.

    Two or more requests of one sequence decide (a number going up by one, a number equal to the
    comments known before, a value copied from the previous answer); a sequence of one request can
    only tell an offset (equal to what was shown) or the page after the one shown (`first_page`).
    """
    evidence: dict[tuple, int] = defaultdict(int)
    weak: dict[tuple, int] = defaultdict(int)
    for sequence in sequences:
        params = [params_of(e) for e, _ in sequence]
        names = set(params[0]).union(*params[1:]) - skip
        for name in sorted(names):
            values = [p.get(name, "") for p in params]
            numbers = _ints(values)
            # a time, +1 per request, is a cache-buster, no page (CACHE_BUSTER); a time copied from
            # the answer before (keyset paging by a Unix time) is still a cursor
            stamp = bool(numbers) and numbers[0] >= CACHE_BUSTER
            if len(sequence) == 1:
                # one request only: weaker evidence, from what was known before it
                counted = [c for c in COUNTS if numbers and numbers[0] == known_before(sequence, 0, c) > 0]
                for counts in counted:
                    weak[("offset", name, counts)] += 1
                if not counted and numbers and not stamp and numbers[0] == first_page:
                    weak[("page", name, None)] += 1
                continue
            if len(set(values)) < 2:
                continue
            # the first request may leave the parameter out (page 1, offset 0, no cursor yet)
            rest = _ints(values[1:]) if values[0] == "" and name not in params[0] else None
            if numbers and not stamp and all(b == a + 1 for a, b in zip(numbers, numbers[1:], strict=False)):
                evidence[("page", name, None)] += 1
                continue
            if rest and all(b == a + 1 for a, b in zip(rest, rest[1:], strict=False)) and rest[0] <= 2:
                evidence[("page", name, None)] += 1
                continue
            # an offset: the comments known before each request, counted one way or the other (both
            # agree until an answer carried replies; each way that fits is evidence)
            counted = [
                c for c in COUNTS
                if (numbers and all(n == known_before(sequence, i, c) for i, n in enumerate(numbers)))
                or (rest and all(n == known_before(sequence, i + 1, c) for i, n in enumerate(rest)))
            ]  # fmt: skip
            for counts in counted:
                evidence[("offset", name, counts)] += 1
            if counted:
                continue
            paths = None
            for i in range(1, len(sequence)):
                answer = _json(sequence[i - 1][0])
                found = leaves(answer, max_depth=ANSWER_DEPTH)
                here = {tuple(p) for p, v in found if scalar_text(v) == values[i]}
                paths = here if paths is None else paths & here
            if paths:
                evidence[("cursor", name, min(paths, key=len))] += 1
                continue
            # keyset paging: the value is a field of the previous answer's last comment (old Isso's
            # `after` = the last comment's `created`; `after_id` = its id)
            item_paths = None
            for i in range(1, len(sequence)):
                items = sequence[i - 1][1].get("items") or []
                last = items[-1] if items and isinstance(items[-1], dict) else {}
                here = {tuple(p) for p, v in leaves(last) if values[i] and scalar_text(v) == values[i]}
                item_paths = here if item_paths is None else item_paths & here
            if item_paths:
                evidence[("item_cursor", name, min(item_paths, key=len))] += 1
                continue
            # the same, inside a constant text: a filter expression holding the last comment's id
            # (Ghost's replies: filter=id:>'<last reply id>'), as (field path, text with "{}" for it)
            templates = None
            for i in range(1, len(sequence)):
                items = sequence[i - 1][1].get("items") or []
                last = items[-1] if items and isinstance(items[-1], dict) else {}
                here = set()
                for p, v in leaves(last):
                    text = scalar_text(v)
                    if text and len(text) >= 4 and text != values[i] and values[i].count(text) == 1:
                        here.add((tuple(p), values[i].replace(text, "{}")))
                templates = here if templates is None else templates & here
            if templates:
                evidence[("item_template", name, min(templates, key=lambda t: (len(t[0]), t)))] += 1
    if not evidence:
        evidence.update(_next_urls(sequences))
    if not evidence:
        evidence.update(_link_pages(sequences))
    if not evidence:
        evidence = weak
    if not evidence:
        return None
    # the most evidence; between the two counts of an offset, on a tie, the smaller ("level"): counted
    # short, the next page repeats comments already read; counted long, it would skip some unseen
    (kind, name, path), _ = max(
        evidence.items(), key=lambda kv: (kv[1], kv[0][0] == "offset" and kv[0][2] == "level")
    )
    if kind == "item_cursor":
        return {"kind": "cursor", "param": name, "cursor_path": None, "cursor_item": list(path)}
    if kind == "item_template":
        field, template = path
        return {"kind": "cursor", "param": name, "cursor_path": None, "cursor_item": list(field),
                "template": template}  # fmt: skip
    if kind == "offset":
        return {"kind": "offset", "param": name, "cursor_path": None, "counts": path}
    if kind == "link":  # the next page is the address the answer's Link header names
        return {"kind": "link", "param": "", "cursor_path": None}
    return {"kind": kind, "param": name, "cursor_path": list(path) if path else None}


#: the links of an RFC 8288 Link header, `<https://…?page=2>; rel="next", <…>; rel="last"`: each
#: address and its parameters (up to the next link), and a parameter's relation types
_LINK = re.compile(r"<([^>]*)>([^<]*)")
_REL = re.compile(r'(?i)(?:^|;)\s*rel\s*=\s*(?:"([^"]*)"|([^\s;,]+))')
#: a Link header is read up to this many characters (crawler.browser.record.MAX_HEADER keeps as many)
LINK_CHARS = 2000
#: response headers that count a whole thread (Gitea's, json-server's X-Total-Count; WordPress's
#: X-WP-Total), a reported total where the answer's body has none
TOTAL_HEADERS = ("x-total-count", "x-wp-total")


def next_link(headers: Mapping[str, str], base: str) -> str | None:
    """The next page's address a Link response header names (rel="next"), resolved against the
    address answered; None when it names none (the last page: GitHub's REST API says so)."""
    link = next((str(v) for k, v in headers.items() if str(k).lower() == "link"), "")
    for found in _LINK.finditer(link[:LINK_CHARS]):
        rel = _REL.search(found.group(2))
        if rel and "next" in (rel.group(1) or rel.group(2) or "").lower().split():
            return urljoin(base, found.group(1).strip())
    return None


def link_next(exchange: dict) -> str | None:
    """The next page's address in an answer's Link header (crawler.browser.record keeps it)."""
    return next_link(exchange.get("response_headers") or {}, exchange["url"])


def _link_followed(group: list[tuple[dict, dict]]) -> set[int]:
    """The requests (by seq) whose address an earlier answer's Link header named as the next page:
    they continue that answer's list, whatever endpoint they reach (GitHub names the next page of
    /repos/<owner>/<repo>/issues/<n>/comments under /repositories/<id>/…)."""
    named: dict[str, int] = {}  # each address named as a next page, by the first answer naming it
    for exchange, _ in sorted(group, key=lambda x: x[0]["seq"]):
        nxt = link_next(exchange)
        if nxt is not None:
            named.setdefault(nxt, exchange["seq"])
    return {e["seq"] for e, _ in group if named.get(e["url"], e["seq"]) < e["seq"]}


def _with_links(group: list[tuple[dict, dict]], pool: list[tuple[dict, dict]]) -> list[tuple[dict, dict]]:
    """`group` with the requests of `pool` its answers' Link headers led to, in order."""
    by_url = {e["url"]: (e, f) for e, f in pool}
    chain = {e["seq"]: (e, f) for e, f in group}
    todo = list(group)
    while todo:
        exchange, _ = todo.pop()
        nxt = by_url.get(link_next(exchange) or "")
        if nxt is not None and nxt[0]["seq"] > exchange["seq"] and nxt[0]["seq"] not in chain:
            chain[nxt[0]["seq"]] = nxt
            todo.append(nxt)
    return [chain[seq] for seq in sorted(chain)]


def _link_pages(sequences: list[list[tuple[dict, dict]]]) -> dict[tuple, int]:
    """Evidence of paging by the Link response header: each request of a sequence is the address
    the answer before it named as rel="next" (no parameter of the requests says so)."""
    evidence: dict[tuple, int] = defaultdict(int)
    for sequence in sequences:
        steps = list(zip(sequence, sequence[1:], strict=False))
        if steps and all(link_next(previous) == current["url"] for (previous, _), (current, _) in steps):
            evidence[("link", "", None)] += 1
    return evidence


def _unexplained_pages(sequence: list[tuple[dict, dict]]) -> None:
    """One list asked in several requests that brought new comments, with no parameter that pages it
    (a page number, an offset, a cursor or next address the answers carry, in their bodies or their
    Link header): a recipe would read its first page and call the thread complete. Refused."""
    seen: set[str] = set()
    more = False
    for index, (_exchange, found) in enumerate(sequence):
        more |= index > 0 and bool(set(found["ids"]) - seen)
        seen |= set(found["ids"])
    if not more:
        return  # the same comments asked again (a refresh): nothing to page
    raise InductionError(
        "the comments came in several requests, but no parameter of theirs pages them (a page number, "
        "an offset, a cursor or an address the answers carry): a recipe would read the first page only"
    )


def _next_urls(sequences: list[list[tuple[dict, dict]]]) -> dict[tuple, int]:
    """Evidence of paging by a next-page URL the previous answer gave ("next": "https://…?page=2")."""
    evidence: dict[tuple, int] = defaultdict(int)
    for sequence in sequences:
        if len(sequence) < 2:
            continue
        paths = None
        for i in range(1, len(sequence)):
            previous, current = sequence[i - 1][0], sequence[i][0]
            answer = _json(previous)
            here = {
                tuple(p)
                for p, v in leaves(answer, max_depth=ANSWER_DEPTH)
                if isinstance(v, str) and v and urljoin(previous["url"], v) == current["url"]
            }
            paths = here if paths is None else paths & here
        if paths:
            evidence[("next_url", "", min(paths, key=len))] += 1
    return evidence


def _end_signal(sequences: list[list[tuple[dict, dict]]], paging: dict | None, others=None) -> dict:
    """How an answer says the list ended: a flag that turns false, a cursor that turns null."""
    end: dict[str, Any] = {"has_more": None, "cursor_null": False}
    flags: Counter[tuple] = Counter()
    counts: Counter[tuple] = Counter()
    # a flag false in an answer that more answers followed (a config flag of every answer, Isso's
    # "reply-to-self": false) is no end signal; a count of what is left is one only where it was
    # seen to reach 0 after a count above 0
    contradicted: set[tuple] = set()
    for sequence in [s for s in [*sequences, *(others or [])] if s]:
        for exchange, _ in sequence[:-1]:
            contradicted |= {p for p, v in leaves(_json(exchange), max_depth=ANSWER_DEPTH) if v is False}
    seen_turn: set[tuple] = set()
    complete = [s for s in sequences if s]
    for sequence in complete:
        answers = [_json(e) for e, _ in sequence]
        for path, value in leaves(answers[-1], max_depth=ANSWER_DEPTH):
            earlier = [get(a, path) for a in answers[:-1]]
            if value is False and all(v is True for v in earlier) and path not in contradicted:
                flags[path] += 1
            elif value == 0 and not isinstance(value, bool) and all(_positive(v) for v in earlier):
                counts[path] += 1
                if earlier:
                    seen_turn.add(path)
    counts = Counter({p: n for p, n in counts.items() if p in seen_turn})
    if flags and paging is not None:  # without a paging parameter a flag has nothing to continue
        path, n = flags.most_common(1)[0]
        if n == len(complete):
            end["has_more"] = list(path)
    if counts and end["has_more"] is None:
        # a count of what is left that reaches 0 on the last page (Isso's `hidden_replies`)
        path, n = counts.most_common(1)[0]
        if n == len(complete):
            end["zero_at"] = list(path)
    if paging and paging["kind"] in ("cursor", "next_url") and paging["cursor_path"]:
        last = [get(_json(s[-1][0]), paging["cursor_path"]) for s in complete]
        end["cursor_null"] = all(v in (None, "") for v in last)
    # a value (a next link, a cursor) present in every answer but the last, null in the last
    nulls: Counter[tuple] = Counter()
    for sequence in complete:
        answers = [_json(e) for e, _ in sequence]
        if len(answers) < 2 or not isinstance(answers[-1], dict):
            continue
        last_leaves = dict(leaves(answers[-1], max_depth=ANSWER_DEPTH))

        def named(value: Any) -> bool:  # a next link, a cursor or a next page's number (Ghost's `next`)
            return (isinstance(value, str) and bool(value)) or _positive(value)

        for path, value in leaves(answers[0], max_depth=ANSWER_DEPTH):
            gone = named(value) and last_leaves.get(path, "") in (None, "")
            if gone and all(named(get(a, path)) for a in answers[:-1]):
                nulls[path] += 1
    if nulls and end["has_more"] is None and not end["cursor_null"]:
        path, n = nulls.most_common(1)[0]
        if n == len([s for s in complete if len(s) >= 2]):
            end["null_at"] = list(path)
    if paging and paging["kind"] == "page" and paging["param"]:
        end["last_page"] = _last_page(complete, paging["param"])
    # the Link header names a next page on every answer but the last (GitHub's REST API): whatever
    # pages the list, an answer whose Link header names none is the last (one without a Link header
    # says nothing: the other signals decide; the page size too, kept for a thread of one page)
    links = [[link_next(e) is not None for e, _ in s] for s in complete]
    if any(len(x) >= 2 for x in links) and all(x[-1] is False and all(x[:-1]) for x in links):
        end["link_next"] = True
    return end


#: names of an answer's count of pages (Cusdis `pageCount`, Ghost `pages`, Laravel `last_page`)
PAGE_COUNT_NAME = re.compile(r"(?i)(last_?page|total_?pages|num_?pages|page_?count|pages)$")


def _last_page(sequences: list[list[tuple[dict, dict]]], param: str) -> list | None:
    """The path of an answer's count of pages: named so, the same in every answer of a list asked
    over two pages or more, and equal to the number of the last page asked (a page number ends the
    list when it reaches it, without asking the page after the last)."""
    agreed: set[tuple] | None = None
    for sequence in [s for s in sequences if len(s) >= 2]:
        pages = _ints([params_of(e).get(param, "") for e, _ in sequence])
        if not pages:
            return None
        answers = [_json(e) for e, _ in sequence]
        here = {
            path
            for path, value in leaves(answers[-1], max_depth=ANSWER_DEPTH)
            if path and isinstance(path[-1], str) and PAGE_COUNT_NAME.search(path[-1])
            and _positive(value) and value == pages[-1] > pages[0]
            and all(get(a, path) == value for a in answers)
        }  # fmt: skip
        agreed = here if agreed is None else agreed & here
    return list(min(agreed, key=len)) if agreed else None


#: names of a page-size parameter: a single page shorter than it is already the last
PAGE_SIZE_NAME = re.compile(r"(?i)(per_?page|page_?size|limit|count|size|number|^first$|^max|^rows$|^n$)")


def _add_page_size(template: dict, sequences: list[list[tuple[dict, dict]]]) -> None:
    """Without another end signal, a constant that every page but the last filled exactly and the
    last did not exceed is the page size: a shorter page ends the list (WordPress answers the page
    after the last with HTTP 400, so asking for an empty page would fail the recipe)."""
    end = template["end"]
    paging = template.get("paging")
    if not paging or any(end.get(k) for k in ("has_more", "cursor_null", "null_at", "zero_at")):
        return
    for name, value in sorted((template.get("constants") or {}).items()):
        if not value.isdigit() or int(value) <= 0:
            continue
        size, fits, full_pages = int(value), True, 0
        for sequence in sequences:
            counts = [len(f.get("items") or f.get("comments") or []) for _, f in sequence]
            if any(c != size for c in counts[:-1]) or counts[-1] > size:
                fits = False
                break
            full_pages += len(counts) - 1
        if fits and (full_pages or PAGE_SIZE_NAME.search(name)):
            end["page_size"] = name
            return


def _positive(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _total_path(findings: list[tuple[dict, dict]], total: int) -> list | None:
    """The answer's count of the whole thread: equal to the comments the page showed, and the same
    in every page (old Isso's `total_replies` counts only what is after `after`: no total)."""
    answers = [_json(e) for e, _ in findings]
    for answer in answers:
        for path, value in leaves(answer, max_depth=ANSWER_DEPTH):
            is_total = isinstance(value, int) and not isinstance(value, bool) and value == total
            if is_total and all(get(a, path, total) == total for a in answers):
                return list(path)
    return None


def _total_header(findings: list[tuple[dict, dict]], total: int) -> str | None:
    """The response header that counts the whole thread (TOTAL_HEADERS) by the same rule as a
    total in the body: the comments the page showed, the same in every page."""
    for name in TOTAL_HEADERS:
        values = {(e.get("response_headers") or {}).get(name) for e, _ in findings}
        if values == {str(total)}:
            return name
    return None


def _template(group: list[tuple[dict, dict]], allow_credentials: bool) -> dict:
    """Method, address, parameter placement and constants common to every request of a group."""
    first = group[0][0]
    repeated = sorted(
        {n for e, _ in group for k in ("query_repeated", "form_repeated") for n in e.get(k) or ()}
    )
    if repeated:
        # `ids[]=1&ids[]=2`: a recipe keeps one value per name, and would ask for something else
        raise InductionError(f"the requests name a parameter more than once ({', '.join(repeated[:3])}): "
                             "a recipe cannot send them as the page did")  # fmt: skip
    params = [params_of(e) for e, _ in group]
    names = {n for n in set(params[0]).intersection(*params[1:]) if not _is_path(n)}
    constants = {n: params[0][n] for n in sorted(names) if all(p[n] == params[0][n] for p in params)}
    dropped = sorted(n for n in constants if CREDENTIAL.search(n) and not _placeholder(constants[n]))
    if not allow_credentials:
        for name in dropped:
            constants.pop(name)
    headers = _constant_headers(group)
    dropped += sorted(f"header:{h}" for h in headers if CREDENTIAL.search(h))
    body = {"form": "form", "json": "json"}.get(first.get("body_kind"), "query")
    query_names = set(first.get("query") or {})
    return {
        "method": first["method"],
        "scheme": first["scheme"],
        "host": first["host"],
        "path": first["path"],
        "body": body,
        # with a form or JSON body, parameters that were in the URL stay in the URL
        "query_params": sorted(query_names) if body != "query" else None,
        "constants": constants,
        "headers": {h: v for h, v in headers.items() if allow_credentials or not CREDENTIAL.search(h)},
        "dropped_credentials": dropped if not allow_credentials else [],
        # a JSON body whose parameters nest (GraphQL variables): names are paths, rebuilt when sent
        "json_nested": body == "json" and any(JSON_SEPARATOR in n for n in params[0]),
        "json_kinds": _json_kinds(first["json"])
        if body == "json" and isinstance(first.get("json"), dict)
        else _json_kinds(json_query(first)),
        # URL parameters that carry JSON (a GraphQL GET's variables): rebuilt from their paths when sent
        "json_query": sorted(json_query(first)),
        # a JSON body goes out with the content type the page sent it with (Commento: a form's)
        "content_type": (first.get("request_content_type") or "").split(";")[0].strip() or None
        if body == "json"
        else None,
    }


#: what a widget sends as its token when nobody is logged in (Commento: commenterToken "anonymous"):
#: no secret, and the API may refuse a request without it
PLACEHOLDERS = frozenset({"", "anonymous", "anon", "guest", "null", "undefined", "none", "false", "0"})


def _placeholder(value: str) -> bool:
    return value.strip().lower() in PLACEHOLDERS


def _constant_headers(group: list[tuple[dict, dict]]) -> dict[str, str]:
    """The recorded headers every request of a group sent, with the same value, except the content
    type (the body decides it) and an `Accept` that asks for anything."""
    heads = [e.get("headers") or {} for e, _ in group]
    common = set(heads[0]).intersection(*heads[1:])
    kept = {h: heads[0][h] for h in sorted(common) if all(x[h] == heads[0][h] for x in heads)}
    if kept.get("accept", "").strip() == "*/*":
        kept.pop("accept")
    # a token that changes per request cannot be a constant, but it is still a token to look for
    for h in set(heads[0]) - set(kept):
        if CREDENTIAL.search(h) and h in common:
            kept[h] = heads[0][h]
    return kept


def _answer(group: list[tuple[dict, dict]]) -> dict:
    finding = group[0][1]
    answer = {"format": finding["format"]}
    if "items_path" in finding:
        answer["items"] = finding["items_path"]
    if finding.get("html_path") is not None:
        answer["html"] = finding["html_path"]
    return answer


#: how the article's URL can be a thread's key: embedded widgets (Isso, Commento: the path;
#: Remark42, Disqus: origin + path) key threads by the page's own address when the page names
#: none, and REST APIs by its slug (/api/posts/<slug>/comments: the last segment, or that segment
#: without its ".html")
URL_PARTS = ("path", "origin_path", "url", "slug", "stem")


def url_key(page_url: str, part: str) -> str:
    """The article's key taken from its own address (see URL_PARTS)."""
    url = urlsplit(page_url)
    if part == "path":
        return url.path or "/"
    if part == "origin_path":
        return f"{url.scheme}://{url.netloc}{url.path or '/'}"
    segments = [s for s in unquote(url.path).split("/") if s]
    if part in ("slug", "stem"):
        slug = segments[-1] if segments else ""
        return slug.rsplit(".", 1)[0] if part == "stem" and "." in slug else slug
    if part.startswith("segment:"):  # /news/4521/harbour-story: the id the path carries
        index = int(part.split(":", 1)[1])
        return segments[index] if index < len(segments) else ""
    if part.startswith("query:"):  # /article.php?id=4521
        return dict(parse_qsl(url.query)).get(part.split(":", 1)[1], "")
    return page_url


def url_key_source(page_url: str | None, value: str) -> dict | None:
    if not page_url or not value:
        return None
    url = urlsplit(page_url)
    parts = [*URL_PARTS]
    parts += [f"segment:{i}" for i, _ in enumerate([s for s in url.path.split("/") if s])]
    parts += [f"query:{name}" for name, _ in parse_qsl(url.query)]
    for part in parts:
        if url_key(page_url, part) == value and (part != "path" or value != "/"):
            if part.startswith(("slug", "stem", "segment:")) and not _keylike(value):
                continue  # a segment such as "comments", "news" or "story" is no article's key
            return {"kind": "url", "part": part}
    return None


def _article_param(group, page_html: str, page_url: str | None = None) -> tuple[str | None, dict | None]:
    """The constant parameter whose value the article page carries (its key in the requests).

    A value with a digit beats one without, and an attribute beats a script: words such as an
    action name or a sort order also occur in the page's own script, an article's key is most often
    a number. A value equal to the page's own address (its path, or origin + path) is the key of a
    widget that keys threads by URL; it beats any value without a digit the page's script happens
    to hold ("sort": "oldest" is no article's key).

    Failing that, a value that is such a key behind a constant word and a colon (Disqus names a
    thread `ident:<the page's identifier>` or `link:<its address>`): the source says so
    (`"template": "ident:{}"`), and each call puts its own article's key in it.
    """
    name, source = _article_param_of([params_of(e) for e, _ in group], page_html, page_url)
    if name is not None:
        return name, source
    prefixes: dict[str, set[str]] = defaultdict(set)
    bare = []
    for exchange, _ in group:
        params = {}
        for key, value in params_of(exchange).items():
            found = _PREFIXED.fullmatch(value)
            if found and not found.group(2).startswith("//"):  # "https://…" is an address, no prefix
                prefixes[key].add(found.group(1))
                params[key] = found.group(2)
        bare.append(params)
    name, source = _article_param_of(bare, page_html, page_url)
    if name is None or len(prefixes[name]) != 1:
        return None, None
    return name, {**source, "template": prefixes[name].pop() + "{}"}


#: a value behind a constant word and a colon ("ident:post-4521", "link:https://…")
_PREFIXED = re.compile(r"([A-Za-z]{2,12}:)(.{2,})", re.S)


def _article_param_of(params: list[dict[str, str]], page_html: str, page_url: str | None):
    names = set(params[0]).intersection(*params[1:])
    found = []
    for name in sorted(names):
        values = {p[name] for p in params}
        if len(values) != 1:
            continue
        value = values.pop()
        if len(value) < 2 or CREDENTIAL.search(name):
            continue
        by_url = url_key_source(page_url, value)
        if by_url is not None and (not _is_path(name) or by_url["part"] != "path"):
            found.append(((2, True, not _is_path(name)), name, by_url))
            continue
        if _is_path(name) and not _keylike(value):
            continue
        source = article_key_source(page_html, value)
        if source is not None:
            digit = any(ch.isdigit() for ch in value)
            attr = source["kind"] == "attr"
            rank = 3 if digit and attr else 2 if digit else 1 if attr else 0
            score = (rank, source["kind"] == "attr", not _is_path(name))
            found.append((score, name, source))
    if not found:
        return None, None
    _, name, source = max(found, key=lambda f: f[0])
    return name, source


def id_affix(ids: list[str]) -> tuple[str, str]:
    """The prefix and suffix every id of the page shares around its varying part, cut at a
    separator ("comment-123", "comment-145" -> ("comment-", "")): the markup often wraps the id the
    API gives as a bare number."""
    if len(ids) < 2:
        return "", ""
    prefix = os.path.commonprefix(ids)
    prefix = prefix[: max((prefix.rfind(ch) for ch in "-_:#/."), default=-1) + 1]
    rest = [i[len(prefix) :] for i in ids]
    suffix = os.path.commonprefix([r[::-1] for r in rest])[::-1]
    cut = min((suffix.find(ch) for ch in "-_:#/." if ch in suffix), default=len(suffix))
    suffix = suffix[cut:]
    if any(not r[: len(r) - len(suffix)] for r in rest):
        return "", ""
    return prefix, suffix


def _unwrapped(comments: list[Comment], affix: tuple[str, str]) -> list[Comment]:
    prefix, suffix = affix

    def bare(value):
        if isinstance(value, str) and value.startswith(prefix) and value.endswith(suffix):
            return value[len(prefix) : len(value) - len(suffix)]
        return value

    return [{**c, "id": bare(c["id"]), "parent": bare(c["parent"])} for c in comments]


def induce(
    exchanges: list[dict],
    page_html: str,
    shown: list[Comment],
    dom_list: list[Comment],
    read_fragment: Reader | None = None,
    site: str = "",
    allow_credentials: bool = False,
    page_url: str | None = None,
) -> dict:
    """The recipe of a site's comment API from one recorded expansion (see the module docstring).

    `page_url` is the article's address: a widget may key its thread by it (see URL_PARTS).

    When no answer carries the ids the page shows, but the page's ids wrap a bare value the same way
    ("comment-123"), the API's ids are tried unwrapped, and the recipe says how to wrap them
    (`id_format`), so both paths store a comment under one id."""
    try:
        return _induce(
            exchanges, page_html, shown, dom_list, read_fragment, site, allow_credentials, page_url
        )
    except InductionError:
        affix = id_affix([c["id"] for c in dom_list])
        if affix == ("", ""):
            raise
    reader = None
    if read_fragment is not None:
        reader = lambda html: _unwrapped(read_fragment(html), affix)  # noqa: E731
    recipe = _induce(
        exchanges, page_html, _unwrapped(shown, affix), _unwrapped(dom_list, affix), reader, site,
        allow_credentials, page_url,
    )  # fmt: skip
    recipe["id_format"] = {"prefix": affix[0], "suffix": affix[1]}
    return recipe


def _induce(
    exchanges: list[dict],
    page_html: str,
    shown: list[Comment],
    dom_list: list[Comment],
    read_fragment: Reader | None,
    site: str,
    allow_credentials: bool,
    page_url: str | None = None,
) -> dict:
    scalars: dict[int, set[str]] = {}  # answers' scalars by seq, for _copied
    dom = {c["id"]: c for c in dom_list}
    shown_ids = {c["id"] for c in shown}
    roles: dict[str, list[tuple[dict, dict]]] = defaultdict(list)
    ignored = []
    role_param: dict[str, Counter] = defaultdict(Counter)
    carried: list[tuple[int, set[str]]] = []
    stepping = _stepping(exchanges)
    for exchange in sorted(exchanges, key=lambda e: e["seq"]):
        found = find_comments(exchange, dom, read_fragment)
        if found is None:
            ignored.append(f"{exchange['method']} {exchange['path']}")
            continue
        role, param = _role(exchange, found, dom, stepping)
        roles[role].append((exchange, found))
        carried.append((exchange["seq"], _carried_ids(found, dom)))
        if param:
            role_param[role][param] += 1
    if not roles.get("comments"):
        raise InductionError("no recorded request returned a page of top-level comments")
    recipe: dict[str, Any] = {"version": RECIPE_VERSION, "site": site, "ignored": sorted(set(ignored))}
    all_findings = [f for group in roles.values() for _, f in group]
    recipe["item"] = field_paths(all_findings, dom)
    _check_placement(recipe["item"], roles["comments"], dom)
    hosts = set()

    # top-level comment pages: one sequence (one thread). The requests an answer's Link header named
    # continue it wherever they went: the template is that of the requests the page built itself
    followed = _link_followed(roles["comments"])
    group = _main_group([x for x in roles["comments"] if x[0]["seq"] not in followed])
    group = [x for x in roles["comments"] if _endpoint(x[0]) == _endpoint(group[0][0])]
    sequence = _with_links(group, roles["comments"])
    template = _template(group, allow_credentials)
    hosts.add(template["host"])
    article_param, key_source = _article_param(group, page_html, page_url)
    if article_param is None:
        raise InductionError("no parameter of the comment requests is a value the article page carries")
    top_ids = {i for i, c in dom.items() if not c["parent"]}

    def top_before(sequence, index, counts="level"):
        if counts == "all":  # every comment shown and carried so far, nested replies included
            return len(shown_ids & set(dom)) + sum(len(_carried_ids(f, dom)) for _, f in sequence[:index])
        known = len(shown_ids & top_ids)
        for _exchange, found in sequence[:index]:
            known += sum(1 for i in found["ids"] if i in top_ids)
        return known

    # a page showing comments shows page 1: a page-number parameter would then start at 2
    fixed = _fixed_names(exchanges, group[0][0])
    paging = _paging(
        [sequence], top_before, {article_param} | fixed, first_page=2 if shown_ids & top_ids else 1
    )
    if paging is None:
        _unexplained_pages(sequence)
    if paging is not None:
        first = params_of(group[0][0])
        if paging["kind"] == "next_url" or paging["param"] not in first or paging.get("template"):
            # (a value in a template holds a field of one thread's comment: never sent to another)
            paging["start"] = {"kind": "absent"}
        elif paging["kind"] == "cursor" and _copied(
            _untemplated(paging, first[paging["param"]]), exchanges, group[0][0], scalars
        ):
            # the first value came from an answer before it (another operation's page 1): this
            # thread's cursor, never one to send to another thread; the first request leaves it out
            paging["start"] = {"kind": "absent"}
        else:
            paging["start"] = _start(paging, first[paging["param"]], page_html, shown)
    template.update(
        article_param=article_param,
        paging=paging,
        answer=_answer(group),
        end=_end_signal([sequence], paging),
        total=_total_path(sequence, len(dom)),
    )
    if template["total"] is None:
        template["total_header"] = _total_header(sequence, len(dom))
    _root_of_article(recipe["item"], group, article_param)
    template["constants"].pop(article_param, None)
    if paging and paging["param"]:
        template["constants"].pop(paging["param"], None)
    _add_page_size(template, [sequence])
    recipe["comments"] = template
    recipe["article_key"] = key_source

    if roles.get("replies"):
        parent_param = role_param["replies"].most_common(1)[0][0]
        group = [(e, f) for e, f in roles["replies"] if parent_param in params_of(e)]
        replies = _template(_main_group(group), allow_credentials)
        hosts.add(replies["host"])
        by_parent: dict[str, list] = defaultdict(list)
        for exchange, found in group:
            by_parent[params_of(exchange)[parent_param]].append((exchange, found))
        shown_children = Counter(c["parent"] for c in shown if c["parent"])

        def replies_before(sequence, index, counts="level"):
            parent = params_of(sequence[0][0])[parent_param]
            if counts == "all":
                # offsets over every reply below the parent are not followed (the executor starts a
                # parent's replies from the direct ones at hand): such a recipe is never learned
                return -1
            known = _inline_replies(parent, sequence, dom, shown_children, carried)
            for _exchange, found in sequence[:index]:
                known += sum(1 for i in found["ids"] if _shown_parent(dom, i) == parent)
            return known

        sequences = list(by_parent.values())
        fixed = _fixed_names(exchanges, group[0][0])
        paging = _paging(sequences, replies_before, {parent_param, article_param} | fixed)
        if paging is None:
            for sequence in sequences:
                _unexplained_pages(sequence)
        if paging is not None:
            firsts = {params_of(s[0][0]).get(paging["param"]) for s in sequences}
            if paging["kind"] == "offset":
                paging["start"] = {"kind": "inline"}
            elif paging["kind"] == "next_url" or firsts == {None} or paging.get("template"):
                paging["start"] = {"kind": "absent"}
            elif paging["kind"] == "cursor" and any(
                _copied(_untemplated(paging, params_of(q[0][0]).get(paging["param"]) or ""), exchanges,
                        q[0][0], scalars)
                for q in sequences
            ):  # fmt: skip
                # each parent's first cursor came from an earlier answer (its inline replies): leave
                # it out, the replies are then asked from their first
                paging["start"] = {"kind": "absent"}
            else:
                paging["start"] = _first_constant({v or "" for v in firsts})
        replies.update(
            parent_param=parent_param,
            article_param=article_param if article_param in params_of(group[0][0]) else None,
            paging=paging,
            answer=_answer(group),
            end=_end_signal(sequences, paging, others=[roles["comments"]]),
        )
        for name in (parent_param, article_param, paging and paging["param"]):
            replies["constants"].pop(name, None)
        _add_page_size(replies, sequences)
        recipe["replies"] = replies
    else:
        recipe["replies"] = None

    if roles.get("full_text"):
        id_param = role_param["full_text"].most_common(1)[0][0]
        group = [(e, f) for e, f in roles["full_text"] if id_param in params_of(e)]
        full = _template(_main_group(group), allow_credentials)
        hosts.add(full["host"])
        full.update(id_param=id_param, answer=_full_text_answer(group, dom))
        full["constants"].pop(id_param, None)
        recipe["full_text"] = full
    else:
        recipe["full_text"] = None
    for role in ("comments", "replies", "full_text"):
        if recipe.get(role):
            recipe[role]["page_params"] = _page_params(recipe[role], exchanges, page_html)
    recipe["hosts"] = sorted(hosts)
    # the recorded requests each part was learned from (learn.replay reads them back to check)
    recipe["learned_from"] = {role: [e["seq"] for e, _ in group] for role, group in roles.items()}
    return recipe


def _page_params(template: dict, exchanges: list[dict], page_html: str) -> dict[str, dict]:
    """Where the article page carries a credential-like parameter the requests sent (a nonce in a
    meta, a hidden field or a script value), or a constant id: a later crawl reads it from its own
    page, so the token works without the recipe ever storing one, and the id is that page's."""
    sources: dict[str, dict] = {}
    names = set(template.get("dropped_credentials") or [])
    names |= {n for n in template.get("constants", {}) if CREDENTIAL.search(n)}
    names |= {f"header:{h}" for h in template.get("headers", {}) if CREDENTIAL.search(h)}
    # a constant id the page itself carries (an embed's data-app-id and data-page-id: only one is
    # the article's key, and one page cannot tell which) is read from each page too, never sent
    # as the learned page's value to another article
    for name, value in (template.get("constants") or {}).items():
        if len(value) >= 4 and any(ch.isdigit() for ch in value) and name not in names:
            source = article_key_source(page_html, value)
            if source is not None:
                sources[name] = source
    for exchange in exchanges:
        if (exchange["method"], path_shape(exchange["path"])) != (
            template["method"],
            path_shape(template["path"]),
        ):
            continue
        params = params_of(exchange)
        params.update({f"header:{h}": v for h, v in (exchange.get("headers") or {}).items()})
        for name in sorted(names - set(sources)):
            value = params.get(name)
            if value and len(value) >= 4:
                source = article_key_source(page_html, value, token=True)
                if source is not None:
                    sources[name] = source
    for name in sources:
        # the page's own value, never the learned one
        template.get("constants", {}).pop(name, None)
        template.get("headers", {}).pop(name.removeprefix("header:"), None)
    return sources


def _check_placement(item: dict, group: list[tuple[dict, dict]], dom: dict[str, Comment]) -> None:
    """A comment page carrying replies must say where each goes (a parent field, or replies nested
    in their parent): else a recipe would store every reply as a top-level comment. And JSON items
    must hold the texts the page shows (a markdown source the widget renders is no such field):
    a recipe would store comments without their text."""
    json_found = [f for _, f in group if f["format"] in ("json", "json-object")]
    shows_text = any(i in dom and dom[i].get("text") for f in json_found for i in f["ids"])
    if json_found and item.get("text") is None and shows_text:
        raise InductionError("no field of the comment answers holds the texts the page shows")
    if item.get("parent") or item.get("replies"):
        return
    for _exchange, found in group:
        if found["format"] in ("json", "json-object") and any(_shown_parent(dom, i) for i in found["ids"]):
            raise InductionError(
                "the comment answers carry replies but no field of theirs names the parent the page "
                "shows: a recipe would store replies as top-level comments"
            )


def _untemplated(paging: dict, value: str) -> str:
    """The cursor inside a paging value sent in a template ("id:>'abc'" -> "abc"), else the value."""
    before, _, after = (paging.get("template") or "{}").partition("{}")
    if value.startswith(before) and value.endswith(after) and len(value) > len(before) + len(after):
        return value[len(before) : len(value) - len(after)]
    return value


def _copied(value: str, exchanges: list[dict], before: dict, memo: dict) -> bool:
    """Whether an earlier answer than `before`'s carried `value` (anywhere, lists included)."""
    if not value or len(value) < 4:
        return False
    for exchange in exchanges:
        if exchange["seq"] >= before["seq"]:
            continue
        # each answer's scalars are collected once per induction (many sequences ask)
        if exchange["seq"] not in memo:
            memo[exchange["seq"]] = _scalars(_json(exchange))
        if value in memo[exchange["seq"]]:
            return True
    return False


def _scalars(value: Any) -> set[str]:
    """Every scalar of an answer as text, through dicts and lists (a cursor may be a number)."""
    out: set[str] = set()
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
        elif (text := scalar_text(node)) is not None:
            out.add(text)
    return out


def _fixed_names(exchanges: list[dict], like: dict) -> set[str]:
    """Parameters of `like`'s endpoint that every recorded request sent with one same value, over two
    requests or more: a page size (Isso's `nested_limit`) may equal the replies shown so far once,
    but a parameter that never moved is no paging parameter."""
    key = (like["method"], like["host"], path_shape(like["path"]))
    values: dict[str, set[str]] = defaultdict(set)
    seen: Counter[str] = Counter()
    for exchange in exchanges:
        if (exchange["method"], exchange["host"], path_shape(exchange["path"])) != key:
            continue
        for name, value in params_of(exchange).items():
            values[name].add(value)
            seen[name] += 1
    return {n for n, v in values.items() if len(v) == 1 and seen[n] >= 2}


def _inline_replies(parent: str, sequence, dom, shown_children: Counter, carried=()) -> int:
    """Replies of `parent` the page showed before its first "more replies" request: in the page
    itself, or nested in an earlier answer (Isso's comment pages carry each comment's first
    `nested_limit` replies; "load more" then asks from `offset` = those)."""
    first = sequence[0][0]["seq"]
    earlier = {i for seq, ids in carried if seq < first for i in ids if _shown_parent(dom, i) == parent}
    return shown_children.get(parent, 0) + len(earlier)


def _carried_ids(found: dict, dom: dict[str, Comment]) -> set[str]:
    """Every DOM comment an answer carried, replies nested in its items included."""
    ids = {i for i in found["ids"] if i in dom}
    id_path = found.get("id_path")
    for item in found.get("items") or []:
        for _path, nested in dict_lists(item):
            for child in nested:
                value = scalar_text(get(child, id_path))
                if value in dom:
                    ids.add(value)
    return ids


def _first_constant(values: set[str]) -> dict:
    if len(values) == 1:
        return {"kind": "value", "value": values.pop()}
    return {"kind": "value", "value": sorted(values)[0]}


def _start(paging: dict, first_value: str, page_html: str, shown: list[Comment]) -> dict:
    """Where the first paging value comes from when a later crawl starts a thread."""
    if paging["kind"] == "page":
        return {"kind": "value", "value": first_value}
    if paging["kind"] == "offset":
        return {"kind": "shown"}
    if first_value == "":
        return {"kind": "value", "value": ""}
    top = [c for c in shown if not c["parent"]]
    if top and top[-1]["id"] == first_value:
        return {"kind": "last_shown"}
    source = article_key_source(page_html, first_value)
    return source or {"kind": "value", "value": first_value}


def operation(exchange: dict) -> str | None:
    """The operation a request runs at an endpoint that runs several: GraphQL's `operationName`
    (or its query text, or a persisted query's id). Coral's stream posts its first page and its
    "Load more" pages to one /api/graphql as two different queries."""
    body = exchange.get("json") if exchange.get("body_kind") == "json" else None
    if not isinstance(body, dict):
        # a GraphQL GET names its operation in the URL (operationName, or the persisted query's hash)
        body = {**(exchange.get("query") or {}), **json_query(exchange)}
        persisted = get(body, ["extensions", "persistedQuery", "sha256Hash"])
        if isinstance(persisted, str) and persisted and not body.get("operationName"):
            return f"sha256:{persisted}"
        if not (body.get("operationName") and ("variables" in body or "extensions" in body)):
            return None
    for name in ("operationName", "query", "id"):
        if isinstance(body.get(name), str) and body[name]:
            return f"{name}:{body[name]}"
    return None


def _endpoint(exchange: dict) -> tuple:
    return exchange["method"], exchange["host"], path_shape(exchange["path"]), operation(exchange)


def _main_group(group: list[tuple[dict, dict]]) -> list[tuple[dict, dict]]:
    """The requests of the most used (method, host, path, operation) of a role, in order."""
    counts = Counter(_endpoint(e) for e, _ in group)
    key = counts.most_common(1)[0][0]
    return [(e, f) for e, f in group if _endpoint(e) == key]


def _full_text_answer(group: list[tuple[dict, dict]], dom: dict[str, Comment]) -> dict:
    exchange, finding = group[0]
    if finding["format"] in ("json", "json-object"):
        data = _json(exchange)
        comment = dom[finding["ids"][0]]
        for path, value in leaves(data):
            if isinstance(value, str) and _norm(value) == _norm(comment.get("text")):
                return {"format": "json", "text": list(path)}
        for path, value in strings(data):
            if isinstance(value, str) and _norm(value) == _norm(comment.get("text")):
                return {"format": "json", "text": list(path)}
    return _answer(group)
