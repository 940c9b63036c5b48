"""URL canonicalisation: one identity per article, whatever link a user or a feed gave us.

Links to the same article differ in tracking parameters (`utm_*`, `fbclid`…), fragments (`#comments`),
scheme (http/https), a missing trailing slash, and comment / media permalinks (`?comment_id=…`,
`?media_id=…`). `fetch_url` keeps what is needed to fetch the page; `url_key` is the identity used to
deduplicate and to derive an article id when the page gives none.
"""

from __future__ import annotations

import hashlib
import posixpath
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

# Parameters that never change which page is served; dropped before fetching and from identities.
TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "msclkid",
        "yclid",
        "igshid",
        "mc_cid",
        "mc_eid",
        "_ga",
        "_gl",
        "ref",
        "ref_src",
        "source",
        "spm",
        "share",
        "amp",
        # permalinks into the page: same article, different scroll position
        "comment_id",
        "media_id",
        "replytocom",
        "image_id",
    }
)
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "hsa_")


class BadURL(ValueError):
    """A URL we refuse to crawl (not http/https, no host)."""


def _keep_param(name: str) -> bool:
    lowered = name.lower()
    return lowered not in TRACKING_PARAMS and not lowered.startswith(TRACKING_PREFIXES)


def _normalise_path(path: str) -> str:
    if not path:
        return "/"
    # Article URLs are directories on WordPress sites: /slug and /slug/ are the same page.
    # A path whose last segment looks like a file (feed.xml, image.jpg) keeps its form.
    last = path.rsplit("/", 1)[-1]
    if last and "." not in last:
        path += "/"
    normalised = posixpath.normpath(path)
    return normalised + ("/" if path.endswith("/") and normalised != "/" else "")


def check_url(url: str) -> str:
    """Return `url` stripped of whitespace, or raise BadURL when it cannot be crawled."""
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        raise BadURL(f"not an http(s) URL: {url!r}")
    if not parts.hostname:
        raise BadURL(f"URL has no host: {url!r}")
    return url


def fetch_url(url: str) -> str:
    """The URL to request: tracking parameters, permalink parameters and the fragment removed."""
    parts = urlsplit(check_url(url))
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if _keep_param(k)])
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), _normalise_path(parts.path), query, ""))


def url_key(url: str) -> str:
    """Identity of the page behind `url`: https, sorted remaining parameters, no fragment."""
    parts = urlsplit(fetch_url(url))
    query = urlencode(sorted(parse_qsl(parts.query, keep_blank_values=True)))
    return urlunsplit(("https", parts.netloc, parts.path, query, ""))


def url_hash(url: str) -> str:
    """A short stable id for a page that carries no id of its own."""
    return hashlib.sha1(url_key(url).encode()).hexdigest()[:16]
