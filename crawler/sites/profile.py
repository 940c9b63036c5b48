"""Site profiles: a few CSS selectors in a TOML file, so the browser path can read sites without an adapter.

A profile says where a page's comments are, how to read one comment, and which elements a browser
clicks until the whole thread is in the DOM. `load_profile` reads one (a path, or the name of a bundled
profile in `crawler/sites/profiles/`), refusing unknown sections and keys, so a typo fails at start
instead of silently reading nothing. `parse_rendered` is the generic adapter: a pure function from the
rendered HTML (after the clicks) to the article and its comments, like the site adapters.

A complete profile (`[article]` may be left out; every key not marked required may be left out):

    [site]
    name = "zine"                        # required; prefix of stored ids: "zine:<id>"
    hosts = ["dailyzine.example"]        # pages of these hosts (and their subdomains), or whose
                                         #   canonical URL is on them, are read with this profile

    [article]                            # when a key is absent or finds nothing: JSON-LD, OpenGraph,
    title = "h1.headline"                #   <h1> and <title> are used instead
    author = ".byline a"
    published = "time.pubdate"           # without @attr: the datetime attribute, else the text
    body = "div.story-body"
    post_id_attr = "article[data-story-id]@data-story-id"   # "selector@attribute"; article ids are
                                                            #   "<name>:<post id>", else "<name>:url:<hash>"
    [comments]
    container = "section.discussion"     # required; the browser scrolls it into view
    item = "li.msg"                      # required; one comment (replies may be nested in it)
    id = "@data-msg-id"                  # required; "@attr" of the item itself, or "selector@attr"
    parent = "@data-reply-to"            # an empty value means top level; without this key the parent
                                         #   is the nearest enclosing item
    author = ".who"
    text = ".says"
    time = "time@datetime"               # an ISO value is exact; else the text is a relative time
    upvotes = ".likes@data-n"
    downvotes = ".dislikes@data-n"
    reported_total = "section.discussion@data-total"

    [browser]
    load_more = ["button.zine-more", "button.zine-replies", "span.zine-expand"]
    scroll = false                       # true: the widget loads more as the reader scrolls (an
                                         #   infinite list); each round scrolls the last comment into
                                         #   view. load_more or scroll = true is required

Selectors: "selector@attr" reads an attribute, "selector" the normalised text. Comment fields are
relative to their item and take the first match that belongs to the item itself, not to a reply
nested inside it; `reported_total` and the article fields are relative to the document. A
`load_more` element left on the page means the thread was not fully expanded (so make the selectors
match only clickable elements, e.g. `button.more:not([hidden])`); one left inside a comment's text
marks that text as cut. An author element with an `href` also gives the author's URL.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from cssselect import SelectorError
from lxml.cssselect import CSSSelector
from lxml.html import HtmlElement

from crawler.dates import parse_absolute
from crawler.items import ArticleItem, CommentItem
from crawler.sites.html import parse_html, text_of, to_int
from crawler.sites.metadata import Metadata, read_metadata
from crawler.sites.thread import ClickPlan, RenderedPage, ThreadPage
from crawler.urls import url_hash

PROFILES_DIR = Path(__file__).with_name("profiles")

_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]*\Z")
#: "css@attr" / "@attr": the part after the last "@" when it is an attribute name; otherwise
#: (e.g. `a[title="@home"]`) the whole string is CSS
_WITH_ATTR = re.compile(r"(?P<css>.*)@(?P<attr>[A-Za-z_:][\w:.-]*)\Z", re.DOTALL)


class ProfileError(ValueError):
    """A profile that cannot be used; the one-line message names the file and the problem."""


# -- the profile ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Field:
    """Where a value is: `css` ("" for the scope element itself) and the attribute to read (None:
    the normalised text)."""

    css: str
    attr: str | None = None

    def __str__(self) -> str:
        return f"{self.css}@{self.attr}" if self.attr else self.css


@dataclass(frozen=True)
class ArticleSelectors:
    title: Field | None = None
    author: Field | None = None
    published: Field | None = None
    body: Field | None = None
    post_id: Field | None = None


@dataclass(frozen=True)
class CommentSelectors:
    container: str
    item: str
    id: Field
    parent: Field | None = None
    author: Field | None = None
    text: Field | None = None
    time: Field | None = None
    upvotes: Field | None = None
    downvotes: Field | None = None
    reported_total: Field | None = None


@dataclass(frozen=True)
class Profile:
    """A loaded, validated site profile (see the module docstring for the file format)."""

    name: str
    comments: CommentSelectors
    load_more: tuple[str, ...]
    article: ArticleSelectors = field(default_factory=ArticleSelectors)
    #: the widget loads more as the reader scrolls (ClickPlan.scroll)
    scroll: bool = False
    #: the file it came from, for messages
    source: str = "<string>"
    #: hosts whose pages this profile reads (the registry chooses it for them)
    hosts: tuple[str, ...] = ()

    def click_plan(self) -> ClickPlan:
        """What the browser path does on this site's pages."""
        comments = self.comments
        return ClickPlan(comments.container, comments.item, self.load_more, scroll=self.scroll)


# -- loading --------------------------------------------------------------------------------------

# key -> (kind, required) per section; the kinds are checked by _KIND_CHECKS
_SCHEMA: dict[str, dict[str, tuple[str, bool]]] = {
    "site": {"name": ("name", True), "hosts": ("hosts", False)},
    "article": {
        "title": ("field", False),
        "author": ("field", False),
        "published": ("field", False),
        "body": ("field", False),
        "post_id_attr": ("attr_field", False),
    },
    "comments": {
        "container": ("css", True),
        "item": ("css", True),
        "id": ("field", True),
        "parent": ("field", False),
        "author": ("field", False),
        "text": ("field", False),
        "time": ("field", False),
        "upvotes": ("field", False),
        "downvotes": ("field", False),
        "reported_total": ("field", False),
    },
    "browser": {"load_more": ("css_list", False), "scroll": ("bool", False)},
}


def bundled_profiles() -> list[str]:
    """Names of the profiles shipped in crawler/sites/profiles/."""
    return sorted(path.stem for path in PROFILES_DIR.glob("*.toml"))


def load_profile(name_or_path: str | Path) -> Profile:
    """Load a profile from a .toml file, or by the name of a bundled profile ("zine").

    An argument with a path separator or a .toml suffix (or any Path) is a file; anything else is a
    bundled name. Raises ProfileError with a one-line message when the profile cannot be used.
    """
    path = _locate(name_or_path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileError(f"cannot read profile {path}: {exc}") from None
    return parse_profile(text, source=str(path))


def parse_profile(text: str, source: str = "<string>") -> Profile:
    """A profile from TOML text; `source` names it in error messages."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"{source}: TOML syntax error: {exc}") from None
    values = _checked_values(data, source)
    if not values.get(("browser", "load_more")) and not values.get(("browser", "scroll")):
        raise ProfileError(f"{source}: browser.scroll is not true: missing required key browser.load_more")
    comments = {key: value for (section, key), value in values.items() if section == "comments"}
    article = {key: value for (section, key), value in values.items() if section == "article"}
    article["post_id"] = article.pop("post_id_attr", None)
    return Profile(
        name=values["site", "name"],
        comments=CommentSelectors(**comments),
        load_more=values.get(("browser", "load_more"), ()),
        scroll=values.get(("browser", "scroll"), False),
        article=ArticleSelectors(**article),
        source=source,
        hosts=values.get(("site", "hosts"), ()),
    )


def _locate(name_or_path: str | Path) -> Path:
    known = ", ".join(bundled_profiles()) or "none"
    text = str(name_or_path)
    if isinstance(name_or_path, Path) or "/" in text or "\\" in text or text.endswith(".toml"):
        path = Path(name_or_path)
        if not path.is_file():
            raise ProfileError(f"profile file not found: {text} (bundled profiles: {known})")
        return path
    path = PROFILES_DIR / f"{text}.toml"
    if not path.is_file():
        raise ProfileError(f"no bundled profile named {text!r} and no such file (bundled profiles: {known})")
    return path


def _checked_values(data: dict[str, Any], source: str) -> dict[tuple[str, str], Any]:
    """Every value of `data` converted by its kind, keyed (section, key); unknown or missing raise."""
    values: dict[tuple[str, str], Any] = {}
    for section, table in data.items():
        if section not in _SCHEMA:
            raise ProfileError(f"{source}: unknown section [{section}]{_hint(section, _SCHEMA)}")
        if not isinstance(table, dict):
            raise ProfileError(f"{source}: {section} must be a section ([{section}]), not a value")
        for key, value in table.items():
            if key not in _SCHEMA[section]:
                raise ProfileError(f"{source}: unknown key {section}.{key}{_hint(key, _SCHEMA[section])}")
            kind, _ = _SCHEMA[section][key]
            values[section, key] = _KIND_CHECKS[kind](value, f"{source}: {section}.{key}")
    for section, keys in _SCHEMA.items():
        for key, (_, required) in keys.items():
            if required and (section, key) not in values:
                raise ProfileError(f"{source}: missing required key {section}.{key}")
    return values


def _hint(word: str, known: dict[str, Any]) -> str:
    close = difflib.get_close_matches(word, list(known), n=1)
    return f" (did you mean {close[0]}?)" if close else f" (known: {', '.join(known)})"


def _string(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise ProfileError(f"{where} must be a string, not {type(value).__name__}")
    if not value.strip():
        raise ProfileError(f"{where} must not be empty")
    return value.strip()


def _name(value: Any, where: str) -> str:
    name = _string(value, where)
    if not _NAME.match(name):
        raise ProfileError(f"{where} must be lower-case letters, digits, '.', '_' or '-', not {name!r}")
    return name


def _css(value: Any, where: str) -> str:
    css = _string(value, where)
    if _WITH_ATTR.match(css):
        raise ProfileError(f"{where} must be a plain CSS selector, without @attribute: {css!r}")
    _check_css(css, where)
    return css


def _field(value: Any, where: str) -> Field:
    raw = _string(value, where)
    match = _WITH_ATTR.match(raw)
    css, attr = (match["css"].strip(), match["attr"]) if match else (raw, None)
    if css:
        _check_css(css, where)
    return Field(css, attr)


def _attr_field(value: Any, where: str) -> Field:
    found = _field(value, where)
    if found.attr is None:
        raise ProfileError(f'{where} must read an attribute ("selector@attribute"), not {value!r}')
    return found


def _css_list(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise ProfileError(f"{where} must be a non-empty list of CSS selectors")
    return tuple(_css(css, f"{where}[{n}]") for n, css in enumerate(value))


def _bool(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise ProfileError(f"{where} must be true or false, not {value!r}")
    return value


def _check_css(css: str, where: str) -> None:
    try:
        _selector(css)
    except SelectorError as exc:
        raise ProfileError(f"{where}: invalid CSS selector {css!r}: {exc}") from None


def _hosts(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ProfileError(f"{where} must be a list of host names")
    return tuple(v.strip().lower().removeprefix("www.") for v in value)


_KIND_CHECKS = {
    "hosts": _hosts,
    "name": _name,
    "css": _css,
    "field": _field,
    "attr_field": _attr_field,
    "css_list": _css_list,
    "bool": _bool,
}


@lru_cache(maxsize=1024)
def _selector(css: str) -> CSSSelector:
    """Compiled once: translating CSS to XPath costs more than running it on a comment."""
    return CSSSelector(css, translator="html")


# -- the generic adapter --------------------------------------------------------------------------


def parse_rendered(html: str | bytes, url: str, profile: Profile) -> RenderedPage:
    """Read a page rendered (and expanded) in a browser with `profile`. Pure; raises NotHTML for
    empty or non-HTML input."""
    root = parse_html(html)
    return read_page(root, url, profile, read_metadata(root, url))


def read_page(root: HtmlElement, url: str, profile: Profile, meta: Metadata) -> RenderedPage:
    """The article and comments of a parsed page, read with `profile` (over HTTP or after clicks)."""
    article = _article(root, url, meta, profile)
    thread = _thread(root, article.article_id, url, profile)
    article.comment_count_reported = thread.reported_total
    return RenderedPage(article=article, thread=thread)


def _first(scope: HtmlElement, where: Field | None) -> HtmlElement | None:
    if where is None:
        return None
    if not where.css:
        return scope
    found = _selector(where.css)(scope)
    return found[0] if found else None


def _read(el: HtmlElement | None, where: Field | None) -> str | None:
    """The attribute `where` names, else the normalised text; None when absent or empty."""
    if el is None or where is None:
        return None
    value = el.get(where.attr) if where.attr else text_of(el)
    if value is None:
        return None
    return value.strip() or None


# -- article --------------------------------------------------------------------------------------


def _article(root: HtmlElement, url: str, meta: Metadata, profile: Profile) -> ArticleItem:
    fields = profile.article
    canonical = meta.canonical
    post_id = _read(_first(root, fields.post_id), fields.post_id)
    # a page without an id of its own is known by its address, as in the Bored Panda adapter
    article_id = (
        f"{profile.name}:{post_id}" if post_id else f"{profile.name}:url:{url_hash(canonical or url)}"
    )
    author_el = _first(root, fields.author)
    return ArticleItem(
        url=url,
        article_id=article_id,
        site=profile.name,
        post_id=post_id,
        canonical_url=canonical,
        title=_read(_first(root, fields.title), fields.title)
        or meta.title
        or text_of(_first(root, Field("h1")))
        or text_of(_first(root, Field("title"))),
        author=_read(author_el, fields.author) or meta.author,
        author_url=_href(author_el, url),
        published_at=_published(root, fields.published) or parse_absolute(meta.published),
        modified_at=parse_absolute(meta.modified),
        description=meta.description,
        tags=meta.tags,
        body_text=_read(_first(root, fields.body), fields.body),
    )


def _published(root: HtmlElement, where: Field | None) -> str | None:
    """The profile's date: its attribute, else the element's datetime attribute, else its text."""
    el = _first(root, where)
    if el is None or where is None:
        return None
    value = _read(el, where) if where.attr else (el.get("datetime") or "").strip() or text_of(el)
    return parse_absolute(value)


def _href(el: HtmlElement | None, url: str) -> str | None:
    href = (el.get("href") or "").strip() if el is not None else ""
    return urljoin(url, href) if href else None


# -- comments -------------------------------------------------------------------------------------


class _Items:
    """The comment elements of a page and who contains whom.

    Holds the elements themselves: lxml proxies die with their last reference and their id()s get
    reused, so a set of ids alone would mistake other elements for comments.
    """

    def __init__(self, root: HtmlElement, comments: CommentSelectors) -> None:
        self.elements: list[HtmlElement] = []
        seen: set[int] = set()
        for container in _selector(comments.container)(root):
            for el in _selector(comments.item)(container):
                if id(el) not in seen:  # nested or repeated containers find an item twice
                    seen.add(id(el))
                    self.elements.append(el)
        self._ids = seen

    def ancestors(self, el: HtmlElement) -> Iterator[HtmlElement]:
        """The items enclosing `el`, nearest first."""
        return (a for a in el.iterancestors() if id(a) in self._ids)

    def owner(self, el: HtmlElement) -> HtmlElement | None:
        return next(self.ancestors(el), None)

    def own(self, item: HtmlElement, where: Field | None) -> HtmlElement | None:
        """The first match of `where` in `item` that is not part of a reply nested in it."""
        if where is None:
            return None
        if not where.css:
            return item
        return next((m for m in _selector(where.css)(item) if m is item or self.owner(m) is item), None)


def _thread(root: HtmlElement, article_id: str | None, url: str, profile: Profile) -> ThreadPage:
    selectors = profile.comments
    items = _Items(root, selectors)
    total = _read(_first(root, selectors.reported_total), selectors.reported_total)
    page = ThreadPage(
        reported_total=to_int(total),
        # a load_more element anywhere means some click was not made (or did not finish)
        end_reached=not any(_selector(css)(root) for css in profile.load_more),
        section=bool(items.elements or total is not None or _selector(selectors.container)(root)),
        reader=profile.name,
    )
    seen: set[str] = set()
    for el in items.elements:
        comment = _comment(el, items, article_id, url, profile)
        if comment is None or comment.comment_id in seen:
            continue
        seen.add(comment.comment_id)
        page.comments.append(comment)
    _chain_depths(page.comments)
    return page


def _comment(
    el: HtmlElement, items: _Items, article_id: str | None, url: str, profile: Profile
) -> CommentItem | None:
    """One comment item, None when it carries no id; depth counts enclosing items for now."""
    selectors, prefix = profile.comments, profile.name
    raw_id = _read(items.own(el, selectors.id), selectors.id)
    if raw_id is None:
        return None
    raw_parent = _raw_parent(el, items, selectors)
    author_el = items.own(el, selectors.author)
    text, truncated = _comment_text(items.own(el, selectors.text), selectors.text, profile.load_more)
    posted_at, relative = _comment_time(items.own(el, selectors.time), selectors.time)
    return CommentItem(
        comment_id=f"{prefix}:{raw_id}",
        source_id=raw_id,
        article_id=article_id,
        parent_id=f"{prefix}:{raw_parent}" if raw_parent else None,
        depth=sum(1 for _ in items.ancestors(el)),
        author=_read(author_el, selectors.author),
        author_url=_href(author_el, url),
        posted_at=posted_at,
        posted_at_precision="exact" if posted_at else None,
        relative_time=relative,
        text=text,
        truncated=truncated,
        # a site's one score lands in upvotes, and may be below zero; downvotes are a count
        upvotes=to_int(_read(items.own(el, selectors.upvotes), selectors.upvotes), signed=True),
        downvotes=to_int(_read(items.own(el, selectors.downvotes), selectors.downvotes)),
    )


def _raw_parent(el: HtmlElement, items: _Items, selectors: CommentSelectors) -> str | None:
    """The site's id of the parent: the profile's `parent` value, else the enclosing item's id."""
    if selectors.parent is not None:
        return _read(items.own(el, selectors.parent), selectors.parent)
    enclosing = items.owner(el)
    return _read(items.own(enclosing, selectors.id), selectors.id) if enclosing is not None else None


def _comment_text(
    el: HtmlElement | None, where: Field | None, load_more: tuple[str, ...]
) -> tuple[str | None, bool]:
    """(text without "see more" links, whether such a link is still in it: the text is cut)."""
    if el is None or where is None:
        return None, False
    if where.attr:
        return _read(el, where), False
    truncated = any(_selector(css)(el) for css in load_more)
    return text_of(el, skip=load_more), truncated


def _comment_time(el: HtmlElement | None, where: Field | None) -> tuple[str | None, str | None]:
    """(posted_at when the attribute is an ISO timestamp, the element's text as a relative time)."""
    if el is None or where is None:
        return None, None
    text = text_of(el) or None
    value = _read(el, where) if where.attr else None
    if value and _is_iso(value):
        return value, text
    return None, text or value


def _is_iso(value: str) -> bool:
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def _chain_depths(comments: list[CommentItem]) -> None:
    """Raise each depth to the length of its parent chain: sites that print replies flat, next to
    their parents, say who replies to whom only through the parent attribute."""
    parents = {c.comment_id: c.parent_id for c in comments}
    for comment in comments:
        depth, seen, parent = 0, {comment.comment_id}, comment.parent_id
        while parent is not None and parent not in seen:  # a cycle in broken markup must end
            depth += 1
            seen.add(parent)
            parent = parents.get(parent)
        comment.depth = max(comment.depth, depth)
