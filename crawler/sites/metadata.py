"""Structured article metadata: JSON-LD, OpenGraph / <meta>, and schema.org microdata, read one way.

Every adapter (Bored Panda, the generic adapter, TOML profiles) asks this module for the fields a page
declares about itself, so that the same page gives the same title, author, dates and canonical URL
whichever adapter reads it. Order of trust: JSON-LD (an Article-like object), then OpenGraph and
<meta> tags, then microdata (`itemprop`); markup selectors of an adapter come after all of them.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

from lxml.html import HtmlElement

from crawler.sites.html import attr, first, select, text_of, to_int

#: schema.org types whose object describes the article itself (subtypes of CreativeWork we meet)
ARTICLE_TYPES = frozenset(
    {
        "Article",
        "NewsArticle",
        "BlogPosting",
        "Blog",
        "ReportageNewsArticle",
        "AnalysisNewsArticle",
        "OpinionNewsArticle",
        "ReviewNewsArticle",
        "BackgroundNewsArticle",
        "TechArticle",
        "ScholarlyArticle",
        "SocialMediaPosting",
        "LiveBlogPosting",
        "DiscussionForumPosting",
        "Report",
    }
)


@dataclass
class Metadata:
    """What the page says about itself; None / empty where it says nothing."""

    title: str | None = None
    author: str | None = None
    author_url: str | None = None
    published: str | None = None
    modified: str | None = None
    description: str | None = None
    tags: list[str] = field(default_factory=list)
    canonical: str | None = None
    site_name: str | None = None
    og_type: str | None = None
    #: the JSON-LD author is an Organization (a newsroom), not a person
    author_is_organization: bool = False
    comment_count: int | None = None
    #: the Article-like JSON-LD object ({} when none), for adapter-specific fields
    ld: dict[str, Any] = field(default_factory=dict)
    #: every JSON-LD object on the page, flattened (@graph and lists opened)
    ld_objects: list[dict[str, Any]] = field(default_factory=list)


def _types(obj: dict[str, Any]) -> set[str]:
    value = obj.get("@type")
    values = value if isinstance(value, list) else [value]
    return {str(v).rsplit("/", 1)[-1] for v in values if v}


def json_ld_objects(root: HtmlElement) -> list[dict[str, Any]]:
    """All JSON-LD objects of the page: lists and @graph flattened, broken scripts ignored."""
    found: list[dict[str, Any]] = []

    def add(data: Any) -> None:
        if isinstance(data, list):
            for entry in data:
                add(entry)
        elif isinstance(data, dict):
            graph = data.get("@graph")
            if isinstance(graph, list):
                add(graph)
            if "@type" in data:
                found.append(data)

    for script in select(root, 'script[type="application/ld+json"]'):
        try:
            # strict=False: real pages put raw newlines inside JSON strings
            add(json.loads((script.text or "").strip() or "null", strict=False))
        except ValueError:
            continue
    return found


def article_object(objects: list[dict[str, Any]]) -> dict[str, Any]:
    """The object describing the article: an Article-like type, else a WebPage's mainEntity."""
    for obj in objects:
        if _types(obj) & ARTICLE_TYPES:
            return obj
    for obj in objects:
        main = obj.get("mainEntity")
        if isinstance(main, dict) and _types(main) & ARTICLE_TYPES:
            return main
    return {}


def _text(value: Any) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        value = value.get("name") or value.get("@value")
    if not isinstance(value, str):
        return None
    return _clean(value)


def _clean(value: str | None) -> str | None:
    """Whitespace collapsed and HTML entities decoded (JSON-LD and meta values often carry
    "&#8220;" or "&amp;nbsp;" from the CMS)."""
    if value is None:
        return None
    value = html.unescape(html.unescape(value)).replace("\u00a0", " ")
    return " ".join(value.split()) or None


def _people(value: Any) -> tuple[str | None, str | None]:
    """(names joined by ", ", url of the first) of a JSON-LD author value."""
    values = value if isinstance(value, list) else [value]
    names, url = [], None
    for person in values:
        if isinstance(person, dict):
            name = _text(person.get("name"))
            url = url or (person.get("url") if isinstance(person.get("url"), str) else None)
        else:
            name = _text(person)
        if name and name not in names:
            names.append(name)
    return (", ".join(names) or None), url


def _is_organization(value: Any) -> bool:
    values = value if isinstance(value, list) else [value]
    return bool(values) and all(isinstance(v, dict) and "Organization" in str(v.get("@type")) for v in values)


def meta(root: HtmlElement, name: str) -> str | None:
    """The content of `<meta property=name>` or `<meta name=name>`, None when absent or empty."""
    el = first(root, f'meta[property="{name}"], meta[name="{name}"]')
    return _clean(attr(el, "content"))


def _meta_all(root: HtmlElement, name: str) -> list[str]:
    return [
        m.get("content").strip()
        for m in select(root, f'meta[property="{name}"], meta[name="{name}"]')
        if (m.get("content") or "").strip()
    ]


def _keywords(value: Any) -> list[str]:
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list):
        return []
    return [str(k).strip() for k in value if str(k).strip()]


def _itemprop(root: HtmlElement, name: str) -> str | None:
    """A microdata property of the page's Article-like item (not of a Comment inside it)."""
    for el in select(root, f'[itemprop="{name}"]'):
        scope = next((a for a in el.iterancestors() if a.get("itemscope") is not None), None)
        if scope is not None and "Comment" in (scope.get("itemtype") or ""):
            continue
        value = el.get("content") or el.get("datetime")
        if value is None and name in ("author", "publisher"):
            inner = first(el, '[itemprop="name"]')
            value = attr(inner, "content") or text_of(inner) if inner is not None else text_of(el)
        if value is None:
            value = text_of(el)
        if value and value.strip():
            return " ".join(value.split())
    return None


def canonical_url(root: HtmlElement, url: str) -> str | None:
    """The page's canonical address (link rel=canonical, else og:url), absolute; None when absent."""
    for css, name in (('link[rel="canonical"]', "href"), ('meta[property="og:url"]', "content")):
        value = attr(first(root, css), name)
        if value:
            return urljoin(url, value)
    return None


def read_metadata(root: HtmlElement, url: str) -> Metadata:
    """Everything the page declares about itself (pure; missing parts are None)."""
    objects = json_ld_objects(root)
    ld = article_object(objects)
    ld_author, ld_author_url = _people(ld.get("author"))
    site_name = meta(root, "og:site_name")
    if site_name is None:
        publisher = ld.get("publisher")
        site_name = _text(publisher) if publisher else None
    count = ld.get("commentCount")
    if count is None:
        count = _itemprop(root, "commentCount")
    author_url = ld_author_url
    return Metadata(
        title=_text(ld.get("headline")) or meta(root, "og:title") or _itemprop(root, "headline"),
        author=ld_author or meta(root, "author") or _itemprop(root, "author"),
        author_url=urljoin(url, author_url) if author_url else None,
        published=_text(ld.get("datePublished"))
        or meta(root, "article:published_time")
        or _itemprop(root, "datePublished"),
        modified=_text(ld.get("dateModified"))
        or meta(root, "article:modified_time")
        or _itemprop(root, "dateModified"),
        description=meta(root, "description") or meta(root, "og:description") or _text(ld.get("description")),
        tags=_keywords(ld.get("keywords")) or _meta_all(root, "article:tag"),
        canonical=canonical_url(root, url),
        site_name=site_name,
        og_type=meta(root, "og:type"),
        author_is_organization=_is_organization(ld.get("author")),
        comment_count=to_int(str(count)) if count is not None else None,
        ld=ld,
        ld_objects=objects,
    )
