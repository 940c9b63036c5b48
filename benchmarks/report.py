"""Printing benchmark results: one table per section, a row per measure, with its goal when it has one.

A row's value is usually the median of several runs, and the runs column lists every run in the order
they ran, so the spread of a noisy machine stays visible next to the number that is reported.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

COLUMNS = ("measure", "value", "runs", "goal", "result")


@dataclass
class Row:
    """One measure; `met` is None for a measure without a goal."""

    measure: str
    value: str
    runs: str = ""
    goal: str = ""
    met: bool | None = None


@dataclass
class Section:
    """A titled table of rows, with free-text notes printed under it."""

    title: str
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(
        self, measure: str, value: str, runs: Iterable[str] = (), goal: str = "", met: bool | None = None
    ) -> None:
        """Append a row; `runs` are the per-run values, already formatted."""
        self.rows.append(Row(measure, value, " ".join(runs), goal, met))

    def add_median(self, measure: str, values: list[float], fmt: Callable[[float], str]) -> None:
        """Append a row of the median of `values`, each run formatted with `fmt`."""
        self.add(measure, fmt(statistics.median(values)), map(fmt, values))

    def add_ratio(
        self, measure: str, top: list[float], bottom: list[float], goal: float | None = None
    ) -> None:
        """Append median(top) / median(bottom); its runs are the ratios of the side-by-side pairs.

        With a `goal`, the row says whether the ratio is at least the goal.
        """
        value = statistics.median(top) / statistics.median(bottom)
        runs = [ratio(t / b) for t, b in zip(top, bottom, strict=True)]
        if goal is None:
            self.add(measure, ratio(value), runs)
        else:
            self.add(measure, ratio(value), runs, f">= {ratio(goal)}", value >= goal)

    def render(self) -> str:
        """The section as aligned plain text."""
        cells = [COLUMNS] + [(r.measure, r.value, r.runs, r.goal, verdict(r.met)) for r in self.rows]
        widths = [max(len(row[i]) for row in cells) for i in range(len(COLUMNS))]
        lines = [self.title, "-" * len(self.title)]
        for number, row in enumerate(cells):
            padded = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
            lines.append("  ".join(padded).rstrip())
            if number == 0:
                lines.append("  ".join("-" * width for width in widths))
        lines.extend(f"  note: {note}" for note in self.notes)
        return "\n".join(lines)


def verdict(met: bool | None) -> str:
    """How a goal is reported: met, NOT MET, or nothing for a measure without a goal."""
    if met is None:
        return ""
    return "met" if met else "NOT MET"


def per_second(value: float) -> str:
    """A rate: one decimal below 1,000 per second, whole numbers with separators above."""
    return f"{value:,.0f}" if value >= 1000 else f"{value:.1f}"


def seconds(value: float) -> str:
    return f"{value:.2f} s"


def ratio(value: float) -> str:
    return f"{value:.2f}x"


def count(value: float) -> str:
    return f"{value:,.0f}"
