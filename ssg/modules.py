"""Import route files (`+page.py`, `+layout.py`, `+server.py`) and matchers by path.

Their names are not importable, so each gets a private module name derived from its path.
Modules are cached per build; `forget()` drops them when a source changes (dev server).
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
import types
from pathlib import Path
from typing import Any

from .context import record
from .errors import SsgError, exit_called

METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")
PAGE_OPTIONS = ("prerender", "trailing_slash")


class ModuleError(SsgError):
    """A route module that fails to import or exports the wrong things."""

    def __init__(self, file: str, message: str, *, line: int | None = None, cause: BaseException | None = None) -> None:
        self.file = file
        self.line = line
        self.cause = cause
        where = f"{file}:{line}" if line else file
        super().__init__(f"{where}: {message}")


class Modules:
    """Imports the site's route files once each, given the site root."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._cache: dict[str, types.ModuleType] = {}
        # The site root is on sys.path so shared code lives in ordinary modules (lib/posts.py).
        if str(root) not in sys.path:
            sys.path.insert(0, str(root))

    def get(self, rel: str) -> types.ModuleType:
        """Given a path relative to the site root, return the imported module."""
        record(rel)
        module = self._cache.get(rel)
        if module is None:
            module = self._cache[rel] = self._import(rel)
        return module

    def forget(self, rel: str | None = None) -> None:
        if rel is None:
            self._cache.clear()
        else:
            self._cache.pop(rel, None)

    def _import(self, rel: str) -> types.ModuleType:
        path = self.root / rel
        name = "ssg_site_" + hashlib.sha1(rel.encode()).hexdigest()[:12]
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec and spec.loader  # a .py file path always yields a spec
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except SyntaxError as exc:
            sys.modules.pop(name, None)
            raise _syntax_error(self.root, rel, path, exc) from exc
        except (Exception, SystemExit) as exc:  # sys.exit() at import: the module's error, not the build's end
            sys.modules.pop(name, None)
            raise ModuleError(rel, f"failed to import: {type(exc).__name__}: {exc}", cause=exc) from exc
        _check_exports(rel, module)
        return module

    def matcher(self, name: str):
        module = self.get(f"params/{name}.py")
        match = getattr(module, "match", None)
        if not callable(match):
            raise ModuleError(f"params/{name}.py", "a matcher file must define match(value) -> bool")

        def checked(value: str) -> Any:
            try:
                return match(value)
            except SystemExit as exc:  # the error of the path matched, not the build's end
                raise exit_called(exc) from None

        return checked


def _syntax_error(root: Path, rel: str, path: Path, exc: SyntaxError) -> ModuleError:
    """Name the file the syntax error is in: the route module, or a module it imports."""
    own, site = path.resolve(), root.resolve()
    where = Path(exc.filename).resolve() if exc.filename and Path(exc.filename).is_file() else own
    if where == own:  # the module itself, or code it compiled at run time ("<string>")
        return ModuleError(rel, f"syntax error: {exc.msg}", line=exc.lineno, cause=exc)
    if where.is_relative_to(site):
        return ModuleError(where.relative_to(site).as_posix(), f"syntax error: {exc.msg} (imported by {rel})", line=exc.lineno, cause=exc)
    return ModuleError(rel, f"syntax error in {where}:{exc.lineno}: {exc.msg}", cause=exc)


def _check_exports(rel: str, module: types.ModuleType) -> None:
    kind = Path(rel).name
    if kind in ("+page.py", "+layout.py"):
        load = getattr(module, "load", None)
        if load is not None and not callable(load):
            raise ModuleError(rel, "load must be a function load(event)")
        stray = sorted(m for m in METHODS if hasattr(module, m))
        if stray:
            raise ModuleError(rel, f"{', '.join(stray)} belongs in +server.py, not {kind}")
        trailing = getattr(module, "trailing_slash", "always")
        if trailing not in ("always", "never"):
            raise ModuleError(rel, f'trailing_slash must be "always" or "never", not {trailing!r}')
    if kind == "+server.py":
        if not any(callable(getattr(module, m, None)) for m in METHODS):
            raise ModuleError(rel, f"+server.py must define at least one of {', '.join(METHODS)}")
    entries = getattr(module, "entries", None)
    if entries is not None and not callable(entries):
        raise ModuleError(rel, "entries must be a function returning a list of params dicts")
