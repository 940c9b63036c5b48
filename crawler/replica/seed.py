"""The seed article: the one real Bored Panda page our users care about, rebuilt from its text.

`seed-page.txt` in the shared design notes is the text of the page as a reader's browser showed it; this
module turns it into an `Article` with the same paragraphs, the same noise between them (advertisement
labels, "RELATED:", image captions and credits, an Instagram embed, "Share on Facebook", the author bio
printed twice) and the same four comments, its comment block printed twice. Two things the text could
not give are made up and marked as such: the end of Steve Sharpe's comment (the page shows it cut, so
its full text must be longer) and the replies behind the page's "Load More Replies..." buttons.
"""

from __future__ import annotations

from datetime import UTC, datetime

from .model import ID_BLOCK, Article, Block, Comment

SEED_SLUG = "north-korean-troops-desert-frontlines"
SEED_POST_ID = 8123456
SEED_TITLE = (
    "North Korean Troops Sent To Russia Immediately Desert The Frontlines: “First Step To The World War”"
)
#: the article the page's "RELATED:" box points to; the demo site publishes it
RELATED_TITLE = "Ukrainian Volunteers Rebuild A Bombed Library In Three Weeks"
RELATED_SLUG = "ukrainian-volunteers-rebuild-library"
RELATED_HREF = f"/{RELATED_SLUG}/"
IMAGE_CREDIT = "Image credits: Art Guzman via Pexels (Representational Image)"
INSTAGRAM_URL = "https://www.instagram.com/p/DBfQ2xRtYcK/"

SEED_BODY: list[Block] = [
    ("ad",),
    (
        "p",
        "North Korean troops, sent to support Russia‘s war efforts in Ukraine, have "
        "reportedly fled their positions not long after arriving at the frontlines.",
    ),
    (
        "p",
        "As part of the seemingly evolving alliance between Russia and North Korea, recent "
        "reports revealed that the latter may be sending troops to join the Kremlin’s war "
        "front.",
    ),
    (
        "p",
        "Ukrainian President Volodymyr Zelenskyy claimed on Thursday that North Korean army "
        "officers are already temporarily occupying Ukrainian territory.",
    ),
    ("related", RELATED_TITLE, RELATED_HREF),
    (
        "image",
        "/img/north-korean-troops-1.jpg",
        IMAGE_CREDIT,
        "North Korean soldiers, reportedly sent to bolster Russia’s war efforts in Ukraine, "
        "have fled their positions soon after arriving",
    ),
    (
        "p",
        "“Here we see the first step to the world war,” he said during a one-day summit of EU "
        "leaders in Brussels.",
    ),
    (
        "p",
        "He believes the recent developments are part of Russian President Vladimir Putin’s "
        "attempt to drag other participants into the war.",
    ),
    (
        "p",
        "“This is no longer just about transferring weapons. It is actually about sending "
        "people from North Korea to the occupying military forces,” he added.",
    ),
    (
        "image",
        "/img/north-korean-troops-2.jpg",
        "",
        "Ukrainian President Volodymyr Zelenskyy sounded the alarm, calling North Korea’s "
        "involvement a dangerous step towards “world war”",
    ),
    ("ad",),
    (
        "p",
        "Ukrainian public broadcaster Suspilne claimed this week that around 18 North Korean "
        "soldiers deserted their positions in Russia’s Kursk and Bryansk oblasts near the "
        "Ukrainian border.",
    ),
    (
        "p",
        "Citing unnamed intelligence officials, the media outlet claimed that soldiers were "
        "positioned about 4 miles away from Russia’s border with Ukraine when the desertion "
        "took place.",
    ),
    ("p", "Russian officials are reportedly on the hunt for these missing soldiers."),
    (
        "p",
        "Kyiv Independent also reported that the Hermit Kingdom sent 10,000 soldiers to "
        "bolster their war efforts against Ukraine, as per information they received from a "
        "Western diplomat.",
    ),
    (
        "image",
        "/img/north-korean-troops-3.jpg",
        "",
        "The camaraderie between Russian President Vladimir Putin and North Korean leader Kim "
        "Jong Un appears to have grown in recent times",
    ),
    (
        "p",
        "The growing ties between North Korea and Russia have seemingly strengthened this "
        "year, driven by mutual interests amid global tensions. Russia, which is isolated due "
        "to its invasion of Ukraine, turned to North Korea for support, particularly military "
        "assistance.",
    ),
    (
        "p",
        "Vladimir also made a rare visit to North Korea this year, and he said the two "
        "countries would continue to “resolutely oppose” the West’s efforts to “hinder the "
        "establishment of a multipolar world order based on justice, mutual respect for "
        "sovereignty, considering each other’s interests.”",
    ),
    ("ad",),
    (
        "image",
        "/img/north-korean-troops-4.jpg",
        "",
        "The two countries signed an agreement earlier this year, pledging support to each "
        "other in the event of “aggression” against either country",
    ),
    ("instagram", "A post shared by Daily Mail (@dailymail)", INSTAGRAM_URL),
    (
        "p",
        "North Korean leader Kim Jong Un also called Vladimir his “closest comrade” while "
        "wishing him in October for his 72nd birthday.",
    ),
    (
        "p",
        "The two leaders had signed an agreement earlier this year, pledging support to each "
        "other in the event of “aggression” against either country.",
    ),
    (
        "p",
        "In exchange for the supply of weapons, North Korea is expected to receive economic "
        "and technological assistance from the Kremlin through this allegiance.",
    ),
    ("share",),
    ("author_bio",),
]

_TRILLIAN = (
    "Not surprised. They've probably done nothing but parade up and down all their military "
    "lives and there is real war with the russian army a well known s**t show that cares "
    "nothing for nobody."
)
_STEVE_SHARPE = (
    "[1/2] As a (now retired) warfighter I'm gonna sound off just a few of the endless "
    'reasons that this "NK troops to RU" is entirely fictitious - it\'s just regular '
    "propaganda like everyone at war has been using since they were fought with sticks and "
    "stones. 1: How many North Koreans are there that speak Russian, or Russians that speak "
    "Korean? There's not even a common language like we have in NATO. 2: For every "
    "Infantryman we need 10-15 soldiers behind us in support roles, otherwise we'd never even "
    "get to the war, let alone be able to fight anyone - where's the 150,000 support "
    "personnel? 3: Supply chains. We need a never ending supply of ammunition, weapons, "
    "water, med supplies, ammo, food, fuel, ammo, clothing, equipment, and ammo. DPRC, NK, "
    "and RU don't use standardised equipment like NATO does and a lot of it is incompatible - "
    "what happens when NK's supplies run out? Can RU spare them enough resources? 4: Intel: "
    "ACE, NATO, US, UK, and other allies are either distancing themselves from the claims or "
    "keeping very quiet about them, which tells you how thin the evidence really is. Until "
    "someone shows me the logistics trail that would have to exist for an operation like "
    "this, I'm filing it under wartime theatre. [2/2 in the replies]"
)
_GEN_STAL = (
    "This article seems to rely heavily on unnamed or vague sources, which raises questions "
    "about its credibility. It’s important to remain cautious about the spread of unverified "
    "information, especially when it comes to sensitive topics like wartime alliances. "
    "Without solid, fact-based sources, claims like these are speculative and can contribute "
    "to misinformation. Let’s be mindful of how media narratives can influence perceptions, "
    "particularly in complex geopolitical situations where accuracy is crucial. Critical "
    "thinking is key when consuming news in such contexts."
)
_ILYA_NOSOV = (
    "There are already several videos of Korean soldiers on the border with Ukraine. Too bad "
    "they can't be uploaded here."
)
_BIO = (
    "Working as a writer for Bored Panda offers an added layer of excitement. By afternoon, "
    "I'm fully immersed in the whirlwind of celebrity drama, and by evening, I'm navigating "
    "through the bustling universe of likes, shares, and clicks. This role not only allows me "
    "to delve into the fascinating world of pop culture but also lets me do what I love: "
    "weave words together and tell other people's captivating stories to the world"
)


#: (author, text, parent index or None, upvotes, downvotes); the first four are the page's comments,
#: the replies after them are invented (the page only shows their "Load More Replies..." buttons)
_THREAD: list[tuple[str, str, int | None, int, int]] = [
    ("Trillian", _TRILLIAN, None, 12, 1),
    ("Steve Sharpe", _STEVE_SHARPE, None, 31, 4),
    ("Gen.Stal", _GEN_STAL, None, 9, 6),
    ("Ilya Nosov", _ILYA_NOSOV, None, 7, 2),
    ("Kath Ellis", "Thank you, this is the most sensible thing I've read about it all week.", 1, 8, 0),
    ("Marco Pinto", "The language barrier alone would make this a logistical nightmare.", 1, 5, 1),
    (
        "Dana Whitfield",
        "Not sure it's entirely fictitious, but the support-personnel point is a good one.",
        1,
        3,
        2,
    ),
    ("Steve Sharpe", "Cheers. Part two got eaten by the comment limit, I'll post it again later.", 4, 4, 0),
    ("Pat Morrow", "Videos can be staged though.", 3, 2, 3),
    ("Lena Kowalski", "Post the links in a reply, the mods usually allow news sites.", 3, 1, 0),
    ("Trillian", "Saw one of those, hard to tell where it was even filmed.", 3, 2, 0),
]


def seed_comments() -> list[Comment]:
    """The page's four comments and the replies behind its buttons, posted over the first two days."""
    ids = [str(SEED_POST_ID * ID_BLOCK + 1 + n) for n in range(len(_THREAD))]
    return [
        Comment(
            id=ids[n],
            parent_id=None if parent is None else ids[parent],
            author=author,
            text=text,
            posted_at=datetime(2024, 10, 25, 10 + n, 17, tzinfo=UTC),
            relative_time="2 months ago",
            upvotes=up,
            downvotes=down,
        )
        for n, (author, text, parent, up, down) in enumerate(_THREAD)
    ]


def seed_article() -> Article:
    return Article(
        slug=SEED_SLUG,
        post_id=SEED_POST_ID,
        title=SEED_TITLE,
        author="Binitha Jacob",
        author_bio=_BIO,
        published_at=datetime(2024, 10, 25, 8, 0, tzinfo=UTC),
        modified_at=datetime(2024, 10, 26, 9, 30, tzinfo=UTC),
        description=(
            "North Korean troops sent to support Russia’s war efforts in Ukraine have reportedly "
            "fled their positions not long after arriving at the frontlines."
        ),
        tags=["north korea", "russia", "ukraine", "war"],
        category="news",
        votes=42,
        views=12_300,
        shares=1_200,
        body=list(SEED_BODY),
        comments=seed_comments(),
        repeat_comment_block=True,
    )
