"""The generic article adapter: any article site without an adapter of its own.

The body comes from trafilatura (main-content extraction that knows most CMS templates), after page
furniture we recognise by element (share buttons, author boxes, related links, newsletter boxes,
comment sections and forms) was removed, and is filtered again paragraph by paragraph ("Follow @…",
"Share this:"). Title, byline and date come from the page's structured metadata first
(`crawler.sites.metadata`, shared with every adapter), then from trafilatura, then htmldate for the
date. Comments are not read here: the registry runs the static comment readers on every page whose
adapter has no comment reader of its own.
"""

from __future__ import annotations

import copy
import re
from urllib.parse import urljoin, urlsplit

import htmldate
import trafilatura
from lxml.html import HtmlElement

from crawler.dates import parse_absolute
from crawler.items import ArticleItem
from crawler.sites.comments.wordpress import visible_date
from crawler.sites.errors import NotAnArticle
from crawler.sites.html import attr, first, select, text_of
from crawler.sites.metadata import Metadata
from crawler.text import is_boilerplate
from crawler.urls import url_hash

NAME = "generic"

#: Elements that are page furniture on article sites, removed before extraction.
FURNITURE = (
    "script",
    "style",
    "noscript",
    "template",
    "form",
    "nav",
    "footer",
    "aside",
    "#comments",
    ".comments-area",
    ".comment-respond",
    "#respond",
    ".comment-list",
    ".commentlist",
    "#disqus_thread",
    ".sharedaddy",
    ".sd-sharing-enabled",
    ".sharedaddy-dark",
    ".share-buttons",
    ".social-share",
    ".social-sharing",
    ".share-links",
    ".addtoany_share_save_container",
    ".jp-relatedposts",
    "#jp-relatedposts",
    ".related-posts",
    ".yarpp-related",
    ".crp_related",
    ".author-bio",
    ".author-box",
    ".about-author",
    ".author-info",
    "#author-info",
    ".post-author-box",
    ".saboxplugin-wrap",
    ".newsletter",
    ".newsletter-signup",
    ".mc4wp-form",
    ".wpcnt",
    ".post-navigation",
    ".navigation.post-navigation",
    ".wp-block-latest-posts",
    ".widget-area",
    ".sidebar",
)
#: Whole paragraphs that are furniture on article sites (on top of crawler.text's list).
FURNITURE_PARAGRAPHS = [
    re.compile(p, re.IGNORECASE)
    for p in (
        r"^follow (us )?(on \w+|@\w+).{0,80}$",
        r"^follow @\w+.*$",
        r"^share (this|on)\b.{0,60}$",
        r"^like this:?$",
        r"^liked by \d+ (people|person|bloggers?)$",
        r"^(loading\.\.\.|loading…)$",
        r"^related( posts| articles| stories)?:?$",
        r"^(subscribe|sign up) (to|for) (our|the) newsletter.*$",
        r"^(click to )?(share|print|email) .{0,40}\(opens in new window\)$",
        r"^posted in .{0,120}$",
        r"^tagged .{0,200}$",
        r"^leave a (reply|comment).*$",
        r"^(read more|read also|see also|more from \w+|lesen sie auch|leia também|lire aussi):.*$",
        r"^(main |header |top |featured )?(image|photo|picture|foto|bild|beitragsbild|titelbild)"
        r"( credits?| sources?|quelle)?:.{0,160}$",
        r"^(©|\(c\)|copyright\b).{0,120}$",
        r"^(subscribe|sign up|receba|inscreva|abonnieren|jetzt anmelden|get our)\b.{0,300}$",
        r"^submit (your|a) letter.*$",
        r"^.{0,160}\|\s*(categories|tags|filed under|posted in):.*$",
        r"^.{0,200}\bview comments$",
    )
]
#: a "Follow @handle" tail at the end of a paragraph
_FOLLOW_TAIL = re.compile(r"\s*\bfollow (us )?@\w+\s*$", re.IGNORECASE)
_SPLIT_TITLE = re.compile(r"\s+[|\-–—:·•]\s+")


def host_key(url: str) -> str:
    """The host that names a site in stored ids: lower case, without "www."."""
    host = (urlsplit(url).hostname or "").lower()
    return host.removeprefix("www.") or "local"


def _is_furniture(paragraph: str) -> bool:
    return is_boilerplate(paragraph) or any(p.match(paragraph.strip()) for p in FURNITURE_PARAGRAPHS)


def _stripped(root: HtmlElement) -> HtmlElement:
    tree = copy.deepcopy(root)
    for css in FURNITURE:
        for el in select(tree, css):
            if el.getparent() is not None:
                el.drop_tree()
    return tree


_CONTAINERS = (
    "[itemprop~='articleBody']",
    ".entry-content",
    ".post-content",
    ".article-body",
    "article",
    "main",
)


def _drop_trailing_promo(tree: HtmlElement, url: str) -> None:
    """Remove a house ad closing an article: after the article's last `<hr>`, a short block (a heading
    or bold text) that links to the site itself ("Deine Jobbörse …", "Subscribe to our …"). Articles
    end with their own text; what a rule sets apart at the very end and points back at the site is the
    site talking about itself."""
    host = host_key(url)
    for hr in select(tree, "hr"):
        after = [el for el in hr.itersiblings() if isinstance(el.tag, str)]
        if not after or any(el.tag == "hr" for el in after):
            continue  # not the last rule of its block
        text = " ".join(" ".join(el.text_content() for el in after).split())
        promo = any(
            el.tag in ("h2", "h3", "h4", "h5", "h6", "b", "strong") or select(el, _EMPHASIS) for el in after
        )
        links = [a for el in after for a in ([el] if el.tag == "a" else select(el, "a[href]"))]
        own = any(
            not urlsplit(a.get("href", "")).netloc or host_key(a.get("href", "")) == host for a in links
        )
        if text and len(text) <= 500 and promo and own:
            for el in [hr, *after]:
                el.drop_tree()


_EMPHASIS = "h2, h3, h4, h5, h6, b, strong"


def body_text(root: HtmlElement, url: str) -> tuple[str | None, object]:
    """(article body, paragraphs separated by a blank line; trafilatura's document or None)."""
    tree = _stripped(root)
    _drop_trailing_promo(tree, url)
    doc = trafilatura.bare_extraction(
        tree,
        url=url,
        with_metadata=True,
        include_comments=False,
        include_tables=True,
        include_images=False,
        deduplicate=False,
    )
    text = getattr(doc, "text", None) if doc is not None else None
    if not text:
        # trafilatura found no main text (short pages): the text of the page's article container
        container = next((el for css in _CONTAINERS if (el := first(tree, css)) is not None), None)
        found = text_of(container) if container is not None else None
        text = found.replace("\n\n", "\n") if found else None
    if not text:
        return None, doc
    paragraphs = [_FOLLOW_TAIL.sub("", " ".join(p.split())) for p in text.split("\n")]
    kept: list[str] = []
    in_related = False
    for paragraph in paragraphs:
        if not paragraph:
            continue
        if _RELATED_LEAD.match(paragraph):
            in_related = True  # "Related:" and the list of links under it
            continue
        if in_related and paragraph.startswith(("- ", "• ")):
            continue
        in_related = False
        if not _is_furniture(paragraph):
            kept.append(paragraph)
    return "\n\n".join(kept) or None, doc


_RELATED_LEAD = re.compile(
    r"^(auch interessant|editors[’']? (recommendations|picks)|related( posts| articles| stories| reading)?|"
    r"read (more|next|also)|see also|mehr zum thema|lesen sie auch|weitere artikel|das könnte dich auch "
    r"interessieren|recommended( for you| reading)?|you (may|might) also like|more stories)\s*:?$",
    re.IGNORECASE,
)
#: a body that starts with its byline ("Von Gregory Lipinski")
_BODY_BYLINE = re.compile(r"^(?i:von|by|par|por|di|oleh)\s+([A-ZÀ-Ý][\w.'’-]*(?:\s+[A-ZÀ-Ý][\w.'’-]*){0,3})$")


def clean_title(title: str | None, site_name: str | None) -> str | None:
    """A title without the " | Site Name" suffix (or "Site Name » " prefix) <title> and some
    og:titles carry."""
    if not title:
        return None
    title = " ".join(title.split())
    if site_name:
        site = " ".join(site_name.split()).lower()
        lowered = title.lower()
        for separator in (" | ", " - ", " – ", " — ", " :: ", " · ", " • ", " » ", ": "):
            if lowered.endswith(separator + site):
                return title[: -len(separator + site)].strip() or title
            if lowered.startswith(site + separator):
                return title[len(site + separator) :].strip() or title
    return title


_TITLE_SEPARATORS = re.compile(r"\s+(?:[|\-–—·•»«:]{1,2})\s+")


def title_from_page(root: HtmlElement, site_name: str | None) -> str | None:
    """The article's title without metadata: the part of <title> that is also a heading of the page,
    else the only <h1> (unless it is the site's name), else the longest part of <title>."""
    raw = text_of(first(root, "title"))
    parts = [p.strip() for p in _TITLE_SEPARATORS.split(raw)] if raw else []
    headings = {" ".join((text_of(h) or "").split()).lower(): h for h in select(root, "h1, h2, h3")}
    matching = [part for part in parts if part and part.lower() in headings]
    if matching:
        # the site's name is often a heading too (the logo's <h1>): the longer part is the article's
        return max(matching, key=len)
    h1 = select(root, "h1")
    h1_text = text_of(h1[0]) if len(h1) == 1 else None
    names = {p.lower() for p in parts[:1] + parts[-1:]} | {(site_name or "").lower()}
    if h1_text and (len(parts) < 2 or h1_text.lower() not in names):
        return h1_text
    if len(parts) > 1:
        return max(parts, key=len)
    return raw


def _post_id(root: HtmlElement) -> str | None:
    """The CMS's own id of the post: WordPress `article#post-123`, `body.postid-123`, shortlink ?p=."""
    el = first(root, 'article[id^="post-"], div[id^="post-"]')
    if el is not None:
        match = re.fullmatch(r"post-(\d+)", el.get("id", ""))
        if match:
            return match.group(1)
    body = first(root, "body")
    match = re.search(r"\bpostid-(\d+)\b", (body.get("class") or "") if body is not None else "")
    if match:
        return match.group(1)
    match = re.search(r"[?&]p=(\d+)\b", attr(first(root, 'link[rel="shortlink"]'), "href") or "")
    return match.group(1) if match else None


_BYLINE_CSS = (
    '[itemprop~="author"] [itemprop~="name"]',
    '[itemprop~="author"]',
    ".byline .author .fn",
    ".author.vcard .fn",
    ".author.vcard",
    '[class*="author__name"]',
    '[class*="author-name"]',
    ".author-title",
    ".byline",
    ".post-author",
    ".entry-author",
    'a[rel~="author"]',
    ".meta",
    ".entry-meta",
    ".post-meta",
    ".postmeta",
    ".postinfo",
    ".post-info",
)
_META_LINES = (".meta", ".entry-meta", ".post-meta", ".postmeta", ".postinfo", ".post-info", ".byline")
#: "… von jovelstefan" in the line under the headline: any handle after the lead-in word
_BY_HANDLE = re.compile(r"\b(?:by|von|par|por|di|oleh)\s+([\w.'’-]+(?:\s+[A-ZÀ-Ý][\w.'’-]*){0,3})\s*$", re.I)
_BY = re.compile(
    r"(?:^|\b(?:posted|written|published|geschrieben|veröffentlicht)?\s*)(?:by|von|par|por|di|oleh)\s+"
    r"([A-ZÀ-Ý][\w.'’-]*(?:\s+(?:[A-ZÀ-Ý][\w.'’-]*|van|von|de|der|da|di|le|la)){0,4})",
)
_BYLINE_LEAD = re.compile(
    r"^(view all posts by|all posts by|posts by|more by|written by|posted by|by)\s+", re.I
)


_BYLINE_TAIL = re.compile(
    r"\s+(?:updated|published|posted|aktualisiert|veröffentlicht|on|am|le)\b.*$|\s*[|·•].*$", re.I
)


def _in_comments(el: HtmlElement) -> bool:
    return any(
        a.get("id") in ("comments", "respond") or "comment" in (a.get("class") or "")
        for a in el.iterancestors()
    )


def byline(root: HtmlElement) -> str | None:
    """A byline in the markup: author elements, else "by Name" in the post's meta line."""
    for css in _BYLINE_CSS:
        for el in select(root, css):
            if _in_comments(el):
                continue
            text = " ".join((text_of(el) or "").split())
            match = _BY.search(text)
            if css in _META_LINES:
                if match:
                    return match.group(1)
                if css != ".byline":
                    continue
            text = _BYLINE_TAIL.sub("", _BYLINE_LEAD.sub("", text)).strip(" ,|·")
            if text and len(text) <= 60 and any(ch.isalpha() for ch in text):
                return text
    for heading in select(root, "h1, h2.entry-title, h2.post-title"):
        if _in_comments(heading):
            continue
        following = heading.getnext()
        if following is not None and isinstance(following.tag, str):
            line = " ".join((text_of(following) or "").split())
            match = _BY_HANDLE.search(line) if len(line) < 120 else None
            if match:
                return match.group(1)
    return None


_HEADLINES = "h1.entry-title, h1.post-title, h1[itemprop~='headline'], article h1.title, h1.article-title"
#: labels printed inside a headline element ("Letters to the Editor |"): not part of the title
_KICKERS = (
    ".entry-section",
    ".kicker",
    ".category",
    ".section-label",
    ".post-category",
    ".screen-reader-text",
)
_DATE_LINES = (
    ".entry-meta, .post-meta, .posted-on, .post-date, .entry-date, .fusion-meta-info, .meta-info, "
    ".article-meta, .byline"
)


def _date(meta: Metadata, doc, html: str | HtmlElement) -> str | None:
    value = parse_absolute(meta.published)
    if value:
        return value
    el = None
    if isinstance(html, HtmlElement):
        el = first(html, "article time[datetime], .entry-date[datetime], time.published[datetime]")
    if el is not None and parse_absolute(el.get("datetime")):
        return parse_absolute(el.get("datetime"))
    if isinstance(html, HtmlElement):
        # the date the post's meta line shows ("June 19th, 2018"), before htmldate's guesses (which
        # also read "updated" stamps)
        for meta_line in select(html, _DATE_LINES):
            if _in_comments(meta_line):
                continue
            found = visible_date(text_of(meta_line, skip=(".updated", ".rich-snippet-hidden")) or "")
            if found:
                return found
    try:
        found = htmldate.find_date(
            html, original_date=True, extensive_search=False, outputformat="%Y-%m-%dT%H:%M:%S"
        )
    except (ValueError, TypeError):
        found = None
    if not found and doc is not None:
        found = getattr(doc, "date", None)
    return parse_absolute(found) if found else None


def read_article(root: HtmlElement, url: str, meta: Metadata) -> ArticleItem:
    """The article of any page (pure). Raises NotAnArticle when the page holds no article text."""
    body, doc = body_text(root, url)
    lead = _BODY_BYLINE.match(body.split("\n\n", 1)[0]) if body else None
    if lead:
        body = body.split("\n\n", 1)[1] if "\n\n" in body else None
    is_article_type = bool(meta.ld) or (meta.og_type or "").lower() == "article"
    if not body or (len(body.split()) < 30 and not is_article_type):
        raise NotAnArticle("no article text found on the page (generic adapter)")
    canonical = meta.canonical
    key = host_key(canonical or url)
    post_id = _post_id(root)
    # the article's visible headline first: og:title is often an SEO title that differs from it
    headline = next(
        (
            t
            for el in select(root, _HEADLINES)
            if not _in_comments(el) and (t := text_of(el, skip=_KICKERS)) and len(t) < 300
        ),
        None,
    )
    title = headline or meta.title or title_from_page(root, meta.site_name) or getattr(doc, "title", None)
    # an Organization named as author (a newsroom) gives way to a person in the byline
    author = (
        (None if meta.author_is_organization else meta.author)
        or byline(root)
        or (lead.group(1) if lead else None)
        or meta.author
    )
    if author is None and getattr(doc, "author", None):
        author = _BYLINE_LEAD.sub("", doc.author).strip() or None
    return ArticleItem(
        url=url,
        article_id=f"{key}:{post_id}" if post_id else f"{key}:url:{url_hash(canonical or url)}",
        site=NAME,
        post_id=post_id,
        canonical_url=urljoin(url, canonical) if canonical else None,
        title=clean_title(title, meta.site_name),
        author=author,
        author_url=meta.author_url,
        published_at=_date(meta, doc, root),
        modified_at=parse_absolute(meta.modified),
        description=meta.description,
        tags=meta.tags,
        body_text=body,
        comment_count_reported=meta.comment_count,
    )
