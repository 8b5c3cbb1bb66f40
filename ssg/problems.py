"""Problems found during a build: collected per page with context, judged by policy at the end."""

from __future__ import annotations

from dataclasses import dataclass, field

from .failures import Frame


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the build, with everything a user needs to find it."""

    kind: str  # "manifest", "load", "render", "http", "missing_id", "unseen_route", "entries", "write", "route"
    message: str
    severity: str = "error"  # "error" or "warning"
    path: str | None = None
    route: str | None = None
    params: dict[str, str] | None = None
    file: str | None = None
    line: int | None = None
    chain: tuple[str, ...] = ()  # the paths that led here, nearest referrer first
    frames: tuple[Frame, ...] = field(default_factory=tuple)

    def as_json(self) -> dict:
        return {
            "kind": self.kind,
            "severity": self.severity,
            "message": self.message,
            "path": self.path,
            "route": self.route,
            "params": self.params,
            "file": self.file,
            "line": self.line,
            "linked_from": list(self.chain),
            "traceback": [{"file": f.file, "line": f.line, "name": f.name, "code": f.code} for f in self.frames],
        }
