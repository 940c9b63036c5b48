"""Terminal output of the `crawler` command: scraped text is data, never markup or terminal control.

Every string the CLI prints that came from a page (titles, comment text, authors, URLs, error
messages quoting them) goes through `clean()` (control characters and escape sequences removed, so a
comment cannot set the window title or clear the screen) and, where rich renders it, `safe()` (rich
markup escaped, so `[/bold]` in a comment neither crashes the table nor styles it). Table cells are
built with `cell()`, which makes a `rich.text.Text` that rich never parses as markup.
"""

from __future__ import annotations

import json
import re
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.text import Text

# ESC-introduced sequences first (CSI, OSC up to BEL/ST, other two-byte escapes), so that their
# parameters do not survive as visible garbage once the ESC itself is gone.
_ESCAPE_SEQUENCE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI: colours, cursor movement, clear screen
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC: window title, hyperlinks
    r"|\x1b[PX^_][^\x1b]*(?:\x1b\\)?"  # DCS, SOS, PM, APC strings
    r"|\x1b[@-Z\\-_]?"  # any other escape (and a lone ESC)
    r"|\x9b[0-?]*[ -/]*[@-~]"  # 8-bit CSI
)
# C0 controls except tab and newline, DEL, C1 controls, and the Unicode bidi overrides/isolates that
# can make a terminal show text in another order than it is stored ("Trojan Source").
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_JSON_UNSAFE = re.compile(r"[\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def clean(value: Any, keep_newlines: bool = True) -> str:
    """`value` as text without terminal control: escape sequences and control characters removed.

    A carriage return would let text overwrite what was printed before it on the line: it becomes a
    newline (or a space with keep_newlines=False, as do newlines and tabs).
    """
    if value is None:
        return ""
    text = _ESCAPE_SEQUENCE.sub("", str(value))
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("", text)
    if not keep_newlines:
        text = " ".join(text.split())
    return text


def safe(value: Any, keep_newlines: bool = True) -> str:
    """`clean(value)` with rich markup escaped: for strings passed to `console.print`."""
    return escape(clean(value, keep_newlines))


def cell(value: Any, style: str = "") -> Text:
    """A table cell: cleaned, one line, never parsed as markup."""
    return Text(clean(value, keep_newlines=False), style=style)


def short(value: Any, width: int = 60) -> str:
    """One line of at most `width` characters (an ellipsis marks a cut)."""
    text = clean(value, keep_newlines=False)
    return text if len(text) <= width else text[: width - 1] + "…"


def json_line(value: Any, indent: int | None = None) -> str:
    """JSON for the terminal: json escapes C0 controls itself; C1 controls and bidi overrides are
    escaped as well (valid JSON, same data once parsed)."""
    text = json.dumps(value, ensure_ascii=False, indent=indent, default=str)
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


class LiveConsole(Console):
    """A rich Console whose size follows the environment of each print, not of the import.

    rich freezes `COLUMNS`/`LINES` into the console when it is created; the CLI's consoles are created
    at import, so a later invocation in the same process (click's CliRunner, a pytest-xdist worker
    that exports COLUMNS=80) would keep the import's width and cut or wrap every table. Without a
    fixed size, rich reads the terminal and then `COLUMNS`/`LINES` again at each print.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._width = kwargs.get("width")
        self._height = kwargs.get("height")
