"""Record the page's own fetch/XHR traffic while the browser path expands a comment thread.

A `Recorder` is attached to a Playwright page before it loads (from the page init callback, so the
first automatic batch of a lazy thread is caught too). It keeps every fetch/XHR exchange in the order
the page started it: method, URL, query, form or JSON body, status, content type and the answer body
up to a bounded size, each tagged with the step of the expansion that caused it ("load" for what the
page did by itself, else the load-more selector that was clicked). The exchanges are plain dicts, so
they can be saved as JSON fixtures and fed to the pure induction in `crawler.recipes.induce`.

Of the response headers, only those that page an API's answers are kept, each bounded
(RESPONSE_HEADERS: an RFC 8288 `Link: <…>; rel="next"`, as GitHub's REST API pages issue comments,
and total counts): the induction learns a thread paged by its answers' headers (a recipe then reads
the same headers of each answer). Set-Cookie and the rest are never recorded.

Cookies, `Authorization` and the browser's own headers are never recorded. Of the request headers,
only `Accept` and the `X-…` headers a page script sets itself are kept (an API may answer JSON only
to `Accept: application/json`, or only to `X-Requested-With`); a token among them (`X-CSRF-Token`)
is used by the induction to find where the page carries it and is never stored in a recipe.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any
from urllib.parse import parse_qsl, urlsplit

logger = logging.getLogger(__name__)

#: only what page scripts request; documents, images, styles and scripts cannot be comment pages
RECORDED_TYPES = frozenset({"xhr", "fetch"})
#: answers kept up to this many bytes (the rest is cut and the exchange says so)
MAX_BODY = 2_000_000
#: exchanges per page at most: a page that polls forever must not fill the memory
MAX_EXCHANGES = 2000
#: response headers that page an answer (the rest, Set-Cookie above all, are never kept) ...
RESPONSE_HEADERS = ("link", "x-total-count", "x-wp-total", "x-wp-totalpages")
#: ... each cut to this many characters (a Link header names a few URLs)
MAX_HEADER = 2000


def kept_headers(headers: dict[str, str]) -> dict[str, str]:
    """The request headers an API may need that the page chose itself (see the module docstring)."""
    return {k: v for k, v in headers.items() if k == "accept" or k.startswith("x-")}


def repeated_names(query: str) -> list[str]:
    """Query parameters a URL names more than once (`ids[]=1&ids[]=2`): `query` keeps the last value
    only, so the induction knows it cannot send such a request again as the page did."""
    names = [name for name, _ in parse_qsl(query, keep_blank_values=True)]
    return sorted({n for n in names if names.count(n) > 1})


def paging_headers(headers: dict[str, str]) -> dict[str, str]:
    """The response headers that page an answer (RESPONSE_HEADERS), bounded; names lower-cased."""
    lowered = {k.lower(): v for k, v in headers.items()}
    return {name: lowered[name][:MAX_HEADER] for name in RESPONSE_HEADERS if lowered.get(name)}


def _body_fields(post_data: str | None, content_type: str) -> dict[str, Any]:
    """The request body as the recipe sees it: form fields, JSON, or raw text."""
    if not post_data:
        return {"body_kind": "none"}
    # JSON whatever the content type says: Commento's widget posts JSON.stringify(data) as
    # `application/x-www-form-urlencoded` (its servers read the body as JSON all the same)
    if "json" in content_type or post_data.lstrip()[:1] in ("{", "["):
        try:
            return {"body_kind": "json", "json": json.loads(post_data)}
        except ValueError:
            pass
    if "multipart/form-data" in content_type:
        fields = _multipart_fields(post_data, content_type)
        if fields is not None:
            # a page's FormData: the same fields a form would send (a recipe sends them as a form)
            return {"body_kind": "form", "form": fields}
    if "x-www-form-urlencoded" in content_type or ("=" in post_data and "{" not in post_data[:1]):
        form = dict(parse_qsl(post_data, keep_blank_values=True))
        return {"body_kind": "form", "form": form, "form_repeated": repeated_names(post_data)}
    return {"body_kind": "raw", "raw": post_data[:MAX_BODY]}


def _multipart_fields(post_data: str, content_type: str) -> dict[str, str] | None:
    """The text fields of a multipart/form-data body (a page's `fetch(url, {body: new FormData()})`),
    or None when it holds a file or cannot be read."""
    import email.parser
    import email.policy

    message = email.parser.Parser(policy=email.policy.HTTP).parsestr(
        f"Content-Type: {content_type}\r\n\r\n{post_data}"
    )
    if not message.is_multipart():
        return None
    fields: dict[str, str] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not name or part.get_filename():
            return None  # an upload is no comment request
        fields[str(name)] = part.get_content().rstrip("\r\n") if part.get_content_maintype() == "text" else ""
    return fields


class Recorder:
    """Collects a page's fetch/XHR exchanges, in order, tied to the click step that caused them."""

    def __init__(self, max_body: int = MAX_BODY, max_exchanges: int = MAX_EXCHANGES) -> None:
        self.max_body = max_body
        self.max_exchanges = max_exchanges
        self.exchanges: list[dict[str, Any]] = []
        self.trigger = "load"
        self.step = 0
        self.dropped = 0
        self._by_request: dict[int, dict[str, Any]] = {}
        self._tasks: set[asyncio.Task] = set()

    def attach(self, page) -> None:
        page.on("request", self._on_request)
        page.on("response", self._on_response)
        page.on("requestfailed", self._on_failed)

    def mark(self, trigger: str) -> None:
        """What the expansion does next (a selector about to be clicked): later requests belong to it."""
        self.step += 1
        self.trigger = trigger

    def _on_request(self, request) -> None:
        if request.resource_type not in RECORDED_TYPES:
            return
        if len(self.exchanges) >= self.max_exchanges:
            self.dropped += 1
            return
        url = request.url
        parts = urlsplit(url)
        headers = request.headers  # lower-cased names; only the content type is kept
        content_type = headers.get("content-type", "")
        exchange: dict[str, Any] = {
            "seq": len(self.exchanges),
            "step": self.step,
            "trigger": self.trigger,
            "method": request.method,
            "url": url,
            "scheme": parts.scheme,
            "host": parts.netloc,
            "path": parts.path,
            "query": dict(parse_qsl(parts.query, keep_blank_values=True)),
            "query_repeated": repeated_names(parts.query),
            "request_content_type": content_type,
            "headers": kept_headers(headers),
            **_body_fields(request.post_data, content_type),
            "status": None,
            "content_type": None,
            "response_headers": {},
            "body": None,
            "body_truncated": False,
        }
        self.exchanges.append(exchange)
        self._by_request[id(request)] = exchange

    def _on_response(self, response) -> None:
        exchange = self._by_request.get(id(response.request))
        if exchange is None:
            return
        task = asyncio.ensure_future(self._read(response, exchange))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _on_failed(self, request) -> None:
        exchange = self._by_request.get(id(request))
        if exchange is not None:
            exchange["status"] = 0
            exchange["error"] = str(request.failure or "failed")[:200]

    async def _read(self, response, exchange: dict[str, Any]) -> None:
        exchange["status"] = response.status
        exchange["content_type"] = response.headers.get("content-type", "")
        exchange["response_headers"] = paging_headers(response.headers)
        try:
            length = int(response.headers.get("content-length") or 0)
        except ValueError:
            length = 0
        if length > self.max_body:
            exchange["body_truncated"] = True
            return  # not read at all: a huge answer is no comment page we could page anyway
        try:
            body = await response.body()
        except Exception as exc:  # the page navigated away or closed: the exchange stays bodiless
            exchange["error"] = f"{type(exc).__name__}: {exc}".splitlines()[0][:200]
            return
        if len(body) > self.max_body:
            body, exchange["body_truncated"] = body[: self.max_body], True
        exchange["body"] = body.decode("utf-8", "replace")

    async def drain(self, timeout: float = 10.0) -> None:
        """Wait until every answer seen so far has been read (call before using `exchanges`)."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout)


async def install(page, request=None) -> None:
    """Attach a Recorder to `page` and put it in the request's meta ("pandawatch_recorder")."""
    recorder = Recorder()
    recorder.attach(page)
    if request is not None:
        request.meta["pandawatch_recorder"] = recorder
