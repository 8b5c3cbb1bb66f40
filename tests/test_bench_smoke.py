"""bench/run.py still works: a 20-page bench, one run, no peers, gives a well-formed report.

Correctness only: no timing is asserted (the bench itself is `make bench`, never part of
the test suite).
"""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import REPO


def test_bench_runs_on_a_tiny_corpus(tmp_path):
    report_file = tmp_path / "results" / "latest.json"
    result = subprocess.run(
        [sys.executable, str(REPO / "bench" / "run.py"), "--pages", "20", "--runs", "1", "--jobs", "1", "--editable",
         "--root", str(tmp_path / "root"), "--out-root", str(tmp_path / "out"), "--json", str(report_file)],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr + result.stdout
    report = json.loads(report_file.read_text())
    assert report["ok"] and report["ratios"] == [] and report["hugo"] is None
    assert report["settings"]["pages"] == [20] and report["settings"]["jobs"] == [1]
    kinds = [(r["tool"], r["pages"], r["jobs"], r["kind"]) for r in report["results"]]
    assert kinds == [("ssg", 20, 1, "cold"), ("ssg", 20, 1, "no-change"), ("ssg", 20, 1, "one-edit")]
    for series in report["results"]:
        (run,) = series["runs"]
        assert run["rc"] == 0 and run["check"] == "ok", run
        # an index, 20 posts and the tag pages the crawl found; a JSON endpoint per post
        assert run["counts"]["post_pages"] == 20 and run["counts"]["json"] == 20
        assert series["html_pages"] > 21 and run["counts"]["data_files"] == series["html_pages"]
        assert series["median_wall_s"] > 0 and series["peak_rss_largest_process_mib"] > 0
        assert series["peak_rss_tree_sum_mib"] >= series["peak_rss_largest_process_mib"]
    assert "one-edit" in result.stdout and report_file.with_suffix(".txt").is_file()
    assert not (tmp_path / "out").exists(), "build outputs are removed after the bench"
