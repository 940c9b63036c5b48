"""Bored Panda page shapes real pages have had (issue 9), as replica articles the end-to-end tests crawl.

- `pagination-anchor`: a 25-item list article whose "PAGE 1/3 >" control is itself the `a.pagination`
  link (no `a.next` inside it);
- `pagination-rel-next` / `pagination-label`: the next page only as `<link rel="next">`, or only as the
  "PAGE n/m" text;
- `byline-date`: an older page whose date is only in the byline text ("By … · November 3, 2015"),
  without JSON-LD / OpenGraph dates;
- `script-comments`: an empty comment block filled by script, without the replica's `data-lazy`;
  `script-comments-api-refuses` is the same page whose API refuses the crawler's page size, so only a
  browser (which asks for the page's own size) loads it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from .generate import REFERENCE_NOW, generated_article, generated_list_items
from .model import Site

ANCHOR_SLUG = "pagination-anchor-list"
REL_NEXT_SLUG = "pagination-rel-next-list"
LABEL_SLUG = "pagination-label-list"
BYLINE_DATE_SLUG = "byline-date-article"
SCRIPT_SLUG = "script-comments-article"
SCRIPT_REFUSED_SLUG = "script-comments-api-refuses"
BYLINE_DATE = datetime(2015, 11, 3, 14, 0, tzinfo=UTC)
VARIANT_SLUGS = (ANCHOR_SLUG, REL_NEXT_SLUG, LABEL_SLUG, BYLINE_DATE_SLUG, SCRIPT_SLUG, SCRIPT_REFUSED_SLUG)


def add_variant_articles(site: Site, seed: int = 0) -> Site:
    """Add the variant articles (post ids 8300001…) to `site`; returns it."""

    def titles(post_id: int) -> list[str]:
        return [f"Item {n} Of The List {post_id}" for n in range(1, 26)]

    for number, slug in enumerate((ANCHOR_SLUG, REL_NEXT_SLUG, LABEL_SLUG), start=1):
        post_id = 8300000 + number
        site.add_article(
            generated_article(
                slug,
                post_id,
                4,
                seed=seed,
                published_at=REFERENCE_NOW - timedelta(days=number),
                title=f"25 Things In Three Pages ({slug})",
                list_items=generated_list_items(post_id, titles(post_id), seed),
                items_per_page=10,
                variant=slug.removesuffix("-list"),
            )
        )
    site.add_article(
        generated_article(
            BYLINE_DATE_SLUG,
            8300004,
            3,
            seed=seed,
            published_at=BYLINE_DATE,
            title="An Older Page Dated Only In Its Byline",
            variant="byline-date",
        )
    )
    for post_id, slug, refused in ((8300005, SCRIPT_SLUG, None), (8300006, SCRIPT_REFUSED_SLUG, 20)):
        site.add_article(
            generated_article(
                slug,
                post_id,
                57,
                seed=seed,
                top_level=45,
                published_at=REFERENCE_NOW - timedelta(days=5),
                title=f"A Thread Only Script Shows ({slug})",
                variant="script-comments",
                api_max_per_page=refused,
            )
        )
    return site
