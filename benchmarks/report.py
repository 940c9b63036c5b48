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

    def add_median(
        self, measure: str, values: list[float], fmt: Callable[[float], str], at_least: float | None = None
    ) -> None:
        """Append a row of the median of `values`, each run formatted with `fmt`.

        With `at_least`, the row's goal is that the median is at least that much.
        """
        value = statistics.median(values)
        if at_least is None:
            self.add(measure, fmt(value), map(fmt, values))
        else:
            self.add(measure, fmt(value), map(fmt, values), f">= {fmt(at_least)}", value >= at_least)

    def add_zero(self, measure: str, counts: list[int]) -> None:
        """Append a row of counts whose goal is 0 in every run; its value is the largest."""
        self.add(measure, count(max(counts)), map(count, counts), "0", max(counts) == 0)

    def add_ratio(
        self,
        measure: str,
        top: list[float],
        bottom: list[float],
        goal: float | None = None,
        at_most: bool = False,
        fmt: Callable[[float], str] | None = None,
    ) -> None:
        """Append the median of top[i] / bottom[i], each pair measured side by side.

        The median of the pairs' ratios, rather than the ratio of the medians, so that a burst of load
        from other processes slows both sides of one pair instead of one side of the comparison.
        With a `goal`, the row says whether the ratio is at least the goal (at most, with `at_most`).
        Ratios are written as "0.25x", or with `fmt` (`percent`, say).
        """
        fmt = fmt or ratio
        ratios = [t / b for t, b in zip(top, bottom, strict=True)]
        value = statistics.median(ratios)
        if goal is None:
            self.add(measure, fmt(value), map(fmt, ratios))
        elif at_most:
            self.add(measure, fmt(value), map(fmt, ratios), f"<= {fmt(goal)}", value <= goal)
        else:
            self.add(measure, fmt(value), map(fmt, ratios), f">= {fmt(goal)}", value >= goal)

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


def size(value: float) -> str:
    """Bytes in decimal units (a GB is 10^9 bytes): "1.23 GB", "456 MB", "7.8 MB", "123 kB"."""
    if value >= 1e9:
        return f"{value / 1e9:.2f} GB"
    if value >= 1e7:
        return f"{value / 1e6:.0f} MB"
    if value >= 1e6:
        return f"{value / 1e6:.1f} MB"
    return f"{value / 1e3:.0f} kB"


def percent(value: float) -> str:
    return f"{value:.1%}"
