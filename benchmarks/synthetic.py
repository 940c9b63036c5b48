"""Synthetic, already-clean items for the store benchmark, with the sizes of real Bored Panda pages.

Texts come from the replica's generator (`crawler.replica.generate`), so they look like the comments
the bench crawl stores: a sentence or two, and every seventh comment long (over 420 characters, shown
cut on the page). Each article (a body of 2,000-6,000 characters) is followed by its comments, about
40% of them top-level and the rest replies down to depth 4. Deterministic for a seed. No ListItem,
ThreadItem or FetchItem: the benchmark measures the article and comment writes, nearly all of a crawl's
rows.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from crawler.dates import iso
from crawler.items import ArticleItem, CommentItem
from crawler.replica.generate import comment_text, person

#: when every synthetic item was "fetched"; fixed, so a second write of the same items is identical
FETCHED_AT = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
BASE_URL = "https://www.boredpanda.com"
LONG_EVERY = 7
MAX_DEPTH = 4


def _author_url(name: str) -> str:
    slug = name.lower().replace(" ", "-").replace("'", "")
    return f"{BASE_URL}/author/{slug}/"


def _body(rng: random.Random) -> str:
    paragraphs: list[str] = []
    size = rng.randint(2000, 6000)
    while sum(map(len, paragraphs)) < size:
        paragraphs.append(comment_text(rng, long=True))
    return "\n\n".join(paragraphs)


def _article(rng: random.Random, number: int) -> ArticleItem:
    post_id = str(8_000_000 + number)
    url = f"{BASE_URL}/synthetic-article-{number:05d}/"
    author = person(rng)
    body = _body(rng)
    return ArticleItem(
        url=url, article_id=f"boredpanda:{post_id}", site="boredpanda", post_id=post_id,
        canonical_url=url, title=comment_text(rng, long=False), author=author,
        author_url=_author_url(author), published_at=iso(FETCHED_AT - timedelta(days=number % 30 + 1)),
        description=comment_text(rng, long=False),
        tags=rng.sample(["cats", "dogs", "news", "wholesome", "funny", "animals", "art"], 3),
        votes=rng.randint(0, 5000), views=rng.randint(1000, 500_000), shares=rng.randint(0, 9000),
        body_text=body, body_html="".join(f"<p>{p}</p>" for p in body.split("\n\n")),
        image_credits=[f"Photographer {n}" for n in range(rng.randint(3, 10))],
        comment_count_reported=None, fetched_at=iso(FETCHED_AT),
    )  # fmt: skip


def _comment(
    rng: random.Random, article: ArticleItem, number: int, parent: CommentItem | None
) -> CommentItem:
    author = person(rng)
    return CommentItem(
        comment_id=f"{article.article_id}-{number:04d}", article_id=article.article_id,
        parent_id=parent.comment_id if parent else None, depth=parent.depth + 1 if parent else 0,
        author=author, author_role="Community Member", author_url=_author_url(author),
        posted_at=iso(FETCHED_AT - timedelta(minutes=rng.randint(1, 40_000))),
        posted_at_precision="exact", text=comment_text(rng, long=number % LONG_EVERY == LONG_EVERY - 1),
        upvotes=rng.randint(0, 60), downvotes=rng.randint(0, 6), reply_count=0,
        fetched_at=iso(FETCHED_AT),
    )  # fmt: skip


def _comments(rng: random.Random, article: ArticleItem, count: int) -> list[CommentItem]:
    comments: list[CommentItem] = []
    for number in range(count):
        open_parents = [c for c in comments if c.depth < MAX_DEPTH]
        parent = rng.choice(open_parents) if open_parents and rng.random() < 0.6 else None
        if parent:
            parent.reply_count += 1
        comments.append(_comment(rng, article, number, parent))
    return comments


def items(n_articles: int, comments_each: int, seed: int = 0) -> list[ArticleItem | CommentItem]:
    """n_articles articles, each followed by its comments_each comments."""
    rng = random.Random(seed)
    result: list[ArticleItem | CommentItem] = []
    for number in range(n_articles):
        article = _article(rng, number)
        result.append(article)
        result.extend(_comments(rng, article, comments_each))
    return result
