"""The client runtime in a real Chromium: embedded data, a data cache, preloading, TanStack Query."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from browser import chromium, static_server
from conftest import run_ssg
from sitekit import write_site

QUERY_CORE = Path(__file__).parent / "js/node_modules/@tanstack/query-core/build/modern"
HOSTILE = "</script><script>window.__pwned = 1</script><!-- \u2028 \u2029 & ' \" </SCRIPT> <img src=x onerror=window.__pwned=2>"
AGE = 3600  # the build's data is an hour old when the test opens it

SITE = {
    "routes/+layout.html": """
        <!doctype html><html><head><meta charset="utf-8">{{ client_script() }}</head>
        <body>{{ slot }}{{ data_script() }}</body></html>
    """,
    "routes/+page.py": f"""
        def load(event):
            event.depends("app:home")
            return {{"title": {HOSTILE!r}, "n": 1}}
    """,
    "routes/+page.html": """
        <a id="pa" href="/posts/a/" data-ssg-preload>A</a>
        <a id="pb" href="/posts/b/">B</a>
        <a id="pc" href="/posts/c/" data-ssg-preload="html">C</a>
    """,
    "routes/posts/[slug]/+page.py": f"""
        def entries():
            return [{{"slug": s}} for s in "abcd"]

        def load(event):
            event.depends("app:posts")
            return {{"slug": event.params["slug"], "title": {HOSTILE!r}}}
    """,
    "routes/posts/[slug]/+page.html": "<h1>{{ data.slug }}</h1>",
    "routes/api/items.json/+server.py": """
        from ssg import json

        def GET(event):
            return json({"items": [1, 2, 3]})
    """,
}


@pytest.fixture(scope="module")
def browser():
    # One Chromium for the module: Playwright's sync API allows one instance per thread.
    with chromium() as instance:
        yield instance


@pytest.fixture(scope="module")
def served(tmp_path_factory, browser):
    root = write_site(tmp_path_factory.mktemp("client") / "site", SITE)
    env = {**os.environ, "SOURCE_DATE_EPOCH": str(int(time.time()) - AGE)}
    result = run_ssg("build", "-C", str(root), env=env)
    assert result.returncode == 0, result.stderr
    with static_server(root / "build", {"/_vendor/query-core": QUERY_CORE}) as (url, hits):
        yield root / "build", url, hits, browser


@pytest.fixture
def page(served):
    out, url, hits, browser = served
    hits.clear()
    context = browser.new_context()
    tab = context.new_page()
    tab.goto(url + "/")
    tab.wait_for_function("window.ssg !== undefined")
    yield tab, out, url, hits
    context.close()


def wait_for_hits(hits, path, count, timeout=5.0):
    deadline = time.monotonic() + timeout
    while hits[path] < count and time.monotonic() < deadline:
        time.sleep(0.02)
    return hits[path]


def test_first_view_needs_no_data_request_and_page_equals_file(page):
    tab, out, _, hits = page
    assert tab.evaluate("ssg.page()") == json.loads((out / "__data.json").read_text())
    assert tab.evaluate("ssg.load('/').then(e => e.data.n)") == 1
    assert hits["/__data.json"] == 0
    assert (out / "_ssg/client.js").is_file()


def test_hover_preloads_once_and_load_reuses_it(page):
    tab, out, _, hits = page
    tab.hover("#pb")  # not marked: no preload
    tab.hover("#pa")
    assert wait_for_hits(hits, "/posts/a/__data.json", 1) == 1
    envelope = tab.evaluate("ssg.load('/posts/a/')")
    assert envelope == json.loads((out / "posts/a/__data.json").read_text())
    tab.hover("#pb")
    tab.hover("#pa")
    tab.evaluate("ssg.load('/posts/a/')")
    assert hits["/posts/a/__data.json"] == 1
    assert hits["/posts/b/__data.json"] == 0


def test_html_preload_also_prefetches_the_page(page):
    tab, _, _, hits = page
    tab.focus("#pc")
    assert wait_for_hits(hits, "/posts/c/__data.json", 1) == 1
    assert wait_for_hits(hits, "/posts/c/", 1) == 1


def test_concurrent_loads_share_one_request(page):
    tab, _, _, hits = page
    slugs = tab.evaluate("Promise.all([ssg.load('/posts/d/'), ssg.load('/posts/d')]).then(r => r.map(e => e.data.slug))")
    assert slugs == ["d", "d"]
    assert hits["/posts/d/__data.json"] == 1


def test_endpoint_is_cached(page):
    tab, _, _, hits = page
    items = tab.evaluate("Promise.all([ssg.endpoint('/api/items.json'), ssg.endpoint('/api/items.json')]).then(r => r[1].items)")
    assert items == [1, 2, 3]
    assert hits["/api/items.json"] == 1


def test_invalidate_drops_envelopes_that_depend_on_a_key(page):
    tab, _, _, hits = page
    tab.evaluate("ssg.load('/posts/b/')")
    assert tab.evaluate("ssg.invalidate('app:nothing')") == 0
    assert tab.evaluate("ssg.load('/posts/b/').then(e => e.depends)") == ["app:posts"]
    assert hits["/posts/b/__data.json"] == 1
    assert tab.evaluate("ssg.invalidate('app:posts')") == 1
    tab.evaluate("ssg.load('/posts/b/')")
    assert hits["/posts/b/__data.json"] == 2


def test_hostile_strings_round_trip_and_run_nothing(page):
    tab, _, _, _ = page
    assert tab.evaluate("ssg.page().data.title") == HOSTILE
    assert tab.evaluate("ssg.load('/posts/a/').then(e => e.data.title)") == HOSTILE
    assert tab.evaluate("window.__pwned") is None


def test_seed_query_client_dates_data_by_generated_at(page):
    tab, _, _, _ = page
    result = tab.evaluate("""async () => {
        // The package is built for bundlers, which replace process.env.NODE_ENV.
        window.process = { env: { NODE_ENV: 'production' } };
        const { QueryClient } = await import('/_vendor/query-core/index.js');
        const client = new QueryClient();
        const envelope = ssg.page();
        ssg.seedQueryClient(client, [{ queryKey: ['home'], envelope }]);
        const state = client.getQueryState(['home']);
        let calls = 0;
        const queryFn = async () => { calls += 1; return { fresh: true }; };
        const fresh = await client.fetchQuery({ queryKey: ['home'], queryFn, staleTime: 2 * 3600 * 1000 });
        const callsAfterLong = calls;
        const refetched = await client.fetchQuery({ queryKey: ['home'], queryFn, staleTime: 10 * 60 * 1000 });
        return { updatedAt: state.dataUpdatedAt, expected: Date.parse(envelope.generated_at),
                 fresh: fresh.n, callsAfterLong, refetched, calls };
    }""")
    assert result["updatedAt"] == result["expected"]
    assert result["fresh"] == 1 and result["callsAfterLong"] == 0, "a staleTime longer than the build's age keeps the data"
    assert result["refetched"] == {"fresh": True} and result["calls"] == 1, "a shorter staleTime refetches"


@pytest.fixture(scope="module")
def demo(tmp_path_factory, browser):
    from conftest import REPO

    out = tmp_path_factory.mktemp("demo") / "out"
    result = run_ssg("build", "-C", str(REPO), "--out", str(out), "--fresh", env={**os.environ, "SOURCE_DATE_EPOCH": "1700000000"})
    assert result.returncode == 0, result.stderr
    with static_server(out) as (url, hits):
        yield out, url, hits, browser


def test_demo_blog_filters_by_tag_in_the_browser_and_preloads_posts(demo):
    out, url, hits, browser = demo
    posts = json.loads((out / "api/posts.json").read_text())
    tag = sorted({t for p in posts for t in p["tags"]})[0]
    expected = [p["title"] for p in posts if tag in p["tags"]]
    context = browser.new_context()
    try:
        tab = context.new_page()
        tab.goto(url + "/blog/")
        tab.wait_for_selector("#tag-filter:not([hidden])")
        tab.select_option("#tag-filter select", tag)
        assert tab.locator("#tagged li a").all_inner_texts() == expected
        assert tab.locator("#listing").is_hidden()
        assert hits["/api/posts.json"] == 1
        assert hits["/blog/__data.json"] == 0, "the index's own data is embedded"
        first = tab.locator("#tagged li a").first
        target = first.get_attribute("href")
        first.hover()
        assert wait_for_hits(hits, target + "__data.json", 1) == 1
    finally:
        context.close()


def test_preload_all_preloads_every_same_site_link(tmp_path, browser):
    root = write_site(tmp_path / "site", {**SITE, "ssg.toml": 'preload = "all"\n'})
    assert run_ssg("build", "-C", str(root)).returncode == 0
    assert 'data-preload="all"' in (root / "build/index.html").read_text()
    with static_server(root / "build") as (url, hits):
        context = browser.new_context()
        try:
            tab = context.new_page()
            tab.goto(url + "/")
            tab.wait_for_function("window.ssg !== undefined")
            tab.hover("#pb")  # not marked, but the site preloads every link
            assert wait_for_hits(hits, "/posts/b/__data.json", 1) == 1
        finally:
            context.close()
