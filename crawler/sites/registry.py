"""The one place that decides which adapter reads a page, and the front door to every adapter.

Resolution, first match wins (design notes §6):
1. `site=NAME` given by the user (`-a site=NAME`, `-a profile=NAME|path.toml`): that adapter;
2. the URL's host is one an adapter or a profile declares (`hosts`, subdomains included);
3. the host of the page's own canonical URL / og:url is one (a page saved or mirrored elsewhere);
4. a site signature: og:site_name, or the suffix of <title> ("… | Bored Panda");
5. the generic adapter (trafilatura + the static comment readers).
Class names alone never choose an adapter: lots of WordPress themes have a `div.post-content`.

Every adapter returns a `Page`. Adapters without a comment reader of their own (the generic one) get
the static comment readers' thread (WordPress, schema.org, widgets); every page is checked for an
HTML parse that silently lost part of the document (`crawler.sites.html.parse_html_checked`).
Adding a site means adding an adapter to ADAPTERS (or a TOML profile with `hosts`), nothing else.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import urlsplit

from lxml.html import HtmlElement

from crawler.items import ArticleItem, ListItem
from crawler.sites import boredpanda, comments, generic
from crawler.sites.boredpanda.article import read_article_page
from crawler.sites.errors import NotAnArticle, NotHTML
from crawler.sites.html import parse_html_checked, text_of
from crawler.sites.metadata import Metadata, read_metadata
from crawler.sites.profile import Profile, ProfileError, bundled_profiles, load_profile, read_page
from crawler.sites.thread import ClickPlan, FollowUp, ThreadPage


@dataclass
class Page:
    """One page as its adapter read it."""

    #: name of the adapter that read it ("boredpanda", "generic", a profile name)
    site: str
    article: ArticleItem
    thread: ThreadPage
    list_items: list[ListItem] = field(default_factory=list)
    next_page_url: str | None = None
    #: page of a list article (later pages carry list items only)
    page_number: int = 1


Reader = Callable[[HtmlElement, str, Metadata], Page]


@dataclass(frozen=True)
class Adapter:
    name: str
    read: Reader
    #: hosts whose pages it reads (subdomains included)
    hosts: tuple[str, ...] = ()
    #: og:site_name / <title> suffixes that identify the site's pages wherever they are served
    site_names: tuple[str, ...] = ()
    #: reads comment threads itself (no static readers tried on its pages)
    reads_comments: bool = False
    #: what a browser clicks on its pages (None: nothing; the page is only rendered)
    click_plan: ClickPlan | None = None
    #: its comment API as a seed recipe (crawler/recipes), shipped with the adapter: the recipe
    #: executor pages its threads with it until a recipe learned for the site replaces it
    seed_recipe: Callable[[], dict] | None = None


# -- adapters ----------------------------------------------------------------------------------------


def _read_boredpanda(root: HtmlElement, url: str, md: Metadata) -> Page:
    page = read_article_page(root, url, md)
    thread = page.thread(url) if page.page_number == 1 else ThreadPage()
    return Page(boredpanda.NAME, page.article, thread, page.list_items, page.next_page_url, page.page_number)


def _read_generic(root: HtmlElement, url: str, md: Metadata) -> Page:
    return Page(generic.NAME, generic.read_article(root, url, md), ThreadPage())


def _profile_reader(profile: Profile) -> Reader:
    def read(root: HtmlElement, url: str, md: Metadata) -> Page:
        rendered = read_page(root, url, profile, md)
        article, thread = rendered.article, rendered.thread
        if not article.body_text:
            # the profile's body selector found nothing (or it has none): the generic extraction
            article.body_text = generic.body_text(root, url)[0]
        if thread.reported_total and len(thread.comments) < thread.reported_total or not thread.end_reached:
            # more comments than the HTML holds, and the profile knows what to click
            thread.needs_browser = bool(profile.load_more)
        return Page(profile.name, article, thread)

    return read


BOREDPANDA = Adapter(
    name=boredpanda.NAME,
    read=_read_boredpanda,
    hosts=("boredpanda.com",),
    site_names=("bored panda",),
    reads_comments=True,
    click_plan=boredpanda.CLICK_PLAN,
    seed_recipe=boredpanda.seed_recipe,
)
GENERIC = Adapter(name=generic.NAME, read=_read_generic)
#: Site adapters with code of their own; profiles come from crawler/sites/profiles/ and -a profile=.
ADAPTERS = (BOREDPANDA,)


@lru_cache(maxsize=64)
def profile_adapter(name_or_path: str) -> Adapter:
    """The adapter of a TOML profile (bundled name or path); raises ProfileError."""
    profile = load_profile(name_or_path)
    return Adapter(
        name=profile.name,
        read=_profile_reader(profile),
        hosts=profile.hosts,
        reads_comments=True,
        click_plan=profile.click_plan(),
    )


def _bundled() -> list[Adapter]:
    found = []
    for name in bundled_profiles():
        adapter = profile_adapter(name)
        if adapter.hosts and adapter.name not in {a.name for a in ADAPTERS}:
            found.append(adapter)
    return found


def known_sites() -> list[str]:
    """Names `site=` accepts: the code adapters, "generic", and the bundled profiles."""
    return sorted({a.name for a in ADAPTERS} | {GENERIC.name} | set(bundled_profiles()))


def adapter_named(name: str) -> Adapter:
    """The adapter `-a site=NAME` asks for: a code adapter, "generic", or a profile (name or path).

    Raises ProfileError naming the known sites when there is none.
    """
    for adapter in (*ADAPTERS, GENERIC):
        if adapter.name == name:
            return adapter
    try:
        return profile_adapter(name)
    except ProfileError as exc:
        raise ProfileError(f"unknown site {name!r} (known: {', '.join(known_sites())}); {exc}") from None


def seed_recipe(name: str) -> dict | None:
    """A fresh copy of the seed recipe the adapter `name` ships, or None (none, or no such adapter)."""
    for adapter in ADAPTERS:
        if adapter.name == name and adapter.seed_recipe is not None:
            return adapter.seed_recipe()
    return None


def _host_match(host: str | None, adapters: list[Adapter]) -> Adapter | None:
    host = (host or "").lower().removeprefix("www.")
    if not host:
        return None
    for adapter in adapters:
        if any(host == h or host.endswith("." + h) for h in adapter.hosts):
            return adapter
    return None


def _title_suffix(root: HtmlElement) -> str | None:
    title = text_of(root.find(".//title")) or ""
    for separator in (" | ", " - ", " – ", " — ", " :: "):
        if separator in title:
            return title.rsplit(separator, 1)[1].strip().lower()
    return None


def resolve(root: HtmlElement, url: str, md: Metadata, site: str | None = None) -> Adapter:
    """The adapter for a page (see the module docstring for the order)."""
    if site:
        return adapter_named(site)
    adapters = [*ADAPTERS, *_bundled()]
    found = _host_match(urlsplit(url).hostname, adapters)
    if found is None and md.canonical:
        found = _host_match(urlsplit(md.canonical).hostname, adapters)
    if found is None:
        names = {(md.site_name or "").strip().lower(), _title_suffix(root) or ""} - {""}
        found = next((a for a in adapters if names & set(a.site_names)), None)
    return found or GENERIC


def read_thread_statically(root: HtmlElement, url: str, md: Metadata, article: ArticleItem) -> ThreadPage:
    """The static readers' thread of a page whose adapter reads no comments itself."""
    prefix = (article.article_id or generic.host_key(md.canonical or url)).split(":", 1)[0]
    return comments.read_thread(root, url, prefix, md.ld_objects, md.comment_count)


def parse_page(html: str | bytes, url: str, site: str | None = None) -> Page:
    """Read any page: resolve its adapter, read article, list items and comment thread.

    Pure (no I/O). Raises NotHTML for bodies that are not HTML documents and NotAnArticle for HTML
    pages that hold no article; ProfileError when `site` names no adapter or profile.
    """
    root, lost = parse_html_checked(html)
    md = read_metadata(root, url)
    adapter = resolve(root, url, md, site)
    page = adapter.read(root, url, md)
    if page.page_number == 1 and page.article.title is None and not page.article.body_text:
        raise NotAnArticle(f"no title and no text found by the {adapter.name} adapter")
    if page.page_number == 1:
        if not adapter.reads_comments:
            page.thread = read_thread_statically(root, url, md, page.article)
        elif not page.thread.comments and not page.thread.section and not page.thread.needs_browser:
            # The site's reader found no comment block: a widget is still worth naming.
            widget = comments.detect_widget(root)
            if widget:
                page.thread.widget, page.thread.section = widget, True
        if page.article.comment_count_reported is None:
            page.article.comment_count_reported = page.thread.reported_total
    page.thread.parse_lost = lost
    return page


def parse_answer(site: str, follow_up: FollowUp, body: bytes, article_id: str, url: str) -> ThreadPage:
    """The answer to a follow-up request of a thread read by adapter `site`: a further comment page
    of the static readers (its follow-up carries their id prefix). A site's comment API is paged by
    its recipe instead (seed or learned, crawler/recipes), never through follow-ups. Raises NotHTML.
    """
    if follow_up.prefix:
        return comments.parse_comment_page(follow_up, body, url)
    raise NotHTML(f"the {site} adapter makes no follow-up requests of kind {follow_up.kind}")


__all__ = [
    "ADAPTERS",
    "GENERIC",
    "Adapter",
    "NotAnArticle",
    "NotHTML",
    "Page",
    "adapter_named",
    "known_sites",
    "parse_answer",
    "parse_page",
    "resolve",
    "seed_recipe",
]
