"""Which browser the browser path launches, and with which options (no browser is started here)."""

from __future__ import annotations

import pytest
from scrapy.settings import Settings

from crawler.browser.setup import (
    CHROMIUM_ARGS,
    BrowserNotFound,
    RequestFilter,
    abort_heavy_resources,
    find_executable,
    playwright_settings,
)


@pytest.fixture
def no_system_browser(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    monkeypatch.setenv("PLAYWRIGHT_BROWSERS_PATH", str(tmp_path / "ms-playwright"))
    monkeypatch.delenv("PANDAWATCH_CHROMIUM", raising=False)
    return tmp_path


def test_setting_then_environment_then_system(monkeypatch, tmp_path):
    fake = tmp_path / "my-chromium"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PANDAWATCH_CHROMIUM", "/nonexistent/chromium")
    assert find_executable(str(fake)) == str(fake)  # the setting wins over the environment
    with pytest.raises(BrowserNotFound, match="PANDAWATCH_CHROMIUM"):
        find_executable(None)
    monkeypatch.setenv("PANDAWATCH_CHROMIUM", str(fake))
    assert find_executable(None) == str(fake)


def test_falls_back_to_playwrights_own_browser(no_system_browser):
    (no_system_browser / "ms-playwright" / "chromium-1234").mkdir(parents=True)
    assert find_executable(None) is None
    options = playwright_settings(Settings())["PLAYWRIGHT_LAUNCH_OPTIONS"]
    assert "executable_path" not in options and options["args"][: len(CHROMIUM_ARGS)] == list(CHROMIUM_ARGS)


def test_no_browser_at_all_says_how_to_get_one(no_system_browser):
    with pytest.raises(BrowserNotFound, match="apt-get install -y chromium"):
        find_executable(None)


def test_launch_options_and_handlers(monkeypatch, tmp_path):
    fake = tmp_path / "chromium"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    settings = Settings(
        {
            "BROWSER_EXECUTABLE": str(fake),
            "BROWSER_EXTRA_ARGS": ["--lang=en"],
            "DOWNLOAD_HANDLERS": {"file": None},
        }
    )
    result = playwright_settings(settings)
    assert result["PLAYWRIGHT_LAUNCH_OPTIONS"]["executable_path"] == str(fake)
    for flag in (
        "--no-sandbox",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--lang=en",
    ):
        assert flag in result["PLAYWRIGHT_LAUNCH_OPTIONS"]["args"]
    assert result["DOWNLOAD_HANDLERS"]["file"] is None  # file:// stays off with the browser too
    assert result["DOWNLOAD_HANDLERS"]["https"].endswith("ScrapyPlaywrightDownloadHandler")
    assert "playwright.async_api.TimeoutError" in result["RETRY_EXCEPTIONS"]


class _Request:
    def __init__(self, resource_type, url="https://e.com/x"):
        self.resource_type, self.url = resource_type, url


@pytest.mark.parametrize(
    "resource, aborted",
    [
        ("image", True),
        ("font", True),
        ("media", True),
        ("document", False),
        ("fetch", False),
        ("script", False),
    ],
)
def test_heavy_resources_are_aborted(resource, aborted):
    assert abort_heavy_resources(_Request(resource)) is aborted


def test_non_http_subresources_are_aborted():
    assert abort_heavy_resources(_Request("script", "file:///etc/passwd"))


def test_page_scripts_cannot_reach_unnamed_private_hosts():
    guard = RequestFilter({("127.0.0.1", 8000)}, allow_private=False)
    assert not guard(_Request("document", "http://127.0.0.1:8000/a/"))  # named by the user
    assert guard(_Request("fetch", "http://127.0.0.1:6379/"))  # named host, another port
    assert guard(_Request("document", "http://100.64.0.1/"))  # carrier-grade NAT
    assert guard(_Request("fetch", "http://localhost:8000/admin"))  # same machine, other name
    assert guard(_Request("xhr", "http://10.0.0.7/internal"))
    assert guard(_Request("document", "http://169.254.169.254/latest/meta-data/"))
    assert not guard(_Request("stylesheet", "http://10.0.0.7/x.css"))  # no answer reaches the page's code
    assert not RequestFilter(set(), allow_private=True)(_Request("fetch", "http://10.0.0.7/internal"))
