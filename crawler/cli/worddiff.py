"""A word-level diff snippet of an edit, for `crawler changes` and `crawler history`.

Cutting both sides of an edit to the same width hides the edit when it is past the cut
(`North Korean Troops Sent To R… → North Korean Troops Sent To R…`). The snippet shows the words that
changed, with a few words of context around each change and `…` for what is left out, marked the way
`git diff --word-diff=plain` marks them: `[-removed-]` and `{+added+}` (coloured in a terminal, and the
markers stay, so the output reads the same in a log file).
"""

from __future__ import annotations

from difflib import SequenceMatcher

from rich.text import Text

from crawler.cli.output import clean

CONTEXT_WORDS = 4


def _words(value: str | None) -> list[str]:
    return clean(value, keep_newlines=False).split()


def word_diff(old: str | None, new: str | None, context: int = CONTEXT_WORDS) -> list[tuple[str, str]]:
    """Segments ("same" | "removed" | "added" | "gap", text) describing the edit from `old` to `new`."""
    a, b = _words(old), _words(new)
    segments: list[tuple[str, str]] = []
    opcodes = SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes()
    for index, (tag, i1, i2, j1, j2) in enumerate(opcodes):
        if tag == "equal":
            same = a[i1:i2]
            first, last = index == 0, index == len(opcodes) - 1
            keep_head = 0 if first else context
            keep_tail = 0 if last else context
            if len(same) > keep_head + keep_tail:
                if keep_head:
                    segments.append(("same", " ".join(same[:keep_head])))
                segments.append(("gap", "…"))
                if keep_tail:
                    segments.append(("same", " ".join(same[-keep_tail:])))
            else:
                segments.append(("same", " ".join(same)))
            continue
        if tag in ("replace", "delete"):
            segments.append(("removed", " ".join(a[i1:i2])))
        if tag in ("replace", "insert"):
            segments.append(("added", " ".join(b[j1:j2])))
    return segments


_STYLE = {"removed": "red strike", "added": "green", "same": "", "gap": "dim"}
_MARK = {"removed": ("[-", "-]"), "added": ("{+", "+}"), "same": ("", ""), "gap": ("", "")}


def snippet(old: str | None, new: str | None, context: int = CONTEXT_WORDS) -> Text:
    """The diff as rich Text (never parsed as markup): `…the last picture {+EDIT: I was wrong+}`."""
    text = Text()
    segments = word_diff(old, new, context)
    if not any(kind in ("removed", "added") for kind, _ in segments):
        return Text("(no change in the words: whitespace or punctuation only)", style="dim")
    for n, (kind, words) in enumerate(segments):
        if n:
            text.append(" ")
        start, end = _MARK[kind]
        text.append(f"{start}{words}{end}", style=_STYLE[kind])
    return text
