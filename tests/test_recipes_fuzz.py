"""Answers of shapes nobody foresaw: induction and the executor fail only the way they say they do.

A site changes its API, a proxy truncates a body, a field turns from a string into a number: the
induction may only return a recipe or raise InductionError (the spider then keeps the browser path),
and read_answer may only return an Answer or raise RecipeFailure (the recipe is stale, the article
goes to the browser, nothing is deleted). The recorded exchanges of the comment systems in
tests/comment_systems.py and of the replica sites (tests/fixtures/exchanges/) are mutated at random,
with a fixed seed: types swapped, fields removed, lists and objects exchanged, nulls, huge numbers,
lone surrogates, bodies cut short or in another encoding, JSON nested deeper than Python's stack.

A RecipeFailure that only read_answer's last line of defence made (SHAPE_ERRORS caught around it)
fails the test as well: each such crash is fixed where it happens.
"""

from __future__ import annotations

import contextlib
import copy
import json
import random
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from crawler.recipes.execute import SHAPE_ERRORS, Answer, RecipeFailure, first_calls, read_answer
from crawler.recipes.induce import InductionError, induce
from crawler.recipes.learn import dom_comments, fragment_reader, read_comments
from tests import comment_systems as cs

FIXTURES = Path(__file__).parent / "fixtures" / "exchanges"
NEWS, BLOG = "https://news.example", "http://blog.example"
REMARK, COMMENTO = "https://remark.news.example", "https://cdn.commento.example"
NEWS_PAGE = "<html><body><article><h1>Story</h1></article><div id='remark42'></div></body></html>"
#: read by their site's reader (HTML fragments); the comment systems' answers are JSON only
READERS = ("boredpanda", "zine", "square")


def systems() -> dict[str, tuple]:
    """name: (exchanges, page_html, dom, url, site), one recorded expansion each."""
    url = NEWS + "/2025/10/harbour-story/"
    talk = cs.thread(url, top=6, seed=7, max_depth=2)
    isso = cs.thread("/blog/harbour-story/", top=8, seed=1)
    wp = cs.thread("4521", top=9, seed=15, max_depth=2)
    cusdis = cs.thread("7d2e0c55-51aa-4e0f-9c1d-0a4b6e1f2c3d", top=6, seed=13, max_depth=2)
    isso_page = cs.ISSO_PAGE.format(title="H", body="x")
    out = {
        "remark": (cs.remark_exchanges(REMARK, url, talk), NEWS_PAGE, cs.remark_dom(talk), url, "news"),
        "commento": (cs.commento_exchanges(COMMENTO, url, talk), NEWS_PAGE, cs.commento_dom(talk), url,
                     "news"),
        "isso": (cs.isso_exchanges(BLOG, isso), isso_page, cs.isso_dom(isso), BLOG + isso.key, "issoblog"),
        "wordpress": (cs.wp_exchanges(BLOG, wp), cs.wp_page(4521), cs.wp_dom(wp), BLOG + "/2025/s/", "blog"),
        "cusdis": (cs.cusdis_exchanges(cusdis), cs.cusdis_page(cusdis.key), cs.cusdis_dom(cusdis), url,
                   "news"),
    }  # fmt: skip
    for name in ("boredpanda-pages", "zine-cursor", "square-nested"):
        case = json.loads((FIXTURES / f"{name}.json").read_text())
        out[name] = (case["exchanges"], case["page_html"], case["dom_comments"], case["url"], case["site"])
    return out


def induce_from(exchanges, page_html, dom, url, site) -> dict:
    reader = fragment_reader(url, site) if site in READERS else None
    shown = dom_comments(page_html, url, site) if site in READERS else []
    recipe = induce(exchanges, page_html, shown, dom, reader, site=site, page_url=url)
    recipe["reader"] = site
    for role in ("comments", "replies", "full_text"):
        if recipe.get(role):  # as crawler.recipes.learn sets it
            recipe[role]["same_host"] = recipe[role]["host"] == urlsplit(url).netloc
    return recipe


HUGE = (10**40, -(10**40), 1e308, float("inf"), float("nan"), 2**63)


def mutated(value, rng: random.Random):
    """`value` (decoded JSON) with one node replaced, removed, wrapped or unwrapped."""
    nodes = []
    stack = [(None, None, value)]
    while stack:
        parent, key, node = stack.pop()
        nodes.append((parent, key, node))
        if isinstance(node, dict):
            stack += [(node, k, v) for k, v in node.items()]
        elif isinstance(node, list):
            stack += [(node, i, v) for i, v in enumerate(node)]
    parent, key, node = rng.choice(nodes)
    choices = {
        "null": lambda: None,
        "number": lambda: rng.randint(-3, 40),
        "huge": lambda: rng.choice(HUGE),
        "float": lambda: 2.5,
        "bool": lambda: rng.choice([True, False]),
        "text": lambda: str(node)[:12] if not isinstance(node, str) else node + "x",
        "empty": lambda: rng.choice(["", [], {}]),
        "wrap": lambda: [node],
        "as_object": lambda: dict(enumerate(node)) if isinstance(node, list) else {"v": node},
        "as_list": lambda: list(node.values()) if isinstance(node, dict) else [node],
        "unwrap": lambda: (node[0] if isinstance(node, list) and node else
                           next(iter(node.values()), None) if isinstance(node, dict) and node else node),
        "odd_text": lambda: rng.choice(["²³", "\ud800", "-", "１２", "\x00"]),
        "remove": None,
    }  # fmt: skip
    kind = rng.choice(sorted(choices))
    if parent is None:
        return value if kind == "remove" else choices[kind]()
    if kind == "remove":
        parent.pop(key)
    else:
        parent[key] = choices[kind]()
    return value


def mutated_body(body: str, rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.04:
        return "[" * 5000 + "]" * 5000  # deeper than json.loads can recurse
    if roll < 0.08:
        return body[: rng.randint(0, len(body))]  # cut short
    try:
        data = json.loads(body)
    except ValueError:  # an HTML answer: markup cut or broken
        return body.replace("<", "", rng.randint(1, 5)) if roll < 0.5 else body[: len(body) // 2]
    for _ in range(rng.randint(1, 3)):
        data = mutated(data, rng)
    return json.dumps(data)


def encoded(text: str, rng: random.Random) -> bytes:
    roll = rng.random()
    if roll < 0.05:
        return text.encode("utf-16")
    if roll < 0.1:
        return text.encode("latin-1", "replace")
    return text.encode("utf-8", "surrogatepass")


def check_answer(recipe: dict, call, body: bytes, url: str) -> Answer | None:
    try:
        answer = read_answer(recipe, call, body, url)
    except RecipeFailure as exc:
        # made by the last line of defence: a crash read_answer should not have had
        assert not isinstance(exc.__cause__, SHAPE_ERRORS), exc
        return None
    assert isinstance(answer, Answer)
    for comment in answer.comments:  # what the store would record: texts are texts, votes numbers
        assert comment.text is None or isinstance(comment.text, str), comment
        assert comment.author is None or isinstance(comment.author, str), comment
        assert comment.upvotes is None or type(comment.upvotes) is int, comment
        assert comment.depth is None or type(comment.depth) is int, comment
        assert not any("\ud800" <= ch <= "\udfff" for ch in comment.text or ""), comment
    return answer


SYSTEMS = systems()


@pytest.mark.parametrize("name", sorted(SYSTEMS))
def test_mutated_answers_fail_only_as_induction_and_executor_say(name):
    exchanges, page_html, dom, url, site = SYSTEMS[name]
    recipe = induce_from(exchanges, page_html, dom, url, site)  # the unmutated expansion teaches
    shown = read_comments(page_html, url, site) if site in READERS else []
    bodies = [e["body"] for e in exchanges if e.get("body")]
    rng = random.Random(f"fuzz:{name}")
    for _ in range(12):
        changed = copy.deepcopy(exchanges)
        with_body = [e for e in changed if e.get("body")]
        for target in rng.sample(with_body, k=rng.randint(1, min(2, len(with_body)))):
            target["body"] = mutated_body(target["body"], rng)
        with contextlib.suppress(InductionError):  # a recipe, or InductionError: nothing else
            assert isinstance(induce_from(changed, page_html, dom, url, site), dict)
    calls = first_calls(recipe, page_html, url, shown)
    for _ in range(80):
        call = rng.choice(calls)
        answer = check_answer(recipe, call, encoded(mutated_body(rng.choice(bodies), rng), rng), url)
        # the requests an odd answer calls for get odd answers too (replies, full texts, next pages)
        for follow in (answer.calls if answer else [])[:2]:
            check_answer(recipe, follow, encoded(mutated_body(rng.choice(bodies), rng), rng), url)
