"""Polite and safe defaults, and what they refuse on a real crawl."""

from __future__ import annotations

from scrapy.utils.project import get_project_settings

from tests.crawling import article_url, crawl


def test_polite_defaults(monkeypatch):
    monkeypatch.setenv("SCRAPY_SETTINGS_MODULE", "crawler.settings")
    s = get_project_settings()
    assert s.getbool("ROBOTSTXT_OBEY") and s.getbool("AUTOTHROTTLE_ENABLED")
    assert 1 <= s.getint("CONCURRENT_REQUESTS_PER_DOMAIN") <= 2
    assert s.get("USER_AGENT").startswith("PandaWatch/") and "+http" in s.get("USER_AGENT")
    assert 0 < s.getint("DOWNLOAD_MAXSIZE") <= 64 * 1024 * 1024
    assert not s.getbool("TELNETCONSOLE_ENABLED") and not s.getbool("REMOTE_CONTROL_ENABLED")
    handlers = s.getdict("DOWNLOAD_HANDLERS")
    assert handlers["file"] is None and handlers["data"] is None
    assert not s.getbool("ALLOW_PRIVATE_HOSTS")


def test_redirect_to_a_file_url_is_never_followed(replica, tmp_path):
    start = f"{replica.base_url}/fault/redirect/?to=file:///etc/passwd"
    result = crawl(tmp_path / "c.db", [start])
    # issue 9: a crawl that stored none of its targets exits 1 and says so
    assert result.returncode == 1 and "Error: none of the 1 target page(s) was stored" in result.stderr
    assert result.query("SELECT count(*) AS n FROM articles") == [{"n": 0}]
    assert "root:" not in result.stderr
    # robots.txt and the redirecting page: the file:// location is never requested
    assert result.stats["downloader/request_count"] == 2
    assert result.stats["downloader/response_status_count/302"] == 1


def test_robots_txt_is_obeyed(replica, tmp_path):
    url = f"{replica.base_url}/private/secret-article/"
    result = crawl(tmp_path / "c.db", [url, article_url(replica, "one-page-article")])
    assert result.stats["robotstxt/forbidden"] == 1
    assert result.query("SELECT count(*) AS n FROM articles") == [{"n": 1}]
