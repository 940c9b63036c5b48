"""Synthetic, already-clean items for the store benchmark, with the sizes of real Bored Panda pages.

Deterministic for a seed, and shaped like what the pipelines hand the store: each article followed
by its comments, about 40% of them top-level and the rest replies up to depth 4; most comments are a
sentence or two and about one in seven is long (the page shows those cut). No ListItem or ThreadItem:
the benchmark measures the article and comment writes, which are nearly all of a crawl's rows.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from crawler.dates import iso
from crawler.items import ArticleItem, CommentItem

#: when every synthetic item was "fetched"; fixed, so a second write of the same items is identical
FETCHED_AT = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
BASE_URL = "https://www.boredpanda.com"
_WORDS = (
    "the cat dog photo story people honestly really made my day this is why internet still wholesome "
    "neighbour grandmother shelter kitten picture comment section author reminds me of home never "
    "survive monday deserves medal exactly what needed today looks like has seen things better manners "
    "than most know tiny hamster stole heart sandwich wow same here okay but fun fact swear lie"
).split()


def _text(rng: random.Random, length: int) -> str:
    """Words until `length` characters, as sentences."""
    words: list[str] = []
    size = 0
    while size < length:
        word = rng.choice(_WORDS)
        words.append(word.capitalize() + "." if rng.random() < 0.08 else word)
        size += len(word) + 1
    return " ".join(words)


def _comment_length(rng: random.Random) -> int:
    return rng.randint(420, 1200) if rng.random() < 0.14 else rng.randint(20, 250)


def _article(rng: random.Random, number: int) -> ArticleItem:
    post_id = str(8_000_000 + number)
    slug = f"synthetic-article-{number:05d}"
    body = _text(rng, rng.randint(2000, 6000))
    return ArticleItem(
        url=f"{BASE_URL}/{slug}/", article_id=f"boredpanda:{post_id}", site="boredpanda",
        post_id=post_id, canonical_url=f"{BASE_URL}/{slug}/", title=_text(rng, rng.randint(40, 100)),
        author="Ines Moreau", author_url=f"{BASE_URL}/author/ines-moreau/",
        published_at=iso(FETCHED_AT - timedelta(days=number % 30 + 1)), modified_at=None,
        description=_text(rng, rng.randint(120, 200)),
        tags=rng.sample(["cats", "dogs", "news", "wholesome", "funny", "animals", "art"], 4),
        votes=rng.randint(0, 5000), views=rng.randint(1000, 500_000), shares=rng.randint(0, 9000),
        body_text=body, body_html="".join(f"<p>{part}</p>" for part in body.split(". ")),
        image_credits=[f"Photographer {n}" for n in range(rng.randint(3, 10))],
        comment_count_reported=None, fetched_at=iso(FETCHED_AT),
    )


def _comments(rng: random.Random, article: ArticleItem, count: int) -> list[CommentItem]:
    comments: list[CommentItem] = []
    for number in range(count):
        parent = rng.choice(comments) if comments and rng.random() < 0.6 else None
        depth = min(parent.depth + 1, 4) if parent else 0
        if parent:
            parent.reply_count += 1
        comments.append(CommentItem(
            comment_id=f"{article.article_id}-{number:04d}", article_id=article.article_id,
            parent_id=parent.comment_id if parent else None, depth=depth,
            author="Sam Novak", author_role="Community Member", author_url=f"{BASE_URL}/author/sam-novak/",
            posted_at=iso(FETCHED_AT - timedelta(minutes=rng.randint(1, 40_000))),
            posted_at_precision="exact", text=_text(rng, _comment_length(rng)),
            upvotes=rng.randint(0, 300), downvotes=rng.randint(0, 20), reply_count=0,
            fetched_at=iso(FETCHED_AT),
        ))  # fmt: skip
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
