"""The sites the demo, the tests and the benchmarks crawl: every page shape a crawler must handle.

`build_demo_site()` publishes these articles (12 in all, so the home listing has two pages):

| slug                                    | comments (incl. replies) | what it exercises                   |
|-----------------------------------------|--------------------------|-------------------------------------|
| north-korean-troops-desert-frontlines   | 11 (4 top-level)         | the seed page: real text, comment   |
|                                         |                          | block twice, cut comments, replies  |
|                                         |                          | behind "Load More Replies..."       |
| two-page-comments-article               | 26 (22 top-level)        | two load_comments pages             |
| no-comments-article                     | 0                        | an empty comment block              |
| one-page-article                        | 12 (4 top-level)         | one page, no "Load More Comments"   |
| big-thread-article                      | 1,200 (420 top-level)    | 21 pages, replies to depth 4, hubs  |
|                                         |                          | of 21-30 replies, cut comments      |
| funny-cats-list                         | 6                        | a list article: 15 items, 2 pages   |
| lazy-comments-article                   | 26 (22 top-level)        | comments only through JavaScript    |
| endless-comments-article                | 5 real, endless          | load_comments never runs out        |
| ukrainian-volunteers-rebuild-library    | 4                        | target of the seed's "RELATED:"     |
| plain-article-1 … plain-article-3       | 3, 5, 8                  | listing and feed filler             |

The demo site also serves The Daily Zine (zine.py) under `/zine/<slug>/`: `quiet-harbour-story` (60
comments, 22 top-level, replies to depth 3) and `empty-story` (0), kept in a `Site` of their own
(`zine_of(site)`), so none of the above changes.

`build_bench_site()` builds many same-shaped articles for benchmarks; `serve_demo()` serves the demo
site. Both sites are deterministic for a given seed.
"""

from __future__ import annotations

from datetime import timedelta

from .generate import REFERENCE_NOW, generated_article, generated_list_items
from .model import Article, Site
from .seed import RELATED_SLUG, RELATED_TITLE, SEED_SLUG, seed_article
from .server import ReplicaServer
from .square import attach_square, build_square_site
from .zine import attach_zine, build_zine_site, zine_of

NORMAL_SLUG = "two-page-comments-article"
NO_COMMENTS_SLUG = "no-comments-article"
ONE_PAGE_SLUG = "one-page-article"
BIG_THREAD_SLUG = "big-thread-article"
LIST_SLUG = "funny-cats-list"
LAZY_SLUG = "lazy-comments-article"
ENDLESS_SLUG = "endless-comments-article"
DEMO_SLUGS = (
    SEED_SLUG,
    NORMAL_SLUG,
    NO_COMMENTS_SLUG,
    ONE_PAGE_SLUG,
    BIG_THREAD_SLUG,
    LIST_SLUG,
    LAZY_SLUG,
    ENDLESS_SLUG,
    RELATED_SLUG,
    "plain-article-1",
    "plain-article-2",
    "plain-article-3",
)

_CAT_TITLES = [
    "This Cat Who Fits Perfectly In A Fruit Bowl",
    "The Kitten That Refuses To Leave The Printer",
    "A Cat Judging Its Owner's Cooking",
    "This Cat Who Learned To Open The Fridge",
    "The Loaf That Became A Local Celebrity",
    "A Cat Pretending Not To Know The Dog",
    "This Very Serious Office Cat",
    "The Cat Who Sits Exactly On The Homework",
    "A Kitten Meeting Snow For The First Time",
    "This Cat Who Guards The Christmas Tree",
    "The Cat That Only Drinks From The Tap",
    "A Cat In A Tiny Knitted Hat",
    "This Cat Supervising The Move",
    "The Cat Who Stole The Show At A Wedding",
    "A Cat Finally Catching The Red Dot",
]


def _demo_articles(seed: int) -> list[Article]:
    def article(slug: str, post_id: int, days_ago: int, n_comments: int, **fields: object) -> Article:
        published = REFERENCE_NOW - timedelta(days=days_ago, hours=post_id % 24)
        return generated_article(slug, post_id, n_comments, seed=seed, published_at=published, **fields)

    return [
        seed_article(),
        article(NORMAL_SLUG, 8200001, 3, 26, top_level=22, title="Town Adopts A Stray Dog As Its Mayor"),
        article(NO_COMMENTS_SLUG, 8200002, 4, 0, title="A Quiet Museum Nobody Has Talked About Yet"),
        article(ONE_PAGE_SLUG, 8200003, 5, 12, title="Neighbours Share Their Best Garden Hacks"),
        article(BIG_THREAD_SLUG, 8200004, 6, 1200, title="People Share The Worst Advice They Ever Got"),
        article(
            LIST_SLUG,
            8200005,
            7,
            6,
            title="15 Funny Cats Who Own Their Humans",
            category="animals",
            list_items=generated_list_items(8200005, _CAT_TITLES, seed),
            items_per_page=8,
        ),
        article(
            LAZY_SLUG,
            8200006,
            8,
            26,
            top_level=22,
            title="Readers Reveal Their Oddest Family Rules",
            lazy=True,
        ),  # fmt: skip
        article(
            ENDLESS_SLUG,
            8200007,
            9,
            5,
            top_level=5,
            title="The Thread That Never Ends",
            endless_load_more=True,
        ),  # fmt: skip
        article(RELATED_SLUG, 8200008, 70, 4, title=RELATED_TITLE),
        article("plain-article-1", 8200009, 10, 3, title="A Baker Who Sculpts Bread Into Animals"),
        article("plain-article-2", 8200010, 11, 5, title="Photos Of Cities Before And After Rain"),
        article("plain-article-3", 8200011, 12, 8, title="The Library That Lends Out Tools"),
    ]


def build_demo_site(seed: int = 0) -> Site:
    """A fresh demo site with its zine attached (see the module docstring for its articles)."""
    site = Site()
    for article in _demo_articles(seed):
        site.add_article(article)
    attach_zine(site, build_zine_site(seed))
    attach_square(site, build_square_site(seed))
    return site


#: Two more zine stories for build_demo_site(more_zine_stories=True): the zine ships one story with
#: comments, and a recipe learned from it is checked on two *other* stories (issue 12).
MORE_ZINE_STORIES = (("harbour-fair-story", 7300010, 34), ("night-ferry-story", 7300011, 27))


def add_zine_stories(site: Site) -> Site:
    """`site` (a demo site) with the MORE_ZINE_STORIES added to its zine."""
    zine = zine_of(site)
    for n, (slug, post_id, count) in enumerate(MORE_ZINE_STORIES):
        zine.add_article(
            generated_article(
                slug, post_id, count, max_depth=3, seed=0, top_level=12,
                published_at=REFERENCE_NOW - timedelta(days=3 + n),
            )
        )  # fmt: skip
    return site


def build_bench_site(n_articles: int = 200, comments_each: int = 50, seed: int = 0) -> Site:
    """n_articles articles `bench-article-0000`, … of comments_each comments each, an hour apart."""
    site = Site()
    for number in range(n_articles):
        site.add_article(
            generated_article(
                f"bench-article-{number:04d}",
                9_000_000 + number,
                comments_each,
                seed=seed,
                published_at=REFERENCE_NOW - timedelta(hours=number + 1),
            )
        )
    return site


def serve_demo(port: int = 0, seed: int = 0, host: str = "127.0.0.1") -> ReplicaServer:
    """Start serving a fresh demo site; the caller stops the returned server."""
    return ReplicaServer(build_demo_site(seed), host=host, port=port).start()
