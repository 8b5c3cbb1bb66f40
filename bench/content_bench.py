#!/usr/bin/env python3
"""How long the content layer takes per 1,000 pages of the shared benchmark corpus.

    .venv/bin/python bench/content_bench.py [--pages 1000] [--repeat 3]

Writes N posts with bench/make_corpus.py into a temporary site whose
content/posts/_collection.yaml routes them to /posts/[slug], then times, in one process:

  front matter   collection("posts"): list the folder, read every file, parse its YAML
                 (libyaml), check the schema, sort. No body is rendered.
  render         .html of every entry: markdown-it-py + Pygments, .md links resolved.
  cold total     both, from empty caches (what one `ssg build` pays).
  warm rebuild   a new Site in the same process with no file changed (the dev server):
                 every file is stat'ed, nothing is parsed or rendered again.

Medians of --repeat runs, each from empty caches, reported per 1,000 pages.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from ssg import config, context  # noqa: E402
from ssg.content import collection, store  # noqa: E402
from ssg.content.frontmatter import Loader  # noqa: E402
from ssg.site import Site  # noqa: E402

CORPUS = Path(__file__).resolve().parent / "make_corpus.py"


def make_site(root: Path, pages: int, corpus: Path) -> None:
    (root / "routes/posts/[slug]").mkdir(parents=True)
    (root / "routes/+page.html").write_text("home")
    (root / "routes/posts/[slug]/+page.html").write_text("{{ data.post.html }}")
    posts = root / "content/posts"
    subprocess.run([sys.executable, str(corpus), str(posts), "--pages", str(pages)], check=True, capture_output=True)
    (posts / "_collection.yaml").write_text(
        "route: /posts/[slug]\n"
        "fields:\n"
        "  title: {type: str, required: true}\n"
        "  date: {type: date, required: true}\n"
        "  tags: {type: 'list[str]', default: []}\n"
        "  draft: {type: bool, default: false}\n"
        "  description: str\n"
    )


def new_site(root: Path) -> Site:
    site = Site(config.load(root))
    context.activate(site)
    return site


def timed(fn) -> tuple[float, object]:
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def run_once(root: Path) -> dict[str, float]:
    store.reset()
    new_site(root)
    t_fm, posts = timed(lambda: list(collection("posts")))
    t_render, _ = timed(lambda: [p.html for p in posts])
    new_site(root)
    t_warm, _ = timed(lambda: [p.html for p in collection("posts")])
    return {"front matter": t_fm, "render": t_render, "cold total": t_fm + t_render, "warm rebuild": t_warm}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--corpus-script", type=Path, default=CORPUS)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "site"
        make_site(root, args.pages, args.corpus_script)
        runs = [run_once(root) for _ in range(args.repeat)]
    print(f"content layer, {args.pages} pages, median of {args.repeat} (YAML loader: {Loader.__name__})")
    for name in runs[0]:
        values = [r[name] for r in runs]
        median = statistics.median(values)
        per_1000 = median * 1000 / args.pages
        print(f"  {name:<13} {per_1000:7.3f} s per 1,000 pages  ({per_1000:.3f} ms/page; min {min(values) * 1000 / args.pages:.3f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
