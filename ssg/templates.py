"""Jinja2 for pages and layouts: one environment per site, layouts nested through `slot`."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import jinja2
from jinja2.loaders import split_template_path
from jinja2.utils import internalcode
from markupsafe import Markup

from .content.diskcache import digest
from .context import record, record_digest
from .errors import TemplateError
from .serialize import script_safe
from .uptodate import changed_at


CLIENT_FILE = "_ssg/client.js"  # where the client runtime is written, below the base path
CLIENT_DEP = "ssg:client.js"  # recorded by client_script(): this page needs the runtime
CLIENT_SOURCE = Path(__file__).with_name("client.js")


_DICT_ATTRIBUTES = frozenset(dir(dict))


class Environment(jinja2.Environment):
    """Jinja's environment, recording every template it is asked for, and looking up
    `obj.name` on a plain dict as a key at once.

    A page's templates are what it loads as it renders, so each one loaded is recorded
    (context.record) as a dependency of the page being rendered: its layouts, includes,
    imports and parents, also those named at run time (`{% include "partials/" ~ name %}`),
    and those asked for but missing (`ignore missing`, or the first names of a list), by
    their path from the site root, so the page renders again once they exist.

    Jinja tries the attribute first and the key after it fails; a plain dict has no
    attributes but its class's (items, keys, ...), so the answer is the same without the
    raised AttributeError. A listing's `post.title` for thousands of posts spent a tenth
    of its render there."""

    def __init__(self, root: Path, **options: Any) -> None:
        super().__init__(**options)
        self.root = root
        self._files: dict[str | None, tuple[str, ...]] = {}  # a template's filename -> the deps it is (a symlink: both names)

    @internalcode
    def get_template(self, name: Any, parent: str | None = None, globals: Any = None) -> jinja2.Template:
        try:
            template = super().get_template(name, parent, globals)
        except jinja2.TemplateNotFound as exc:
            self._missing(exc.name)
            raise
        except jinja2.TemplateSyntaxError as exc:
            self._broken(exc)
            raise
        self._loaded(template)
        return template

    @internalcode
    def select_template(self, names: Any, parent: str | None = None, globals: Any = None) -> jinja2.Template:
        try:
            template = super().select_template(names, parent, globals)
        except jinja2.TemplatesNotFound as exc:
            for missing in exc.templates:
                self._missing(missing)
            raise
        except jinja2.TemplateSyntaxError as exc:
            self._broken(exc)
            raise
        for name in names:  # those before the one found are missing
            joined = self.join_path(name, parent) if parent is not None and isinstance(name, str) else name
            if joined == template.name or not isinstance(joined, str):
                break
            self._missing(joined)
        self._loaded(template)
        return template

    def _loaded(self, template: jinja2.Template) -> None:
        deps = self._files.get(template.filename)
        if deps is None:
            dep = _rel(self.root, template.filename) or template.name or ""
            # A symlink: the file it points to as well, when in the site (ssg serve hears of
            # an edit by that name).
            target = _rel(self.root, os.path.realpath(template.filename)) if template.filename else None
            deps = (dep,) if target in (None, dep) or os.path.isabs(target) else (dep, target)
            # Found at the site root: templates/ comes first, and a file there would win.
            deps += self._shadows(template.name, dep)
            self._files[template.filename] = deps
        # What the file held when it was read, with every page that renders it (a file that
        # comes and goes while the build runs is missing before and after it, yet the page
        # showed it): the page may go to another process than the one that read it first.
        read = self.loader.read.get(template.filename) if isinstance(self.loader, Loader) else None
        if read is not None:
            record_digest(deps[0], *read)
        for dep in deps:
            record(dep)

    def sources(self) -> set[str]:
        """Every file the templates loaded so far were read from (site-relative), and those
        the loader looked for before them."""
        return {dep for deps in self._files.values() for dep in deps}

    def _shadows(self, name: str | None, found: str) -> tuple[str, ...]:
        """The files the loader looked for before the one it found (templates/x.html before
        x.html at the site root). Not for a route's own templates, which ssg loads by
        their path in routes/ and no file in templates/ is meant to stand in for."""
        if not name or found.startswith("routes/"):
            return ()
        earlier = []
        for rel in self._candidates(name):
            if rel == found:
                break
            earlier.append(rel)
        else:
            return ()  # found by another name (a symlink): no earlier candidate known
        return tuple(earlier)

    def _candidates(self, name: str) -> list[str]:
        """Each file of the loader's search path a template name could be, in order."""
        try:
            rel = "/".join(split_template_path(name))
        except jinja2.TemplateNotFound:  # a name no file could have ("../x")
            return []
        found = (_rel(self.root, os.path.join(folder, rel)) for folder in getattr(self.loader, "searchpath", ()))
        return [candidate for candidate in found if candidate is not None]

    def _broken(self, exc: jinja2.TemplateSyntaxError) -> None:
        if exc.filename:  # ssg serve renders the page again once it is mended
            record(_rel(self.root, exc.filename) or exc.filename)

    def _missing(self, name: Any) -> None:
        """Record each file the loader looked for (templates/x.html, then x.html at the
        site root): the page renders again once one exists."""
        if isinstance(name, str):
            for candidate in self._candidates(name):
                record(candidate)

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except KeyError:
                return self.undefined(obj=obj, name=attribute)
        return super().getattr(obj, attribute)


class Loader(jinja2.FileSystemLoader):
    """Jinja's loader, keeping for each file it read its (stamp, size) and hash, when the
    file held the same bytes all through the read (see Environment._loaded)."""

    def __init__(self, searchpath: list[str]) -> None:
        super().__init__(searchpath)
        self.read: dict[str, tuple[tuple[int, int], str]] = {}

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str, Callable[[], bool]]:
        contents, filename, uptodate = super().get_source(environment, template)
        self.read.pop(filename, None)
        try:
            with open(filename, "rb") as f:  # read again, as bytes: Jinja's own read is text
                before = os.fstat(f.fileno())
                raw = f.read()
                after = os.fstat(f.fileno())
        except OSError:
            return contents, filename, uptodate
        stamp = (changed_at(before), before.st_size)
        # Kept when the file held still while read, and its bytes are what Jinja compiled
        # (as text, newlines made "\n").
        if stamp == (changed_at(after), after.st_size) and _as_text(raw, self.encoding) == contents:
            self.read[filename] = (stamp, digest(raw))
        return contents, filename, uptodate


def _as_text(raw: bytes, encoding: str) -> str | None:
    """A file's bytes as open() in text mode reads them."""
    try:
        return raw.decode(encoding).replace("\r\n", "\n").replace("\r", "\n")
    except UnicodeDecodeError:
        return None


class Templates:
    """Given the site root and link helpers, compile each template once and render chains."""

    def __init__(self, root: Path, *, url: Callable[[str], str], asset: Callable[[str], str], preload: str = "marked") -> None:
        self.root = root
        # Includes are looked up in templates/ first, then from the site root
        # ({% include "templates/nav.html" %} and {% include "nav.html" %} both work).
        self.env = Environment(
            root,
            loader=Loader([str(root / "templates"), str(root)]),
            autoescape=jinja2.select_autoescape(["html", "htm", "xml", "svg"], default_for_string=True),
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=True,
            auto_reload=False,
        )
        client_tag = Markup('<script src="{}" defer{}></script>').format(
            asset(CLIENT_FILE), Markup(' data-preload="all"') if preload == "all" else ""
        )

        def client_script() -> Markup:
            record(CLIENT_DEP)  # tells the build to write the runtime
            return client_tag

        self.env.globals.update(url=url, asset=asset, client_script=client_script)

    def render_chain(self, names: list[tuple[str, dict[str, Any]]], page: dict[str, Any], envelope_json: bytes) -> str:
        """Given (template, data) pairs innermost first, render each and hand it to the next as `slot`."""
        slot: Markup | None = None

        def data_script() -> Markup:
            text = envelope_json.decode("utf-8", "surrogatepass")
            return Markup(f'<script type="application/json" id="ssg-data">{script_safe(text)}</script>')

        for name, data in names:
            context = {"data": data, "page": page, "data_script": data_script}
            if slot is not None:
                context["slot"] = slot
            slot = Markup(self.render(name, context))
        return str(slot)

    def render(self, name: str, context: dict[str, Any]) -> str:
        try:
            template = self.env.get_template(name)
        except jinja2.TemplateSyntaxError as exc:
            raise TemplateError(f"template syntax error: {exc.message}", file=_rel(self.root, exc.filename) or name, line=exc.lineno) from exc
        except jinja2.TemplateNotFound as exc:
            raise TemplateError(f"template not found: {exc.name}", file=name) from exc
        try:
            return template.render(context)
        except jinja2.TemplateSyntaxError as exc:  # a broken {% include %}d template
            raise TemplateError(f"template syntax error: {exc.message}", file=_rel(self.root, exc.filename) or name, line=exc.lineno) from exc
        except jinja2.UndefinedError as exc:
            file, line = template_frame(exc, self.root)
            raise TemplateError(f"undefined: {exc.message}", file=file or name, line=line) from exc

    def read_any(self, paths: Iterable[str]) -> bool:
        """Whether a template compiled so far was read from one of these files (site-relative):
        an include may name any file below the site root (static/logo.svg, content/x.html)."""
        return not self.env.sources().isdisjoint(paths)

    def forget(self) -> None:
        """Drop compiled templates (a source changed)."""
        if self.env.cache is not None:
            self.env.cache.clear()


def template_frame(exc: BaseException, root: Path) -> tuple[str | None, int | None]:
    """Given an error raised while rendering, return the innermost template file and line.
    Jinja rewrites tracebacks so template frames carry the template's own file and line."""
    found: tuple[str | None, int | None] = (None, None)
    tb = exc.__traceback__
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.endswith((".html", ".htm", ".xml", ".svg", ".txt", ".j2", ".jinja")):
            found = (_rel(root, filename), tb.tb_lineno)
        tb = tb.tb_next
    return found


def _rel(root: Path, filename: str | None) -> str | None:
    """A template file's name relative to the site root: by the path it was found at (a
    symlink is a source by its own name, as the build cache stats and reads it), else resolved."""
    if not filename:
        return None
    path, prefix = os.path.normpath(filename), os.path.join(root, "")
    if path.startswith(prefix):
        return path[len(prefix):].replace(os.sep, "/")
    try:
        return Path(filename).resolve().relative_to(root).as_posix()
    except ValueError:
        return filename
