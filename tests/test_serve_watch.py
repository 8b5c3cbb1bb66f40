"""`ssg serve` watches the site: precise invalidation, live-reload messages, editor noise,
bursts, deleted files, route folders coming and going, site modules and the config."""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from servekit import LiveSocket, Server, copy_fixture, edit, wait_until
from sitekit import write_site


@pytest.fixture
def site(tmp_path):
    return copy_fixture(tmp_path)


@pytest.fixture
def server(site):
    with Server("serve", site) as server:
        yield server


@pytest.fixture
def client(server):
    with httpx.Client(base_url=server.base, timeout=10) as client:
        yield client


def tabs(server, client, *pages):
    """Open a live socket per page, as a browser tab would after loading it."""
    sockets = []
    for page in pages:
        assert client.get(page).status_code in (200, 404, 500)
        sockets.append(LiveSocket(server.port, page))
    return sockets


@contextlib.contextmanager
def serving(site: Path) -> Iterator[tuple[Server, httpx.Client]]:
    """ssg serve on a site folder, and an HTTP client for it."""
    with Server("serve", site) as server, httpx.Client(base_url=server.base, timeout=10) as client:
        yield server, client


def batches(server) -> int:
    return server.output.count("changed ")


def test_editing_a_content_file_reloads_only_the_tabs_that_read_it(site, server, client):
    first, second, about, home = tabs(server, client, "/notes/first/", "/notes/second/", "/about/", "/")
    edit(site / "content/notes/first.md", "---\ntitle: First, edited\n---\nNew body.\n")
    assert first.wait_message()[0]["action"] == "reload"
    # Every tab hears about every batch; only the ones whose page read the file reload.
    assert second.wait_message()[0]["action"] == "none"
    assert about.wait_message()[0]["action"] == "none"
    assert home.wait_message()[0]["action"] == "reload"  # the listing shows every note's title
    assert '<h1 id="title">First, edited</h1>' in client.get("/notes/first/").text


def test_a_new_content_file_reloads_the_listing(site, server, client):
    home, about, first = tabs(server, client, "/", "/about/", "/notes/first/")
    (site / "content/notes/third.md").write_text("---\ntitle: Third\n---\nbody\n")
    assert home.wait_message()[0]["action"] == "reload"
    assert about.wait_message()[0]["action"] == "none"
    # entries() read the folder too, but first's props (its rank) did not change.
    assert first.wait_message()[0]["action"] == "none"
    assert 'href="/notes/third/"' in client.get("/").text
    assert '<p id="rank">3</p>' in client.get("/notes/third/").text


def test_pages_whose_entries_props_changed_reload(site, server, client):
    first, second = tabs(server, client, "/notes/first/", "/notes/second/")
    assert '<p id="rank">1</p>' in client.get("/notes/first/").text
    (site / "content/notes/a-new-first.md").write_text("---\ntitle: Sorted first\n---\nbody\n")
    assert first.wait_message()[0]["action"] == "reload"
    assert second.wait_message()[0]["action"] == "reload"
    assert '<p id="rank">2</p>' in client.get("/notes/first/").text


def test_a_template_edit_reloads_the_pages_that_use_it(site, server, client):
    note, about = tabs(server, client, "/notes/first/", "/about/")
    template = site / "routes/notes/[slug]/+page.html"
    edit(template, template.read_text().replace('id="title"', 'id="heading"'))
    assert note.wait_message()[0]["action"] == "reload"
    assert about.wait_message()[0]["action"] == "none"
    assert 'id="heading"' in client.get("/notes/first/").text


def test_a_layout_edit_reloads_every_page_below_it(site, server, client):
    note, about = tabs(server, client, "/notes/first/", "/about/")
    layout = site / "routes/+layout.html"
    edit(layout, layout.read_text().replace("<main>", '<main class="edited">'))
    assert note.wait_message()[0]["action"] == "reload"
    assert about.wait_message()[0]["action"] == "reload"
    assert '<main class="edited">' in client.get("/about/").text


def test_a_stylesheet_is_swapped_not_reloaded(site, server, client):
    (about,) = tabs(server, client, "/about/")
    (site / "static/style.css").write_text("h1 { color: rgb(255, 0, 0); }\n")
    message = about.wait_message()[0]
    assert message["action"] == "css" and message["css"] == ["/style.css"]
    assert "255, 0, 0" in client.get("/style.css").text


def test_a_failing_page_served_before_a_stylesheet_save_is_not_reloaded_again_and_again(site, server, client):
    """The missing page is served as it was; a tab showing it that connects after the
    save must not be told to reload, or it would reload on every load, without end."""
    def version() -> int:
        page = client.get("/missing/")
        assert page.status_code == 404
        return int(re.search(r'data-version="(\d+)"', page.text).group(1))

    served = version()  # rendered, failing, and kept
    before = batches(server)
    (site / "static/style.css").write_text("h1 { color: rgb(0, 0, 255); }\n")
    wait_until(lambda: batches(server) > before, what="the batch")
    assert version() == served  # no source of it changed: the same page
    for _ in range(2):  # a reload, and the page it loads
        tab = LiveSocket(server.port, "/missing/", version=version())
        with pytest.raises(AssertionError):
            tab.wait_message(timeout=0.5)
        tab.close()


def test_a_script_or_image_in_static_reloads_the_tabs(site, server, client):
    (about,) = tabs(server, client, "/about/")
    version = int(re.search(r'data-version="(\d+)"', client.get("/about/").text).group(1))
    before = batches(server)
    (site / "static/app.js").write_text("console.log('v2')\n")
    assert about.wait_message()[0]["action"] == "reload"
    wait_until(lambda: batches(server) > before, what="the batch")
    # A tab that loaded the page just before the save, and connects just after it.
    late = LiveSocket(server.port, "/about/", version=version)
    assert late.wait_message()[0]["action"] == "reload"


def test_a_file_at_the_top_of_the_site_that_nothing_reads_is_no_change(site, server, client):
    """A log written there (`ssg serve | tee serve.log`) must not make batches of its own."""
    before = batches(server)
    (site / "serve.log").write_text("a line the server logged\n")
    about = site / "routes/about/+page.html"
    edit(about, about.read_text() + "\n")
    wait_until(lambda: batches(server) > before, what="the batch")
    assert "serve.log" not in server.output


def test_a_failing_page_reloads_when_a_file_it_read_unseen_appears_at_the_top(tmp_path):
    site = write_site(tmp_path / "site", {
        "routes/+page.py": "from pathlib import Path\n\ndef load(event):\n    return {'v': (Path(__file__).parent.parent / 'data.json').read_text()}\n",
        "routes/+page.html": "<p>{{ data.v }}</p>",
    })
    with serving(site) as (server, client):
        (home,) = tabs(server, client, "/")
        assert client.get("/").status_code == 500
        (site / "data.json").write_text("here")
        assert home.wait_message()[0]["action"] == "reload"
        assert "<p>here</p>" in client.get("/").text


def test_a_helper_module_beside_the_routes_is_picked_up(tmp_path):
    site = write_site(tmp_path / "site", {
        "routes/__init__.py": "",
        "routes/_shared.py": "VALUE = 'one'\n",
        "routes/+page.py": "from routes._shared import VALUE\n\ndef load(event):\n    return {'v': VALUE}\n",
        "routes/+page.html": "<p>{{ data.v }}</p>",
    })
    with serving(site) as (server, client):
        (home,) = tabs(server, client, "/")
        assert "<p>one</p>" in client.get("/").text
        edit(site / "routes/_shared.py", "VALUE = 'two'\n")
        assert home.wait_message()[0]["action"] == "reload"
        assert "<p>two</p>" in client.get("/").text


def test_a_page_whose_fetch_of_an_endpoint_failed_reloads_once_it_is_mended(tmp_path):
    """The listing failed on b.md's front matter before it recorded b.md: the page that
    fetched it records nothing to match the fix, so it renders again on any save."""
    site = write_site(tmp_path / "site", {
        "content/posts/a.md": "---\ntitle: A\n---\nBody.\n",
        "content/posts/b.md": "---\ntitle: [broken\n---\nBody.\n",
        "routes/api/all.json/+server.py": "from ssg import json\nfrom ssg.content import collection\n\ndef GET(event):\n    return json([p.title for p in collection('posts')])\n",
        "routes/+page.py": "async def load(event):\n    return {'s': (await event.fetch('/api/all.json')).status_code}\n",
        "routes/+page.html": "<p>{{ data.s }}</p>",
    })
    with serving(site) as (server, client):
        (home,) = tabs(server, client, "/")
        assert "<p>500</p>" in client.get("/").text
        edit(site / "content/posts/b.md", "---\ntitle: B\n---\nBody.\n")
        assert home.wait_message()[0]["action"] == "reload"
        assert "<p>200</p>" in client.get("/").text


def test_a_site_module_change_is_picked_up(site, server, client):
    (note,) = tabs(server, client, "/notes/first/")
    module = site / "lib/notes.py"
    edit(module, module.read_text().replace('GREETING = "hello"', 'GREETING = "bonjour"'))
    assert note.wait_message()[0]["action"] == "reload"
    assert '<p id="greeting">bonjour</p>' in client.get("/notes/first/").text


def test_a_route_module_change_is_picked_up_twice_within_a_second(site, server, client):
    module = site / "routes/about/+page.py"
    original = module.read_text()
    for word in ("Abcde", "Fghij"):  # same size, same second: a stale .pyc would hide the second
        edit(module, original.replace('"About"', f'"{word}"'))
        wait_until(lambda: f"<title>{word}</title>" in client.get("/about/").text, what=f"title {word}")


def test_a_route_folder_added_and_removed_updates_the_routes(site, server, client):
    assert client.get("/fresh/").status_code == 404
    (fresh,) = tabs(server, client, "/fresh/")
    folder = site / "routes/fresh"
    folder.mkdir()
    (folder / "+page.html").write_text('<h1 id="fresh">Fresh</h1>')
    assert fresh.wait_message()[0]["action"] == "reload"
    wait_until(lambda: client.get("/fresh/").status_code == 200, what="the new route")
    (folder / "+page.html").unlink()
    folder.rmdir()
    wait_until(lambda: client.get("/fresh/").status_code == 404, what="the route to go away")


def test_a_route_folder_added_with_a_site_module_edit_is_found(site, server, client):
    # One batch that reloads everything (lib/ changed) must still read the routes again.
    assert client.get("/fresh/").status_code == 404
    before = batches(server)
    module = site / "lib/notes.py"
    edit(module, module.read_text().replace('GREETING = "hello"', 'GREETING = "bonjour"'))
    (site / "routes/fresh").mkdir()
    (site / "routes/fresh/+page.html").write_text('<h1 id="fresh">Fresh</h1>')
    wait_until(lambda: batches(server) > before, what="the batch")
    assert server.output.count("changed ") == before + 1, "both in one batch: " + server.output
    wait_until(lambda: client.get("/fresh/").status_code == 200, what="the new route")
    assert '<p id="greeting">bonjour</p>' in client.get("/notes/first/").text


def test_a_site_module_edit_saved_with_an_unchanged_config_is_picked_up(site, server, client):
    assert '<p id="greeting">hello</p>' in client.get("/notes/first/").text
    before = batches(server)
    config = site / "ssg.toml"
    module = site / "lib/notes.py"
    edit(module, module.read_text().replace('GREETING = "hello"', 'GREETING = "bonjour"'))
    edit(config, config.read_text() + "# saved again, nothing changed\n")
    wait_until(lambda: batches(server) > before, what="the batch")
    wait_until(lambda: '<p id="greeting">bonjour</p>' in client.get("/notes/first/").text, what="the new greeting")


def test_a_data_file_beside_the_site_modules_reloads_them(tmp_path):
    """lib/names.json, read by lib/names.py when imported: part of the site's code, as the
    build counts it."""
    site = write_site(tmp_path / "site", {
        "lib/__init__.py": "",
        "lib/names.py": "import json, pathlib\n\nNAMES = json.loads((pathlib.Path(__file__).parent / 'names.json').read_text())\n",
        "lib/names.json": '{"k": "first"}',
        "routes/+page.py": "from lib.names import NAMES\n\ndef load(event):\n    return {'k': NAMES['k']}\n",
        "routes/+page.html": "<p>{{ data.k }}</p>",
    })
    with serving(site) as (server, client):
        (home,) = tabs(server, client, "/")
        assert "<p>first</p>" in client.get("/").text
        (site / "lib/names.json").write_text('{"k": "second"}')
        assert home.wait_message()[0]["action"] == "reload"
        assert "<p>second</p>" in client.get("/").text


def test_a_broken_routes_tree_is_shown_and_recovers(site, server, client):
    (about,) = tabs(server, client, "/about/")
    bad = site / "routes/+Page.html"
    bad.write_text("typo")
    assert about.wait_message()[0]["action"] == "reload"
    broken = client.get("/about/")
    assert broken.status_code == 500 and "did you mean +page.html" in broken.text
    bad.unlink()
    wait_until(lambda: client.get("/about/").status_code == 200, what="recovery")


def test_a_config_change_reopens_the_site(site, server, client):
    (about,) = tabs(server, client, "/about/")
    assert client.get("/about", follow_redirects=False).status_code == 308
    edit(site / "ssg.toml", 'trailing_slash = "never"\n')
    assert about.wait_message()[0]["action"] == "reload"
    wait_until(lambda: client.get("/about", follow_redirects=False).status_code == 200, what="the new config")
    edit(site / "ssg.toml", "trailing_slash = 42\n")
    wait_until(lambda: client.get("/about").status_code == 500, what="the config error page")
    assert "trailing_slash" in client.get("/about").text
    edit(site / "ssg.toml", 'trailing_slash = "always"\n')
    wait_until(lambda: client.get("/about/", follow_redirects=False).status_code == 200, what="recovery")


def test_editor_saves_cause_one_refresh_and_no_crash(site, server, client):
    """vim (4913 probe, .swp, backup rename), emacs (#x# and .#x) and an atomic save."""
    (note,) = tabs(server, client, "/notes/first/")
    target = site / "content/notes/first.md"
    folder = target.parent
    # vim
    (folder / "4913").write_text("")
    (folder / "4913").unlink()
    (folder / ".first.md.swp").write_bytes(b"\0swap")
    os.rename(target, folder / "first.md~")
    target.write_text("---\ntitle: Vim saved\n---\nbody\n")
    (folder / "first.md~").unlink()
    (folder / ".first.md.swp").unlink()
    # emacs
    (folder / "#first.md#").write_text("autosave")
    os.symlink("user@host.1234", folder / ".#first.md")
    (folder / ".#first.md").unlink()
    (folder / "#first.md#").unlink()
    wait_until(lambda: "Vim saved" in client.get("/notes/first/").text, what="the saved text")
    assert note.wait_message()[0]["action"] == "reload"
    assert batches(server) <= 2, server.output
    log = server.output
    assert "4913" not in log and ".swp" not in log and "#first.md#" not in log and "~" not in log


def test_a_checkout_of_hundreds_of_files_is_a_couple_of_refreshes(site, server, client):
    (home,) = tabs(server, client, "/")
    folder = site / "content/notes"
    for i in range(300):
        (folder / f"bulk{i:03}.md").write_text(f"---\ntitle: Bulk {i}\n---\nbody\n")
    for i in range(0, 300, 3):
        (folder / f"bulk{i:03}.md").unlink()
    wait_until(lambda: client.get("/").text.count('href="/notes/bulk') == 200, what="the listing to show 200 notes")
    wait_until(lambda: home.messages, what="a message")
    assert 1 <= batches(server) <= 3, server.output
    assert sum(m["action"] == "reload" for m in home.messages) <= 3


def test_a_file_deleted_between_event_and_read_does_not_crash(site, server, client):
    (note,) = tabs(server, client, "/notes/first/")
    for i in range(20):
        path = site / f"content/notes/flash{i}.md"
        path.write_text("x")
        path.unlink()
    (site / "content/notes/first.md").unlink()
    assert note.wait_message()[0]["action"] == "reload"
    assert client.get("/notes/first/").status_code == 404
    assert client.get("/about/").status_code == 200
    (site / "content/notes/first.md").write_text("---\ntitle: Back\n---\nagain\n")
    wait_until(lambda: "Back" in client.get("/notes/first/").text, what="the file to come back")


def test_a_broken_template_shows_file_and_line_then_recovers(site, server, client):
    (note,) = tabs(server, client, "/notes/first/")
    template = site / "routes/notes/[slug]/+page.html"
    good = template.read_text()
    edit(template, good + "{% if %}\n")
    assert note.wait_message()[0]["action"] == "reload"
    broken = client.get("/notes/first/")
    assert broken.status_code == 500
    assert "routes/notes/[slug]/+page.html:5" in broken.text
    assert "respond.py" not in broken.text and "templates.py" not in broken.text, "ssg's own frames are trimmed"
    (retry,) = tabs(server, client, "/notes/first/")
    edit(template, good)
    assert retry.wait_message()[0]["action"] == "reload"
    assert client.get("/notes/first/").status_code == 200
    wait_until(lambda: "ok: /notes/first renders again" in server.output, what="the recovery note")


def test_broken_front_matter_that_entries_reads_shows_file_and_line_then_recovers(site, server, client):
    post = site / "content/notes/second.md"
    good = post.read_text()
    edit(post, good.replace("---\n", "---\ntags: [unclosed\n", 1))
    broken = wait_until(lambda: (r := client.get("/notes/first/")).status_code == 500 and r, what="the error page")
    assert "content/notes/second.md:3" in broken.text and "entries() failed" in broken.text
    edit(post, good)
    wait_until(lambda: client.get("/notes/first/").status_code == 200, what="recovery after the fix")


def test_a_tab_that_loaded_a_page_just_before_a_change_reloads_on_connect(site, server, client):
    html = client.get("/notes/first/").text
    version = int(html.split('data-version="')[1].split('"')[0])
    edit(site / "content/notes/first.md", "---\ntitle: Raced\n---\nbody\n")
    wait_until(lambda: "Raced" in client.get("/notes/first/").text, what="the edit")
    late = LiveSocket(server.port, "/notes/first/", version=version)
    assert late.wait_message()[0]["action"] == "reload"


def test_the_live_socket_refuses_other_origins(server):
    assert LiveSocket(server.port, "/", origin="http://evil.example").status == 403
    assert LiveSocket(server.port, "/", origin=f"http://127.0.0.1:{server.port}").status == 101


def test_an_include_from_a_folder_of_the_site_root_is_watched_once_read(site, server, client):
    """Includes are looked up from the site root too: the folder of one a page read (or
    looked for) is watched, also when it does not exist yet."""
    template = site / "routes/about/+page.html"
    edit(template, template.read_text() + '{% include "partials/note.html" ignore missing %}')
    assert "from partials" not in client.get("/about/").text
    (site / "partials").mkdir()
    (site / "partials/note.html").write_text("<p>from partials</p>")
    wait_until(lambda: "from partials" in client.get("/about/").text)
    edit(site / "partials/note.html", "<p>from partials, edited</p>")
    wait_until(lambda: "from partials, edited" in client.get("/about/").text)


def test_an_include_missing_from_templates_renders_once_it_is_there(tmp_path):
    """The loader looks in templates/ first: the page recorded that name too, not only a
    file at the site root."""
    site = copy_fixture(tmp_path)
    (site / "templates").mkdir()
    template = site / "routes/about/+page.html"
    template.write_text(template.read_text() + '{% include "note.html" ignore missing %}')
    with serving(site) as (server, client):
        (about,) = tabs(server, client, "/about/")
        assert "from templates" not in client.get("/about/").text
        (site / "templates/note.html").write_text("<p>from templates</p>")
        assert about.wait_message()[0]["action"] == "reload"
        assert "from templates" in client.get("/about/").text


def test_an_include_found_at_the_root_gives_way_to_one_made_in_templates(tmp_path):
    site = copy_fixture(tmp_path)
    (site / "templates").mkdir()
    (site / "widget.html").write_text("<b>root widget</b>")
    template = site / "routes/about/+page.html"
    template.write_text(template.read_text() + '{% include "widget.html" %}')
    with serving(site) as (server, client):
        assert "root widget" in client.get("/about/").text
        (site / "templates/widget.html").write_text("<b>templates widget</b>")
        wait_until(lambda: "templates widget" in client.get("/about/").text, what="the include in templates/")


def test_an_edit_to_the_file_a_symlinked_template_points_to_reloads(tmp_path):
    """The watcher names the file edited, not the link a render loaded it through."""
    site = copy_fixture(tmp_path)
    page = site / "routes/about/+page.html"
    target = site / "routes/about/_about.html"
    target.write_text(page.read_text())
    page.unlink()
    page.symlink_to("_about.html")
    with serving(site) as (server, client):
        about, first = tabs(server, client, "/about/", "/notes/first/")
        edit(target, target.read_text() + "<p>edited through the link</p>")
        assert about.wait_message()[0]["action"] == "reload"
        assert first.wait_message()[0]["action"] == "none"
        assert "edited through the link" in client.get("/about/").text


def test_a_route_module_added_beside_a_template_updates_the_pages_that_link_to_it(tmp_path):
    """The new module sets trailing_slash: a page rendered before links to /about as that
    route now wants, though it recorded no file that was not there."""
    site = copy_fixture(tmp_path)
    module = site / "routes/about/+page.py"
    text = module.read_text()
    module.unlink()
    with serving(site) as (server, client):
        (home,) = tabs(server, client, "/")
        assert 'href="/about/"' in client.get("/").text
        module.write_text(text + 'trailing_slash = "never"\n')
        assert home.wait_message()[0]["action"] == "reload"
        assert 'href="/about"' in client.get("/").text


def test_a_route_folder_moved_out_and_back_updates_the_pages_that_link_to_it(tmp_path):
    """While /about has no route, url('/about') is left bare; once the folder is back, a
    page rendered meanwhile links to it as its route wants, though it recorded nothing."""
    site = copy_fixture(tmp_path)
    away = tmp_path / "about-away"
    with serving(site) as (server, client):
        (home,) = tabs(server, client, "/")
        assert 'href="/about/"' in client.get("/").text
        (site / "routes/about").rename(away)
        assert home.wait_message()[0]["action"] == "reload"
        assert 'href="/about"' in client.get("/").text
        (home,) = tabs(server, client, "/")
        away.rename(site / "routes/about")
        assert home.wait_message()[0]["action"] == "reload"
        assert 'href="/about/"' in client.get("/").text


def test_a_layout_module_that_sets_trailing_slash_updates_the_urls_of_content(tmp_path):
    """A listing shows each post's URL, which follows the trailing_slash of the posts'
    route: set in a layout module that already existed, it changes every such URL."""
    site = write_site(tmp_path / "site", {
        "content/posts/_collection.yaml": "route: /posts/[slug]\n",
        "content/posts/a.md": "---\ntitle: A\n---\nBody of a.\n",
        "routes/+page.py": """
            from ssg.content import collection

            def load(event):
                return {"posts": [post.preview() for post in collection("posts")]}
        """,
        "routes/+page.html": '{% for post in data.posts %}<a href="{{ post.url }}">{{ post.title }}</a>{% endfor %}',
        "routes/posts/+layout.py": "def load(event):\n    return {}\n",
        "routes/posts/[slug]/+page.py": """
            from ssg.content import collection

            def entries():
                return [{"slug": post.slug} for post in collection("posts")]

            def load(event):
                return {"title": collection("posts").get(event.params["slug"]).title}
        """,
        "routes/posts/[slug]/+page.html": "{{ data.title }}",
    })
    with serving(site) as (server, client):
        (home,) = tabs(server, client, "/")
        assert 'href="/posts/a/"' in client.get("/").text
        # Written in place (as `cat >` or some editors do): a change, not a new file.
        (site / "routes/posts/+layout.py").write_text('trailing_slash = "never"\n\ndef load(event):\n    return {}\n')
        assert home.wait_message()[0]["action"] == "reload"
        assert 'href="/posts/a"' in client.get("/").text


def test_a_collection_schema_deleted_and_back_gives_its_entries_their_urls_again(tmp_path):
    site = write_site(tmp_path / "site", {
        "content/news/_collection.yaml": "route: /news/[slug]\n",
        "content/news/n1.md": "---\ntitle: One\n---\nBody.\n",
        "routes/news/[slug]/+page.py": """
            from ssg.content import collection

            def entries():
                return [{"slug": post.slug} for post in collection("news")]

            def load(event):
                return {"url": collection("news").get(event.params["slug"]).url}
        """,
        "routes/news/[slug]/+page.html": "<p>{{ data.url }}</p>",
    })
    schema = site / "content/news/_collection.yaml"
    with serving(site) as (server, client):
        (page,) = tabs(server, client, "/news/n1/")
        assert "<p>/news/n1/</p>" in client.get("/news/n1/").text
        schema.unlink()
        assert page.wait_message()[0]["action"] == "reload"
        assert "<p>None</p>" in client.get("/news/n1/").text
        (page,) = tabs(server, client, "/news/n1/")
        schema.write_text("route: /news/[slug]\n")
        assert page.wait_message()[0]["action"] == "reload"
        assert "<p>/news/n1/</p>" in client.get("/news/n1/").text


def test_an_include_of_a_file_in_static_or_content_is_compiled_again_once_edited(tmp_path):
    site = write_site(tmp_path / "site", {
        "routes/+layout.html": '<style>{% include "static/style.css" %}</style>{% include "content/note.html" %}{{ slot }}',
        "routes/+page.html": "home",
        "static/style.css": "p{color:red}",
        "content/note.html": "<p>note one</p>",
    })
    with serving(site) as (server, client):
        (home,) = tabs(server, client, "/")
        assert "<style>p{color:red}</style><p>note one</p>home" in client.get("/").text
        edit(site / "content/note.html", "<p>note two</p>")
        assert home.wait_message()[0]["action"] == "reload"
        assert "<p>note two</p>" in client.get("/").text
        (home,) = tabs(server, client, "/")
        edit(site / "static/style.css", "p{color:blue}")
        home.wait_message()  # a stylesheet: swapped in tabs that link it; this page includes it
        wait_until(lambda: "<style>p{color:blue}</style>" in client.get("/").text, what="the new stylesheet text")


def test_turning_highlighting_off_renders_the_bodies_again(tmp_path):
    """Bodies rendered before the config edit were highlighted: none is reused after it."""
    site = write_site(tmp_path / "site", {
        "ssg.toml": "highlight = true\n",
        "content/posts/_collection.yaml": "route: /posts/[slug]\n",
        "content/posts/a.md": "---\ntitle: A\n---\n```python\nprint(1)\n```\n",
        "routes/posts/[slug]/+page.py": """
            from ssg.content import collection

            def entries():
                return [{"slug": post.slug} for post in collection("posts")]

            def load(event):
                return {"post": collection("posts").get(event.params["slug"])}
        """,
        "routes/posts/[slug]/+page.html": "{{ data.post.html }}",
    })
    with serving(site) as (server, client):
        (page,) = tabs(server, client, "/posts/a/")
        assert '<pre class="highlight">' in client.get("/posts/a/").text
        edit(site / "ssg.toml", "highlight = false\n")
        assert page.wait_message()[0]["action"] == "reload"
        assert '<pre><code class="language-python">print(1)' in client.get("/posts/a/").text


def test_a_post_deleted_and_back_returns_to_the_listing(tmp_path):
    """While it was gone, a request for its page recorded its name; its return is still a
    file new to the folder, which the listing must show again (an undo, a git checkout)."""
    site = write_site(tmp_path / "site", {
        "content/posts/_collection.yaml": "route: /posts/[slug]\n",
        "content/posts/a.md": "---\ntitle: Alpha\n---\nA.\n",
        "content/posts/b.md": "---\ntitle: Beta\n---\nB.\n",
        "routes/+page.py": """
            from ssg.content import collection

            def load(event):
                return {"titles": [post.title for post in collection("posts")]}
        """,
        "routes/+page.html": "{{ data.titles | join(',') }}",
        "routes/posts/[slug]/+page.py": """
            from ssg import error
            from ssg.content import collection

            def entries():
                return [{"slug": post.slug} for post in collection("posts")]

            def load(event):
                post = collection("posts").get(event.params["slug"])
                if post is None:
                    error(404, "no such post")
                return {"title": post.title}
        """,
        "routes/posts/[slug]/+page.html": "{{ data.title }}",
    })
    post = site / "content/posts/b.md"
    text = post.read_text()
    with serving(site) as (server, client):
        assert client.get("/").text.startswith("Alpha,Beta")
        post.unlink()
        wait_until(lambda: client.get("/").text.startswith("Alpha<"), what="Beta to leave the listing")
        assert client.get("/posts/b/").status_code == 404
        post.write_text(text)
        wait_until(lambda: client.get("/").text.startswith("Alpha,Beta"), what="Beta back in the listing")
        assert client.get("/posts/b/").text.startswith("Beta")


@pytest.mark.parametrize("linked", ["content/posts/b.md", "routes/posts/[slug]/+page.py"])
def test_an_edit_to_the_file_a_symlink_points_to_renders_its_readers_again(tmp_path, linked):
    """The watcher names the file edited, not the link a page read it through."""
    site = write_site(tmp_path / "site", {
        "content/posts/_collection.yaml": "route: /posts/[slug]\n",
        "content/posts/a.md": "---\ntitle: Alpha\n---\nA.\n",
        "content/posts/b.md": "---\ntitle: Beta\n---\nB.\n",
        "routes/posts/[slug]/+page.py": """
            from ssg.content import collection

            def entries():
                return [{"slug": post.slug} for post in collection("posts")]

            def load(event):
                return {"title": collection("posts").get(event.params["slug"]).title + " v1"}
        """,
        "routes/posts/[slug]/+page.html": "{{ data.title }}",
    })
    target = site / "shared" / os.path.basename(linked)
    target.parent.mkdir()
    (site / linked).rename(target)
    (site / linked).symlink_to(os.path.relpath(target, (site / linked).parent))
    with serving(site) as (server, client):
        assert client.get("/posts/b/").text.startswith("Beta v1")
        target.write_text(target.read_text().replace("Beta", "Bravo").replace(" v1", " v2"))
        expected = "Bravo v1" if linked.endswith(".md") else "Beta v2"
        wait_until(lambda: client.get("/posts/b/").text.startswith(expected), what=expected)


def test_a_symlinked_folder_made_and_retargeted_in_templates_renders_its_readers_again(tmp_path):
    """A link to a folder arrives as a new file: what a page looked for inside it counts."""
    site = write_site(tmp_path / "site", {
        "routes/+page.html": '<h1>home</h1>{% include "parts/shared.html" ignore missing %}',
        "templates/base.html": "unused",
        "one/shared.html": "<b>one</b>",
        "two/shared.html": "<b>two</b>",
    })
    with serving(site) as (server, client):
        (home,) = tabs(server, client, "/")
        assert "<b>" not in client.get("/").text
        (site / "templates/parts").symlink_to("../one")
        assert home.wait_message()[0]["action"] == "reload"
        assert "<b>one</b>" in client.get("/").text
        (home,) = tabs(server, client, "/")
        (site / "templates/parts.new").symlink_to("../two")
        os.replace(site / "templates/parts.new", site / "templates/parts")  # ln -sfn, then mv -T
        assert home.wait_message()[0]["action"] == "reload"
        assert "<b>two</b>" in client.get("/").text


def test_a_matcher_deleted_while_a_route_uses_it_shows_the_routes_error(tmp_path):
    site = write_site(tmp_path / "site", {
        "params/integer.py": "def match(value):\n    return value.isdigit()\n",
        "routes/+page.html": "<p>home</p>",
        "routes/n/[n=integer]/+page.html": "<p>{{ page.params.n }}</p>",
    })
    with serving(site) as (server, client):
        assert client.get("/").status_code == 200
        (site / "params/integer.py").unlink()
        wait_until(lambda: "params/integer.py" in client.get("/").text, what="the routes error")
        assert client.get("/").status_code == 500
