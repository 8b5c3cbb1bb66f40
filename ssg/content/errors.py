"""ContentError: bad content, named by file and line (the line in the file itself)."""

from __future__ import annotations

from ..errors import SsgError


class ContentError(SsgError):
    """A content file (or a collection's `_collection.yaml`) that ssg cannot use.

    `file` is site-relative ("content/blog/hello.md"); `line` is 1-based, counted in that
    file (not inside its YAML block), or None when no line applies. The build's report
    reads both, so a CI annotation points at the right line.
    """

    def __init__(self, file: str, line: int | None, message: str, *, hint: str | None = None) -> None:
        self.file = file
        self.line = line
        self.problem = message
        where = f"{file}:{line}" if line else file
        super().__init__(f"{where}: {message}", hint=hint)

    def again(self) -> ContentError:
        """A fresh copy to raise once more: a cached failure is re-raised for every page that
        reads the file, and each raise should carry only its own traceback."""
        return type(self)(self.file, self.line, self.problem, hint=self.hint)


class ContentErrors(ContentError):
    """Several content files failed at once (one collection scan reports every bad file)."""

    def __init__(self, errors: list[ContentError]) -> None:
        self.errors = errors
        first = errors[0]
        lines = "\n".join(f"  - {e}" for e in errors)
        super().__init__(first.file, first.line, f"{len(errors)} content files have problems:\n{lines}")
        # The summary line already names the first file; say it once, not twice.
        self.message = f"{len(errors)} content files have problems:\n{lines}"
        self.args = (self.message,)

    def again(self) -> ContentErrors:
        return type(self)([e.again() for e in self.errors])
