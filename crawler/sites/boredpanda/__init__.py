"""Bored Panda adapter: pure functions from Bored Panda HTML/JSON to items and follow-up requests.

`article` reads article pages (incl. list articles across pages); `comments` reads comment markup;
`recipe.json` is the comment API (the seed recipe of the site, paged by crawler/recipes like any
learned recipe), so that meeting the real endpoint means changing that one file.
"""

import copy
import json
from functools import lru_cache
from importlib import resources

from crawler.sites.boredpanda.article import ArticlePage, is_article_page, parse_article_page
from crawler.sites.boredpanda.comments import initial_thread, parse_comments_html
from crawler.sites.thread import ClickPlan

NAME = "boredpanda"


@lru_cache(maxsize=1)
def _seed() -> dict:
    return json.loads(resources.files(__package__).joinpath("recipe.json").read_text(encoding="utf-8"))


def seed_recipe() -> dict:
    """The site's comment API as a seed recipe (recipe.json: the contract of comments.py, in the shape
    crawler.recipes.induce produces), paged by crawler/recipes/execute.py."""
    return copy.deepcopy(_seed())


#: What a browser clicks on a Bored Panda page until the whole thread is in the DOM.
CLICK_PLAN = ClickPlan(
    container="div.post-comments",
    item="div.post-comments div.comment",
    load_more=("button.load-more-comments", "button.load-more-replies", "a.read-more"),
)

__all__ = [
    "CLICK_PLAN",
    "NAME",
    "ArticlePage",
    "initial_thread",
    "is_article_page",
    "parse_article_page",
    "parse_comments_html",
    "seed_recipe",
]
