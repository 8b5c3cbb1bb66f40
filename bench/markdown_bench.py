#!/usr/bin/env python3
"""Milliseconds per document for each Markdown engine, on the shared benchmark corpus.

    .venv/bin/python bench/markdown_bench.py [--pages 300] [--seed 1] [--repeat 5]

Writes N posts with bench/make_corpus.py, strips their front matter, and
times, in one process, rendering every body (with a link resolver and a page URL, as the
content store calls it):

  reference      MarkdownItEngine: markdown-it-py + ssg's rules + Pygments
  fast           FastEngine: markdown-it-pyrs where its output is the same, else reference
  pyrs alone     markdown_it_pyrs.render() with no ssg rules, no Pygments (the floor)
  pygments       highlight() of every fenced block (paid by both engines)

Medians of --repeat runs, engines interleaved. Also prints the share of documents on the
fast path (with the reasons the rest fell back) and checks both engines agree.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from ssg.content.fastmd import FastEngine  # noqa: E402
from ssg.content.frontmatter import parse  # noqa: E402
from ssg.content.markdown import MarkdownItEngine, highlight  # noqa: E402

CORPUS = Path(__file__).resolve().parent / "make_corpus.py"
FENCE = re.compile(r"^```(\w+)\n(.*?)^```$", re.M | re.S)


def bodies(pages: int, seed: int) -> list[str]:
    """The Markdown bodies of a generated corpus, front matter stripped."""
    with tempfile.TemporaryDirectory() as out:
        subprocess.run([sys.executable, str(CORPUS), out, "--pages", str(pages), "--seed", str(seed)], check=True, capture_output=True)
        files = sorted(Path(out).glob("*.md"))  # sorted: the same order on every machine
        return [parse(f.read_text("utf-8"), f.name)[2] for f in files]


def keep(href: str, line: int) -> str:
    return href


def time_per_doc(render: Callable[[str], object], docs: list[str]) -> float:
    started = time.perf_counter()
    for doc in docs:
        render(doc)
    return (time.perf_counter() - started) / len(docs) * 1000


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=300)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()

    docs = bodies(args.pages, args.seed)
    reference, fast = MarkdownItEngine(), FastEngine()
    fences = [(m.group(2), m.group(1)) for doc in docs for m in FENCE.finditer(doc)]
    runs: dict[str, Callable[[str], object]] = {
        "reference": lambda doc: reference.render(doc, links=keep, page_url="/posts/x/"),
        "fast": lambda doc: fast.render(doc, links=keep, page_url="/posts/x/"),
        "pyrs alone": fast.fast.render,
    }
    for render in runs.values():  # warm up: imports, lexers, regex caches
        render(docs[0])
    times: dict[str, list[float]] = {name: [] for name in [*runs, "pygments"]}
    for _ in range(args.repeat):
        for name, render in runs.items():
            times[name].append(time_per_doc(render, docs))
        started = time.perf_counter()
        for code, lang in fences:
            highlight(code, lang, "")
        times["pygments"].append((time.perf_counter() - started) / len(docs) * 1000)

    fast.stats.clear()
    same = sum(reference.render(d, links=keep, page_url="/p/") == fast.render(d, links=keep, page_url="/p/") for d in docs)
    words = sum(len(d.split()) for d in docs) / len(docs)
    print(f"{len(docs)} documents (seed {args.seed}), {words:.0f} words and {len(fences) / len(docs):.1f} code blocks each; median of {args.repeat} runs")
    for name, values in times.items():
        print(f"  {name:<11} {statistics.median(values):7.3f} ms/doc")
    ref_ms, fast_ms = statistics.median(times["reference"]), statistics.median(times["fast"])
    pyg = statistics.median(times["pygments"])
    print(f"  speed-up    {ref_ms / fast_ms:7.1f}x  (without Pygments: {(ref_ms - pyg) / (fast_ms - pyg):.1f}x)")
    print(f"  fast path   {fast.stats['fast']}/{len(docs)} documents; identical output: {same}/{len(docs)}")
    for reason, n in sorted(fast.stats.items()):  # sorted: a stable report
        if reason != "fast":
            print(f"    fell back: {reason}: {n}")
    return 0 if same == len(docs) else 1


if __name__ == "__main__":
    sys.exit(main())
