"""Write a small site from a dict of files and render paths from it in-process."""

from __future__ import annotations

import asyncio
import json
import sys
import textwrap
from pathlib import Path

from ssg import config, context
from ssg.content import diskcache
from ssg.respond import Rendered, respond
from ssg.site import Site

LAYOUT = "<main>{{ slot }}</main>"


def write_site(root: Path, files: dict[str, str]) -> Path:
    """Given {relative path: text}, write the files (dedented) under root and return root."""
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), "utf-8")
    return root


def open_site(root: Path, **overrides) -> Site:
    # Each test site has its own lib/ modules; drop any of another test's from the cache.
    for name in [n for n, m in sys.modules.items() if (getattr(m, "__file__", "") or "").startswith(str(root.parent))]:
        del sys.modules[name]
    cfg = config.load(root)
    if overrides:
        cfg = cfg.replace(**overrides)
    site = Site(cfg)
    context.activate(site)
    return site


def render(site: Site, path: str, **kwargs) -> Rendered:
    async def go() -> Rendered:
        try:
            return await respond(site, path, **kwargs)
        finally:
            await site.aclose()

    return asyncio.run(go())


def saved_records(root: Path) -> dict:
    """Every front matter record the content cache saved: files.json, then the lines of its
    journal (files.journal) in order, as the next process reads them."""
    folder = root / ".ssg-cache" / "content"
    records: dict = {}
    if (folder / "files.json").is_file():
        records.update(json.loads(diskcache.unseal((folder / "files.json").read_bytes()).tobytes())["files"])
    for line in journal_lines(root):
        records.update(line["files"])
    return records


def journal_lines(root: Path) -> list[dict]:
    """The lines of the content cache's journal (files.journal), decoded."""
    journal = root / ".ssg-cache/content/files.journal"
    return [json.loads(diskcache.unseal(line).tobytes()) for line in journal.read_bytes().splitlines()] if journal.is_file() else []


def replace_records(root: Path, records: dict) -> None:
    """Write files.json whole with these records (and no journal), as a damaged cache might hold them."""
    folder = root / ".ssg-cache" / "content"
    key = None
    if (folder / "files.json").is_file():
        key = json.loads(diskcache.unseal((folder / "files.json").read_bytes()).tobytes())["key"]
    if (folder / "files.journal").is_file():
        key = journal_lines(root)[-1]["key"]
    (folder / "files.json").write_bytes(diskcache.seal(json.dumps({"key": key, "files": records}).encode()))
    (folder / "files.journal").unlink(missing_ok=True)
