"""The site's own Python (lib/, params/, route files) as the dev server reloads it.

Route modules import site modules normally (`from lib.posts import ...`), so a saved
lib/posts.py is only seen once its entry in sys.modules is gone: `purge()` removes every
module of the site, never ssg's own nor an installed package's.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from pathlib import Path

SSG_DIR = Path(__file__).resolve().parent.parent


def is_site_file(root: Path, file: str) -> bool:
    """Whether a module file belongs to the site at root (not ssg, not a virtualenv inside it)."""
    path = Path(os.path.abspath(file))
    if not path.is_relative_to(root) or path.is_relative_to(SSG_DIR):
        return False
    return not any(p.startswith(".") or p in ("site-packages", "node_modules") for p in path.relative_to(root).parts)


def purge(root: Path) -> None:
    """Forget every imported module of the site, so the next import reads the saved code."""
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        files = [file] if file else list(getattr(module, "__path__", None) or [])  # namespace packages
        if files and all(is_site_file(root, f) for f in files):
            del sys.modules[name]
    importlib.invalidate_caches()


def folders(root: Path) -> set[str]:
    """The top-level folders of the site holding imported modules: "lib" for lib/posts.py."""
    found = set()
    for module in list(sys.modules.values()):
        file = getattr(module, "__file__", None)
        if file and is_site_file(root, file):
            parts = Path(os.path.abspath(file)).relative_to(root).parts
            if len(parts) > 1:
                found.add(parts[0])
    return found


def drop_bytecode(source: Path) -> None:
    """Remove a source's cached .pyc. Python trusts one whose recorded mtime (whole seconds)
    and size match the source, so two saves within a second could leave a stale one."""
    try:
        Path(importlib.util.cache_from_source(str(source))).unlink(missing_ok=True)
    except (OSError, ValueError, NotImplementedError):
        pass
