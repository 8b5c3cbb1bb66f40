"""The site's config: `[tool.ssg]` in pyproject.toml, or the same keys at the top of ssg.toml.

Typed, frozen, validated all at once: every bad key is reported before one abort.
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .errors import ConfigError

POLICIES = ("fail", "warn", "ignore")
TRAILING_SLASH = ("always", "never")


@dataclass(frozen=True)
class Prerender:
    entries: tuple[str, ...] = ("*",)
    """Paths to seed the crawl with; "*" means every route without params plus every entries() item."""
    crawl: bool = True
    """Follow links found in built pages (`ssg build --no-crawl` turns it off)."""
    on_http_error: str = "fail"
    """A crawled link that matches no route, 404s, or points at a `prerender = False` route."""
    on_missing_id: str = "fail"
    """A link to `#id` that does not exist on the target page."""
    on_unseen_routes: str = "fail"
    """A dynamic route that was neither listed by entries() nor reached by the crawl."""


@dataclass(frozen=True)
class Fetch:
    timeout: float = 10.0
    """Seconds before an absolute-URL event.fetch() gives up on one attempt."""
    retries: int = 2
    """Extra attempts after a connection error or a 5xx answer."""


@dataclass(frozen=True)
class Config:
    root: Path
    """The site's folder (where routes/ lives)."""
    origin: str = ""
    """e.g. "https://example.com": makes absolute URLs, event.url and sitemap.xml."""
    base_path: str = ""
    """e.g. "/docs" for a site served below the host's root; "" for the root."""
    trailing_slash: str = "always"
    """"always": /about is written about/index.html; "never": about.html."""
    out: str = "build"
    """The output folder, relative to the site root."""
    highlight: bool = True
    """Highlight fenced code with a language at build time (Pygments CSS classes); false
    leaves it plain `<pre><code class="language-x">` for a client-side highlighter."""
    preload: str = "marked"
    """Client runtime: "marked" preloads data for links with data-ssg-preload; "all" for every same-site link."""
    drafts: bool = False
    """Include content marked `draft: true` (`ssg build --drafts`)."""
    prerender: Prerender = field(default_factory=Prerender)
    fetch: Fetch = field(default_factory=Fetch)
    file: str = ""
    """Where the config was read from, for messages."""

    @property
    def routes_dir(self) -> Path:
        return self.root / "routes"

    @property
    def static_dir(self) -> Path:
        return self.root / "static"

    @cached_property
    def out_dir(self) -> Path:
        # Resolved once: the build asks for it for every path it reuses.
        return (self.root / self.out).resolve()

    def replace(self, **changes: Any) -> Config:
        """Given overrides (from the command line), return a new validated config."""
        raw = {k: v for k, v in changes.items() if v is not None}
        prerender = raw.pop("prerender", {})
        merged = dataclasses.replace(self, prerender=dataclasses.replace(self.prerender, **prerender), **raw)
        problems = _check(merged)
        if problems:
            raise ConfigError("command line", problems)
        return merged


def load(root: Path) -> Config:
    """Given a site folder, return its validated Config (defaults when it has none)."""
    root = root.resolve()
    raw: dict[str, Any] = {}
    file = ""
    ssg_toml, pyproject = root / "ssg.toml", root / "pyproject.toml"
    try:
        if ssg_toml.is_file():
            file = str(ssg_toml)
            raw = tomllib.loads(ssg_toml.read_text("utf-8"))
        elif pyproject.is_file():
            file = str(pyproject)
            tool = tomllib.loads(pyproject.read_text("utf-8")).get("tool", {})
            if not isinstance(tool, dict):
                raise ConfigError(file, ["tool must be a table: [tool.ssg] holds ssg's settings"])
            raw = tool.get("ssg", {})
            if not isinstance(raw, dict):
                raise ConfigError(file, ["[tool.ssg] must be a table of settings: a [tool.ssg] line, then out = \"build\" ..."])
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(file, [f"not valid TOML: {exc}"]) from None
    return from_mapping(root, raw, file=file or str(root))


def from_mapping(root: Path, raw: dict[str, Any], *, file: str) -> Config:
    problems: list[str] = []
    top = _pick(Config, raw, "", problems, skip={"root", "file", "prerender", "fetch", "drafts"})
    prerender = _pick(Prerender, raw.get("prerender", {}), "prerender.", problems)
    fetch = _pick(Fetch, raw.get("fetch", {}), "fetch.", problems)
    if "entries" in prerender:
        prerender["entries"] = tuple(prerender["entries"])
    # Keys with the wrong type were left out (defaults stand in), so their values can
    # still be checked together with the rest: every problem is reported at once.
    config = Config(root=root, file=file, prerender=Prerender(**prerender), fetch=Fetch(**fetch), **top)
    problems += _check(config)
    if problems:
        raise ConfigError(file, problems)
    return config


def _pick(cls: type, raw: Any, prefix: str, problems: list[str], skip: set[str] = frozenset()) -> dict[str, Any]:
    """Given a TOML table, return the known keys with the right types; note the rest in problems."""
    if not isinstance(raw, dict):
        problems.append(f"{prefix.rstrip('.')} must be a table")
        return {}
    fields = {f.name: f for f in dataclasses.fields(cls)}
    nested = {"prerender", "fetch"} if cls is Config else set()
    picked: dict[str, Any] = {}
    for key, value in raw.items():
        if key in nested:
            continue
        if key not in fields or key in skip:
            import difflib  # only for a message: not on every build's path

            close = difflib.get_close_matches(key, [k for k in fields if k not in skip] + sorted(nested), n=1)
            hint = f" (did you mean {prefix}{close[0]}?)" if close else ""
            problems.append(f"unknown key {prefix}{key}{hint}")
            continue
        expected = _TYPES.get(f"{prefix}{key}", str)
        ok = isinstance(value, expected) and not (expected is not bool and isinstance(value, bool))
        if expected is list:
            ok = ok and all(isinstance(v, str) for v in value)
        if not ok:
            problems.append(f"{prefix}{key} must be {_TYPE_NAMES[expected]}, not {value!r}")
            continue
        picked[key] = value
    return picked


_TYPES: dict[str, type | tuple[type, ...]] = {
    "prerender.entries": list,
    "prerender.crawl": bool,
    "highlight": bool,
    "fetch.timeout": (int, float),
    "fetch.retries": int,
}
_TYPE_NAMES = {str: "a string", list: "a list of strings", bool: "true or false", (int, float): "a number", int: "an integer"}


def _check(config: Config) -> list[str]:
    """Given a config, return what is wrong with its values."""
    problems = []
    if config.origin:
        parts = urlsplit(config.origin)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/"):
            problems.append(f'origin must look like "https://example.com" (no path), not {config.origin!r}')
    if config.base_path and (not config.base_path.startswith("/") or config.base_path.endswith("/")):
        problems.append(f'base_path must start with "/" and not end with one, e.g. "/docs", not {config.base_path!r}')
    if config.preload not in ("marked", "all"):
        problems.append(f'preload must be "marked" or "all", not {config.preload!r}')
    if config.trailing_slash not in TRAILING_SLASH:
        problems.append(f"trailing_slash must be one of {', '.join(TRAILING_SLASH)}, not {config.trailing_slash!r}")
    for name in ("on_http_error", "on_missing_id", "on_unseen_routes"):
        value = getattr(config.prerender, name)
        if value not in POLICIES:
            problems.append(f"prerender.{name} must be one of {', '.join(POLICIES)}, not {value!r}")
    for entry in config.prerender.entries:
        if entry != "*" and not entry.startswith("/"):
            problems.append(f'prerender.entries items are "*" or paths starting with "/", not {entry!r}')
    if config.fetch.timeout <= 0:
        problems.append("fetch.timeout must be above 0")
    if config.fetch.retries < 0:
        problems.append("fetch.retries must be 0 or more")
    return problems


def origin_without_slash(config: Config) -> str:
    return config.origin.rstrip("/")
