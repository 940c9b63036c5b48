"""URL canonicalisation: one identity per article, whatever link a user or a feed gave us.

Links to the same article differ in tracking parameters (`utm_*`, `fbclid`…), fragments (`#comments`),
scheme (http/https), a missing trailing slash, and comment / media permalinks (`?comment_id=…`,
`?media_id=…`). `fetch_url` only drops those (w3lib's `url_query_cleaner`) and fetches the rest as
given; `url_key` is the identity used to deduplicate and to derive an article id when the page gives
none (w3lib's `canonicalize_url`, https, the trailing slash of WordPress article paths).
"""

from __future__ import annotations

import hashlib
import posixpath
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from w3lib.url import canonicalize_url, url_query_cleaner

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


def _is_tracking(name: str) -> bool:
    lowered = name.lower()
    return lowered in TRACKING_PARAMS or lowered.startswith(TRACKING_PREFIXES)


def _identity_path(path: str) -> str:
    """The path as an identity: /slug and /slug/ are one page on WordPress sites (directories); a
    last segment that looks like a file (feed.xml, image.jpg) keeps its form. Identity only: the URL
    that is fetched keeps the path it was given."""
    if not path:
        return "/"
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
    """The URL to request: tracking and permalink parameters and the fragment removed, nothing else
    rewritten (the path, the order and form of the other parameters stay as given)."""
    url = check_url(url)
    parts = urlsplit(url)
    tracking = sorted({k for k, _ in parse_qsl(parts.query, keep_blank_values=True) if _is_tracking(k)})
    cleaned = url_query_cleaner(url, tracking, remove=True, unique=False, keep_fragments=False)
    cleaned_parts = urlsplit(cleaned)
    # scheme and host are case-insensitive: lower-cased, so one page is one request
    return urlunsplit(
        (
            cleaned_parts.scheme.lower(),
            cleaned_parts.netloc.lower(),
            cleaned_parts.path,
            cleaned_parts.query,
            "",
        )
    )


def url_key(url: str) -> str:
    """Identity of the page behind `url`: https, w3lib's canonical form (sorted parameters, one percent
    encoding, no fragment), the WordPress trailing slash."""
    parts = urlsplit(canonicalize_url(fetch_url(url)))
    return urlunsplit(("https", parts.netloc, _identity_path(parts.path), parts.query, ""))


def url_hash(url: str) -> str:
    """A short stable id for a page that carries no id of its own."""
    return hashlib.sha1(url_key(url).encode()).hexdigest()[:16]
