"""Text normalisation and boilerplate removal shared by the adapters, the clean pipeline and the store.

Change tracking compares *normalised* text, so the same function must be used wherever text is made
comparable: NFC, one space between words, paragraphs separated by one blank line, and none of the
page furniture that leaks into naive text extraction (see the seed page in the design notes).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

# Whole paragraphs that are page furniture, never article or comment text.
BOILERPLATE_PARAGRAPHS = [
    re.compile(p, re.IGNORECASE)
    for p in (
        r"^advertisement$",
        r"^related:?$",
        r"^share on (facebook|twitter|x|pinterest|whatsapp|email)$",
        r"^view this post on instagram$",
        r"^a post shared by .{1,120}$",
        r"^read (more|less) »?$",
        r"^load more (comments|replies)(\.\.\.|…)?$",
        r"^image credits?: .*$",
        r"^(dots)?created by potrace [\d.]+, written by peter selinger [\d-]+$",
    )
]
# Fragments that leak *inside* a line (an SVG icon's <title>/<desc> next to a comment's time).
INLINE_BOILERPLATE = re.compile(
    r"\s*(Dots)?Created by potrace [\d.]+, written by Peter Selinger [\d-]+", re.IGNORECASE
)
_SPACES = re.compile(r"[^\S\n]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")
# A cut comment ends with an ellipsis (and the page's "Read more" link, already removed).
TRUNCATION_MARKS = ("…", "...")


def normalise_whitespace(text: str) -> str:
    """NFC, single spaces, paragraphs split by exactly one blank line, no leading/trailing space."""
    if text.isprintable() and "  " not in text and unicodedata.is_normalized("NFC", text):
        # Most texts (a name, a time, a one-line comment) are one line already: printable text has
        # no whitespace but the plain space (line breaks, tabs, NBSP are not printable), so the
        # general path below would only strip it. It runs several times per comment (adapter,
        # clean pipeline), and is the largest cost of reading a comment thread over plain HTTP.
        return text.strip()
    if "\n" in text and unicodedata.is_normalized("NFC", text):
        # Several lines, each printable (a comment of paragraphs, as text_of joins them): each one's
        # only whitespace is the plain space, so the general path would only strip each line, keep
        # lines of a paragraph together and turn every run of blank lines into one paragraph break.
        lines = [line.strip() for line in text.split("\n")]
        if all(line.isprintable() and "  " not in line for line in lines):
            paragraphs, current = [], []
            for line in lines:
                if line:
                    current.append(line)
                elif current:
                    paragraphs.append("\n".join(current))
                    current = []
            if current:
                paragraphs.append("\n".join(current))
            return "\n\n".join(paragraphs)
    return _normalise_any(text)


def _normalise_any(text: str) -> str:
    """normalise_whitespace of any text (the fast path above must always agree with it)."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\u00a0", " ")
    paragraphs = [_SPACES.sub(" ", p).strip() for p in _BLANK_LINES.split(text)]
    lines = ["\n".join(line.strip() for line in p.split("\n") if line.strip()) for p in paragraphs]
    return "\n\n".join(p for p in lines if p)


# All of BOILERPLATE_PARAGRAPHS in one pattern: one match per paragraph instead of one per pattern.
_ANY_BOILERPLATE = re.compile("|".join(f"(?:{p.pattern})" for p in BOILERPLATE_PARAGRAPHS), re.IGNORECASE)


def is_boilerplate(paragraph: str) -> bool:
    return _ANY_BOILERPLATE.match(paragraph.strip()) is not None


def strip_boilerplate(text: str) -> str:
    """Drop furniture paragraphs and inline icon text; the result is normalised."""
    # the icon text always holds "potrace" (its letters have no other case forms under IGNORECASE):
    # texts without it, nearly all, skip the regex
    if "potrace" in text.lower():
        text = INLINE_BOILERPLATE.sub("", text)
    kept = [p for p in normalise_whitespace(text).split("\n\n") if not is_boilerplate(p)]
    return "\n\n".join(kept)


def clean_text(text: str | None) -> str | None:
    """The canonical form of any stored text (None stays None, an all-furniture text becomes "")."""
    if text is None:
        return None
    return strip_boilerplate(text)


def strip_truncation(text: str) -> str:
    """The visible part of a cut text, without its trailing ellipsis."""
    text = text.rstrip()
    for mark in TRUNCATION_MARKS:
        if text.endswith(mark):
            return text[: -len(mark)].rstrip()
    return text


def is_prefix_of(cut: str, full: str) -> bool:
    """True when `cut` (a truncated text) is the beginning of `full`, compared on normalised words.

    Only as much of `full` as the comparison needs is normalised (a cut is short, a full text may
    be a megabyte): the words of a prefix of `full` are a prefix of the words of `full`.
    """
    cut_words = " ".join(strip_truncation(cut).split())
    if not cut_words:
        return False
    window = len(cut_words) + 64
    while True:
        full_words = " ".join(full[:window].split())
        if len(full_words) > len(cut_words) or window >= len(full):
            return full_words.startswith(cut_words)
        window *= 2


def content_hash(*parts: str | None) -> str:
    """Stable hash of normalised content, used to tell "unchanged" cheaply."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update((part or "").encode())
        digest.update(b"\x1f")
    return digest.hexdigest()[:32]
