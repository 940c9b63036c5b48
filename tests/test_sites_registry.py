"""Site resolution (crawler.sites.registry), the shared metadata helper, widgets and parse-loss detection.

Pages are real saved pages (tests/fixtures/real/, provenance in each folder) or the replica's own
pages; the edits made to them here are named where they are made.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from crawler.replica import build_demo_site
from crawler.replica.render import render_article_page
from crawler.replica.seed import SEED_SLUG
from crawler.sites.comments import widgets
from crawler.sites.errors import NotAnArticle
from crawler.sites.html import parse_html, parse_html_checked
from crawler.sites.metadata import read_metadata
from crawler.sites.profile import ProfileError
from crawler.sites.registry import adapter_named, parse_page

REAL = Path(__file__).parent / "fixtures" / "real"


def real(name: str) -> tuple[str, str]:
    """(page HTML, its original URL) of a saved real page."""
    expected = json.loads((REAL / name / "expected.json").read_text(encoding="utf-8"))
    return (REAL / name / "page.html").read_text(encoding="utf-8"), expected["url"]


# -- which adapter -----------------------------------------------------------------------------------


def test_wordpress_page_with_div_post_content_is_read_by_the_generic_adapter():
    html, url = real("bigbrandsystem-business-focus")
    assert re.search(r'class="[^"]*\bpost-content\b', html)  # the class that used to mean "Bored Panda"
    page = parse_page(html, url)
    assert page.site == "generic" and page.article.site == "generic"
    assert (
        page.article.title == "Business Focus: It's Why Some People Triumph Online and Others Never Make It"
    )
    assert len(page.thread.comments) == 10
    # the same page served from anywhere (loopback here) is still not Bored Panda
    assert parse_page(html, "http://127.0.0.1:8080/business-focus/").site == "generic"


def test_replica_page_is_read_by_the_boredpanda_adapter_wherever_it_is_served():
    html = render_article_page(build_demo_site().article(SEED_SLUG), "http://127.0.0.1:5000")
    page = parse_page(html, f"http://127.0.0.1:5000/{SEED_SLUG}/")  # host unknown: the title suffix
    assert page.site == "boredpanda" and page.article.article_id.startswith("boredpanda:")
    assert page.thread.reported_total == 11 and page.thread.comments


def test_a_page_whose_canonical_host_is_boredpanda_is_read_by_the_boredpanda_adapter():
    html = render_article_page(build_demo_site().article(SEED_SLUG), "https://www.boredpanda.com")
    # a saved copy: no " | Bored Panda" title signature left, only the canonical URL says where it is from
    html = html.replace(" | Bored Panda</title>", "</title>")
    assert parse_page(html, "http://mirror.example/copy.html").site == "boredpanda"
    assert parse_page(html, "https://www.boredpanda.com/x/").site == "boredpanda"


def test_class_names_alone_never_make_a_page_bored_panda():
    html = (
        "<html><head><title>Notes</title></head><body><article class='post' data-post-id='7'>"
        "<h1 class='post-title'>Notes from a garden</h1><div class='post-content'>"
        + "".join(
            f"<p>The tomatoes of bed {n} came up late this year but they were sweet and plentiful.</p>"
            for n in range(4)
        )
        + "</div></article></body></html>"
    )
    assert parse_page(html, "http://garden.example/notes/").site == "generic"


def test_site_argument_forces_an_adapter_and_unknown_names_are_refused():
    html, url = real("lemire-simdjson")
    assert parse_page(html, url, site="generic").site == "generic"
    with pytest.raises(NotAnArticle):  # forced on a page without Bored Panda markup: refused, not empty
        parse_page(html, url, site="boredpanda")
    with pytest.raises(ProfileError, match="unknown site 'nosuch'"):
        adapter_named("nosuch")


def test_a_profile_declaring_hosts_is_chosen_for_them(tmp_path):
    profile = tmp_path / "lemire.toml"
    profile.write_text(
        '[site]\nname = "lemire"\nhosts = ["lemire.me"]\n'
        '[comments]\ncontainer = "ol.comment-list"\nitem = "li.comment"\nid = "@id"\n'
        'author = ".fn"\ntext = ".comment-content"\n[browser]\nload_more = ["button.none"]\n'
    )
    html, url = real("lemire-simdjson")
    page = parse_page(html, url, site=str(profile))
    assert page.site == "lemire" and page.article.article_id.startswith("lemire:")
    assert len(page.thread.comments) == 5 and page.thread.end_reached
    # the body comes from the generic extraction when the profile names no body selector
    assert "simdjson" in page.article.body_text


# -- metadata: one helper for every adapter -----------------------------------------------------------


def test_metadata_reads_json_ld_opengraph_and_microdata_the_same_way_for_every_adapter():
    html, url = real("profootballtalk-lynn")
    md = read_metadata(parse_html(html), url)
    assert md.title == "Anthony Lynn: \u201cWe needed to win this game\u201d"  # entities decoded
    assert md.site_name == "ProFootballTalk" and md.canonical.startswith(
        "https://profootballtalk.nbcsports.com/"
    )
    html, url = real("skynews-mourinho")
    md = read_metadata(parse_html(html), url)
    assert md.author == "Sky" and md.author_is_organization
    assert parse_page(html, url).article.author == "Tom Gillespie"  # a person in the byline wins


# -- widgets and parse loss ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, widget",
    [
        ("python-insider-360", "disqus"),
        ("cityam-alibaba", "openweb"),
        ("mercurynews-letters", "viafoura"),
        ("theparadigm-lawan", "facebook"),
    ],
)
def test_widget_only_pages_name_their_widget_and_hold_no_comment(name, widget):
    html, url = real(name)
    thread = parse_page(html, url).thread
    assert thread.widget == widget and thread.section and thread.comments == []


@pytest.mark.parametrize(
    "snippet, widget",
    [
        (
            '<div id="coral_thread"></div><script src="https://talk.example/assets/js/embed.js"></script>',
            "coral",
        ),
        ('<div id="vuukle-comments"></div>', "vuukle"),
        ('<div id="hyvor-talk-view"></div>', "hyvor"),
        (
            '<div id="commento"></div><script src="https://cdn.commento.io/js/commento.js"></script>',
            "commento",
        ),
        ('<script src="https://giscus.app/client.js" data-repo="a/b"></script>', "giscus"),
        ('<script src="https://utteranc.es/client.js" repo="a/b"></script>', "utterances"),
        ('<div class="fb-comments" data-href="https://x.example/a"></div>', "facebook"),
        ('<div data-spotim-module="conversation"></div>', "openweb"),
        ("<p>No comments here.</p>", None),
    ],
)
def test_widget_signatures(snippet, widget):
    assert widgets.detect_widget(parse_html(f"<html><body>{snippet}</body></html>")) == widget


def test_a_parse_that_stopped_at_the_nesting_limit_is_detected():
    html, url = real("lemire-simdjson")
    deep = "<div>" * 300 + "</div>" * 300
    cut = html.replace('<div id="comments"', deep + '<div id="comments"', 1)
    root, lost = parse_html_checked(cut)
    assert lost and "stopped early" in lost
    page = parse_page(cut, url)
    assert page.thread.parse_lost and page.thread.comments == []  # the block is gone from the tree
    assert parse_page(html, url).thread.parse_lost is None


def test_comment_markers_missing_from_the_tree_are_detected():
    html = (
        "<html><body><p>text</p><ol class='comment-list'><li id='comment-1' class='comment'>a</li>"
        "<li id='comment-2' class='comment'>b</li></ol></body></html>"
    )
    root, lost = parse_html_checked(html)
    assert lost is None
    root.xpath("//li")[1].drop_tree()  # the tree now holds one of the two comments the HTML has
    from crawler.sites.html import lost_markers

    assert "2 comment markers" in lost_markers(html, root)


# -- static readers beyond WordPress's default walker ------------------------------------------------


def test_drupal_and_blogger_threads_are_read_with_their_nesting():
    # Drupal 7's comment.tpl.php (an empty <a id="comment-N"> anchor before each comment, replies in
    # the following div.indented) and Blogger's threaded comments (li.comment#cN)
    html = (
        "<html><head><title>A post</title></head><body><article><h1>A post</h1>"
        + "".join(f"<p>Paragraph {n} of the article, long enough to count as text.</p>" for n in range(5))
        + '</article><section id="comments" class="comment-wrapper">'
        '<a id="comment-11"></a><div class="comment clearfix"><div class="submitted">'
        '<span class="username">Anna</span> <span class="comment-time">Tue, 03/11/2014 - 10:10</span></div>'
        '<div class="content"><div class="field-name-comment-body"><p>First!</p></div></div>'
        '<ul class="links"><li class="comment-reply"><a href="/comment/reply/1/11">reply</a></li></ul></div>'
        '<div class="indented"><a id="comment-12"></a><div class="comment"><div class="submitted">'
        '<span class="username">Ben</span></div><div class="content"><p>A reply.</p></div></div></div>'
        '</section><div class="comments"><ol><li class="comment" id="c1234567890"><div class="comment-block">'
        '<cite class="user">Carl</cite><span class="datetime"><a href="#c1234567890">'
        "March 3, 2014 at 10:00 AM</a></span>"
        '<p class="comment-content">Blogger comment.</p></div></li></ol></div></body></html>'
    )
    comments = parse_page(html, "http://blog.example/2014/03/post.html").thread.comments
    assert [(c.source_id, c.parent_id, c.author, c.text) for c in comments] == [
        ("11", None, "Anna", "First!"),
        ("12", "blog.example:11", "Ben", "A reply."),
        ("1234567890", None, "Carl", "Blogger comment."),
    ]
    assert comments[2].posted_at == "2014-03-03T10:00:00+00:00"


def test_schema_org_comments_in_json_ld_are_read_with_replies():
    ld = {
        "@context": "https://schema.org",
        "@type": "BlogPosting",
        "headline": "Structured",
        "commentCount": 2,
        "comment": [
            {
                "@type": "Comment",
                "@id": "https://s.example/p/#comment-7",
                "author": {"@type": "Person", "name": "Dee"},
                "dateCreated": "2020-01-02T03:04:05Z",
                "text": "Top level.",
                "comment": [{"@type": "Comment", "@id": "#comment-8", "author": "Eve", "text": "Reply."}],
            }
        ],
    }
    html = (
        f'<html><head><script type="application/ld+json">{json.dumps(ld)}</script></head><body><article>'
        + "".join(
            f"<p>Paragraph {n} of a post with structured comments and enough words.</p>" for n in range(5)
        )
        + "</article></body></html>"
    )
    thread = parse_page(html, "https://s.example/p/").thread
    assert thread.reader == "json-ld" and thread.reported_total == 2
    assert [(c.source_id, c.parent_id, c.author, c.text, c.posted_at) for c in thread.comments] == [
        ("7", None, "Dee", "Top level.", "2020-01-02T03:04:05+00:00"),
        ("8", "s.example:7", "Eve", "Reply.", None),
    ]
