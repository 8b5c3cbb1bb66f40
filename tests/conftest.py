"""Shared helpers: build a site folder in a subprocess-free way and read its output."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SITES = Path(__file__).resolve().parent / "sites"


def run_ssg(*args: str, cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run the real `ssg` command line in a child process and capture what it prints."""
    return subprocess.run(
        [sys.executable, "-m", "ssg.cli", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def site_copy(tmp_path):
    """Copy tests/sites/<name> into a temporary folder and return its path."""

    def copy(name: str) -> Path:
        target = tmp_path / name
        shutil.copytree(SITES / name, target)
        return target

    return copy
