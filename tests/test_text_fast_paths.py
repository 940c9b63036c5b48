"""The fast paths of crawler/text.py give exactly what the general code gives.

Change tracking compares normalised text: a fast path that disagreed with the general one on any text
would record an edit that never happened. Each fast path is checked against the general code (kept in
the module, or copied here as it was) on real comment texts and on many generated ones built from the
characters that matter (every kind of whitespace, NBSP, decomposed accents, line breaks, controls).
"""

from __future__ import annotations

import random
import re
import sys
import unicodedata

from crawler import text
from crawler.replica import build_demo_site

#: characters the normalisation treats specially, mixed with ordinary ones
ALPHABET = [
    "a", "b", "Z", "é", "e\u0301", "\u0301", "…", "...", ".", "-", "😀", "ß", "İ", "K",
    " ", "  ", "\t", "\n", "\n\n", "\r\n", "\r", "\x0b", "\x0c", "\x1c", "\x1f", "\x85", "\x7f",
    "\u00a0", "\u2028", "\u2029", "\u2009", "\u3000", "\u200b", "\ufeff",
    "Advertisement", "Read more »", "Load more comments…", "Image credits: x",
    "DotsCreated by potrace 1.15, written by Peter Selinger 2001-2017",
    "created BY POTRACE 1.1, written by peter selinger 2001", "potrace",
]  # fmt: skip


def generated(count: int, seed: int = 12) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 12))) for _ in range(count)]


def real_texts() -> list[str]:
    site = build_demo_site()
    found = []
    for article in site.articles():
        for comment in article.comments:
            found += [comment.text, comment.author, f"  {comment.text} "]
            found.append(f"{comment.text}\n\n{comment.author}")
    return [t for t in found if isinstance(t, str)]


def old_strip_boilerplate(value: str) -> str:
    """strip_boilerplate before its fast paths (one regex per furniture pattern, always the inline one)."""
    value = text.INLINE_BOILERPLATE.sub("", value)
    kept = [
        p
        for p in text._normalise_any(value).split("\n\n")
        if not any(b.match(p.strip()) for b in text.BOILERPLATE_PARAGRAPHS)
    ]
    return "\n\n".join(kept)


def test_printable_text_has_no_whitespace_but_the_space():
    # what the fast path of normalise_whitespace relies on: \s (as the general path's regexes read
    # it) and str.strip() see the same whitespace, and a printable text holds none of it but " "
    space = re.compile(r"\s")
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        assert bool(space.match(char)) == char.isspace(), hex(code)
        if char.isprintable() and char.isspace():
            assert char == " "


def test_normalise_whitespace_fast_path_agrees_with_the_general_path():
    samples = generated(20_000) + real_texts()
    fast = lines = 0
    for sample in samples:
        assert text.normalise_whitespace(sample) == text._normalise_any(sample), repr(sample)
        fast += sample.isprintable() and "  " not in sample and unicodedata.is_normalized("NFC", sample)
        lines += "\n" in sample and all(
            line.strip().isprintable() and "  " not in line.strip() for line in sample.split("\n")
        )
    assert fast > 1000  # the fast path itself was exercised, not only the general one
    assert lines > 1000  # and so was the one for texts of several printable lines


def test_clean_text_agrees_with_the_code_before_its_fast_paths():
    samples = generated(20_000, seed=3) + real_texts()
    stripped = 0
    for sample in samples:
        assert text.strip_boilerplate(sample) == old_strip_boilerplate(sample), repr(sample)
        stripped += text.strip_boilerplate(sample) != text.normalise_whitespace(sample)
    assert stripped > 100  # furniture was found and dropped in many samples
    for paragraph in ("Advertisement", "ADVERTISEMENT ", "Related:", "Read more »", "Image credit: x"):
        assert text.is_boilerplate(paragraph)
    assert not text.is_boilerplate("Advertisement is everywhere")
