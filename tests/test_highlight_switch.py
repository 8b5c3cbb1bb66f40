"""Config `highlight`: fenced code highlighted by Pygments at build time, or left plain."""

from __future__ import annotations

from conftest import run_ssg
from sitekit import write_site

POST = "---\ntitle: Code\ndate: 2024-01-01\n---\nSome code:\n\n```python\nx = 1\n```\n"


def test_highlight_switch_changes_output_and_the_caches_follow(tmp_path):
    root = write_site(tmp_path / "s", {
        "content/notes/_collection.yaml": "route: /notes/[slug]\n",
        "content/notes/code.md": POST,
        "routes/notes/[slug]/+page.py": (
            "from ssg.content import collection\n\n"
            "def entries():\n    return [{'slug': e.slug} for e in collection('notes')]\n\n"
            "def load(event):\n    return {'html': collection('notes').get(event.params['slug']).html}\n"
        ),
        "routes/notes/[slug]/+page.html": "{{ data.html | safe }}",
    })
    page = root / "build/notes/code/index.html"

    assert run_ssg("build", "-C", str(root)).returncode == 0
    assert '<pre class="highlight"><code class="language-python"><span class="n">x</span>' in page.read_text()

    # Turned off: no Pygments, and neither the build cache nor the content cache serves the old body.
    (root / "ssg.toml").write_text("highlight = false\n")
    result = run_ssg("build", "-C", str(root))
    assert result.returncode == 0, result.stderr
    assert '<pre><code class="language-python">x = 1\n</code></pre>' in page.read_text()
    assert "<span" not in page.read_text()

    (root / "ssg.toml").write_text("highlight = true\n")
    assert run_ssg("build", "-C", str(root)).returncode == 0
    assert '<span class="n">x</span>' in page.read_text()


def test_highlight_must_be_true_or_false(tmp_path):
    root = write_site(tmp_path / "s", {"ssg.toml": 'highlight = "no"\n', "routes/+page.html": "x"})
    result = run_ssg("build", "-C", str(root))
    assert result.returncode == 2
    assert "highlight must be true or false, not 'no'" in result.stderr
