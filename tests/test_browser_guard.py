"""The host guard on the browser path: Chromium connects only where the guard's proxy checked.

Real Chromium, real loopback servers, a real crawl into SQLite. The "DNS" is the crawl's own
HOSTGUARD_RESOLVE (as in tests/test_hostguard.py): a name answers a public address to the first lookup
(the early check of the browser's requests) and 127.0.0.1 afterwards. Chromium is given the same
rebinding answer for its own resolver (`--host-resolver-rules`): if it ever resolved the name itself,
it would reach the loopback server.
"""

from __future__ import annotations

import json
import shutil

import pytest

from tests.crawling import FAST, crawl
from tests.recorder import Recorder

pytestmark = pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian chromium is not installed")

BODY = (
    "Neighbours compared notes on raised beds, rain barrels and the slugs that eat everything"
    " planted before May; the allotment committee kept the minutes."
)


def page_with_probes(target_port: int) -> str:
    # The stylesheet is a subresource the early check does not look at; the script's synchronous XHR
    # is one it does (and lets through: its first lookup answers a public address). Both hold the page's
    # load event, so the crawl cannot end before Chromium has tried them. The last XHR goes back to the
    # named host: the script ran to its end, and named loopback hosts still work from page scripts.
    return f"""<!doctype html><html><head><title>Allotment notes</title>
<meta property="og:type" content="article">
<link rel="stylesheet" href="http://127.0.0.1:{target_port}/style.css"></head>
<body><article><h1>Allotment notes</h1><p>{BODY}</p><p>{BODY}</p>
<script>
function get(url) {{
  try {{ var x = new XMLHttpRequest(); x.open("GET", url, false); x.send(); return x.status; }}
  catch (e) {{ return "failed"; }}
}}
var probe = get("http://rebind.test:{target_port}/secret");
get("/after-probe?result=" + probe);
</script></article></body></html>"""


def test_browser_connects_only_where_the_guard_checked(tmp_path):
    with Recorder() as target, Recorder() as site:
        site.pages["/story/"] = (200, {}, page_with_probes(target.port))
        site.pages["/after-probe"] = (200, {"Content-Type": "text/plain"}, "ok")
        url = f"{site.base_url}/story/"
        result = crawl(
            tmp_path / "c.db",
            [url],
            args={"render": "browser"},
            settings={
                **FAST,
                "ROBOTSTXT_OBEY": "False",
                "HOSTGUARD_RESOLVE": json.dumps({"rebind.test": ["93.184.215.14", "127.0.0.1"]}),
                # the rebinding answer, also for Chromium's own resolver
                "BROWSER_EXTRA_ARGS": "--host-resolver-rules=MAP rebind.test 127.0.0.1",
                # a synchronous XHR that fails never reports its end to the expansion's settle check,
                # and this page has no comments to wait for
                "BROWSER_SETTLE_TIMEOUT": "1",
            },
        )
        assert result.returncode == 0, result.stderr[-3000:]
        assert target.paths() == []  # neither the rebound name nor the unnamed port got anything
        # the named loopback host works in the browser: the page, and its script's request back to it
        assert site.paths().count("/story/") == 2  # Scrapy's fetch, then Chromium's (through the proxy)
        [after] = [p for p in site.paths() if p.startswith("/after-probe")]
        assert after != "/after-probe?result=200"  # the probe was not answered by the target
        assert result.query("SELECT title FROM articles") == [{"title": "Allotment notes"}]
        stats = result.stats
        assert stats["hostguard/refused/browser_private_host"] == 2
        assert result.stderr.count(f"Refused host rebind.test:{target.port}") == 1
        assert result.stderr.count(f"Refused host 127.0.0.1:{target.port}") == 1
