"""`ssg preview`: serve a finished build/ the way a static host (Netlify, Cloudflare Pages) would.

- `/about` where `about/index.html` exists redirects (308) to `/about/`; `/about/` where only
  `about.html` exists (trailing_slash = "never") redirects to `/about`, which serves it.
- A missing file answers `404.html` with status 404.
- `_redirects` rules apply before files, with their status codes (301, 302, 303, 307, 308;
  200 rewrites to another file, 404 answers another file with 404); `:placeholders` and a
  final `*` (`:splat` in the target) work as on Netlify. Rules match with or without a
  trailing slash.
- `_headers` blocks add their headers to every matching URL (`! Name` removes one).
- `_headers`, `_redirects` and dotfiles are never served. Both files are re-read when they
  change, so a rebuild while the preview runs is picked up.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from .mediatypes import content_type
from .server.paths import hidden, safe_file
from .server.protocol import Incoming, Reply, location_header, text_reply

HIDDEN_FILES = frozenset({"/_headers", "/_redirects"})


@dataclass(frozen=True)
class RedirectRule:
    source: str
    target: str
    status: int
    force: bool
    pattern: re.Pattern[str]


@dataclass(frozen=True)
class HeaderRule:
    source: str
    pattern: re.Pattern[str]
    set: tuple[tuple[str, str], ...]  # (lower-cased name, value), in file order
    detach: tuple[str, ...]


def url_pattern(source: str) -> re.Pattern[str]:
    """Given a _redirects/_headers URL pattern, return a regex over request paths.

    >>> bool(url_pattern("/blog/:slug/*").match("/blog/a/b/c")), bool(url_pattern("/about/").match("/about"))
    (True, True)
    """
    body = ""
    for segment in [s for s in source.strip().split("/") if s]:
        if segment == "*":
            body += "(?:/(?P<splat>.*))?"
            break
        if segment.startswith(":") and re.fullmatch(r":\w+", segment):
            body += f"/(?P<{segment[1:]}>[^/]+)"
        else:
            body += "/" + ".*".join(re.escape(part) for part in segment.split("*"))
    return re.compile(f"^{body}/?$")


def parse_redirects(text: str) -> list[RedirectRule]:
    """Given the text of a _redirects file, return its rules in file order (bad lines skipped)."""
    rules = []
    for line in text.splitlines():
        parts = line.split("#", 1)[0].split()
        if len(parts) < 2:
            continue
        status, force = 301, False
        for token in parts[2:]:
            found = re.fullmatch(r"(\d{3})(!?)", token)
            if found:
                status, force = int(found[1]), bool(found[2])
        rules.append(RedirectRule(parts[0], parts[1], status, force, url_pattern(parts[0])))
    return rules


def parse_headers(text: str) -> list[HeaderRule]:
    """Given the text of a _headers file, return its blocks in file order."""
    rules: list[HeaderRule] = []
    source: str | None = None
    pairs: list[tuple[str, str]] = []
    detach: list[str] = []

    def close() -> None:
        if source is not None:
            rules.append(HeaderRule(source, url_pattern(source), tuple(pairs), tuple(detach)))

    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line[0].isspace():
            close()
            source, pairs, detach = line.strip(), [], []
            continue
        entry = line.strip()
        if entry.startswith("!"):
            detach.append(entry[1:].strip().lower())
        elif ":" in entry:
            name, value = entry.split(":", 1)
            pairs.append((name.strip().lower(), value.strip()))
    close()
    return rules


def substitute(target: str, groups: dict[str, str | None]) -> str:
    """Fill `:name` and `:splat` in a redirect target from the matched source."""
    def one(found: re.Match[str]) -> str:
        value = groups.get(found[1])
        return found[0] if value is None and found[1] not in groups else (value or "")

    return re.sub(r":(\w+)", one, target)


class Preview:
    """Given a build folder and the site's base path, answer requests as a static host."""

    def __init__(self, out: Path, *, base_path: str = "") -> None:
        self.out = out.resolve()
        self.base_path = base_path
        self._rules: dict[str, tuple[tuple[int, int] | None, list]] = {}

    async def handle(self, req: Incoming) -> Reply:
        if req.method not in ("GET", "HEAD"):
            return text_reply(405, "Method Not Allowed: a static host serves GET and HEAD", {"allow": "GET, HEAD"})
        path, query = req.target.path, req.target.query
        for rule in self._file_rules("_redirects", parse_redirects):
            found = rule.pattern.match(path)
            if found is None:
                continue
            reply = self._redirect(rule, found.groupdict(), query)
            if reply is not None:
                return self._with_headers(reply, path)
        base = self.base_path
        if base:
            if path in ("/", base):  # the site's root is base + "/", as a static host answers for a folder
                return Reply(308, b"", None, {"location": location_header(base + "/", query)})
            if path != base and not path.startswith(base + "/"):
                return self._not_found()
        rel = path[len(base):] or "/"
        if hidden(rel) or rel in HIDDEN_FILES:
            return self._not_found()
        if rel.endswith("/"):
            file = safe_file(self.out, rel + "index.html")
            if file is not None:
                return self._file(file, path, req)
            if rel != "/" and safe_file(self.out, rel.rstrip("/") + ".html") is not None:
                return Reply(308, b"", None, {"location": location_header(path.rstrip("/"), query)})
            return self._not_found()
        file = safe_file(self.out, rel)
        if file is not None:
            return self._file(file, path, req)
        if safe_file(self.out, rel + "/index.html") is not None:
            return Reply(308, b"", None, {"location": location_header(path + "/", query)})
        file = safe_file(self.out, rel + ".html")
        if file is not None:
            return self._file(file, path, req)
        return self._not_found()

    def _redirect(self, rule: RedirectRule, groups: dict[str, str | None], query: str) -> Reply | None:
        target = substitute(rule.target, groups)
        if rule.status in (200, 404):
            if not target.startswith("/"):
                return None  # proxying to another host is not something a preview can do
            file = safe_file(self.out, target[len(self.base_path):] if target.startswith(self.base_path + "/") else target)
            if file is None and not target.endswith(".html"):
                file = safe_file(self.out, target.rstrip("/") + "/index.html")
            if file is None:
                return None
            reply = self._read(file)
            reply.status = rule.status
            return reply
        if 300 <= rule.status < 400:
            location = location_header(target) if target.startswith("/") else target
            if query and "?" not in location:
                location += "?" + query
            return Reply(rule.status, b"", None, {"location": location})
        return None

    def _file(self, file: Path, path: str, req: Incoming) -> Reply:
        stat = file.stat()
        etag = f'W/"{stat.st_size:x}-{stat.st_mtime_ns:x}"'
        if etag in (req.header("if-none-match") or "").replace(" ", "").split(","):
            return self._with_headers(Reply(304, b"", None, {"etag": etag}), path)
        reply = self._read(file)
        reply.headers["etag"] = etag
        return self._with_headers(reply, path)

    def _read(self, file: Path) -> Reply:
        try:
            return Reply(200, file.read_bytes(), content_type(file.name), {})
        except OSError:  # removed by a rebuild between the lookup and the read
            return text_reply(404, "Not found")

    def _with_headers(self, reply: Reply, path: str) -> Reply:
        added: dict[str, str] = {}
        for rule in self._file_rules("_headers", parse_headers):
            if not rule.pattern.match(path):
                continue
            for name in rule.detach:
                added.pop(name, None)
                reply.headers.pop(name, None)
            for name, value in rule.set:
                # Matching blocks add up; one header set by two of them joins its values.
                added[name] = f"{added[name]}, {value}" if name in added and name != "content-type" else value
        if "content-type" in added:
            reply.content_type = added.pop("content-type")
        reply.headers.update(added)
        return reply

    def _not_found(self) -> Reply:
        page = self.out / "404.html"
        try:
            return Reply(404, page.read_bytes(), "text/html; charset=utf-8", {})
        except OSError:
            return text_reply(404, "Not found (and the build has no 404.html)")

    def _file_rules(self, name: str, parse) -> list:
        """The parsed rules of _headers or _redirects, re-read when the file changes."""
        file = self.out / name
        try:
            stat = file.stat()
            stamp = (stat.st_mtime_ns, stat.st_size)
        except OSError:
            stamp = None
        cached = self._rules.get(name)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        try:
            rules = parse(file.read_text("utf-8")) if stamp else []
        except (OSError, UnicodeDecodeError):
            rules = []
        self._rules[name] = (stamp, rules)
        return rules
