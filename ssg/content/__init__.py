"""The content layer: Markdown files with YAML front matter, read from content/.

    from ssg.content import collection, entry

    posts = collection("blog")            # content/blog/**/*.md, newest first, drafts left out
    post = posts.get("hello")             # by slug, or None
    page = entry("blog/hello.md")         # one file, by its path inside content/

Everything here reads through the active site's content store (see store.py): each file
is parsed once per build, bodies are rendered when first asked for, and every read is
recorded as a dependency of the page being rendered. User docs: docs/content.md.
"""

from __future__ import annotations

import posixpath

from ..context import active_site, record
from .collection import Collection, Page, paginate
from .entry import Entry
from .errors import ContentError
from .feeds import atom, rss
from .markdown import Heading, highlight_css, slugify
from .store import current, forget

__all__ = [
    "Collection",
    "ContentError",
    "Entry",
    "Heading",
    "Page",
    "atom",
    "collection",
    "entry",
    "forget",
    "highlight_css",
    "paginate",
    "rss",
    "slugify",
]


def collection(name: str) -> Collection:
    """Given a folder name below content/, return its entries as a Collection.

    Listing it (iterating, len(), tagged() ...) fails with ContentError naming every bad
    file (and its line) in the folder; `get(slug)` reads the one file it needs.
    """
    if not isinstance(name, str) or not name or name.startswith((".", "_")) or any(c in name for c in "/\\\x00"):
        raise ContentError("content/", None, f"collection() takes the name of a folder in content/, like 'blog', not {name!r}")
    store = current()
    if store.listed(name) or (store.root / "content" / name).is_dir():
        return Collection(name, store, drafts=store.drafts)  # listed when first needed
    return Collection(name, store, drafts=store.drafts, listing=store.listing(name))


def entry(path: str) -> Entry:
    """Given a .md file's path inside content/ ("blog/hello.md"), return its Entry.

    Unlike a collection, this returns drafts too: the file was asked for by name.
    """
    if not isinstance(path, str) or not path.endswith(".md"):
        raise ContentError("content/", None, f"entry() takes a .md path inside content/, like 'blog/hello.md', not {path!r}")
    clean = posixpath.normpath(path)
    if clean.startswith(("/", "../")) or clean == ".." or "\\" in path or "\x00" in path:
        raise ContentError("content/", None, f"entry() takes a path inside content/, not {path!r}")
    rel = f"content/{clean}"
    record(rel)  # also when missing: a load may catch the error, and the file may come
    if not (active_site().root / rel).is_file():
        hint = "Paths are relative to content/: drop the leading content/." if clean.startswith("content/") else None
        raise ContentError(rel, None, "does not exist", hint=hint)
    return current().entry(rel)
