"""Bored Panda adapter: pure functions from Bored Panda HTML/JSON to items and follow-up requests.

`article` reads article pages (incl. list articles across pages); `comments` reads comment markup and
holds every detail of the comment API, so that meeting the real endpoint means changing that one file.
"""

from crawler.sites.boredpanda.article import ArticlePage, is_article_page, parse_article_page
from crawler.sites.boredpanda.comments import (
    initial_thread,
    parse_answer,
    parse_comments_html,
)
from crawler.sites.thread import ClickPlan

NAME = "boredpanda"

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
    "parse_answer",
    "parse_article_page",
    "parse_comments_html",
]
