"""SPEC §3: Jinja2 templates, layouts through slot, page, url(), asset(), data_script()."""

from __future__ import annotations

import json
import re

from sitekit import open_site, render, write_site


def test_autoescape_layout_chain_and_page_object(tmp_path):
    site = open_site(write_site(tmp_path / "s", {
        "ssg.toml": 'origin = "https://example.com"\nbase_path = "/docs"\n',
        "routes/+layout.html": "<title>{{ page.data.title }}</title><body>{{ slot }}</body>",
        "routes/(shop)/+layout.html": "<div class=shop>{{ slot }}</div>",
        "routes/(shop)/items/[id]/+page.py": """
            def entries():
                return [{"id": "7"}]

            def load(event):
                return {"title": "Item <7>", "html": "<b>bold</b>"}
        """,
        "routes/(shop)/items/[id]/+page.html": (
            "{{ data.html }}|{{ page.url }}|{{ page.params.id }}|{{ page.route.id }}|{{ page.status }}|"
            "{{ url('/items/8') }}|{{ url('/about#team') }}|{{ asset('css/a.css') }}|{{ asset('/img/b.png') }}"
        ),
        "routes/about/+page.html": "about",
    }))
    r = render(site, "/items/7")
    assert r.status == 200, r.failure
    body = r.body.decode()
    assert body == (
        "<title>Item &lt;7&gt;</title><body><div class=shop>"
        "&lt;b&gt;bold&lt;/b&gt;|https://example.com/docs/items/7/|7|/(shop)/items/[id]|200|"
        "/docs/items/8/|/docs/about/#team|/docs/css/a.css|/docs/img/b.png"
        "</div></body>"
    )


def test_undefined_variable_names_template_and_line(tmp_path):
    site = open_site(write_site(tmp_path / "s", {
        "routes/+page.html": "<h1>ok</h1>\n<p>{{ data.missing.deeper }}</p>\n",
    }))
    r = render(site, "/")
    assert r.status == 500
    assert (r.failure.file, r.failure.line) == ("routes/+page.html", 2)
    assert "'dict object' has no attribute 'missing'" in r.failure.message


def test_syntax_error_in_an_include_names_that_file(tmp_path):
    site = open_site(write_site(tmp_path / "s", {
        "templates/nav.html": "<nav>\n{% if %}\n</nav>\n",
        "routes/+page.html": "{% include 'nav.html' %}",
    }))
    r = render(site, "/")
    assert r.status == 500
    assert (r.failure.file, r.failure.line) == ("templates/nav.html", 2)
    assert "templates/nav.html" in r.deps


def test_template_deps_include_includes(tmp_path):
    site = open_site(write_site(tmp_path / "s", {
        "templates/nav.html": "<nav>{% include 'item.html' %}</nav>",
        "templates/item.html": "<i>item</i>",
        "routes/+layout.html": "{% include 'nav.html' %}{{ slot }}",
        "routes/+page.html": "page",
    }))
    r = render(site, "/")
    assert r.body.decode() == "<nav><i>item</i></nav>page"
    assert {"templates/nav.html", "templates/item.html", "routes/+layout.html", "routes/+page.html"} <= set(r.deps)


HOSTILE = "</script><script>alert(1)</script><!-- \u2028\u2029 & ' \" </SCRIPT>"


def test_data_script_is_safe_and_round_trips(tmp_path):
    site = open_site(write_site(tmp_path / "s", {
        "routes/+page.py": f"def load(event):\n    return {{'title': {HOSTILE!r}}}\n",
        "routes/+page.html": "<body>{{ data_script() }}</body>",
    }))
    r = render(site, "/")
    html = r.body.decode()
    script = re.fullmatch(r'<body><script type="application/json" id="ssg-data">(.*)</script></body>', html, re.S)
    assert script, html
    text = script.group(1)
    for bad in ("</", "<!--", "\u2028", "\u2029"):
        assert bad not in text
    envelope = json.loads(text)
    assert envelope["data"]["title"] == HOSTILE
    assert envelope == r.envelope


def test_a_dicts_keys_read_as_attributes_answer_as_in_jinja(tmp_path):
    """`d.name` on a plain dict is looked up as a key at once (no failed attribute first):
    each expression gives what Jinja's own environment gives, errors included."""
    import jinja2

    from ssg.templates import Environment

    class Mapping(dict):
        label = "class attribute"

    data = {"d": {"title": "T", "items": "shadowed", "n": 0, "nested": {"x": [1, 2]}}, "m": Mapping(label="key", other="o")}
    expressions = [
        "{{ d.title }}", "{{ d.n }}", "{{ d.nested.x[1] }}", "{% for k, v in d.nested.items() %}{{ k }}={{ v }}{% endfor %}",
        "{{ d.items is callable }}", "{{ d.get('title') }}", "{{ d.title is defined }}", "{{ d.nope is defined }}",
        "{{ m.label }}", "{{ m.other }}", "{{ d['items'] }}", "{{ d.nope }}", "{{ d.nope.deeper }}", "{{ m.nope }}",
    ]

    def outcome(env: jinja2.Environment, source: str) -> str:
        try:
            return env.from_string(source).render(data)
        except jinja2.UndefinedError as exc:
            return f"UndefinedError: {exc}"

    ours, theirs = Environment(tmp_path, undefined=jinja2.StrictUndefined), jinja2.Environment(undefined=jinja2.StrictUndefined)
    answers = {source: outcome(ours, source) for source in expressions}
    assert answers == {source: outcome(theirs, source) for source in expressions}
    assert answers["{{ d.title }}"] == "T" and answers["{{ d.items is callable }}"] == "True"
    assert answers["{{ m.label }}"] == "class attribute"
    assert answers["{{ d.nope }}"] == "UndefinedError: 'dict object' has no attribute 'nope'"
