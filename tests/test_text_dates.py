"""Text normalisation, boilerplate removal and relative-time estimates."""

from crawler.dates import estimate_relative, is_finer, parse_absolute
from crawler.text import clean_text, is_prefix_of, normalise_whitespace


def test_whitespace_and_unicode_are_normalised():
    decomposed = "Cafe\u0301  crème\u00a0brûlée \n\n\n  second   paragraph "
    assert normalise_whitespace(decomposed) == "Café crème brûlée\n\nsecond paragraph"


def test_page_furniture_is_removed():
    text = "\n\n".join(
        [
            "First sentence.",
            "ADVERTISEMENT",
            "RELATED:",
            "View this post on Instagram",
            "A post shared by Daily Mail (@dailymail)",
            "Share on Facebook",
            "Read more »",
            "Image credits: Art Guzman via Pexels",
            "Second sentence.",
        ]
    )
    assert clean_text(text) == "First sentence.\n\nSecond sentence."


def test_svg_icon_text_is_removed_inline():
    leaked = "2 months ago DotsCreated by potrace 1.15, written by Peter Selinger 2001-2017"
    assert clean_text(leaked) == "2 months ago"


def test_cut_text_is_a_prefix_of_its_full_text():
    assert is_prefix_of("As a (now retired) warfighter I'm…", "As a (now retired)  warfighter I'm gonna")
    assert not is_prefix_of("Something else…", "As a (now retired) warfighter")


def test_relative_times_become_estimates_with_their_unit():
    seen = "2026-11-26T10:00:00+00:00"
    assert estimate_relative("2 months ago", seen) == ("2026-09-26T10:00:00+00:00", "month")
    assert estimate_relative("3 hours ago", seen) == ("2026-11-26T07:00:00+00:00", "hour")
    assert estimate_relative("Posted by someone", seen) == (None, None)


def test_precision_order():
    assert is_finer("exact", "month") and is_finer("hour", "day") and not is_finer("month", "day")
    assert is_finer("day", None) and not is_finer("day", "day")


def test_absolute_dates_become_utc():
    assert parse_absolute("2024-10-25T08:00:00+02:00") == "2024-10-25T06:00:00+00:00"
    assert parse_absolute("Fri, 25 Oct 2024 08:00:00 +0000") == "2024-10-25T08:00:00+00:00"
    assert parse_absolute("not a date at all") is None


def test_fast_relative_times_agree_with_dateparser():
    import dateparser

    from crawler import dates

    base = dates._ANCHOR.replace(tzinfo=None)
    for phrase in (
        "2 months ago",
        "1 month ago",
        "an hour ago",
        "3 weeks ago",
        "5 years ago",
        "45 seconds ago",
        "a day ago",
        "12 minutes ago",
    ):
        parsed = dateparser.parse(
            phrase, languages=["en"], settings={"RELATIVE_BASE": base, "PREFER_DATES_FROM": "past"}
        )
        assert dates._simple_offset(phrase) == base - parsed, phrase
    assert dates._simple_offset("yesterday") is None  # left to dateparser
    assert estimate_relative("yesterday", "2026-11-26T10:00:00+00:00") == ("2026-11-25T10:00:00+00:00", "day")
