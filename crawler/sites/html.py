"""Small HTML helpers shared by the site adapters: parsing, text of an element, numbers in text.

Adapters are pure functions of HTML; these helpers keep them short and make every adapter treat
odd input (empty documents, garbage bytes, missing elements) the same way.
"""

from __future__ import annotations

import re
from functools import lru_cache

import lxml.etree
import lxml.html
from lxml.cssselect import CSSSelector
from lxml.html import HtmlElement

from crawler.text import normalise_whitespace

# Elements whose text is never content: scripts, icons and embedded objects.
NON_TEXT_TAGS = ("script", "style", "noscript", "svg", "template", "iframe", "object")
BLOCK_TAGS = frozenset(
    [
        "p",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "li",
        "blockquote",
        "figcaption",
        "pre",
        "dd",
        "dt",
        "td",
        "th",
        "div",
        "section",
        "article",
    ]
)
_NUMBER = re.compile(r"(\d+(?:[.,]\d+)?)\s*([kKmM])?")


class NotHTML(ValueError):
    """The body is empty or not an HTML document; the reason is in the message."""


def parse_html(html: str | bytes) -> HtmlElement:
    """Parse a document, raising NotHTML for empty or non-HTML input instead of lxml's errors."""
    return parse_html_checked(html)[0]


def parse_html_checked(html: str | bytes) -> tuple[HtmlElement, str | None]:
    """(tree, why the parser lost part of the document or None); raises NotHTML like parse_html.

    libxml2 stops reading silently at nesting deeper than 256 elements or at a text node over its
    size limit, and the tree just ends there: a comment block after that point is simply missing.
    The parser's own error log says so (a fatal resource-limit error); comment markers counted in the
    raw HTML and missing from the tree say so too (`lost_markers`).
    """
    if isinstance(html, bytes):
        html = html.decode("utf-8", errors="replace")
    if not html or not html.strip():
        raise NotHTML("empty body")
    parser = lxml.html.HTMLParser()
    try:
        root = lxml.html.document_fromstring(html, parser=parser)
    except (lxml.etree.ParserError, ValueError) as exc:
        raise NotHTML(f"unparseable HTML: {exc}") from exc
    if root.find(".//body") is None and root.find(".//head") is None:
        raise NotHTML("no <head> or <body> element")
    lost = None
    for error in parser.error_log:
        if error.level_name == "FATAL" or "RESOURCE_LIMIT" in error.type_name:
            lost = f"the HTML parser stopped early ({error.message.strip()}, line {error.line})"
            break
    return root, lost or lost_markers(html, root)


# Markers of one comment each, in raw HTML and in the tree: WordPress ids, data-comment-id,
# schema.org Comment items.
_RAW_MARKERS = re.compile(
    r"""\bid=["']?(?:li-|div-)?comment-\d+|\bdata-comment-id=["']?\w|itemtype=["']?https?://schema\.org/Comment\b""",
    re.IGNORECASE,
)
_TREE_MARKERS = (
    lxml.etree.XPath(
        "//@id[re:test(., '^(li-|div-)?comment-[0-9]+$')]",
        namespaces={"re": "http://exslt.org/regular-expressions"},
    ),
    lxml.etree.XPath("//@data-comment-id[string-length(normalize-space(.)) > 0]"),
    lxml.etree.XPath(
        "//@itemtype[re:test(., 'schema\\.org/Comment$')]",
        namespaces={"re": "http://exslt.org/regular-expressions"},
    ),
)


def lost_markers(html: str, root: HtmlElement) -> str | None:
    """A reason when the raw HTML holds more comment markers than the parsed tree (else None)."""
    raw = len(_RAW_MARKERS.findall(html))
    if not raw:
        return None
    parsed = sum(len(xpath(root)) for xpath in _TREE_MARKERS)
    # Markers inside scripts/templates are text to the parser, not elements: allow for them.
    scripted = sum(
        len(_RAW_MARKERS.findall(s.text or "")) for s in root.iter("script", "template", "textarea")
    )
    scripted += sum(
        len(_RAW_MARKERS.findall(lxml.html.tostring(c, encoding="unicode")))
        for c in root.iter(lxml.etree.Comment)
    )
    if parsed + scripted < raw:
        return f"the HTML holds {raw} comment markers but the parsed page only {parsed + scripted}"
    return None


def parse_fragment(html: str) -> HtmlElement:
    """Parse an HTML fragment (an AJAX answer) into a wrapper element; empty input gives no children."""
    return lxml.html.fragment_fromstring(html or "", create_parent="div")


@lru_cache(maxsize=512)
def _css(css: str) -> CSSSelector:
    return CSSSelector(css, translator="html")


@lru_cache(maxsize=256)
def _child_xpath(tag: str, class_name: str) -> lxml.etree.XPath:
    return lxml.etree.XPath(f"./{tag}[contains(concat(' ', normalize-space(@class), ' '), ' {class_name} ')]")


def select(root: HtmlElement, css: str) -> list[HtmlElement]:
    """`root.cssselect(css)` with the selector compiled once: compiling is most of the cost of
    reading a comment (a 1,000-comment thread compiles ~10,000 selectors otherwise)."""
    return _css(css)(root)


def first(root: HtmlElement, css: str) -> HtmlElement | None:
    found = select(root, css)
    return found[0] if found else None


def child(el: HtmlElement | None, class_name: str, tag: str = "*") -> HtmlElement | None:
    """The first direct child of `el` carrying `class_name` (cssselect's `:scope >` is not reliable)."""
    if el is None:
        return None
    found = _child_xpath(tag, class_name)(el)
    return found[0] if found else None


# What XPath's normalize-space (and so every `.class` selector above) counts as space in a class list.
_CLASS_SPACE = str.maketrans("\t\n\r", "   ")


def has_class(el: HtmlElement, class_name: str) -> bool:
    """Whether `el` carries `class_name`, as the selector `.class_name` decides it."""
    classes = el.get("class")
    return classes is not None and class_name in classes.translate(_CLASS_SPACE).split(" ")


def first_with_classes(root: HtmlElement | None, *class_names: str) -> list[HtmlElement | None]:
    """For each of `class_names`, `first(root, "." + name)`: the first element of `root` or its
    descendants, in document order, carrying it; found in one walk of the tree instead of one
    selector run per name (the selectors are most of the cost of reading a comment)."""
    return _first_with_classes(root.iter() if root is not None else (), class_names)


def children_with_classes(el: HtmlElement | None, *class_names: str) -> list[HtmlElement | None]:
    """For each of `class_names`, `child(el, name)`: the first direct child carrying it, in one pass."""
    return _first_with_classes(el if el is not None else (), class_names)


def _first_with_classes(elements, class_names: tuple[str, ...]) -> list[HtmlElement | None]:
    found: list[HtmlElement | None] = [None] * len(class_names)
    missing = len(class_names)
    for el in elements:
        classes = el.get("class") if isinstance(el.tag, str) else None
        if not classes:
            continue
        tokens = None
        for i, name in enumerate(class_names):
            # the substring test first: most elements carry none of the names
            if found[i] is None and name in classes:
                if tokens is None:
                    tokens = classes.translate(_CLASS_SPACE).split(" ")
                if name in tokens:
                    found[i] = el
                    missing -= 1
        if not missing:
            break
    return found


def children(el: HtmlElement | None, class_name: str, tag: str = "*") -> list[HtmlElement]:
    if el is None:
        return []
    return _child_xpath(tag, class_name)(el)


def text_of(
    el: HtmlElement | None, skip: tuple[str, ...] = (), skip_elements: tuple[HtmlElement, ...] = ()
) -> str | None:
    """Normalised visible text of `el`, without scripts/icons and without elements matching `skip`
    (CSS) or being one of `skip_elements`.

    Block elements become paragraph breaks so that "<p>a</p><p>b</p>" reads "a\\n\\nb".
    """
    if el is None:
        return None
    if not skip and not skip_elements and not len(el) and isinstance(el.tag, str):
        # a leaf (a name, a time, a one-paragraph text): the walk below would give its own text
        # (a block's paragraph breaks are stripped with the rest of its edges)
        return normalise_whitespace("" if el.tag in NON_TEXT_TAGS else el.text or "")
    # Hold the skipped elements: lxml proxies die with their last reference and their id()s get
    # reused, so a set of ids alone would skip random other elements.
    skipped_elements = [x for css in skip for x in select(el, css)] + [
        x for x in skip_elements if x is not None
    ]
    skipped = {id(x) for x in skipped_elements}
    parts: list[str] = []

    def walk(node: HtmlElement) -> None:
        if not isinstance(node.tag, str) or node.tag in NON_TEXT_TAGS or id(node) in skipped:
            if node is not el and node.tail:
                parts.append(node.tail)
            return
        block = node.tag in BLOCK_TAGS or node.tag == "br"
        if block:
            parts.append("\n\n")
        if node.text:
            parts.append(node.text)
        for child in node:
            walk(child)
        if block:
            parts.append("\n\n")
        if node is not el and node.tail:
            parts.append(node.tail)

    walk(el)
    return normalise_whitespace("".join(parts))


def attr(el: HtmlElement | None, name: str) -> str | None:
    if el is None:
        return None
    value = el.get(name)
    return value.strip() if value is not None else None


def to_int(value: str | None, signed: bool = False) -> int | None:
    """'12', '1,234', '12.3K', '123 points' -> int; None when there is no number.

    A count (downvotes a site shows as "-3", a reply count) is its magnitude. With `signed`, a minus
    sign right before the number ("-2", "score: −2") makes it negative: a net score below zero.
    """
    if value is None:
        return None
    if value.isascii() and value.isdigit():
        return int(value)  # most numbers are a data attribute's bare digits
    value = value.replace("\u00a0", " ")
    match = _NUMBER.search(value)
    if not match:
        return None
    number, suffix = match.groups()
    if suffix:
        scale = 1_000 if suffix.lower() == "k" else 1_000_000
        result = int(round(float(number.replace(",", ".")) * scale))
    else:
        result = int(number.replace(",", "").replace(".", ""))
    if signed:
        before = value[: match.start()].rstrip()
        if before.endswith(("-", "\u2212")) and (len(before) == 1 or not before[-2].isalnum()):
            result = -result
    return result
