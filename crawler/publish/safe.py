"""Making scraped strings safe to publish: text valid in XML, links that can only be web links."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

# Characters XML 1.0 cannot carry at all (not even escaped): C0 controls but tab/newline/CR, surrogates,
# U+FFFE/U+FFFF. A scraped comment may contain any of them.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(value) -> str:
    """A string fit for an XML text node or attribute (escaping is the serialiser's job)."""
    return _NOT_XML.sub("\ufffd", "" if value is None else str(value))


def web_link(url) -> str | None:
    """The URL when it is an http(s) URL, else None: javascript:, data:, file: never become links."""
    if not url:
        return None
    text = str(url).strip()
    if any(ord(c) < 0x21 for c in text):
        return None
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    return text if parts.scheme.lower() in ("http", "https") and parts.netloc else None
