"""The benchmark corpus: content/posts/*.md, read through ssg.content."""

from __future__ import annotations

from ssg.content import Collection, collection


def posts() -> Collection:
    """Every post, newest first."""
    return collection("posts")
