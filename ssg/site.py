"""A site as a build or the dev server sees it: config, manifest, modules and templates."""

from __future__ import annotations

import datetime
import os
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from . import manifest as manifest_mod
from .config import Config
from .context import option_of, record, record_all, tracking
from .manifest import Manifest, Route
from .modules import Modules
from .templates import Templates


# Folders ssg reads a site from (the output must not replace or sit inside one of them).
SOURCE_DIRS = ("routes", "static", "content", "params", "templates")


class Site:
    """Given a validated Config, everything needed to respond to a path."""

    def __init__(self, config: Config, *, now: datetime.datetime | None = None) -> None:
        self.config = config
        self.root = config.root
        self.manifest: Manifest = manifest_mod.scan(self.root)
        self.modules = Modules(self.root)
        # The site's Markdown options, before anything renders (build, serve and tests alike).
        from .content.markdown import configure

        configure(highlight=config.highlight)
        self.templates = Templates(self.root, url=self.url, asset=self.asset, preload=config.preload)
        self.generated_at = (now or build_time()).isoformat().replace("+00:00", "Z")
        self._client = None
        # Answers that depend only on the routes and their modules (see remembered).
        self._memo: dict[tuple, tuple[Any, tuple[str, ...]]] = {}
        self.jobs = 1  # processes the build renders on (content scans use as many); set by build()

    # -- matching ---------------------------------------------------------------------------

    def match(self, path: str) -> tuple[Route, dict[str, str]] | None:
        """Given a decoded path without the base path, return (route, params) or None."""
        return self.manifest.match(path, lambda name, value: bool(self.modules.matcher(name)(value)))

    def option(self, route: Route, name: str) -> Any:
        """A page option (`prerender`, `trailing_slash`): the page's, else the nearest layout's, else config."""
        return self.remembered(("option", route.id, name), lambda: self._option(route, name))

    def _option(self, route: Route, name: str) -> Any:
        files = [route.module, route.server] + [layout.module for layout in reversed(route.layouts)]
        for rel in files:
            if rel is not None:
                module = self._module_for_option(rel, name)
                if hasattr(module, name):
                    return getattr(module, name)
        return {"prerender": True, "trailing_slash": self.config.trailing_slash}[name]

    def _module_for_option(self, rel: str, name: str) -> Any:
        """A route module, imported for one of its options: recorded as that option (see
        context.option_of), or as the whole module when it cannot be imported (the dev
        server tries again when it changes)."""
        try:
            with tracking(set()):
                module = self.modules.get(rel)
        except BaseException:
            record(rel)
            raise
        record(option_of(rel, name))
        return module

    @cached_property
    def static_files(self) -> frozenset[str]:
        """Every file in static/, as a site path ("/css/site.css"); read once."""
        static = self.config.static_dir
        if not static.is_dir():
            return frozenset()
        return frozenset("/" + p.relative_to(static).as_posix() for p in static.rglob("*") if p.is_file())

    # -- URLs -------------------------------------------------------------------------------

    def canonical(self, path: str, route: Route | None = None) -> str:
        """Given a path without the base path, return it as it is linked: /about -> /about/
        when the page's trailing_slash is "always"."""
        bare = path.rstrip("/") or "/"
        if bare == "/":
            return "/"
        if route is None:
            return self.remembered(("canonical", bare), lambda: self._canonical(bare))
        return self._slashed(bare, route)

    def _canonical(self, bare: str) -> str:
        found = self.match(bare)
        return self._slashed(bare, found[0]) if found else bare

    def _slashed(self, bare: str, route: Route) -> str:
        if route.is_page and self.option(route, "trailing_slash") == "always":
            return bare + "/"
        return bare

    def forget_remembered(self) -> None:
        """Drop what remembered() kept: the dev server calls it on every change, before it
        drops modules or reads routes/ again (a build changes neither)."""
        self._memo = {}

    def remembered(self, key: tuple, compute: Callable[[], Any]) -> Any:
        """compute(), once per key while the routes and their modules stay the same (a page
        links to the same few routes again and again). What it read is recorded again on
        every use, so each page that asks has it among its deps."""
        known = self._memo.get(key)
        if known is None:
            read: set[str] = set()
            try:
                with tracking(read):
                    value = compute()
            finally:
                record_all(read)  # also when it raised: the dev server retries when they change
            self._memo[key] = (value, tuple(sorted(read)))
            return value
        record_all(known[1])
        return known[0]

    def url(self, path: str) -> str:
        """Template helper: a site-internal link with the base path and trailing slash applied."""
        if path[:1] == "/" and path[1:2] != "/" and "?" not in path and "#" not in path and path.isprintable():
            return self.config.base_path + self.canonical(path)  # a plain path, as urlsplit would leave it
        parts = urlsplit(path)
        if parts.scheme or parts.netloc or not path.startswith("/"):
            return path
        href = self.config.base_path + self.canonical(parts.path)
        if parts.query:
            href += "?" + parts.query
        if parts.fragment:
            href += "#" + parts.fragment
        return href

    def asset(self, path: str) -> str:
        """Template helper: the URL of a file from static/, base path applied."""
        return f"{self.config.base_path}/{path.lstrip('/')}"

    def absolute(self, path: str) -> str:
        """Given a path without the base path, return the full URL (origin + base path + path)."""
        return f"{self.config.origin.rstrip('/') or 'http://localhost'}{self.config.base_path}{path}"

    # -- shared HTTP client ---------------------------------------------------------------------

    def client(self):
        """One httpx.AsyncClient shared by every absolute-URL event.fetch of a build."""
        if self._client is None:
            import httpx

            self._client = httpx.AsyncClient(timeout=self.config.fetch.timeout, follow_redirects=True)
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None


def build_time() -> datetime.datetime:
    """The time stamp of this build: SOURCE_DATE_EPOCH when set, so CI gets identical bytes."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        return datetime.datetime.fromtimestamp(int(epoch), datetime.timezone.utc)
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
