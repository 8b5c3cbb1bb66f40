"""The documented CI recipe is a valid workflow that builds the way docs/publishing.md says."""

from pathlib import Path

import yaml

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_github_pages_workflow_builds_reproducibly_with_base_path():
    workflow = yaml.safe_load((DOCS / "examples/github-pages.yml").read_text())
    steps = workflow["jobs"]["build"]["steps"]
    build = next(step for step in steps if step.get("name") == "Build")["run"]
    assert 'SOURCE_DATE_EPOCH="$(git log -1 --format=%ct)"' in build
    assert "--base-path" in build and "ssg build" in build
    uses = [step.get("uses", "") for job in workflow["jobs"].values() for step in job["steps"]]
    assert any(u.startswith("actions/upload-pages-artifact") for u in uses)
    assert any(u.startswith("actions/deploy-pages") for u in uses)
    assert workflow["permissions"] == {"contents": "read", "pages": "write", "id-token": "write"}
    # The content cache is restored before the build (and saved after it).
    cache = next(i for i, step in enumerate(steps) if step.get("uses", "").startswith("actions/cache"))
    assert steps[cache]["with"]["path"] == ".ssg-cache"
    assert cache < next(i for i, step in enumerate(steps) if step.get("name") == "Build")
