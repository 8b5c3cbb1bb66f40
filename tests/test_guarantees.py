"""SPEC §5 Guarantees and §8: atomic, deterministic, and what `ssg build` tells a person.

Every build here runs the real command line in a child process.
"""

from __future__ import annotations

import io
import json
import os
import pty
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import REPO, SITES, run_ssg

from ssg.output import Writer
from ssg.report import Progress

EPOCH = "1700000000"  # 2023-11-14T22:13:20Z


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("GITHUB_ACTIONS", "SOURCE_DATE_EPOCH")}
    return {**env, **extra}


def build(site: Path, out: Path, *args: str, env: dict[str, str] | None = None):
    return run_ssg("build", "-C", str(site), "--out", str(out), *args, env=env or clean_env())


def snapshot(folder: Path) -> dict[str, bytes | None]:
    """Every file's bytes (and every folder, as None) below `folder`, by relative path."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() if p.is_file() else None for p in sorted(folder.rglob("*"))}


def leftovers(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if ".staging-" in p.name or ".old-" in p.name)


# -- Atomic ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def previous_output(tmp_path_factory) -> Path:
    """A finished build of tests/sites/blog: the output a later, failing build must not touch."""
    root = tmp_path_factory.mktemp("previous")
    site = shutil.copytree(SITES / "blog", root / "blog")
    result = build(site, root / "out")
    assert result.returncode == 0, result.stderr
    return root / "out"


@pytest.mark.parametrize(
    "broken",
    ["broken-link", "load-404", "missing-id", "unseen-route", "prerender-false", "load-exception", "unserializable",
     "unsafe-entries", "unsafe-links", "collision", "matcher-raises", "import-error", "manifest-error", "config-error"],
)
def test_failed_build_leaves_the_previous_output_exactly_as_it_was(previous_output, site_copy, tmp_path, broken):
    out = shutil.copytree(previous_output, tmp_path / "out")
    before = snapshot(out)
    result = build(site_copy(broken), out)
    assert result.returncode in (1, 2), result.stderr
    assert snapshot(out) == before
    assert leftovers(tmp_path) == []


def start_slow_build(site: Path, out: Path, marker: Path, *args: str) -> subprocess.Popen:
    """Start `ssg build` on tests/sites/slow-load and return once its slow load is running."""
    child = subprocess.Popen(
        # --fresh: the slow page must render, not be reused from the first build's cache.
        [sys.executable, "-m", "ssg.cli", "build", "-C", str(site), "--out", str(out), "--fresh", *args],
        env=clean_env(SLOW_LOAD_MARKER=str(marker)), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    # The slow load writes the marker, then sleeps for a minute: the test stops the build mid-way.
    deadline = time.monotonic() + 60
    while not marker.exists():
        if child.poll() is not None or time.monotonic() > deadline:
            child.kill()
            pytest.fail(f"the slow load never began: {child.communicate()[1]}")
        time.sleep(0.01)
    return child


@pytest.fixture
def slow_site(site_copy, tmp_path):
    """tests/sites/slow-load built once into tmp/out, then changed: (site, out, previous output)."""
    site = site_copy("slow-load")
    out = tmp_path / "out"
    assert build(site, out).returncode == 0
    # The slow page is reached only through the crawl of /, so / is written before it loads.
    (site / "routes" / "+page.html").write_text('<h1>Changed</h1> <a href="/slow/1/">Slow</a>\n')
    return site, out, snapshot(out)


def test_killed_build_leaves_the_previous_output_and_the_next_build_recovers(slow_site, tmp_path):
    site, out, before = slow_site
    child = start_slow_build(site, out, tmp_path / "slow-load-started")
    child.send_signal(signal.SIGKILL)
    child.communicate(timeout=30)
    assert child.returncode == -signal.SIGKILL

    assert snapshot(out) == before, "a killed build must leave the previous output byte for byte"
    (staging,) = leftovers(tmp_path)
    assert "<h1>Changed</h1>" in (tmp_path / staging / "index.html").read_text(), "killed mid-build, after writing /"

    result = build(site, out)
    assert result.returncode == 0, result.stderr
    assert "<h1>Changed</h1>" in (out / "index.html").read_text()
    assert (out / "slow" / "1" / "index.html").is_file()
    assert leftovers(tmp_path) == [], "the next build cleans up what the killed one left"


def test_interrupted_build_cleans_up_and_leaves_the_previous_output(slow_site, tmp_path):
    site, out, before = slow_site
    report = tmp_path / "reports/build.json"  # made (empty) before the build, to check it can be
    child = start_slow_build(site, out, tmp_path / "slow-load-started", "--report", str(report))
    child.send_signal(signal.SIGINT)  # Ctrl-C
    _, stderr = child.communicate(timeout=30)
    assert child.returncode == 130
    assert "interrupted; the previous output is untouched" in stderr
    assert snapshot(out) == before
    assert leftovers(tmp_path) == []
    assert not report.exists()


def children_of(pid: int) -> list[int]:
    try:
        return [int(n) for n in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def running(pid: int) -> bool:
    """Whether a process runs (a zombie no one reaped yet does not)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] not in ("Z", "X")
    except OSError:
        return False


@pytest.mark.parametrize("later", [0, 0.15, 0.4])
@pytest.mark.parametrize("build", ["first", "after every post's time stamp changed"])
def test_ctrl_c_while_a_build_parses_on_its_processes_ends_it_cleanly(tmp_path, later, build):
    """A build of a big site parses its content on forked processes: a first build before
    it has imported its renderer, a later one (here every file looks changed, as after a
    CI checkout) in its collection scan. Ctrl-C once they run, or a little later (an
    import, a fork, the parse, the scan waiting for it, the render) ends the build with
    130 and its one line: no traceback, no process left behind, no hang, the output as it was."""
    site = shutil.copytree(REPO / "bench" / "site_template", tmp_path / "site")  # posts, tags, an endpoint per post
    for i in range(1000):
        (site / f"content/posts/p{i:03}.md").write_text(
            f"---\ntitle: Post {i}\ndate: 2024-01-{i % 28 + 1:02}\ntags: [t{i % 5}]\ndescription: Post {i}.\n---\nBody {i}.\n"
        )
    out = tmp_path / "out"
    if build != "first":
        assert run_ssg("build", "-C", str(site), "--out", str(out), "--jobs", "2", env=clean_env()).returncode == 0
    before = snapshot(out) if out.exists() else None
    for attempt in range(3):
        if build == "first":
            shutil.rmtree(site / ".ssg-cache", ignore_errors=True)  # no parsed front matter yet
        else:
            for post in (site / "content/posts").glob("*.md"):
                os.utime(post)  # a new time stamp, the same bytes
            with open(site / "routes/+layout.html", "a") as layout:
                layout.write(f"<!-- {attempt} -->\n")  # and every page to render again: a build long enough to stop
        child = subprocess.Popen(
            [sys.executable, "-m", "ssg.cli", "build", "-C", str(site), "--out", str(tmp_path / "out"), "--jobs", "2"],
            env=clean_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )
        deadline = time.monotonic() + 30
        while not (started := children_of(child.pid)) and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.002)
        time.sleep(later)
        started += children_of(child.pid)
        ended = child.poll() is not None
        child.send_signal(signal.SIGINT)
        _, stderr = child.communicate(timeout=30)
        if not started or ended:
            continue  # it finished before a process of it was seen, or before the signal: try again
        assert child.returncode == 130, stderr
        assert not any(running(pid) for pid in started), "its processes ended with it"
        assert leftovers(tmp_path) == []
        if stderr.strip() == "interrupted once the new output was in place":  # all reused: it got that far
            assert build != "first" and (out / "index.html").is_file()
        else:
            assert stderr.strip() == "interrupted; the previous output is untouched"
            assert (snapshot(out) if out.exists() else None) == before
        return
    pytest.fail("no build was seen with its processes running")


def test_interrupts_held_raises_ctrl_c_once_the_block_ends():
    from ssg.interrupts import interrupts_held

    finished = False
    with pytest.raises(KeyboardInterrupt):
        with interrupts_held():
            os.kill(os.getpid(), signal.SIGINT)  # held: the block goes on
            finished = True
    assert finished


@pytest.mark.parametrize("stop", ["SIGTERM", "Ctrl-C twice"])
def test_sigterm_and_a_second_ctrl_c_clean_up_as_one_ctrl_c_does(slow_site, tmp_path, stop):
    """A cancelled CI job sends SIGTERM; an impatient person presses Ctrl-C again while the
    build cleans up. Either way: the one line, the previous output, nothing left beside it."""
    site, out, before = slow_site
    child = start_slow_build(site, out, tmp_path / "slow-load-started")
    if stop == "SIGTERM":
        child.send_signal(signal.SIGTERM)
    else:
        child.send_signal(signal.SIGINT)
        time.sleep(0.005)
        child.send_signal(signal.SIGINT)
    _, stderr = child.communicate(timeout=30)
    assert child.returncode == (143 if stop == "SIGTERM" else 130), stderr
    assert stderr.strip() == "interrupted; the previous output is untouched"
    assert snapshot(out) == before
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("stops, code", [((signal.SIGINT,), 130), ((signal.SIGTERM,), 143), ((signal.SIGTERM, signal.SIGINT), 130)])
def test_a_stop_held_while_the_output_moves_in_lands_once_it_is_in_place(tmp_path, stops, code):
    """Sent before the build began and held (blocked) until it puts its output in place,
    Ctrl-C or SIGTERM lands right after: the new output is there, and the line says so.
    Both at once: the first handled (Ctrl-C: the lower number) stops it, the other is
    let go quietly."""
    site = shutil.copytree(SITES / "blog", tmp_path / "blog")
    numbers = ", ".join(str(int(stop)) for stop in stops)
    starter = (f"import os, signal, sys; signal.pthread_sigmask(signal.SIG_BLOCK, {{{numbers}}}); "
               f"[os.kill(os.getpid(), n) for n in ({numbers},)]; os.execv(sys.executable, [sys.executable, *sys.argv[1:]])")
    result = subprocess.run([sys.executable, "-c", starter, "-m", "ssg.cli", "build", "-C", str(site), "--out", str(tmp_path / "out")],
                            env=clean_env(), capture_output=True, text=True)
    assert result.returncode == code, result.stderr
    assert result.stderr.strip() == "interrupted once the new output was in place"
    assert (tmp_path / "out" / "index.html").is_file() and leftovers(tmp_path) == []


def test_ctrl_c_held_while_the_output_is_put_in_place_says_it_is_in_place():
    """Ctrl-C while the output moves in lands once it is there: the message must not say
    the previous output is untouched. A Ctrl-C during a failing step is plain."""
    from ssg.errors import InterruptedAfterOutput
    from ssg.output import signals_held

    with pytest.raises(InterruptedAfterOutput):
        with signals_held():
            os.kill(os.getpid(), signal.SIGINT)  # held until the block ends
            moved_in = True
    assert moved_in
    with pytest.raises(KeyboardInterrupt) as raised:
        with signals_held():
            os.kill(os.getpid(), signal.SIGINT)
            raise OSError("the move failed")
    assert type(raised.value) is KeyboardInterrupt


def test_a_new_build_removes_dead_builds_staging_but_not_a_running_ones(tmp_path):
    out = tmp_path / "out"
    dead = tmp_path / ".out.staging-999999999"  # above Linux's pid_max: no such process
    running = tmp_path / f".out.staging-{os.getppid()}"  # the process that started pytest
    for folder in (dead, running):
        folder.mkdir()
        (folder / "index.html").write_text("half written")
    writer = Writer(out)
    writer.start()
    writer.write("index.html", b"new")
    writer.commit()
    assert not dead.exists()
    assert (running / "index.html").read_text() == "half written", "another build still writes there"
    assert (out / "index.html").read_bytes() == b"new"


# -- Deterministic -----------------------------------------------------------------------------

# Runs `ssg build` with every directory listing reversed: os.walk, os.scandir and
# os.listdir return their entries in the opposite of the file system's order.
REVERSED_LISTINGS = """
import os
import sys

_scandir, _listdir = os.scandir, os.listdir


class _Reversed:
    def __init__(self, it):
        self._it = it
        self._entries = iter(list(it)[::-1])

    def __iter__(self):
        return self

    def __next__(self):
        return next(self._entries)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._it.close()

    def close(self):
        self._it.close()


os.scandir = lambda path=".": _Reversed(_scandir(path))
os.listdir = lambda path=".": _listdir(path)[::-1]

from ssg.cli import main

sys.exit(main(sys.argv[1:]))
"""


def copy_in_order(source: Path, target: Path, *, reverse: bool) -> Path:
    """Copy a site, creating its folders and files in sorted or reversed order."""
    files = sorted(p for p in source.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    for src in reversed(files) if reverse else files:
        dst = target / src.relative_to(source)
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dst)
    return target


def test_demo_site_builds_byte_identical_across_hash_seed_time_zone_locale_and_jobs(tmp_path):
    first = build(REPO, tmp_path / "a", "--jobs", "1",
                  env=clean_env(SOURCE_DATE_EPOCH=EPOCH, PYTHONHASHSEED="1", TZ="UTC", LC_ALL="C"))
    second = build(REPO, tmp_path / "b", "--jobs", "8",
                   env=clean_env(SOURCE_DATE_EPOCH=EPOCH, PYTHONHASHSEED="2", TZ="Pacific/Kiritimati", LC_ALL="C.UTF-8"))
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    a, b = snapshot(tmp_path / "a"), snapshot(tmp_path / "b")
    assert len(a) > 20
    assert a == b


def test_fixture_site_builds_byte_identical_whatever_the_directory_order(tmp_path):
    # Sets in the data, entries() in set order, nested static folders, _headers, _redirects.
    runs = []
    for name, reverse, seed, tz, jobs in (("a", False, "0", "UTC", "1"), ("b", True, "12345", "America/New_York", "8")):
        site = copy_in_order(SITES / "determinism", tmp_path / name / "site", reverse=reverse)
        args = ["build", "-C", str(site), "--out", str(tmp_path / name / "out"), "--jobs", jobs]
        command = [sys.executable, "-c", REVERSED_LISTINGS, *args] if reverse else [sys.executable, "-m", "ssg.cli", *args]
        result = subprocess.run(command, env=clean_env(SOURCE_DATE_EPOCH=EPOCH, PYTHONHASHSEED=seed, TZ=tz),
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        runs.append(snapshot(tmp_path / name / "out"))
    a, b = runs
    assert {"_headers", "_redirects", "sitemap.xml", "z/y/x.txt", "tags/python/__data.json"} <= set(a)
    assert a == b


def test_time_stamps_come_from_source_date_epoch(tmp_path):
    # Kiritimati is UTC+14: a local date would already be the 15th.
    result = build(REPO, tmp_path / "out", env=clean_env(SOURCE_DATE_EPOCH=EPOCH, TZ="Pacific/Kiritimati"))
    assert result.returncode == 0, result.stderr
    out = tmp_path / "out"
    for data_file in out.rglob("__data.json"):
        assert '"generated_at":"2023-11-14T22:13:20Z"' in data_file.read_text(), data_file
    lastmods = re.findall(r"<lastmod>([^<]*)</lastmod>", (out / "sitemap.xml").read_text())
    assert lastmods and set(lastmods) == {"2023-11-14"}


# -- What the build tells a person -------------------------------------------------------------


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_on_a_terminal_shows_done_queued_and_rate():
    stream = FakeTerminal()
    progress = Progress(stream)
    progress(1, 10)
    progress(10, 10)  # the last update always shows, however soon it comes
    progress.clear()
    text = stream.getvalue()
    assert re.search(r"\r  rendering 1/10 paths  [\d,]+/s", text)
    assert re.search(r"\r  rendering 10/10 paths  [\d,]+/s", text)
    assert text.endswith("\r\033[K"), "the progress line is cleared before the summary"


def test_progress_is_silent_when_not_a_terminal():
    stream = io.StringIO()
    progress = Progress(stream)
    progress(10, 10)
    progress.clear()
    assert stream.getvalue() == ""


SUMMARY = re.compile(
    r"^  (\d+) pages, (\d+) data files, (\d+) endpoints, (\d+) redirects, (\d+) static files, "
    r"(\d+) warnings, (\d+) errors in \d+\.\d\ds$",
    re.M,
)


def test_build_on_a_real_terminal_shows_progress_then_the_summary(tmp_path):
    controller, terminal = pty.openpty()
    child = subprocess.Popen(
        [sys.executable, "-m", "ssg.cli", "build", "-C", str(REPO), "--out", str(tmp_path / "out")],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=terminal, env=clean_env(),
    )
    os.close(terminal)
    chunks = []
    while True:
        try:
            chunk = os.read(controller, 4096)
        except OSError:  # EIO: the child exited and closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(controller)
    assert child.wait(timeout=60) == 0
    text = b"".join(chunks).decode().replace("\r\n", "\n")
    assert re.search(r"\r  rendering \d+/\d+ paths", text)
    assert SUMMARY.search(text)


def test_summary_counts_pages_data_files_endpoints_redirects_warnings_and_time(tmp_path):
    out = tmp_path / "out"
    result = build(REPO, out, "--report", str(tmp_path / "report.json"))
    assert result.returncode == 0, result.stderr
    assert "rendering" not in result.stderr, "no progress line when stderr is not a terminal"
    assert result.stderr.startswith(f"built {out}\n")
    kinds = [page["kind"] for page in json.loads((tmp_path / "report.json").read_text())["pages"]]
    expected = (
        kinds.count("page"),
        len(list(out.rglob("__data.json"))),
        kinds.count("endpoint"),
        len((out / "_redirects").read_text().splitlines()),
        len([p for p in (REPO / "static").rglob("*") if p.is_file()]),
        0,
        0,
    )
    assert expected[0] > 5 and expected[2] > 0 and expected[3] > 0
    assert SUMMARY.search(result.stderr).groups() == tuple(str(n) for n in expected)


def test_summary_of_a_failed_build_counts_warnings_and_errors(site_copy, tmp_path):
    site = site_copy("missing-id")
    (site / "ssg.toml").write_text('[prerender]\non_missing_id = "warn"\n')
    (site / "routes" / "+page.html").write_text('<a href="/page/#nope">x</a> <a href="/nowhere/">y</a>\n')
    result = build(site, tmp_path / "out")
    assert result.returncode == 1
    assert f"build failed with 1 error(s); {tmp_path / 'out'} left as it was" in result.stderr
    assert SUMMARY.search(result.stderr).groups() == ("2", "2", "0", "0", "0", "1", "1")


def test_a_stopped_pools_manager_thread_is_not_heard_from(monkeypatch):
    """Ctrl-C kills a pool's processes (stop_pool); Python 3.11's thread that manages the
    pool may then raise while it tidies up, which would print a traceback after the
    build's one line. Other threads' exceptions are still heard of."""
    import threading
    from types import SimpleNamespace

    from ssg.content.diskcache import process_pool, stop_pool

    heard = []
    monkeypatch.setattr(threading, "excepthook", lambda args: heard.append(args.thread))
    pool = process_pool(1)
    pool.submit(time.sleep, 5)
    manager = pool._executor_manager_thread
    stop_pool(pool)
    for thread in (manager, threading.current_thread()):
        threading.excepthook(SimpleNamespace(exc_type=RuntimeError, exc_value=RuntimeError("tripped"), exc_traceback=None, thread=thread))
    assert heard == [threading.current_thread()]
