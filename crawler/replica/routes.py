"""Which replica response answers which request: pages, the comment API, faults and control.

`Router.handle` turns a parsed `Request` into a `Response` without touching sockets, so the HTTP
plumbing in server.py stays small. Views that read the site hold its lock while they render, so every
response shows one consistent state; the slow fault sleeps without it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl

from . import ajax, control, square, zine
from .discovery import (
    last_change,
    render_feed,
    render_listing,
    render_robots,
    render_sitemap,
    render_sitemap_index,
    sitemap_parts,
)
from .model import Site
from .render import esc, render_article_page

HTML = "text/html; charset=utf-8"
JSON = "application/json"
XML = "application/xml; charset=utf-8"
#: a 1x1 transparent PNG, served for every /img/ path and the favicon browsers ask for
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)
#: the slow fault never sleeps longer than this, so a mistaken argument cannot hang a test run
MAX_SLOW_SECONDS = 30.0


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, str]
    body: bytes = b""
    #: request headers, names lower-cased
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode("utf-8", "replace"), keep_blank_values=True))


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str = HTML
    headers: dict[str, str] = field(default_factory=dict)
    #: validators of a cacheable response; the server then answers conditional requests with 304
    etag: str | None = None
    last_modified: datetime | None = None


def html_page(title: str, text: str, status: int = 200) -> Response:
    page = (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{esc(title)}</title></head>'
        f"<body><h1>{esc(title)}</h1><p>{esc(text)}</p></body></html>\n"
    )
    return Response(status, page.encode())


def not_found() -> Response:
    return html_page("Page not found", "Nothing lives at this address.", status=404)


def json_answer(success: bool, data: dict[str, Any], status: int = 200) -> Response:
    return Response(status, json.dumps({"success": success, "data": data}).encode(), JSON)


def cacheable(text: str, content_type: str, last_modified: datetime | None, salt: str = "") -> Response:
    """A 200 response with an ETag over `salt` + body (salt: what changes but the body may not show)."""
    body = text.encode()
    etag = '"' + hashlib.sha1(salt.encode() + body).hexdigest()[:24] + '"'
    return Response(200, body, content_type, etag=etag, last_modified=last_modified)


View = Callable[..., Response]


class Router:
    """Maps method + path onto the view that answers it; unknown paths get a 404 page."""

    def __init__(self, site: Site, base_url: str) -> None:
        self.site = site
        self.base_url = base_url
        # order matters: the article pattern would also match /feed/ and /page/2/
        self._routes: list[tuple[str, re.Pattern[str], View]] = [
            (method, re.compile(pattern), view)
            for method, pattern, view in (
                ("GET", r"/(?:page/(?P<page>\d+)/)?", self.home),
                ("GET", r"/category/(?P<category>[a-z0-9-]+)/(?:page/(?P<page>\d+)/)?", self.category),
                ("GET", r"/feed/", self.feed),
                ("GET", r"/sitemap\.xml", self.sitemap_index),
                ("GET", r"/sitemap-posts-(?P<part>\d+)\.xml", self.sitemap),
                ("GET", r"/robots\.txt", self.robots),
                ("GET", r"/img/.+|/favicon\.ico", self.image),
                ("GET", r"/fault/(?P<name>[a-z0-9-]+)/", self.fault),
                ("GET", r"/zine/api/(?P<name>[a-z]+)", self.zine_api),
                ("GET", r"/zine/(?P<slug>[a-z0-9][a-z0-9-]*)/", self.zine_page),
                ("GET", r"/square/api/.+", self.square_api),
                ("GET", r"/square/(?P<slug>[a-z0-9][a-z0-9-]*)/", self.square_page),
                ("GET", r"/(?P<slug>[a-z0-9][a-z0-9-]*)/(?:(?P<page>\d+)/)?", self.article),
                ("POST", r"/_replica/control", self.control),
                ("POST", r"/.+", self.ajax),  # wherever the comment API lives now (ajax.rename_ajax)
            )
        ]
        self._faults: dict[str, Callable[[Request], Response]] = {
            "malformed": self.fault_malformed,
            "empty": lambda request: Response(200, b""),
            "binary": lambda request: Response(
                200, random.Random(0).randbytes(2048), "application/octet-stream"
            ),
            "not-html": lambda request: Response(200, b'{"hello":"world"}', JSON),
            "500": lambda request: html_page("Internal Server Error", "Something broke.", 500),
            "slow": self.fault_slow,
            "redirect": self.fault_redirect,
            "retry-after": self.fault_retry_after,
            # a -> b -> a: a redirect loop
            "loop": lambda request: Response(
                302,
                b"",
                headers={"Location": f"/fault/loop/?step={'b' if request.query.get('step') == 'a' else 'a'}"},
            ),
        }
        self._retry_after_seen: set[str] = set()

    def handle(self, request: Request) -> Response:
        for method, pattern, view in self._routes:
            match = pattern.fullmatch(request.path)
            if match and method == request.method:
                return view(request, **match.groupdict())
        return not_found()

    # -- pages -----------------------------------------------------------------------------------

    def article(self, request: Request, slug: str, page: str | None) -> Response:
        with self.site.lock:
            try:
                article = self.site.article(slug)
            except KeyError:
                return not_found()
            number = int(page or 1)
            # /<slug>/1/ is not an address of the article: page 1 is /<slug>/
            if page == "1" or not 1 <= number <= article.list_pages:
                return not_found()
            text = render_article_page(article, self.base_url, number, ajax.script_config(self.site))
            # the version is in the ETag because a comment change may sit on a page this one does not show
            return cacheable(text, HTML, article.changed_at, salt=f"v{article.version}")

    def home(self, request: Request, page: str | None) -> Response:
        with self.site.lock:
            text = render_listing(self.site.articles(), int(page or 1), "", "Latest on Bored Panda")
        return not_found() if text is None else Response(200, text.encode())

    def category(self, request: Request, category: str, page: str | None) -> Response:
        with self.site.lock:
            articles = [a for a in self.site.articles() if a.category == category]
            text = render_listing(articles, int(page or 1), f"/category/{category}", category.title())
        return not_found() if not articles or text is None else Response(200, text.encode())

    def feed(self, request: Request) -> Response:
        with self.site.lock:
            articles = self.site.articles()
            return cacheable(render_feed(articles, self.base_url), "application/rss+xml; charset=utf-8",
                             last_change(articles))  # fmt: skip

    def sitemap_index(self, request: Request) -> Response:
        with self.site.lock:
            articles = self.site.articles()
            text = render_sitemap_index(sitemap_parts(articles), self.base_url)
            return cacheable(text, XML, last_change(articles))

    def sitemap(self, request: Request, part: str) -> Response:
        with self.site.lock:
            parts = sitemap_parts(self.site.articles())
            if not 1 <= int(part) <= len(parts):
                return not_found()
            chosen = parts[int(part) - 1]
            return cacheable(render_sitemap(chosen, self.base_url), XML, last_change(chosen))

    def robots(self, request: Request) -> Response:
        text = render_robots(self.base_url)
        if self.site.crawl_delay is not None:
            delay = f"Crawl-delay: {self.site.crawl_delay:g}\n"
            text = text.replace("User-agent: *\n", f"User-agent: *\n{delay}", 1)
        if self.site.robots_extra:
            text = text.replace(
                "User-agent: *\n",
                "User-agent: *\n" + "".join(f"{line}\n" for line in self.site.robots_extra),
                1,
            )
        return Response(200, text.encode(), "text/plain; charset=utf-8")

    def image(self, request: Request) -> Response:
        return Response(200, PNG, "image/png")

    def zine_page(self, request: Request, slug: str) -> Response:
        edition = zine.zine_of(self.site)
        if edition is None:
            return not_found()
        with edition.lock:
            try:
                article = edition.article(slug)
                text = zine.render_zine_page(article, self.base_url, request.query.get("expanded", ""))
            except KeyError:
                return not_found()
            except ValueError as error:
                return html_page("Bad Request", str(error), 400)
            return cacheable(text, HTML, article.changed_at, salt=f"v{article.version}")

    def square_page(self, request: Request, slug: str) -> Response:
        town = square.square_of(self.site)
        if town is None:
            return not_found()
        with town.lock:
            try:
                article = town.article(slug)
            except KeyError:
                return not_found()
            text = square.render_square_page(article, self.base_url, town)
            return cacheable(text, HTML, article.changed_at, salt=f"v{article.version}")

    # -- APIs ------------------------------------------------------------------------------------

    def square_api(self, request: Request) -> Response:
        town = square.square_of(self.site)
        if town is None:
            return Response(404, b'{"error": "no square on this site"}', JSON)
        status, body = square.api_response_body(town, request.path, request.query, request.headers)
        return Response(status, body, JSON)

    def zine_api(self, request: Request, name: str) -> Response:
        edition = zine.zine_of(self.site)
        try:
            if edition is None:
                raise zine.ZineError(404, "no zine on this site")
            with edition.lock:
                data = zine.api_answer(edition, name, request.query)
        except zine.ZineError as error:
            return Response(error.status, json.dumps({"error": error.message}).encode(), JSON)
        return Response(200, json.dumps(data).encode(), JSON)

    def ajax(self, request: Request) -> Response:
        if request.path != ajax.config_of(self.site).path:
            return not_found()
        try:
            with self.site.lock:
                data = ajax.answer(self.site, request.form)
        except ajax.AjaxError as error:
            return json_answer(False, {"message": error.message}, error.status)
        return json_answer(True, data)

    def control(self, request: Request) -> Response:
        try:
            command = json.loads(request.body or b"{}")
            result = control.apply(self.site, command["op"], command.get("args", {}))
        except (ValueError, KeyError, TypeError, control.ControlError) as error:
            return json_answer(False, {"message": str(error)}, 400)
        return json_answer(True, {"result": result})

    # -- faults ----------------------------------------------------------------------------------

    def fault(self, request: Request, name: str) -> Response:
        view = self._faults.get(name)
        return view(request) if view else not_found()

    def fault_malformed(self, request: Request) -> Response:
        """The newest article's page, cut off, with closing tags missing and bytes that are no UTF-8."""
        with self.site.lock:
            articles = self.site.articles()
            page = render_article_page(articles[0], self.base_url) if articles else "<html><body><div><p>"
        broken = page[: len(page) * 2 // 3].replace("</div>", "", 6).replace("</p>", "", 3)
        garbage = b'\n<div class="comment" data-comment-id="\xff\xfe\x00<<p>' + bytes(range(0x80, 0xA0))
        return Response(200, broken.encode() + garbage)

    def fault_slow(self, request: Request) -> Response:
        try:
            seconds = float(request.query.get("seconds", "1"))
        except ValueError:
            seconds = -1.0
        if not 0 <= seconds <= MAX_SLOW_SECONDS:  # also rejects nan
            return html_page("Bad Request", f"seconds must be within 0..{MAX_SLOW_SECONDS:g}", 400)
        time.sleep(seconds)
        return html_page("Slow page", f"Answered after {seconds:g} seconds.")

    def fault_retry_after(self, request: Request) -> Response:
        """503 with `Retry-After: <after>` the first time a `key` is asked for, a page after that."""
        key = request.query.get("key", "")
        if key not in self._retry_after_seen:
            self._retry_after_seen.add(key)
            page = html_page("Service Unavailable", "Come back later.", 503)
            page.headers["Retry-After"] = request.query.get("after", "1")
            return page
        return html_page("Back", "Answered after the wait.")

    def fault_redirect(self, request: Request) -> Response:
        target = request.query.get("to")
        if not target:
            return html_page("Bad Request", "to= is required", 400)
        return Response(302, b"", headers={"Location": target})
