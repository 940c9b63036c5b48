"""Comment widgets that live only in a script or an iframe (Disqus, Facebook, Coral, OpenWeb, …).

Their comments are not in the page's HTML and not reachable without the widget's own API, so a page
that has one and no readable comments is recorded as *unread*, naming the widget, never as an empty
thread. Detection looks at what each widget's embed code must put on the page: its container element,
its script or iframe address, or its configuration variable in an inline script.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml.html import HtmlElement

from crawler.sites.html import select


@dataclass(frozen=True)
class Widget:
    name: str
    #: CSS selectors of the widget's container elements
    containers: tuple[str, ...] = ()
    #: regex over script src / iframe src addresses
    sources: str | None = None
    #: regex over inline script text
    inline: str | None = None


WIDGETS = (
    Widget("disqus", ("#disqus_thread",), r"\.disqus\.com/|disquscdn\.com", r"disqus_(config|shortname)"),
    Widget(
        "facebook",
        (".fb-comments", "fb\\:comments"),
        r"facebook\.com/plugins/comments",
        None,
    ),
    Widget(
        "coral",
        ("#coral_thread", "#coral-thread", "[data-coral]", "#coral_talk_stream", "[id^='coral-talk']"),
        r"/assets/js/embed\.js|coral",
        r"Coral\.",
    ),
    Widget(
        "openweb",
        ("[data-spotim-module]", "[data-openweb-module]", "openweb-conversation"),
        r"spot\.im|openweb\.com|spotim",
        r"SPOTIM|OpenWeb",
    ),
    Widget("viafoura", (".viafoura", "vf-conversations", "[data-vf-container-id]"), r"viafoura", None),
    Widget(
        "vuukle", ("#vuukle-comments", ".vuukle-comments", "#vuukle-emote"), r"vuukle\.com", r"VUUKLE_CONFIG"
    ),
    Widget("hyvor", ("hyvor-talk-comments", "#hyvor-talk-view"), r"talk\.hyvor\.com", r"HYVOR_TALK"),
    Widget("commento", ("#commento",), r"commento\.io|/js/commento\.js", None),
    Widget("giscus", (".giscus", "giscus-widget"), r"giscus\.app", None),
    Widget("utterances", (".utterances",), r"utteranc\.es", None),
    Widget("remark42", ("#remark42",), r"remark42", r"remark_config"),
    Widget(
        "intensedebate", ("#idc-container", "#idc-container-parent"), r"intensedebate\.com", r"idcomments_"
    ),
    Widget("isso", ("#isso-thread",), r"/isso/|embed\.min\.js.*isso", None),
    Widget("cusdis", ("#cusdis_thread",), r"cusdis\.com", None),
    Widget("graphcomment", ("#graphcomment",), r"graphcomment\.com", r"__semio__"),
    Widget("livefyre", (".fyre", "#livefyre-comments"), r"livefyre\.com", None),
    Widget("talkyard", (".talkyard-comments",), r"talkyard", None),
    Widget("commentbox", (".commentbox",), r"commentbox\.io", None),
    Widget("discourse", ("#discourse-comments",), r"/javascripts/embed\.js", r"DiscourseEmbed"),
    Widget("insticator", (".insticator-comments", "#insticator-commenting"), r"insticator\.com", None),
)


def _compiled() -> list[tuple[Widget, re.Pattern | None, re.Pattern | None]]:
    return [
        (w, re.compile(w.sources, re.I) if w.sources else None, re.compile(w.inline) if w.inline else None)
        for w in WIDGETS
    ]


_PATTERNS = _compiled()


def detect_widget(root: HtmlElement) -> str | None:
    """The name of the first comment widget the page embeds, None when it embeds none we know."""
    sources = [el.get("src") or el.get("data-src") or "" for el in select(root, "script[src], iframe")]
    inline = [el.text or "" for el in select(root, "script:not([src])")]
    for widget, source_re, inline_re in _PATTERNS:
        for css in widget.containers:
            if select(root, css):
                return widget.name
        # "coral" as a bare word would match too much: require it with "embed" in an address
        if (
            source_re is not None
            and any(source_re.search(src) for src in sources if src)
            and (widget.name != "coral" or any("coral" in src and "embed" in src for src in sources))
        ):
            return widget.name
        if inline_re is not None and any(inline_re.search(text) for text in inline):
            return widget.name
    return None
