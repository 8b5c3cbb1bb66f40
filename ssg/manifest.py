"""The route manifest: a pure function of the routes/ tree. It imports no user code.

`scan(root)` walks routes/, links each route to its layout chain and error pages, checks
names and conflicts, and returns routes sorted most specific first.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from . import route_ids
from .errors import ManifestError
from .route_ids import RouteId, RouteIdError

ROUTE_FILES = ("+error.html", "+layout.html", "+layout.py", "+page.html", "+page.py", "+server.py")


@dataclass(frozen=True)
class Layout:
    dir: str  # relative to the site root, e.g. "routes/(marketing)"
    template: str | None
    module: str | None


@dataclass(frozen=True)
class Route:
    id: str
    dir: str  # relative to the site root, e.g. "routes/blog/[slug]"
    rid: RouteId
    template: str | None  # +page.html
    module: str | None  # +page.py
    server: str | None  # +server.py
    layouts: tuple[Layout, ...]  # root first
    error_pages: tuple[str, ...]  # +error.html files on the chain, nearest first

    @property
    def kind(self) -> str:
        if self.template and self.server:
            return "page+endpoint"
        return "page" if self.template else "endpoint"

    @property
    def is_page(self) -> bool:
        return self.template is not None

    @property
    def dynamic(self) -> bool:
        return bool(self.rid.params)


@dataclass(frozen=True)
class Manifest:
    routes: tuple[Route, ...]  # most specific first
    root_error: str | None  # routes/+error.html, also written as 404.html
    root_layout: Layout | None

    def match(self, path: str, matches: Callable[[str, str], bool]) -> tuple[Route, dict[str, str]] | None:
        """Given a decoded path and a matcher check, return the route that serves it and its params."""
        for route in self.routes:
            params = route.rid.match(path)
            if params is None:
                continue
            if all(
                p.matcher is None or p.name not in params or matches(p.matcher, params[p.name])
                for p in route.rid.params
            ):
                return route, params
        return None

    def by_id(self, route_id: str) -> Route | None:
        return next((r for r in self.routes if r.id == route_id), None)


def _bad_segment(segments: list[str]) -> tuple[int, RouteIdError] | None:
    """Given the folder names below routes/, return the index and error of the first bad one."""
    for index, seg in enumerate(segments):
        if not route_ids.is_group(seg):
            try:
                route_ids.parse_segment(seg)
            except RouteIdError as exc:
                return index, exc
    return None


def scan(root: Path) -> Manifest:
    """Given a site folder, return its Manifest, or raise ManifestError listing every problem."""
    routes_dir = root / "routes"
    if not routes_dir.is_dir():
        raise ManifestError([f"{routes_dir}: no routes/ folder; create routes/+page.html to begin"])
    problems: list[str] = []
    folders: dict[str, set[str]] = {}
    # Walk in sorted order so the manifest (and every message) is the same on every machine.
    for dirpath, dirnames, filenames in os.walk(routes_dir):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d != "__pycache__")
        rel = Path(dirpath).relative_to(root).as_posix()
        names = set()
        for name in sorted(filenames):
            if not name.startswith("+"):
                continue  # other files may sit beside routes (styles, helpers); they are not routes
            if name in ROUTE_FILES:
                names.add(name)
                continue
            import difflib  # only for a message: not on every build's path

            close = difflib.get_close_matches(name.lower(), ROUTE_FILES, n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]}?" if close else f"; route files are {', '.join(ROUTE_FILES)}"
            problems.append(f"{rel}/{name}: not a route file{hint}")
        folders[rel] = names

    layouts: dict[str, Layout] = {}
    for rel, names in folders.items():
        if "+layout.html" in names or "+layout.py" in names:
            layouts[rel] = Layout(
                rel,
                f"{rel}/+layout.html" if "+layout.html" in names else None,
                f"{rel}/+layout.py" if "+layout.py" in names else None,
            )

    routes: list[Route] = []
    for rel, names in sorted(folders.items()):
        segments = rel.split("/")[1:]
        bad = _bad_segment(segments)
        if bad is not None:
            index, exc = bad
            if index == len(segments) - 1:
                problems.append(f"{rel}: {exc}")  # reported once, by the folder itself, not by those inside
            continue
        if not names & {"+page.html", "+page.py", "+server.py"}:
            continue
        if "+page.py" in names and "+page.html" not in names and "+server.py" not in names:
            problems.append(f"{rel}/+page.py has no +page.html beside it; add the template (or a +server.py)")
            continue
        route_id = "/" + "/".join(segments)
        try:
            rid = route_ids.parse(route_id)
        except RouteIdError as exc:
            problems.append(f"{rel}: {exc}")
            continue
        for param in rid.params:
            if param.matcher and not (root / "params" / f"{param.matcher}.py").is_file():
                problems.append(f"{rel}: matcher {param.matcher!r} needs params/{param.matcher}.py with match(value) -> bool")
        chain = ["/".join(rel.split("/")[: i + 1]) for i in range(len(rel.split("/")))]
        routes.append(
            Route(
                id=route_id,
                dir=rel,
                rid=rid,
                template=f"{rel}/+page.html" if "+page.html" in names else None,
                module=f"{rel}/+page.py" if "+page.py" in names else None,
                server=f"{rel}/+server.py" if "+server.py" in names else None,
                layouts=tuple(layouts[d] for d in chain if d in layouts),
                error_pages=tuple(f"{d}/+error.html" for d in reversed(chain) if "+error.html" in folders.get(d, ())),
            )
        )

    # Two routes with the same shape can never be told apart: /blog/[a] and /(x)/blog/[b].
    by_shape: dict[str, Route] = {}
    for route in routes:
        other = by_shape.setdefault(route.rid.shape, route)
        if other is not route:
            problems.append(
                f"{other.dir} and {route.dir} conflict: both match the same paths ({other.id} and {route.id});"
                " remove or rename one"
            )

    if problems:
        raise ManifestError(problems)
    # Most specific first, in SvelteKit's order; the rank breaks ties by id, so the order is total.
    routes.sort(key=lambda r: r.rid.rank)
    root_names = folders.get("routes", set())
    return Manifest(
        routes=tuple(routes),
        root_error="routes/+error.html" if "+error.html" in root_names else None,
        root_layout=layouts.get("routes"),
    )
