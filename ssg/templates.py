"""Jinja2 for pages and layouts: one environment per site, layouts nested through `slot`."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import meta
from jinja2.loaders import split_template_path
from markupsafe import Markup

from .context import record
from .errors import TemplateError
from .serialize import script_safe


CLIENT_FILE = "_ssg/client.js"  # where the client runtime is written, below the base path
CLIENT_DEP = "ssg:client.js"  # recorded by client_script(): this page needs the runtime
CLIENT_SOURCE = Path(__file__).with_name("client.js")


_DICT_ATTRIBUTES = frozenset(dir(dict))


class Environment(jinja2.Environment):
    """Jinja's environment, with `obj.name` on a plain dict looked up as a key at once.

    Jinja tries the attribute first and the key after it fails; a plain dict has no
    attributes but its class's (items, keys, ...), so the answer is the same without the
    raised AttributeError. A listing's `post.title` for thousands of posts spent a tenth
    of its render there."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except KeyError:
                return self.undefined(obj=obj, name=attribute)
        return super().getattr(obj, attribute)


class Templates:
    """Given the site root and link helpers, compile each template once and render chains."""

    def __init__(self, root: Path, *, url: Callable[[str], str], asset: Callable[[str], str], preload: str = "marked") -> None:
        self.root = root
        # Includes are looked up in templates/ first, then from the site root
        # ({% include "templates/nav.html" %} and {% include "nav.html" %} both work).
        self.env = Environment(
            loader=jinja2.FileSystemLoader([str(root / "templates"), str(root)]),
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
        self._sources: dict[str, frozenset[str]] = {}

    def sources(self, name: str) -> frozenset[str]:
        """Given a template name, return the files it is made of: itself and every template it
        includes, extends or imports (by literal name), transitively, and those it would be
        made of if they existed. Computed once per name."""
        found = self._sources.get(name)
        if found is not None:
            return found
        files: set[str] = set()
        todo, seen = [name], set()
        while todo:
            current = todo.pop()
            if current in seen:
                continue
            seen.add(current)
            try:
                source, filename, _ = self.env.loader.get_source(self.env, current)
                files.add(_rel(self.root, filename) or current)
                todo.extend(n for n in meta.find_referenced_templates(self.env.parse(source)) if n)
            except jinja2.TemplateNotFound:
                # Missing, yet a dep: `{% include ... ignore missing %}` (or a list of names)
                # renders differently once it exists (in templates/, the site-wide key sees it).
                with contextlib.suppress(jinja2.TemplateNotFound):
                    files.add("/".join(split_template_path(current)))
            except jinja2.TemplateSyntaxError:
                continue  # render() reports it with file and line
        found = self._sources[name] = frozenset(files)
        return found

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
        for source in self.sources(name):
            record(source)
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

    def forget(self) -> None:
        """Drop compiled templates (a source changed)."""
        if self.env.cache is not None:
            self.env.cache.clear()
        self._sources.clear()


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
    if not filename:
        return None
    try:
        return Path(filename).resolve().relative_to(root).as_posix()
    except ValueError:
        return filename
