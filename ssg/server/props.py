"""`entries()` props in `ssg serve`: a page listed as a `(params, props)` pair gets its props,
as at build time. Each route's entries() runs once and is kept until a file it read changes;
then only the pages whose props actually changed are affected.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import context
from ..entries import EntryError, to_entry
from ..failures import Failure, from_exception
from ..manifest import Route
from ..serialize import to_jsonable
from ..site import Site
from ..watch import Change
from .graph import hits


@dataclass(frozen=True)
class Listed:
    """What one route's entries() gave."""

    props: dict[str, Any]  # render key -> props, for (params, props) items
    deps: frozenset[str]
    failure: Failure | None = None


class Props:
    """Given the site root, run and keep each route's entries() (see the module docstring)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.listed: dict[str, Listed] = {}  # route id -> its entries()

    def get(self, site: Site, route: Route, key: str) -> tuple[Any, Failure | None]:
        """The props entries() gives this page (None if it gives none), or why entries() failed."""
        file = route.module or route.server
        if not route.dynamic or file is None:
            return None, None
        listed = self.listed.get(route.id)
        if listed is None:
            listed = self._run(site, route, file)
            if listed is None:
                return None, None
            self.listed[route.id] = listed
        return listed.props.get(key), listed.failure

    def refresh(self, site: Site, changes: list[Change]) -> set[str]:
        """Drop each entries() that read a changed file. Where it gave props, run it again now
        and return the keys whose props changed: only those pages depend on it."""
        affected: set[str] = set()
        for route_id, old in list(self.listed.items()):
            # A failed entries() read only part of what it meant to (a collection that did
            # not parse records nothing): any change may be the fix, so it runs again.
            if old.failure is None and not hits(changes, old.deps):
                continue
            del self.listed[route_id]
            route = site.manifest.by_id(route_id)
            if not old.props or route is None:
                continue  # plain params: no page's data came from it
            new = self._run(site, route, route.module or route.server)
            if new is None or new.failure is not None:
                affected.update(old.props)
                continue
            self.listed[route_id] = new
            for key in set(old.props) | set(new.props):
                if _fingerprint(old.props.get(key)) != _fingerprint(new.props.get(key)):
                    affected.add(key)
        return affected

    def drop(self, route_id: str) -> None:
        self.listed.pop(route_id, None)

    def clear(self) -> None:
        self.listed.clear()

    def _run(self, site: Site, route: Route, file: str) -> Listed | None:
        deps: set[str] = set()
        context.activate(site)
        with context.tracking(deps):
            try:
                module = site.modules.get(file)
            except Exception:
                return None  # an import error: respond() reports it for the page itself
            fn = getattr(module, "entries", None)
            if fn is None:
                return Listed({}, frozenset(deps))
            try:
                items = list(fn() or [])
            except Exception as exc:
                failure = from_exception(exc, self.root)
                failure = dataclasses.replace(failure, message=f"{file}: entries() failed: {failure.message}")
                return Listed({}, frozenset(deps), failure)
        props: dict[str, Any] = {}
        for item in items:
            try:
                entry = to_entry(route, item)
            except EntryError:
                continue  # the build reports it; the page itself still renders here
            if entry.props is not None:
                props[entry.path.rstrip("/") or "/"] = entry.props
        return Listed(props, frozenset(deps))


def _fingerprint(props: Any) -> str:
    """Props as comparable text: their JSON form (Entry and friends serialize themselves)."""
    try:
        return json.dumps(to_jsonable(props, "props"), sort_keys=True, default=str)
    except Exception:
        return f"<unserializable {id(props)}>"  # never equal to another version: reload
