"""The host guard on the browser path: Chromium connects only where the guard's proxy checked.

Real Chromium, real loopback servers, a real crawl into SQLite. The "DNS" is the crawl's own
HOSTGUARD_RESOLVE (as in tests/test_hostguard.py): a name answers a public address to the first lookup
(the early check of the browser's requests) and 127.0.0.1 afterwards. Chromium is given the same
rebinding answer for its own resolver (`--host-resolver-rules`): if it ever resolved the name itself,
it would reach the loopback server. Plain http:// goes through the proxy as absolute-URI requests,
https:// as CONNECT tunnels; both kinds are refused and allowed here.
"""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from tests.crawling import FAST, crawl
from tests.recorder import Recorder

pytestmark = pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian chromium is not installed")

BODY = (
    "Neighbours compared notes on raised beds, rain barrels and the slugs that eat everything"
    " planted before May; the allotment committee kept the minutes."
)


def article(title: str, extra: str = "") -> str:
    return f"""<!doctype html><html><head><title>{title}</title>
<meta property="og:type" content="article"></head>
<body><article><h1>{title}</h1><p>{BODY}</p><p>{BODY}</p>{extra}</article></body></html>"""


def page_with_probes(target_port: int) -> str:
    # The stylesheet is a subresource the early check does not look at; the script's synchronous XHRs
    # are ones it does (and lets through: the first lookup of each name answers a public address). All
    # hold the page's load event, so the crawl cannot end before Chromium has tried them. The last XHR
    # goes back to the named host: the script ran to its end, and named loopback hosts still work from
    # page scripts.
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
var tunnel = get("https://tls-rebind.test:{target_port}/secret");
get("/after-probe?result=" + probe + "&tunnel=" + tunnel);
</script></article></body></html>"""


@pytest.fixture
def certificate(tmp_path):
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1"]
        + ["-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    return str(cert), str(key)


def test_browser_connects_only_where_the_guard_checked(tmp_path, certificate):
    with Recorder() as target, Recorder() as site, Recorder(tls=certificate) as secure:
        site.pages["/story/"] = (200, {}, page_with_probes(target.port))
        site.pages["/after-probe"] = (200, {"Content-Type": "text/plain"}, "ok")
        secure.pages["/secure-story/"] = (200, {}, article("Harbour notes"))
        result = crawl(
            tmp_path / "c.db",
            [f"{site.base_url}/story/", f"{secure.base_url}/secure-story/"],
            args={"render": "browser"},
            settings={
                **FAST,
                "ROBOTSTXT_OBEY": "False",
                "HOSTGUARD_RESOLVE": json.dumps(
                    {name: ["93.184.215.14", "127.0.0.1"] for name in ("rebind.test", "tls-rebind.test")}
                ),
                # the rebinding answer, also for Chromium's own resolver; the named HTTPS host's
                # certificate is self-made
                "BROWSER_EXTRA_ARGS": "--host-resolver-rules=MAP *rebind.test 127.0.0.1,"
                "--ignore-certificate-errors",
                # a synchronous XHR that fails never reports its end to the expansion's settle check,
                # and these pages have no comments to wait for (nor a lazy block to show its first
                # one: the probes all ran before DOMContentLoaded, which the browser path waits for)
                "BROWSER_SETTLE_TIMEOUT": "1",
                "BROWSER_LAZY_WAIT": "0.5",
            },
        )
        assert result.returncode == 0, result.stderr[-3000:]
        # no connection at all to the unnamed port: not by the stylesheet, not by either rebound name
        assert target.connections == 0 and target.paths() == []
        # named loopback hosts work in the browser: the pages (Scrapy's fetch, then Chromium's through
        # the proxy: plain and tunnelled), and the script's request back to its own host
        assert site.paths().count("/story/") == 2
        assert secure.paths().count("/secure-story/") == 2
        [after] = [p for p in site.paths() if p.startswith("/after-probe")]
        assert after == "/after-probe?result=failed&tunnel=failed"  # the script ran to its end
        assert {r["title"] for r in result.query("SELECT title FROM articles")} == {
            "Allotment notes",
            "Harbour notes",
        }
        assert result.stats["browser/pages_closed"] == 2
        assert result.stats["hostguard/refused/browser_private_host"] == 3
        for refused in ("127.0.0.1", "rebind.test", "tls-rebind.test"):
            assert result.stderr.count(f"Refused host {refused}:{target.port}") == 1, refused
