"""SPEC §2: the load chain, the event, merging, awaitables and error()/redirect()."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from sitekit import open_site, render, write_site

LAYOUT = {"routes/+layout.html": "<main>{{ slot }}</main>"}


def test_sync_and_async_loads_merge_root_first_and_later_keys_win(tmp_path):
    site = open_site(write_site(tmp_path / "s", {
        "routes/+layout.py": """
            def load(event):
                return {"who": "root", "root": 1}
        """,
        "routes/+layout.html": "<root who={{ data.who }}>{{ slot }}</root>",
        "routes/a/+layout.py": """
            async def load(event):
                return {"who": "a", "a": 2}
        """,
        "routes/a/+layout.html": "<a-layout who={{ data.who }} keys={{ data | list | sort | join(',') }}>{{ slot }}</a-layout>",
        "routes/a/b/+page.py": """
            async def load(event):
                return {"who": "page"}
        """,
        "routes/a/b/+page.html": "<p>{{ data.who }} {{ data.root }} {{ data.a }}</p>",
    }))
    r = render(site, "/a/b")
    assert r.status == 200, r.failure
    html = r.body.decode()
    # Each layout sees its own data and its parents', never its children's.
    assert "<root who=root>" in html
    assert "<a-layout who=a keys=a,root,who>" in html
    assert "<p>page 1 2</p>" in html
    assert r.envelope["data"] == {"who": "page", "root": 1, "a": 2}


def test_event_carries_params_url_route_and_depends(tmp_path):
    site = open_site(write_site(tmp_path / "s", {
        **LAYOUT,
        "ssg.toml": 'origin = "https://example.com"\nbase_path = "/docs"\n',
        "routes/blog/[slug]/+page.py": """
            def entries():
                return [{"slug": "hi"}]

            def load(event):
                event.depends("app:posts", "https://api.example.com/x")
                return {"params": event.params, "url": event.url, "route": event.route.id}
        """,
        "routes/blog/[slug]/+page.html": "{{ data.url }}",
    }))
    r = render(site, "/blog/hi")
    assert r.envelope["data"] == {
        "params": {"slug": "hi"}, "url": "https://example.com/docs/blog/hi/", "route": "/blog/[slug]",
    }
    assert r.envelope["depends"] == ["app:posts", "https://api.example.com/x"]


def test_layout_and_page_loads_run_concurrently(tmp_path):
    # The layout waits for the page to start: if loads ran one after the other this would time out.
    site = open_site(write_site(tmp_path / "s", {
        "lib/__init__.py": "",
        "lib/gate.py": "import asyncio\nstarted = None\n",
        "routes/+layout.py": """
            import asyncio
            from lib import gate

            async def load(event):
                gate.started = gate.started or asyncio.Event()
                await asyncio.wait_for(gate.started.wait(), 2)
                return {"layout": "done"}
        """,
        "routes/+layout.html": "{{ slot }}",
        "routes/+page.py": """
            import asyncio
            from lib import gate

            async def load(event):
                gate.started = gate.started or asyncio.Event()
                gate.started.set()
                return {"page": "done"}
        """,
        "routes/+page.html": "{{ data.layout }} {{ data.page }}",
    }))
    r = render(site, "/")
    assert r.status == 200, r.failure
    assert r.body.decode() == "done done"


def test_parent_waits_for_every_layout_above(tmp_path):
    site = open_site(write_site(tmp_path / "s", {
        "routes/+layout.py": """
            import asyncio

            async def load(event):
                await asyncio.sleep(0.05)
                return {"posts": ["a", "b", "c", "d"], "n": 1}
        """,
        "routes/+layout.html": "{{ slot }}",
        "routes/x/+layout.py": """
            async def load(event):
                parent = await event.parent()
                return {"n": parent["n"] + 1}
        """,
        "routes/x/+page.py": """
            async def load(event):
                parent = await event.parent()
                return {"related": parent["posts"][:3], "seen_n": parent["n"]}
        """,
        "routes/x/+page.html": "{{ data.related | join(',') }} {{ data.seen_n }}",
    }))
    r = render(site, "/x")
    assert r.body.decode() == "a,b,c 2"


def test_awaitables_anywhere_in_data_resolve_concurrently(tmp_path):
    site = open_site(write_site(tmp_path / "s", {
        **LAYOUT,
        "routes/+page.py": """
            import asyncio

            async def load(event):
                a_ready, b_ready = asyncio.Event(), asyncio.Event()

                async def a():
                    a_ready.set()
                    await asyncio.wait_for(b_ready.wait(), 2)  # needs b running at the same time
                    return "A"

                async def b():
                    b_ready.set()
                    await asyncio.wait_for(a_ready.wait(), 2)
                    return {"deep": [a_ready.is_set(), nested()]}

                async def nested():
                    return "N"

                task = asyncio.ensure_future(asyncio.sleep(0, result="T"))
                return {"a": a(), "list": [1, {"b": b()}], "task": task}
        """,
        "routes/+page.html": "ok",
    }))
    r = render(site, "/")
    assert r.status == 200, r.failure
    assert r.envelope["data"] == {"a": "A", "list": [1, {"b": {"deep": [True, "N"]}}], "task": "T"}


def test_a_plain_load_may_return_awaitables_and_an_awaitable_object(tmp_path):
    site = open_site(write_site(tmp_path / "s", {
        "routes/+layout.py": """
            class Load:  # a callable whose call is a coroutine, though not an async def
                async def __call__(self, event):
                    return {"brand": "B"}

            load = Load()
        """,
        "routes/+layout.html": "[{{ data.brand }}]{{ slot }}",
        "routes/+page.py": """
            import asyncio

            async def count(event):
                return (await event.fetch("/api/items.json")).json()["n"]

            def load(event):
                task = asyncio.ensure_future(asyncio.sleep(0, result="T"))
                return {"n": count(event), "deep": [{"task": task}]}
        """,
        "routes/+page.html": "{{ data.n }} {{ data.deep[0].task }}",
        "routes/api/items.json/+server.py": "from ssg import json\n\ndef GET(event):\n    return json({'n': 3})\n",
    }))
    r = render(site, "/")
    assert r.status == 200, r.failure
    assert r.body.decode() == "[B]3 T"


def test_the_awaitables_of_plain_loads_overlap_across_the_pages_of_a_build(tmp_path):
    # Each page's load is a plain function returning a coroutine that waits on "I/O", and
    # a task: a build runs several pages' at once (the concurrency setting), not one after
    # another, in an event loop that runs while the plain load does.
    root = write_site(tmp_path / "s", {
        "routes/+page.html": "home",
        "routes/[n]/+page.py": """
            import asyncio

            state = {"now": 0, "most": 0}

            def entries():
                return [{"n": str(i)} for i in range(8)]

            async def io():
                state["now"] += 1
                state["most"] = max(state["most"], state["now"])
                await asyncio.sleep(0.05)
                state["now"] -= 1
                return state["most"]

            def load(event):
                return {"most": io(), "task": asyncio.ensure_future(asyncio.sleep(0, result="t"))}
        """,
        "routes/[n]/+page.html": "{{ data.most }}{{ data.task }}",
    })
    result = subprocess.run([sys.executable, "-m", "ssg.cli", "build", "-C", str(root), "--jobs", "1"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    most = max(int((root / f"build/{i}/index.html").read_text().removesuffix("t")) for i in range(8))
    assert most > 1


def test_a_failing_plain_layout_load_fails_the_page_and_the_page_load_still_runs(tmp_path):
    site = open_site(write_site(tmp_path / "s", {
        "routes/+layout.py": "def load(event):\n    raise ValueError('layout broke')\n",
        "routes/+layout.html": "{{ slot }}",
        "routes/+page.py": """
            from pathlib import Path

            def load(event):
                (Path(__file__).parent / "page-ran").touch()
                raise KeyError("page broke too")
        """,
        "routes/+page.html": "never",
    }))
    r = render(site, "/")
    assert r.status == 500
    assert "layout broke" in r.failure.message  # the failure nearest the root
    assert (tmp_path / "s/routes/page-ran").is_file()


def test_load_must_return_a_mapping(tmp_path):
    site = open_site(write_site(tmp_path / "s", {
        **LAYOUT,
        "routes/+page.py": "def load(event):\n    return [1, 2]\n",
        "routes/+page.html": "x",
    }))
    r = render(site, "/")
    assert r.status == 500
    assert "routes/+page.py: load() must return a dict, not list" in r.failure.message


def test_set_headers_twice_is_an_error(tmp_path):
    site = open_site(write_site(tmp_path / "s", {
        "routes/+layout.py": "def load(event):\n    event.set_headers({'Cache-Control': 'max-age=60'})\n",
        "routes/+layout.html": "{{ slot }}",
        "routes/+page.py": "def load(event):\n    event.set_headers({'cache-control': 'no-store'})\n",
        "routes/+page.html": "x",
        "routes/ok/+page.py": "def load(event):\n    event.set_headers({'X-Frame-Options': 'DENY'})\n",
        "routes/ok/+page.html": "x",
    }))
    bad = render(site, "/")
    assert bad.status == 500
    assert "'cache-control' was already set" in bad.failure.message
    assert bad.failure.file == "routes/+page.py" and bad.failure.line == 2
    ok = render(site, "/ok")
    assert ok.headers == {"cache-control": "max-age=60", "x-frame-options": "DENY"}


def test_error_renders_nearest_error_page_with_status(tmp_path):
    site = open_site(write_site(tmp_path / "s", {
        "routes/+layout.py": "def load(event):\n    return {'brand': 'B'}\n",
        "routes/+layout.html": "[{{ data.brand }}]{{ slot }}",
        "routes/+error.html": "root {{ page.status }}",
        "routes/blog/+error.html": "blog {{ page.status }}: {{ page.error.message }}",
        "routes/blog/[slug]/+page.py": """
            from ssg import error

            def load(event):
                error(410, "Gone for good")
        """,
        "routes/blog/[slug]/+page.html": "never",
    }))
    r = render(site, "/blog/x")
    assert r.status == 410 and r.kind == "error"
    assert r.body.decode() == "[B]blog 410: Gone for good"
    missing = render(site, "/nope/nope")
    assert missing.status == 404
    assert missing.body.decode() == "[B]root 404"


def test_redirect_gives_location_with_base_path(tmp_path):
    site = open_site(write_site(tmp_path / "s", {
        **LAYOUT,
        "ssg.toml": 'base_path = "/docs"\n',
        "routes/old/+page.py": "from ssg import redirect\n\ndef load(event):\n    redirect(308, '/new/')\n",
        "routes/old/+page.html": "x",
    }))
    r = render(site, "/old")
    assert (r.kind, r.status, r.location) == ("redirect", 308, "/docs/new/")
    assert 'http-equiv="refresh" content="0; url=/docs/new/"' in r.body.decode()


@pytest.mark.parametrize("call, message", [
    ("error(200, 'x')", "error() takes a status from 400 to 599, not 200"),
    ("redirect(200, '/x')", "redirect() takes a status of 301, 302, 303, 307 or 308, not 200"),
])
def test_error_and_redirect_check_their_status(tmp_path, call, message):
    site = open_site(write_site(tmp_path / "s", {
        **LAYOUT,
        "routes/+page.py": f"from ssg import error, redirect\n\ndef load(event):\n    {call}\n",
        "routes/+page.html": "x",
    }))
    r = render(site, "/")
    assert r.status == 500 and message in r.failure.message


def test_props_from_entries_reach_load(tmp_path):
    from conftest import run_ssg

    root = write_site(tmp_path / "s", {
        **LAYOUT,
        "lib/__init__.py": "",
        "lib/reads.py": "count = 0\n",
        "routes/p/[id]/+page.py": """
            from lib import reads

            def entries():
                reads.count += 1  # the listing is read once for every page
                listing = {"a": "Alpha", "b": "Beta"}
                return [({"id": k}, {"title": v, "reads": reads.count}) for k, v in listing.items()]

            def load(event):
                return {"title": event.props["title"], "reads": event.props["reads"]}
        """,
        "routes/p/[id]/+page.html": "{{ data.title }}",
    })
    result = run_ssg("build", "-C", str(root))
    assert result.returncode == 0, result.stderr
    data = json.loads((root / "build/p/b/__data.json").read_text())
    assert data["data"] == {"title": "Beta", "reads": 1}


def test_route_module_that_fails_to_import_is_a_500_not_a_crash(tmp_path):
    site = open_site(write_site(tmp_path / "s", {
        **LAYOUT,
        "routes/a/+page.py": "import missing_module_for_ssg_test\n",
        "routes/a/+page.html": "a",
        "routes/b.json/+server.py": "import missing_module_for_ssg_test\n",
    }))
    for path, file in (("/a", "routes/a/+page.py"), ("/b.json", "routes/b.json/+server.py")):
        r = render(site, path)
        assert r.status == 500
        assert r.failure.file == file
        assert "No module named 'missing_module_for_ssg_test'" in r.failure.message
