"""The fast Markdown engine (markdown-it-pyrs) renders exactly what the reference does.

FastEngine must give MarkdownItEngine's html, toc and summary, and send its resolver the
same links in the same order, on: the CommonMark 0.31.2 spec examples
(tests/fixtures/commonmark/spec.json), the benchmark corpus (two seeds), the demo blog and
the content fixtures, hostile input, and seeded random documents made from all of these.
It must also take the fast path for nearly every corpus document, or it is no use.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

from ssg.content import markdown
from ssg.content.fastmd import FastEngine
from ssg.content.frontmatter import parse
from ssg.content.markdown import MarkdownItEngine, RenderedBody
from ssg.errors import UsageError

REPO = Path(__file__).resolve().parent.parent
SPEC = json.loads((REPO / "tests/fixtures/commonmark/spec.json").read_text("utf-8"))
CORPUS_SCRIPTS = (REPO / "bench/make_corpus.py",)
CONTENT = sorted(
    [*(REPO / "content").rglob("*.md"), *(REPO / "tests/fixtures/content").rglob("*.md"), *(REPO / "tests/sites").glob("*/content/**/*.md")]
)  # sorted: stable test ids


@pytest.fixture(scope="module")
def reference() -> MarkdownItEngine:
    return MarkdownItEngine()


@pytest.fixture(scope="module")
def fast() -> FastEngine:
    return FastEngine()


def render_both(reference: MarkdownItEngine, fast: FastEngine, body: str, page_url: str | None = "/blog/post/") -> tuple[RenderedBody, str]:
    """Render `body` with both engines, check they agree, and return the output and
    how the fast engine took it ("fast", or why it fell back)."""
    calls: dict[str, list[str]] = {"reference": [], "fast": []}

    def resolver(name: str):
        def resolve(href: str, line: int) -> str:
            calls[name].append(href)
            return href.replace(".md", "/")

        return resolve

    expected = reference.render(body, links=resolver("reference"), page_url=page_url)
    before = fast.stats.copy()
    got = fast.render(body, links=resolver("fast"), page_url=page_url)
    (how,) = (fast.stats - before).keys()
    assert got.html == expected.html, f"html differs ({how})"
    assert got.toc == expected.toc, f"toc differs ({how})"
    assert got.summary == expected.summary, f"summary differs ({how})"
    # The same links in the same order (after any the fast engine saw before it fell back).
    assert calls["fast"][len(calls["fast"]) - len(calls["reference"]) :] == calls["reference"], "links resolved differently"
    assert "on the fast path" not in how, f"the fast path failed: {how}"
    return got, how


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """Given a seed (and a number of pages), return the bodies of the benchmark corpus."""
    script = next(s for s in CORPUS_SCRIPTS if s.is_file())  # bench/make_corpus.py is in the repo

    def make(seed: int, pages: int = 300) -> list[str]:
        out = tmp_path_factory.mktemp(f"corpus-{seed}")
        subprocess.run([sys.executable, str(script), str(out), "--pages", str(pages), "--seed", str(seed)], check=True, capture_output=True)
        files = sorted(out.glob("*.md"))  # sorted: the same documents in the same order everywhere
        return [parse(f.read_text("utf-8"), f.name)[2] for f in files]

    return make


# -- the same output ---------------------------------------------------------------------------------


def test_commonmark_spec_examples_render_the_same(reference, fast):
    taken = []
    for example in SPEC:
        try:
            taken.append(render_both(reference, fast, example["markdown"])[1])
        except AssertionError as exc:
            raise AssertionError(f"spec example {example['example']} ({example['section']}): {exc}") from None
    assert len(taken) == 652
    assert taken.count("fast") >= 450, "most spec examples are plain enough for the fast path"


@pytest.mark.parametrize("seed", [1, 2])
def test_the_benchmark_corpus_renders_the_same_on_the_fast_path(reference, fast, corpus, seed):
    bodies = corpus(seed)
    taken = [render_both(reference, fast, body)[1] for body in bodies]
    assert len(taken) == 300
    assert taken.count("fast") >= 0.9 * len(taken), f"fell back: {sorted(set(taken) - {'fast'})}"


@pytest.mark.parametrize("path", CONTENT, ids=[p.relative_to(REPO).as_posix() for p in CONTENT])
def test_demo_and_fixture_content_renders_the_same(reference, fast, path):
    render_both(reference, fast, parse(path.read_text("utf-8"), path.name)[2])


def test_without_a_resolver_or_page_url_the_output_is_the_same(reference, fast, corpus):
    before = fast.stats["fast"]
    for body in [*corpus(4, pages=20), *(example["markdown"] for example in SPEC[::7])]:
        assert fast.render(body) == reference.render(body)
    assert fast.stats["fast"] - before >= 20 + 50


def test_most_demo_posts_take_the_fast_path(fast):
    posts = sorted((REPO / "content/blog").glob("*.md"))
    assert sum(fast.fast_path(parse(p.read_text("utf-8"), p.name)[2]) for p in posts) >= len(posts) // 2


HOSTILE = {
    "10000-level list": "- " * 10_000 + "x\n",
    "10000-level ordered list": "1. " * 10_000 + "x\n",
    "10000-level quote": "> " * 10_000 + "x\n",
    "2000 indented levels": "".join("  " * i + "- x\n" for i in range(2_000)),
    "the hostile test's post": "- " * 10_000 + "x\n\n" + "> " * 10_000 + "y\n",
    "10000 brackets": "[" * 10_000 + "x" + "]" * 10_000 + "\n\n" + "*" * 10_000 + "x" + "*" * 10_000 + "\n",
    "nested images": "![" * 30 + "x" + "](u)" * 30 + "\n",
    "binary": "\x00\x01\x02binary\x7f\ufffe\n",
    "javascript links": "[a](javascript:alert(1)) <javascript:alert(2)> [b][r] [c](JAVASCRIPT:x) [d](java%73cript:x)\n\n"
    "[r]: JavaScript:alert(3)\n\n![i](javascript:x) [e](vbscript:x) [f](data:text/html;base64,PHNjcmlwdD4=)\n",
    "a panic in the Rust port": "[`x\n",
    "many backticks": "`" * 100_000 + "\n",
    "CRLF and CR": "# Title\r\n\r\nText\rmore [a](b.md)\r\n",
}


@pytest.mark.parametrize("body", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_input_renders_the_same(reference, fast, body):
    render_both(reference, fast, body)


# -- what falls back, and why ------------------------------------------------------------------------

FALLBACKS = {
    "footnotes": ("Text.[^1]\n\n[^1]: Note.\n", "footnotes"),
    "inline footnote": ("Text.^[inline]\n", "footnotes"),
    "task list": ("- [x] done\n- [ ] todo\n", "task list"),
    "more marker": ("One.\n\n<!--more-->\n\nTwo.\n", "comment"),
    "raw HTML": ('<div class="note">Hi</div>\n', "raw HTML"),
    "inline HTML": ("Some <b>bold</b>.\n", "raw HTML"),
    "no-break space": ("\u00a0*x*\n", "Unicode whitespace"),
    "currency next to *": ("*€*bravo\n", "Unicode punctuation"),
    "punycode host": ("<http://xn--nicode-2ya.com/>\n", "punycode"),
    "non-ASCII host": ("[a](http://ünicode.com/)\n", "non-ASCII link destination"),
    "fence left open": ("```\ncode", "code fence at the end"),
    "tab after a marker": (">\t\tcode\n", "tab"),
    "deep nesting": ("> " * 12 + "- " * 4 + "x\n", "nested deeper"),
    "deep brackets": ("[" * 12 + "y" + "]" * 12 + "\n", "brackets"),
    "ordered item after a quote": ("> a\n2) b\n", "end a quote"),
    "table under a paragraph": ("text\n| a |\n|---|\n", "table"),
    "table without pipes": ("a\n--:\n", "table"),
    "open code span": ("[`x\n", "code span"),
    "code span over two lines": ("a `b\n c` d\n", "code span"),
    "escape in an image description": ("![a\\*b](i.png)\n", "image description"),
    "spaces in <destination>": ("[a](< b >)\n", "destination"),
    "failed link then a label": ('[link](foo(and(bar))\n![foo]\n\n[foo]: /url "title"\n', "not simple"),
    "link title over two lines": ('> a [x](y "a\n  b")\n', "not simple"),
    "definition ending in a backslash": ("[foo]: /url\\\n\n[foo]\n", "definition"),
    "empty user in a link": ("[a](foo:@bar.com)\n", "host the reference rewrites"),
    "IPv6 host in an autolink": ("<http://[::1]/x>\n", "autolink"),
    "percent sign in an autolink": ("<http://a.b/%41>\n", "autolink"),
    "definition in a list": ("- [a]: /u\n\n  [a]\n", "definition"),
    "title over two lines": ("[a]: /u 'one\ntwo'\n\n[a]\n", "definition"),
    "fence right after item text": ("- a\n  ```\n  x\n  ```\n", "code block right after"),
    "two-line heading": ("One\ntwo\n===\n", "heading over several lines"),
}


@pytest.mark.parametrize("body, reason", FALLBACKS.values(), ids=FALLBACKS.keys())
def test_what_the_rust_port_renders_differently_goes_to_the_reference(reference, fast, body, reason):
    how = render_both(reference, fast, body)[1]
    assert reason in how


def test_plain_markdown_takes_the_fast_path(reference, fast):
    body = (
        "Intro with *em*, **strong**, `code`, ~~gone~~ and [a link](other.md#x).\n\n## Set up `ssg`\n\n"
        "1. one\n2. two\n\n> quoted\n\n| a | b |\n|:--|--:|\n| 1 | [x](y.md) |\n\n```python\nprint('hi')\n```\n\n"
        "![pic](/img/p.png) <https://example.com> [ref][r]\n\n[r]: /r 'title'\n"
    )
    assert fast.fast_path(body)
    out, how = render_both(reference, fast, body)
    assert how == "fast"
    assert [h.id for h in out.toc] == ["set-up-ssg"]
    assert '<a href="other/#x">a link</a>' in out.html and '<pre class="highlight">' in out.html


def test_summary_links_within_the_page_point_at_it(reference, fast):
    out, how = render_both(reference, fast, "See [usage](#usage) and [there](/x#y).[^1]\n\n## Usage\n\n[^1]: n\n")
    assert out.summary == '<p>See <a href="/blog/post/#usage">usage</a> and <a href="/x#y">there</a>.</p>\n'
    out, how = render_both(reference, fast, "See [usage](#usage).\n\n## Usage\n")
    assert how == "fast" and out.summary == '<p>See <a href="/blog/post/#usage">usage</a>.</p>\n'


def test_a_rejected_link_falls_back_so_the_error_names_the_reference_line(reference, fast):
    # The destination is on line 3, the link starts on line 2: the reference says 2.
    body = "Intro.\n\nA [link\ntext](missing.md) here.\n"

    def resolve(href: str, line: int) -> str:
        if href == "missing.md":
            raise ValueError(f"links to {href} on body line {line}")
        return href

    with pytest.raises(ValueError) as expected:
        reference.render(body, links=resolve)
    before = fast.stats["the link resolver raised"]
    with pytest.raises(ValueError) as got:
        fast.render(body, links=resolve)
    assert str(got.value) == str(expected.value) == "links to missing.md on body line 2"
    assert fast.stats["the link resolver raised"] == before + 1


def test_a_panic_in_the_rust_port_falls_back(reference, fast, monkeypatch):
    monkeypatch.setattr(fast, "fallback_reason", lambda text: None)  # let "[`x" through the pre-scan
    out = fast.render("[`x\n")
    assert out == reference.render("[`x\n")
    assert fast.stats["PanicException on the fast path"] >= 1


# -- random documents --------------------------------------------------------------------------------

FRAGMENTS = [
    "# Head *x*\n", "## `code` [l](u.md)\n", "Setext\n---\n", "| a | b |\n|:-|-:|\n| 1 | [x](y.md) |\n", "~~s~~ ~t~",
    "```python\nx = '<a>'\n```\n", "```js\nlet a = 1 && 2;\n```\n", "    indented\n", "- a\n- b\n", "1. x\n2. y\n", "> q\n",
    "[ref]\n\n[ref]: /url 'title'\n", '![img](p.png "t")', "<https://x.y/z>", "a  \nb", "a\\\nb", "&amp; &copy; &#35;",
    "*em* **strong** ***both***", "_u_ __uu__", "`` a ` b ``", "[a](#frag)", "[a](<b c>)", "\\*not\\*", "***\n", "- [ ] t\n",
    "x[^1]\n\n[^1]: f\n", "<b>raw</b>", "<!-- c -->", "é *ü* “q” — *€*", "\u00a0x", "café_au_lait", "[a]: /b\n", "[A][a]",
    "| x |\n|---|\n", "- a\n\n  b\n", "> - a\n>   - b\n", "2) z\n", "+ p\n", "<foo@bar.com>", "[l](javascript:x)", "![a ![b](c)](d)",
    "[![i](a.png)](b.md)", "`<div>`", "\t- tab\n", "#hash", "####### seven", "[x](y \"a\nb\")", "<div>\nblock\n</div>\n",
    "***a**b*", "* * *\n", "- \n", ">\n", "[]()", "`x\ny`", "[a\nb](c.md)", "> a\n2) b\n", "> a\n-\n", "- a\n  - b\n    - c\n",
    "a\n| b |\n|---|\n", "1) a\n1. b\n", "> ```\n> code\n", "- ```\n  x\n", "[Foo Bar]: /u\n[foo  bar][]\n", "a\n    b\n", "10. x\n",
    "a | b\n- | -\nc | d\n", "|a|b|\n|-|-|\n|c|\n",
]
CHARACTERS = list("*_~`[]()<>!#>-+|\\&;:.\n \t\"'=") + ["é", "€", "→", "“", "\u00a0", "ß", "0", "1", "a", "Z"]


def random_document(rng: random.Random, bodies: list[str]) -> str:
    parts = []
    for _ in range(rng.randint(1, 6)):
        pick = rng.random()
        if pick < 0.3:
            part = rng.choice(SPEC)["markdown"]
        elif pick < 0.45:
            lines = rng.choice(bodies).split("\n")
            start = rng.randrange(len(lines))
            part = "\n".join(lines[start : start + rng.randint(1, 20)])
        elif pick < 0.85:
            part = rng.choice(FRAGMENTS)
        else:
            part = "".join(rng.choice(CHARACTERS) for _ in range(rng.randint(1, 30)))
        if rng.random() < 0.2:
            prefix = rng.choice(["> ", "- ", "  ", "1. ", "    ", ">", "* "])
            part = "".join(prefix + line for line in part.splitlines(True))
        parts.append(part)
    doc = rng.choice(["", "\n", "\n\n", " "]).join(parts)
    if rng.random() < 0.3:
        chars = list(doc)
        for _ in range(rng.randint(1, 5)):
            chars.insert(rng.randint(0, len(chars)), rng.choice(CHARACTERS))
        doc = "".join(chars)
    return doc.rstrip("\n") if rng.random() < 0.2 else doc


def test_random_documents_render_the_same(reference, fast, corpus):
    bodies = corpus(3, pages=20)
    taken = []
    for n in range(1500):
        doc = random_document(random.Random(n), bodies)
        try:
            taken.append(render_both(reference, fast, doc)[1])
        except AssertionError as exc:
            raise AssertionError(f"random document {n}: {doc!r}: {exc}") from None
    assert taken.count("fast") >= 300, "a fair share of random documents exercise the fast path"


# -- choosing the engine -----------------------------------------------------------------------------


@pytest.fixture
def fresh_engine(monkeypatch):
    """Let engine() choose again, and put the process's engine back afterwards."""
    monkeypatch.setattr(markdown, "_engine", None)
    monkeypatch.delenv("SSG_MARKDOWN", raising=False)
    return monkeypatch


def test_the_fast_engine_is_the_default(fresh_engine):
    assert type(markdown.engine()) is FastEngine


@pytest.mark.parametrize("value", ["reference", " Reference "])
def test_ssg_markdown_reference_forces_markdown_it_py(fresh_engine, value):
    fresh_engine.setenv("SSG_MARKDOWN", value)
    assert type(markdown.engine()) is MarkdownItEngine


def test_an_unknown_ssg_markdown_value_is_a_usage_error(fresh_engine):
    fresh_engine.setenv("SSG_MARKDOWN", "commonmark")
    with pytest.raises(UsageError, match="SSG_MARKDOWN='commonmark' is not a Markdown engine"):
        markdown.engine()


def test_without_markdown_it_pyrs_the_reference_renders(fresh_engine):
    fresh_engine.setitem(sys.modules, "markdown_it_pyrs", None)  # import fails
    fresh_engine.delitem(sys.modules, "ssg.content.fastmd")
    assert type(markdown.engine()) is MarkdownItEngine
    fresh_engine.setattr(markdown, "_engine", None)
    fresh_engine.setenv("SSG_MARKDOWN", "fast")
    with pytest.raises(UsageError, match="needs markdown-it-pyrs"):
        markdown.engine()
