"""Deterministic generators of replica articles: bodies, comment threads and list items.

Everything comes from `random.Random` seeded with the caller's seed and the slug, so the same call
builds the same article on every machine, and times are relative to the fixed `REFERENCE_NOW` rather
than the clock. A thread has exactly the number of comments asked for (replies included) and, when it
is big enough, the shapes a comment crawler must handle: replies nested several levels deep, comments
with more than 20 direct replies (several "Load More Replies" requests), long comments shown cut, and
comments whose time carries no datetime attribute.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from .model import ID_BLOCK, Article, Block, Comment, ListItem

#: the moment generated relative times ("3 hours ago") are counted from
REFERENCE_NOW = datetime(2024, 12, 27, 12, 0, tzinfo=UTC)

#: a comment longer than this is shown cut (the rule lives in render.py; generators only need to
#: produce comments on both sides of it)
LONG_COMMENT_CHARS = 420

_FIRST_NAMES = (
    "Anna", "Ben", "Chloe", "Dmitri", "Ella", "Farid", "Grace", "Hiro", "Ines", "Jonas",
    "Kemi", "Liam", "Maya", "Noor", "Oscar", "Priya", "Quinn", "Rosa", "Sam", "Tariq",
)  # fmt: skip
_LAST_NAMES = (
    "Andersen", "Brooks", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia", "Hughes", "Ito",
    "Jensen", "Kowalski", "Lopez", "Moreau", "Novak", "O'Brien", "Petrov", "Rossi", "Silva",
)  # fmt: skip
_SUBJECTS = (
    "my cat", "the neighbour's dog", "this whole story", "the photographer", "my grandmother",
    "the last picture", "that tiny hamster", "the comment section", "our local shelter", "the author",
)  # fmt: skip
_PREDICATES = (
    "made my day", "deserves a medal", "is exactly what I needed today",
    "looks like it has seen things", "would never survive a Monday", "reminds me of home",
    "is proof that the internet can still be wholesome", "has better manners than most people I know",
    "needs its own TV show", "just stole my heart & my sandwich <3",
)  # fmt: skip
_OPENERS = ("Honestly,", "I swear", "Not gonna lie,", "Fun fact:", "Wow,", "Same here:", "Okay but")
_NEWS_SENTENCES = (
    "The story quickly spread online, collecting thousands of reactions within a day.",
    "Locals said they had never seen anything quite like it.",
    "Experts contacted by Bored Panda were cautious about drawing conclusions too early.",
    "The original post has since been shared across several platforms.",
    "Many readers wrote in with similar experiences of their own.",
    "A spokesperson declined to comment on the details.",
    "It is not the first time something like this has made the headlines.",
    "Scroll down to see the pictures and let us know what you think in the comments.",
)


def relative_time(moment: datetime, now: datetime = REFERENCE_NOW) -> str:
    """How Bored Panda words the age of a comment: "3 hours ago", "2 months ago", "just now"."""
    seconds = (now - moment).total_seconds()
    for unit, size in (("year", 31_536_000), ("month", 2_592_000), ("week", 604_800),
                       ("day", 86_400), ("hour", 3_600), ("minute", 60)):  # fmt: skip
        if seconds >= size:
            count = int(seconds // size)
            return f"{count} {unit}{'s' if count > 1 else ''} ago"
    return "just now"


def person(rng: random.Random) -> str:
    return f"{rng.choice(_FIRST_NAMES)} {rng.choice(_LAST_NAMES)}"


def comment_text(rng: random.Random, long: bool) -> str:
    """A short comment, or a long one (two paragraphs, over LONG_COMMENT_CHARS characters)."""
    if not long:
        return " ".join(_sentence(rng) for _ in range(rng.randint(1, 2)))
    sentences: list[str] = []
    while sum(len(s) + 1 for s in sentences) <= LONG_COMMENT_CHARS:
        sentences.append(_sentence(rng))
    middle = len(sentences) // 2
    return " ".join(sentences[:middle]) + "\n\n" + " ".join(sentences[middle:])


def _sentence(rng: random.Random) -> str:
    return f"{rng.choice(_OPENERS)} {rng.choice(_SUBJECTS)} {rng.choice(_PREDICATES)}."


def generated_body(rng: random.Random, slug: str) -> list[Block]:
    """An article body with the interleaved noise of the real site around its own paragraphs."""
    paragraphs = [("p", sentence) for sentence in rng.sample(_NEWS_SENTENCES, rng.randint(3, 5))]
    image: Block = ("image", f"/img/{slug}-1.jpg", "Image credits: Bored Panda", "The moment it all began")
    return [paragraphs[0], ("ad",), paragraphs[1], image, *paragraphs[2:], ("share",), ("author_bio",)]


def thread_shape(n_comments: int, top_level: int, max_depth: int, rng: random.Random) -> list[int | None]:
    """Parent index (None: top level) of each comment, in creation (so id) order.

    Guaranteed shapes first, then random replies: one hub with more than 20 direct replies per 60
    replies (or a comment with 3 replies when the thread is smaller), then a chain of replies down to
    max_depth, then replies to random comments that are not yet at max_depth.
    """
    if not 0 <= top_level <= n_comments or (top_level == 0 and n_comments > 0):
        raise ValueError(f"cannot build {n_comments} comments with {top_level} top-level ones")
    parents: list[int | None] = [None] * top_level
    depths = [0] * top_level
    open_parents = list(range(top_level)) if max_depth > 0 else []

    def reply(parent: int) -> int:
        parents.append(parent)
        depths.append(depths[parent] + 1)
        if depths[-1] < max_depth:
            open_parents.append(len(parents) - 1)
        return len(parents) - 1

    def remaining() -> int:
        return n_comments - len(parents)

    hubs = [rng.randint(21, 30) for _ in range(remaining() // 60)] or ([3] if remaining() >= 3 else [])
    for size in hubs:
        if not open_parents:
            break
        hub = rng.choice(open_parents)
        for _ in range(min(size, remaining())):
            reply(hub)
    if open_parents and remaining():
        node = rng.randrange(top_level)
        while remaining() and depths[node] < max_depth:
            node = reply(node)
    while open_parents and remaining():
        reply(rng.choice(open_parents) if rng.random() < 0.5 else rng.randrange(top_level))
    if remaining():
        raise ValueError(f"max_depth {max_depth} leaves no room for {n_comments} comments")
    return parents


def generated_thread(
    rng: random.Random,
    post_id: int,
    n_comments: int,
    published_at: datetime,
    *,
    max_depth: int = 4,
    top_level: int | None = None,
    cut_every: int = 7,
    no_datetime_every: int = 9,
) -> list[Comment]:
    """Exactly n_comments comments with ids post_id * ID_BLOCK + 1, 2, …, posted after publication.

    Every cut_every-th comment is long enough to be shown cut; every no_datetime_every-th has no
    exact time (only the relative one).
    """
    if top_level is None:
        top_level = max(1, round(n_comments * 0.35)) if n_comments else 0
    parents = thread_shape(n_comments, top_level, max_depth, rng)
    ids = [str(post_id * ID_BLOCK + 1 + n) for n in range(n_comments)]
    # an article published after REFERENCE_NOW (added during a test) gets an hour of comments
    now = max(REFERENCE_NOW, published_at + timedelta(hours=1))
    span = now - published_at
    comments = []
    for n, parent in enumerate(parents):
        # comments crowd the first days after publication, as on the real site
        posted = (published_at + span * ((n + 1) / (n_comments + 1)) ** 2).replace(microsecond=0)
        comments.append(
            Comment(
                id=ids[n],
                parent_id=None if parent is None else ids[parent],
                author=person(rng),
                text=comment_text(rng, long=cut_every > 0 and n % cut_every == cut_every - 1),
                posted_at=None if n % no_datetime_every == no_datetime_every - 1 else posted,
                relative_time=relative_time(posted, now),
                upvotes=rng.randint(0, 60),
                downvotes=rng.randint(0, 6),
            )
        )
    return comments


def generated_article(
    slug: str,
    post_id: int,
    n_comments: int,
    max_depth: int = 4,
    seed: int = 0,
    cut_every: int = 7,
    *,
    top_level: int | None = None,
    **fields: Any,
) -> Article:
    """A complete article with a generated thread; `fields` override any other Article field."""
    rng = random.Random(f"{seed}:{slug}")
    published = fields.pop(
        "published_at", REFERENCE_NOW - timedelta(days=rng.randint(2, 120), minutes=rng.randint(0, 1439))
    )
    defaults: dict[str, Any] = {
        "title": slug.replace("-", " ").capitalize(),
        "author": person(rng),
        "modified_at": published + timedelta(hours=rng.randint(1, 30)),
        "description": rng.choice(_NEWS_SENTENCES),
        "tags": rng.sample(["animals", "funny", "wholesome", "news", "photography", "cats"], 2),
        "votes": rng.randint(0, 500),
        "views": rng.randint(1_000, 250_000),
        "shares": rng.randint(0, 5_000),
        "body": generated_body(rng, slug),
    }
    comments = generated_thread(
        rng, post_id, n_comments, published, max_depth=max_depth, top_level=top_level, cut_every=cut_every
    )
    return Article(
        slug=slug, post_id=post_id, published_at=published, comments=comments, **{**defaults, **fields}
    )


def generated_list_items(post_id: int, titles: list[str], seed: int = 0) -> list[ListItem]:
    """List items with the given titles, generated descriptions and points, ids post_id*1000 + n."""
    rng = random.Random(f"{seed}:items:{post_id}")
    return [
        ListItem(
            item_id=str(post_id * 1000 + position),
            title=title,
            description=" ".join(_sentence(rng) for _ in range(rng.randint(1, 3))),
            points=rng.randint(5, 900),
        )
        for position, title in enumerate(titles, start=1)
    ]
