"""A local, deterministic, mutable copy of the Bored Panda site, served over loopback.

The demo (`crawler demo`), the tests and the benchmarks crawl it instead of the real site: it follows
the replica contract of the design notes and the exact markup of MARKUP.md beside this file, and its
`Site` can be changed between two crawls (edit, delete, restore and add comments, edit articles, switch
faults on) to exercise change tracking. A second site, The Daily Zine (`zine.py`, under `/zine/`),
has a JavaScript-only comment widget of its own; `zine_of(site)` is its `Site`.

    with ReplicaServer(build_demo_site()) as server:
        crawl(server.base_url + "/north-korean-troops-desert-frontlines/")
"""

from .demo_site import build_bench_site, build_demo_site, serve_demo
from .model import Article, Comment, ListItem, Site
from .server import ReplicaServer
from .zine import build_zine_site, zine_of

__all__ = [
    "Article",
    "Comment",
    "ListItem",
    "ReplicaServer",
    "Site",
    "build_bench_site",
    "build_demo_site",
    "build_zine_site",
    "serve_demo",
    "zine_of",
]
