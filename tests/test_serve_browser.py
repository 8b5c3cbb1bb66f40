"""`ssg serve` in a real headless Chromium (Debian's, driven by Playwright): pages update on
save without a manual reload, errors show in the page and recover, unrelated tabs stay."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, sync_playwright

from conftest import run_ssg
from servekit import CHROMIUM, CHROMIUM_ARGS, Server, copy_fixture, edit

TIMEOUT = 15_000  # ms: Playwright's waits poll until then


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def context(browser):
    context = browser.new_context()
    context.set_default_timeout(TIMEOUT)
    yield context
    context.close()


@pytest.fixture
def site(tmp_path):
    return copy_fixture(tmp_path)


@pytest.fixture
def server(site):
    with Server("serve", site) as server:
        yield server


def open_tab(context, url: str) -> Page:
    page = context.new_page()
    page.goto(url)
    page.wait_for_function("window.__ssgLive && window.__ssgLive.connected")
    page.evaluate("window.__untouched = true")  # gone if the tab reloads
    return page


def test_saving_the_content_file_updates_the_page_and_not_the_unrelated_tab(site, server, context):
    note = open_tab(context, server.url("/notes/first/"))
    about = open_tab(context, server.url("/about/"))
    assert note.text_content("#title") == "First note"
    edit(site / "content/notes/first.md", "---\ntitle: First, rewritten\n---\nA new body.\n")
    note.wait_for_function("document.querySelector('#title')?.textContent === 'First, rewritten'")
    assert note.text_content("#body").strip() == "A new body."
    # The other tab heard about the batch, was told "none", and kept its state.
    about.wait_for_function("window.__ssgLive.batches >= 1")
    assert about.evaluate("window.__ssgLive.last.action") == "none"
    assert about.evaluate("window.__untouched") is True


def test_a_broken_template_shows_its_file_and_line_and_the_page_recovers(site, server, context):
    note = open_tab(context, server.url("/notes/first/"))
    template = site / "routes/notes/[slug]/+page.html"
    good = template.read_text()
    edit(template, good.replace("{{ data.body }}", "{{ data.body | no_such_filter }}"))
    note.wait_for_selector("#ssg-error-where")
    assert note.text_content("#ssg-error-where") == "routes/notes/[slug]/+page.html:2"
    assert "no_such_filter" in note.text_content("h1")
    edit(template, good)
    note.wait_for_selector("#title")
    assert note.text_content("#title") == "First note"


def test_a_failing_load_shows_the_traceback_and_recovers(site, server, context):
    note = open_tab(context, server.url("/notes/first/"))
    module = site / "routes/notes/[slug]/+page.py"
    good = module.read_text()
    edit(module, good.replace('    note = read(event.params["slug"])', '    note = read(event.params["slug"])\n    1 / 0'))
    note.wait_for_selector("#ssg-error-where")
    assert note.text_content("#ssg-error-where") == "routes/notes/[slug]/+page.py:13"
    assert "ZeroDivisionError" in note.text_content("h1")
    assert "in load" in note.text_content("body")
    edit(module, good)
    note.wait_for_selector("#title")


def test_a_stylesheet_change_is_swapped_without_a_reload(site, server, context):
    about = open_tab(context, server.url("/about/"))
    color = "getComputedStyle(document.querySelector('h1')).color"
    assert about.evaluate(color) == "rgb(0, 0, 255)"
    (site / "static/style.css").write_text("h1 { color: rgb(255, 0, 0); }\n")
    about.wait_for_function(f"{color} === 'rgb(255, 0, 0)'")
    assert about.evaluate("window.__untouched") is True
    assert about.evaluate("document.querySelectorAll('link[rel=stylesheet]').length") == 1


def test_a_new_user_edits_breaks_and_fixes_the_starter_site(tmp_path, context):
    site = tmp_path / "site"
    assert run_ssg("new", str(site)).returncode == 0
    with Server("serve", site) as server:
        home = open_tab(context, server.url("/"))
        assert home.text_content("h1") == "It works"
        page = site / "routes/+page.html"
        good = page.read_text()
        edit(page, good.replace("It works", "Hello from my site"))
        home.wait_for_function("document.querySelector('h1')?.textContent === 'Hello from my site'")
        edit(page, good + "{% for %}\n")
        home.wait_for_selector("#ssg-error-where")
        assert home.text_content("#ssg-error-where") == "routes/+page.html:3"
        edit(page, good)
        home.wait_for_function("document.querySelector('h1')?.textContent === 'It works'")
        errors = [line for line in server.output.splitlines() if line.startswith("error:")]
        assert len(errors) == 1, server.output  # printed once, however often the tab asked
