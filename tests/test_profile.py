"""Site profiles: loading and validation, and the generic adapter on saved zine pages and on Bored Panda.

The zine cases under tests/fixtures/zine/ are checked twice: against their expected.json (a change
anywhere shows up) and field by field against the replica's model (a wrong field names itself).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from crawler.replica import build_demo_site, build_zine_site
from crawler.replica.model import Article
from crawler.replica.render import CUT_OVER, render_article_page, render_comment
from crawler.replica.seed import SEED_SLUG
from crawler.replica.thread import ThreadIndex, thread_index
from crawler.replica.zine import EMPTY_SLUG, QUIET_HARBOUR_POST_ID, QUIET_HARBOUR_SLUG, TOP_PER_PAGE
from crawler.sites import boredpanda
from crawler.sites.html import NotHTML
from crawler.sites.profile import (
    PROFILES_DIR,
    Field,
    Profile,
    ProfileError,
    RenderedPage,
    bundled_profiles,
    load_profile,
    parse_profile,
    parse_rendered,
)
from crawler.sites.thread import ClickPlan
from crawler.text import normalise_whitespace
from crawler.urls import url_hash
from tests.fixtures.zine.expected import profile_output

FIXTURES = Path(__file__).parent / "fixtures" / "zine"
CASES = sorted(p.name for p in FIXTURES.iterdir() if (p / "input.html").exists())
ZINE_TOML = (PROFILES_DIR / "zine.toml").read_text(encoding="utf-8")
MINIMAL = """
[site]
name = "mini"
[comments]
container = "div.thread"
item = "div.c"
id = "@data-id"
author = ".who"
text = ".body"
[browser]
load_more = ["button.more"]
"""


def rendered(case: str) -> RenderedPage:
    meta = json.loads((FIXTURES / case / "meta.json").read_text())
    return parse_rendered((FIXTURES / case / "input.html").read_bytes(), meta["url"], load_profile("zine"))


def model(slug: str) -> tuple[Article, ThreadIndex]:
    article = build_zine_site().article(slug)
    return article, thread_index(article)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "site.toml"
    path.write_text(text, encoding="utf-8")
    return path


def error_of(tmp_path: Path, text: str) -> str:
    with pytest.raises(ProfileError) as caught:
        load_profile(write(tmp_path, text))
    message = str(caught.value)
    assert "\n" not in message and str(tmp_path) in message
    return message


# -- loading ----------------------------------------------------------------------------------------


def test_bundled_profiles() -> None:
    assert bundled_profiles() == ["boredpanda", "square", "zine"]
    profile = load_profile("zine")
    assert profile.name == "zine"
    assert profile.comments.id == Field("", "data-msg-id")
    assert profile.comments.parent == Field("", "data-reply-to")
    assert profile.comments.text == Field(".says")
    assert profile.comments.upvotes == Field(".likes", "data-n")
    assert profile.article.post_id == Field("article.story[data-story-id]", "data-story-id")
    assert profile.click_plan() == ClickPlan(
        container="section.discussion",
        item="li.msg",
        load_more=("button.zine-more", "button.zine-replies", "span.zine-expand"),
    )
    assert load_profile("boredpanda").click_plan().load_more == (
        "button.load-more-comments",
        "button.load-more-replies",
        "a.read-more",
    )


def test_load_by_path_equals_the_bundled_name(tmp_path: Path) -> None:
    path = write(tmp_path, ZINE_TOML)
    bundled = load_profile("zine")
    for given in (path, str(path)):
        loaded = load_profile(given)
        assert loaded.source == str(path)
        assert dataclasses.replace(loaded, source="") == dataclasses.replace(bundled, source="")


def test_optional_keys_may_be_left_out(tmp_path: Path) -> None:
    profile = load_profile(write(tmp_path, MINIMAL))
    assert profile.article.title is None and profile.comments.parent is None
    assert profile.comments.time is None and profile.load_more == ("button.more",)


def test_unknown_bundled_name_lists_the_bundled_ones() -> None:
    with pytest.raises(
        ProfileError, match=r"no bundled profile named 'zin' .*\(bundled profiles: boredpanda, square, zine\)"
    ):
        load_profile("zin")


def test_missing_file_lists_the_bundled_ones(tmp_path: Path) -> None:
    with pytest.raises(
        ProfileError, match=r"profile file not found: .*nope\.toml \(bundled profiles: boredpanda"
    ):
        load_profile(tmp_path / "nope.toml")
    with pytest.raises(ProfileError, match="profile file not found"):
        load_profile("profiles/nope.toml")


def test_toml_syntax_error(tmp_path: Path) -> None:
    assert "TOML syntax error: " in error_of(tmp_path, '[site]\nname = "zine\n')


def test_unknown_section_suggests_the_right_one(tmp_path: Path) -> None:
    message = error_of(tmp_path, MINIMAL + '[coments]\nitem = "x"\n')
    assert message.endswith("unknown section [coments] (did you mean comments?)")


def test_unknown_key_suggests_the_right_one(tmp_path: Path) -> None:
    message = error_of(tmp_path, MINIMAL.replace('author = ".who"', 'auther = ".who"'))
    assert message.endswith("unknown key comments.auther (did you mean author?)")
    message = error_of(tmp_path, MINIMAL.replace("[site]\n", '[site]\ncolour = "red"\n'))
    assert message.endswith("unknown key site.colour (known: name, hosts)")


@pytest.mark.parametrize(
    ("line", "key"),
    [
        ('name = "mini"', "site.name"),
        ('container = "div.thread"', "comments.container"),
        ('item = "div.c"', "comments.item"),
        ('id = "@data-id"', "comments.id"),
        ('load_more = ["button.more"]', "browser.load_more"),
    ],
)
def test_missing_required_key(tmp_path: Path, line: str, key: str) -> None:
    assert error_of(tmp_path, MINIMAL.replace(line, "")).endswith(f"missing required key {key}")


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('author = ".who"', 'author = ".who["', "comments.author: invalid CSS selector '.who['"),
        ('item = "div.c"', 'item = "div.c@data-id"', "comments.item must be a plain CSS selector"),
        ('text = ".body"', "text = 3", "comments.text must be a string, not int"),
        ('text = ".body"', 'text = " "', "comments.text must not be empty"),
        ('name = "mini"', 'name = "Mini Site"', "site.name must be lower-case letters"),
        (
            'load_more = ["button.more"]',
            'load_more = "button.more"',
            "browser.load_more must be a non-empty list",
        ),
        ('load_more = ["button.more"]', "load_more = []", "browser.load_more must be a non-empty list"),
        (
            'load_more = ["button.more"]',
            'load_more = ["a.x@href"]',
            "browser.load_more[0] must be a plain CSS",
        ),
        (
            "[site]",
            '[article]\npost_id_attr = "article"\n[site]',
            "article.post_id_attr must read an attribute",
        ),
        ('[site]\nname = "mini"', 'site = "mini"', "site must be a section ([site]), not a value"),
    ],
)
def test_bad_values(tmp_path: Path, old: str, new: str, message: str) -> None:
    assert old in MINIMAL
    assert message in error_of(tmp_path, MINIMAL.replace(old, new, 1))


def test_an_at_sign_inside_a_selector_is_css() -> None:
    profile = parse_profile(MINIMAL.replace('".who"', """'a[title="@home"]'"""))
    assert profile.comments.author == Field('a[title="@home"]')
    profile = parse_profile(MINIMAL.replace('".who"', """'a[href^="mailto:x@y"]@href'"""))
    assert profile.comments.author == Field('a[href^="mailto:x@y"]', "href")


# -- the zine pages ---------------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES)
def test_output_equals_expected_json(case: str) -> None:
    expected = json.loads((FIXTURES / case / "expected.json").read_text(encoding="utf-8"))
    assert profile_output(FIXTURES / case) == expected


def test_expanded_page_article() -> None:
    article = rendered("quiet-harbour-expanded").article
    story, _ = model(QUIET_HARBOUR_SLUG)
    assert article.article_id == f"zine:{QUIET_HARBOUR_POST_ID}" and article.site == "zine"
    assert article.post_id == str(QUIET_HARBOUR_POST_ID)
    assert article.canonical_url == "https://www.dailyzine.example/zine/quiet-harbour-story/"
    assert article.title == story.title and article.author == story.author
    assert article.published_at == story.published_at.isoformat()
    assert article.body_text.startswith(story.body[0][1])
    assert article.comment_count_reported == 60


def test_expanded_page_ids_parents_and_depths() -> None:
    comments = rendered("quiet-harbour-expanded").thread.comments
    story, thread = model(QUIET_HARBOUR_SLUG)
    expected = {
        f"zine:{c.id}": (f"zine:{c.parent_id}" if c.parent_id else None, thread.depth[c.id])
        for c in story.comments
    }
    assert {c.comment_id: (c.parent_id, c.depth) for c in comments} == expected
    assert len(comments) == 60 and max(c.depth for c in comments) >= 2
    assert all(c.article_id == "zine:7300001" for c in comments)


def test_expanded_page_comment_fields() -> None:
    comments = {c.comment_id: c for c in rendered("quiet-harbour-expanded").thread.comments}
    story, _ = model(QUIET_HARBOUR_SLUG)
    for source in story.comments:
        comment = comments[f"zine:{source.id}"]
        assert comment.author == source.author
        assert comment.text == normalise_whitespace(source.text) and "see more" not in comment.text
        assert not comment.truncated
        assert (comment.upvotes, comment.downvotes) == (source.upvotes, source.downvotes)
        assert comment.relative_time == source.relative_time
        if source.posted_at is None:
            assert (comment.posted_at, comment.posted_at_precision) == (None, None)
        else:
            assert (comment.posted_at, comment.posted_at_precision) == (source.posted_at.isoformat(), "exact")
    assert any(c.posted_at is None for c in story.comments), "the story should have comments without a time"
    assert any(len(c.text) > CUT_OVER for c in story.comments), "the story should have long comments"


def test_end_reached_only_without_buttons() -> None:
    assert rendered("quiet-harbour-expanded").thread.end_reached
    assert not rendered("quiet-harbour-partial").thread.end_reached
    assert not rendered("quiet-harbour-live").thread.end_reached
    assert rendered("empty-story").thread.end_reached


def test_partial_page_shows_cut_texts_without_see_more() -> None:
    thread = rendered("quiet-harbour-partial").thread
    story, index = model(QUIET_HARBOUR_SLUG)
    first = index.children[None][:TOP_PER_PAGE]
    assert [c.comment_id for c in thread.comments] == [f"zine:{c.id}" for c in first]
    assert thread.reported_total == 60
    for comment, source in zip(thread.comments, first, strict=True):
        assert comment.truncated == (len(source.text) > CUT_OVER)
        assert "see more" not in comment.text
        full = normalise_whitespace(source.text)
        assert full.startswith(comment.text) and (comment.text != full) == comment.truncated
    assert any(c.truncated for c in thread.comments)


def test_live_and_empty_pages_have_no_comments() -> None:
    live, empty = rendered("quiet-harbour-live"), rendered("empty-story")
    assert live.thread.comments == [] and live.thread.reported_total == 60
    assert empty.thread.comments == [] and empty.thread.reported_total == 0
    assert empty.article.title == build_zine_site().article(EMPTY_SLUG).title
    assert (live.list_items, live.next_page_url, live.thread.follow_ups) == ([], None, [])


@pytest.mark.parametrize("body", ["", "   ", b"", b"\n"])
def test_empty_input_is_not_html(body: str | bytes) -> None:
    with pytest.raises(NotHTML):
        parse_rendered(body, "https://example.com/a/", load_profile("zine"))


# -- the adapter on hand-made markup ----------------------------------------------------------------


def mini(body: str, profile_text: str = MINIMAL, head: str = "") -> RenderedPage:
    html = f"<html><head>{head}</head><body>{body}</body></html>"
    return parse_rendered(html, "https://mini.example/story/?utm_source=x", parse_profile(profile_text))


def test_fields_of_a_nested_reply_are_not_its_parents() -> None:
    # the outer comment has no author of its own: the reply's must not be taken for it
    page = mini(
        '<div class="thread"><div class="c" data-id="1"><p class="body">outer</p>'
        '<div class="c" data-id="2"><b class="who">Reply Author</b><p class="body">inner</p></div>'
        "</div></div>"
    )
    outer, inner = page.thread.comments
    assert (outer.comment_id, outer.author, outer.text, outer.parent_id, outer.depth) == (
        "mini:1", None, "outer", None, 0,
    )  # fmt: skip
    assert (inner.comment_id, inner.author, inner.text, inner.parent_id, inner.depth) == (
        "mini:2", "Reply Author", "inner", "mini:1", 1,
    )  # fmt: skip


def test_flat_replies_take_depth_from_the_parent_chain() -> None:
    profile = MINIMAL.replace('id = "@data-id"', 'id = "@data-id"\nparent = "@data-parent"')
    page = mini(
        '<div class="thread"><div class="c" data-id="1" data-parent=""></div>'
        '<div class="c" data-id="2" data-parent="1"></div><div class="c" data-id="3" data-parent="2"></div>'
        '<div class="c" data-id="3" data-parent="2"></div><div class="c"></div></div>',
        profile,
    )
    assert [(c.comment_id, c.parent_id, c.depth) for c in page.thread.comments] == [
        ("mini:1", None, 0), ("mini:2", "mini:1", 1), ("mini:3", "mini:2", 2),
    ]  # fmt: skip


def test_load_more_left_in_a_text_marks_it_cut() -> None:
    page = mini(
        '<div class="thread"><div class="c" data-id="1"><p class="body">Cut here'
        '<button class="more">…see more</button></p></div><button class="more">More</button></div>'
    )
    (comment,) = page.thread.comments
    assert (comment.text, comment.truncated, page.thread.end_reached) == ("Cut here", True, False)


def test_article_falls_back_to_structured_data() -> None:
    head = (
        '<title>Page title</title><meta property="og:title" content="OG title">'
        '<meta name="description" content="What it is about">'
        '<script type="application/ld+json">{"@type": "NewsArticle", "author": {"name": "LD Author"},'
        ' "datePublished": "2024-05-01T10:00:00Z", "keywords": "a, b"}</script>'
    )
    article = mini("<h1>Heading</h1>", head=head).article
    assert (article.title, article.author, article.published_at) == (
        "OG title", "LD Author", "2024-05-01T10:00:00+00:00",
    )  # fmt: skip
    assert article.tags == ["a", "b"] and article.description == "What it is about"
    assert article.article_id == f"mini:url:{url_hash('https://mini.example/story/?utm_source=x')}"
    assert mini("<h1>Heading</h1>", head="<title>Page title</title>").article.title == "Heading"
    assert mini("", head="<title>Page title</title>").article.title == "Page title"
    tags = '<meta property="article:tag" content=" seals "><meta property="article:tag">'
    assert mini("", head=tags).article.tags == ["seals"]


def test_article_selectors_win_over_structured_data() -> None:
    profile = MINIMAL.replace(
        "[comments]",
        '[article]\ntitle = "h2.t"\npublished = "span.when"\npost_id_attr = "main@data-id"\n[comments]',
    )
    head = '<link rel="canonical" href="/canonical/"><meta property="og:title" content="OG title">'
    body = '<main data-id="77"><h2 class="t">Own title</h2><span class="when">2024-06-02 08:00</span></main>'
    page = mini(body, profile, head)
    article = page.article
    assert (article.title, article.published_at) == ("Own title", "2024-06-02T08:00:00+00:00")
    assert (article.article_id, article.post_id) == ("mini:77", "77")
    assert article.canonical_url == "https://mini.example/canonical/"


# -- Bored Panda through its profile ----------------------------------------------------------------


def expanded_comment(comment_id: str, thread: ThreadIndex, article: Article) -> str:
    """A Bored Panda comment after every click: the full text and all replies, nested, no buttons."""
    comment = next(c for c in article.comments if c.id == comment_id)
    replies = thread.replies(comment.id)
    inner = "".join(expanded_comment(reply.id, thread, article) for reply in replies)
    markup = render_comment(comment, thread, full=True)  # full text, no replies block
    head, _, tail = markup.rpartition("</div>")
    return f'{head}<div class="comment-replies" data-reply-count="{len(replies)}">{inner}</div>\n</div>{tail}'


def expanded_boredpanda_page(article: Article, base: str) -> str:
    """The article page as a browser shows it once every "Load More…" and "Read more" is clicked.

    The page of a lazy copy has an empty comment block (twice for the seed article), which is filled
    with the whole thread. The manual browser check of the replica's clicks gave the same comments.
    """
    thread = thread_index(article)
    comments = "".join(expanded_comment(c.id, thread, article) for c in thread.children[None])
    page = render_article_page(dataclasses.replace(article, lazy=True), base)
    assert ' data-lazy="true"></div>' in page
    return page.replace(' data-lazy="true"></div>', f">\n{comments}</div>")


def comment_fields(comments: list) -> set[tuple]:
    return {
        (c.comment_id, c.parent_id, c.depth, c.text, c.truncated, c.author, c.author_url, c.posted_at,
         c.relative_time, c.upvotes, c.downvotes)
        for c in comments
    }  # fmt: skip


@pytest.mark.parametrize("slug", [SEED_SLUG, "big-thread-article", "two-page-comments-article"])
def test_boredpanda_profile_reads_an_expanded_page_like_the_adapter(slug: str) -> None:
    article = build_demo_site().article(slug)
    url = f"https://www.boredpanda.com/{slug}/"
    html = expanded_boredpanda_page(article, "https://www.boredpanda.com")
    adapter = boredpanda.parse_article_page(html, url)
    generic = parse_rendered(html, url, load_profile("boredpanda"))
    expected = adapter.thread(url)
    assert expected.follow_ups == [] and expected.end_reached
    assert len(expected.comments) == thread_index(article).total
    assert {(c.comment_id, c.parent_id, c.depth, c.text) for c in generic.thread.comments} == {
        (c.comment_id, c.parent_id, c.depth, c.text) for c in expected.comments
    }
    assert comment_fields(generic.thread.comments) == comment_fields(expected.comments)
    assert generic.thread.end_reached and generic.thread.reported_total == expected.reported_total
    assert generic.article.article_id == adapter.article.article_id
    assert (generic.article.title, generic.article.author) == (adapter.article.title, adapter.article.author)
    assert generic.article.published_at == adapter.article.published_at


def test_boredpanda_profile_reads_a_page_before_the_clicks_like_the_adapter() -> None:
    site = build_demo_site()
    url = f"https://www.boredpanda.com/{SEED_SLUG}/"
    html = render_article_page(site.article(SEED_SLUG), "https://www.boredpanda.com")
    generic = parse_rendered(html, url, load_profile("boredpanda")).thread
    expected = boredpanda.parse_article_page(html, url).thread(url)
    assert comment_fields(generic.comments) == comment_fields(expected.comments)
    assert any(c.truncated for c in generic.comments)
    assert not generic.end_reached  # "Load More Replies..." and "Read more" are left


def test_profile_is_hashable_and_frozen() -> None:
    profile = load_profile("zine")
    assert isinstance(profile, Profile) and hash(profile) == hash(load_profile("zine"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        profile.name = "other"  # type: ignore[misc]
