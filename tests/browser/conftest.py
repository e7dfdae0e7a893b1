"""Browser fixtures: a real gunicorn server on the test stack, and Debian's Chromium via Playwright.

Without Chromium or Playwright these tests skip and say why; `.ci/run` installs Chromium and sets
SWITCHBOARD_REQUIRE_BROWSER so that in CI they must run.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.conftest import ROOT

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]
ARTIFACTS = ROOT / "test-artifacts"


def _unavailable(reason: str):
    if os.environ.get("SWITCHBOARD_REQUIRE_BROWSER"):
        pytest.fail(f"browser tests are required here but {reason}")
    pytest.skip(f"browser test: {reason}")


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM):
        _unavailable(f"{CHROMIUM} is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test item, so the `page` fixture knows whether the test failed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def page(browser, request):
    """A fresh browser context; a failed test leaves a full-page screenshot of where it stopped.

    Why only on failure: the screenshot in every teardown cost ~25 s a run, and the pictures that
    reviewers look at are the named ones the tests take themselves.
    """
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    yield page
    report = getattr(request.node, "report_call", None)
    if report is None or report.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        name = request.node.name.replace("/", "_").replace("[", "-").replace("]", "")
        page.screenshot(path=str(Path(ARTIFACTS) / f"{name}.png"), full_page=True)
    context.close()


def pytest_collection_modifyitems(config, items):
    """Run the browser tests on the SQLite stack only.

    They test what a person sees and does; the database layer under those pages runs on both
    backends in tests/app. Driving Chromium twice doubled their time without testing anything new.
    """
    browser_dir = Path(__file__).parent
    dropped = [item for item in items if Path(str(item.path)).is_relative_to(browser_dir) and "[postgres" in item.nodeid]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        gone = set(map(id, dropped))
        items[:] = [item for item in items if id(item) not in gone]
