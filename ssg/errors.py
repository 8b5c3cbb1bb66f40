"""The exception tree. Each class knows its exit code; `cli` prints them in one place.

    SsgError                      exit 1  anything ssg reports to a user
    ├── UsageError                exit 2  bad command-line usage
    ├── ConfigError               exit 2  bad [tool.ssg] / ssg.toml (every problem listed)
    ├── ManifestError             exit 1  bad routes/ tree (every problem listed)
    ├── BuildFailed               exit 1  the build ran to the end and some pages failed
    ├── SerializationError        exit 1  load data that cannot become JSON (names the key path)
    ├── FetchError                exit 1  event.fetch could not get a response
    ├── TemplateError             exit 1  a template failed to compile or render
    └── ExitCalled                exit 1  the site's code called sys.exit()

Raised by user code through `ssg.error()` / `ssg.redirect()` (control flow, not failures):

    HttpError    error(status, message)
    Redirect     redirect(status, location)
"""

from __future__ import annotations


class SsgError(Exception):
    """Base of every error ssg reports to a user."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\n  {self.hint}" if self.hint else self.message


class InterruptedAfterOutput(KeyboardInterrupt):
    """Ctrl-C (or SIGTERM: `terminated`) that landed once a build's new output was in
    place, whole."""

    def __init__(self, *, terminated: bool = False) -> None:
        super().__init__()
        self.terminated = terminated


class UsageError(SsgError):
    exit_code = 2


class ConfigError(SsgError):
    """Every problem of the config at once: `problems` holds one line each."""

    exit_code = 2

    def __init__(self, file: str, problems: list[str]) -> None:
        self.file = file
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{file}: invalid ssg config\n{lines}")


class ManifestError(SsgError):
    """Every problem of the routes/ tree at once, found before any user code runs."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"the routes/ folder has {len(problems)} problem(s):\n{lines}")


class BuildFailed(SsgError):
    """The build ran to the end; `problems` are the failures it found (already reported)."""

    def __init__(self, count: int) -> None:
        super().__init__(f"build failed with {count} error(s); the previous output is untouched")


class ExitCalled(SsgError):
    """sys.exit() in a site's code (a load or a task it started, an endpoint, entries(), a
    matcher, a module): an error of the page or route that ran it. It must not end the
    build with its own exit code."""


def exit_called(exc: SystemExit) -> ExitCalled:
    """The error for a SystemExit a site's code raised, with its traceback (its line)."""
    error = ExitCalled(
        f"sys.exit({exc.code!r}) was called; the site's code cannot end the build",
        hint="Raise ssg.error(500, ...) (or any exception) to fail the page instead.",
    )
    return error.with_traceback(exc.__traceback__)


class SerializationError(SsgError):
    """Load data that cannot be written as JSON; `key_path` says where, e.g. data.post.date."""

    def __init__(self, key_path: str, value: object) -> None:
        self.key_path = key_path
        super().__init__(
            f"{key_path} is a {type(value).__module__}.{type(value).__qualname__}, "
            "which cannot be serialized to JSON",
            hint="Return JSON types, datetime/date, Decimal, set, tuple, a dataclass, "
            "or an object with a __json__() method.",
        )


class FetchError(SsgError):
    pass


class TemplateError(SsgError):
    def __init__(self, message: str, *, file: str | None = None, line: int | None = None) -> None:
        self.file = file
        self.line = line
        where = f"{file}:{line}: " if file and line else f"{file}: " if file else ""
        super().__init__(f"{where}{message}")


class HttpError(Exception):
    """Raised by `error(status, message)` in a load or endpoint."""

    def __init__(self, status: int, message: str = "") -> None:
        if not 400 <= status <= 599:
            raise ValueError(f"error() takes a status from 400 to 599, not {status}")
        super().__init__(f"{status} {message}".strip())
        self.status = status
        self.message = message


class Redirect(Exception):
    """Raised by `redirect(status, location)` in a load or endpoint."""

    def __init__(self, status: int, location: str) -> None:
        if status not in (301, 302, 303, 307, 308):
            raise ValueError(f"redirect() takes a status of 301, 302, 303, 307 or 308, not {status}")
        super().__init__(f"{status} -> {location}")
        self.status = status
        self.location = location
