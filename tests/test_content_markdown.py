"""SPEC §6 Markdown: the extensions, heading ids and TOC, highlighting, summaries, safe links."""

from __future__ import annotations

import sys
import textwrap

import pytest

from ssg.content import Heading, highlight_css, slugify
from ssg.content.markdown import MarkdownItEngine, engine


def render(text: str, **kwargs):
    return engine().render(textwrap.dedent(text), **kwargs)


def test_one_engine_is_shared():
    assert engine() is engine()
    assert isinstance(engine(), MarkdownItEngine)


def test_commonmark_basics():
    html = render("# Title\n\nSome *em* and **strong** and `code`.\n").html
    assert html == '<h1 id="title">Title</h1>\n<p>Some <em>em</em> and <strong>strong</strong> and <code>code</code>.</p>\n'


def test_tables():
    html = render("""
        | a | b |
        | :-- | --: |
        | 1 | 2 |
    """).html
    assert '<th style="text-align:left">a</th>' in html and '<td style="text-align:right">2</td>' in html


def test_strikethrough():
    assert "<s>gone</s>" in render("~~gone~~\n").html


def test_footnotes():
    html = render("Text.[^n]\n\n[^n]: The note.\n").html
    assert '<a href="#fn1" id="fnref1">[1]</a>' in html
    assert '<li id="fn1" class="footnote-item"><p>The note. <a href="#fnref1" class="footnote-backref">' in html


def test_task_lists():
    html = render("- [x] done\n- [ ] todo\n").html
    assert 'class="task-list-item-checkbox" checked="checked" disabled="disabled" type="checkbox"> done' in html
    assert 'class="task-list-item-checkbox" disabled="disabled" type="checkbox"> todo' in html


def test_heading_ids_are_stable_unique_and_make_the_toc():
    body = """
        # Intro
        ## Set up `ssg`
        ## Intro
        ### Intro
        ## Héllo, Wörld!
        ## ???
        ## fn1
        ## SSG data
    """
    out = render(body)
    ids = [h.id for h in out.toc]
    assert ids == ["intro", "set-up-ssg", "intro-1", "intro-2", "héllo-wörld", "section", "fn1-1", "ssg-data-1"]
    assert len(set(ids)) == len(ids)
    assert out.toc[1] == Heading(2, "set-up-ssg", "Set up ssg")
    assert [h.level for h in out.toc] == [1, 2, 2, 3, 2, 2, 2, 2]
    assert '<h2 id="set-up-ssg">Set up <code>ssg</code></h2>' in out.html
    assert render(body).toc == out.toc, "the same text gives the same ids"


def test_slugify_examples():
    assert slugify("Hello, World! (2024)") == "hello-world-2024"
    assert slugify("  ") == "section"


def test_fenced_code_is_highlighted_with_css_classes():
    html = render("```python\ndef f():\n    return 1\n```\n").html
    assert html.startswith('<pre class="highlight"><code class="language-python"><span class="k">def</span><span class="w"> </span><span class="nf">f</span>')
    assert html.endswith("</code></pre>\n")
    assert "style=" not in html, "classes, not inline styles"


def test_code_without_a_known_language_stays_plain_and_escaped():
    assert render("```\n<b>\n```\n").html == "<pre><code>&lt;b&gt;\n</code></pre>\n"
    assert render("```nosuchlang\n<b>\n```\n").html == '<pre><code class="language-nosuchlang">&lt;b&gt;\n</code></pre>\n'


def test_the_language_name_is_escaped():
    html = render('```python"onmouseover="x\nx\n```\n').html
    assert 'onmouseover="x' not in html


def test_highlight_css_styles_only_highlight_blocks():
    css = highlight_css()
    assert ".highlight .k {" in css
    assert all(line.startswith(".highlight") for line in css.splitlines())


def test_raw_html_is_allowed():
    assert render('<div class="note">Hi</div>\n').html == '<div class="note">Hi</div>\n'


@pytest.mark.parametrize("text", [
    "[click](javascript:alert(1))",
    "[click](JAVASCRIPT:alert(1))",
    "[click](  javascript:alert(1) )",
    "[click](java%73cript:alert(1))",
    "<javascript:alert(1)>",
    "[click][r]\n\n[r]: javascript:alert(1)",
    "![img](javascript:alert(1))",
    "[click](vbscript:msgbox)",
    "[click](data:text/html;base64,PHNjcmlwdD4=)",
], ids=["inline", "upper", "spaces", "encoded", "autolink", "reference", "image", "vbscript", "data"])
def test_javascript_urls_in_markdown_links_are_not_emitted(text):
    html = render(text + "\n").html
    assert 'href="javascript' not in html.lower() and 'src="javascript' not in html.lower()
    assert 'href="vbscript' not in html.lower() and 'href="data:' not in html.lower()


def test_a_10000_level_nested_list_renders_without_recursion_error():
    for body in ("- " * 10_000 + "x\n", "1. " * 10_000 + "x\n", "> " * 10_000 + "x\n", "".join("  " * i + "- x\n" for i in range(2_000))):
        assert sys.getrecursionlimit() <= 10_000
        out = render(body)
        assert out.html.count("<ul>") <= 25 and out.html.count("<blockquote>") <= 25


def test_deeply_nested_inline_markup_renders():
    out = render("[" * 10_000 + "x" + "]" * 10_000 + "\n\n" + "*" * 10_000 + "x" + "*" * 10_000 + "\n")
    assert out.html.startswith("<p>[[[")


def test_summary_is_the_first_paragraph():
    out = render("# Title\n\nFirst *para*.[^1]\n\nSecond.\n\n[^1]: note\n")
    assert out.summary == "<p>First <em>para</em>.</p>\n", "footnote refs are left out of the summary"


def test_summary_runs_up_to_more():
    out = render("One.\n\nTwo, with [a link](#usage).\n\n<!--more-->\n\n## Usage\n\nThree.\n", page_url="/blog/x/")
    assert out.summary == '<p>One.</p>\n<p>Two, with <a href="/blog/x/#usage">a link</a>.</p>\n'
    assert "<!--more-->" in out.html and "Three." in out.html


def test_a_more_marker_inside_a_list_does_not_cut_the_summary():
    out = render("First.\n\n- item\n\n  <!--more-->\n\nLast.\n")
    assert out.summary == "<p>First.</p>\n"


def test_summary_of_a_body_without_paragraphs_is_empty():
    assert render("## Only a heading\n").summary == ""


def test_link_resolver_sees_each_link_with_its_body_line():
    seen = []

    def resolve(href, line):
        seen.append((href, line))
        return href.upper()

    out = render("Intro.\n\nA [one](a.md) and\n[two](b.md#x) here.\n\n![pic](/img/p.png)\n", links=resolve)
    assert seen == [("a.md", 2), ("b.md#x", 3), ("/img/p.png", 5)]
    assert '<a href="A.MD">one</a>' in out.html and 'src="/IMG/P.PNG"' in out.html
