"""`event.request` in `ssg serve`: the HTTP request a `+server.py` handler (or a live page) answers.

    async def POST(event):
        body = await event.request.json()       # or .form(), .body()
        return json({"got": body, "page": event.request.query.get("page")})

At build time there is no request: prerendered paths run with `event.request = None`, and
`ssg serve` does the same for them so it shows what the build would write. A request is
passed to every method other than GET/HEAD, and to routes with `prerender = False`.
"""

from __future__ import annotations

import email.parser
import email.policy
import json as jsonlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import httpx

from .errors import HttpError


@dataclass(frozen=True)
class UploadFile:
    """A file sent in a multipart/form-data body."""

    filename: str
    content_type: str
    data: bytes


class Form(Mapping[str, Any]):
    """Form fields as a read-only multi-dict: `form["name"]` is the first value,
    `form.get_list("tag")` every value, in the order they were sent."""

    def __init__(self, items: list[tuple[str, Any]]) -> None:
        self._items = items

    def __getitem__(self, name: str) -> Any:
        for key, value in self._items:
            if key == name:
                return value
        raise KeyError(name)

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys(key for key, _ in self._items))

    def __len__(self) -> int:
        return len(dict.fromkeys(key for key, _ in self._items))

    def get_list(self, name: str) -> list[Any]:
        return [value for key, value in self._items if key == name]

    def multi_items(self) -> list[tuple[str, Any]]:
        return list(self._items)

    def __repr__(self) -> str:
        return f"Form({self._items!r})"


class Request:
    """Given the parts of an HTTP request (its body already read), expose them to handlers.

    `headers` is case-insensitive (`httpx.Headers`), `query` a multi-dict (`httpx.QueryParams`).
    """

    def __init__(self, *, method: str, url: str, headers: Mapping[str, str] | list[tuple[str, str]], body: bytes = b"") -> None:
        self.method = method.upper()
        self.url = url
        self.headers = httpx.Headers(headers)
        self.query = httpx.URL(url).params
        self._body = body

    @property
    def path(self) -> str:
        return httpx.URL(self.url).path

    @property
    def content_type(self) -> str:
        """The media type of the body without its parameters, lower-cased: "application/json"."""
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    async def body(self) -> bytes:
        return self._body

    async def text(self) -> str:
        return self._body.decode(_charset(self.headers.get("content-type", "")) or "utf-8", "replace")

    async def json(self) -> Any:
        """The body parsed as JSON; a body that is not JSON answers 400, not 500."""
        try:
            return jsonlib.loads(self._body or b"null")
        except ValueError as exc:
            raise HttpError(400, f"the request body is not valid JSON: {exc}") from None

    async def form(self) -> Form:
        """The fields of an application/x-www-form-urlencoded or multipart/form-data body."""
        kind = self.content_type
        if kind == "multipart/form-data":
            return _multipart(self.headers.get("content-type", ""), self._body)
        if kind in ("application/x-www-form-urlencoded", ""):
            try:
                text = self._body.decode("utf-8")
            except UnicodeDecodeError:
                raise HttpError(400, "the form body is not UTF-8") from None
            return Form(parse_qsl(text, keep_blank_values=True))
        raise HttpError(415, f"form() reads url-encoded or multipart bodies, not {kind}")

    def __repr__(self) -> str:
        return f"<Request {self.method} {self.url}>"


def _charset(content_type: str) -> str | None:
    for part in content_type.split(";")[1:]:
        name, _, value = part.strip().partition("=")
        if name.lower() == "charset" and value:
            return value.strip('"')
    return None


def _multipart(content_type: str, body: bytes) -> Form:
    # The stdlib's email parser reads MIME multipart bodies; it needs the boundary header first.
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
    )
    if not message.is_multipart():
        raise HttpError(400, "the multipart body has no parts (is the boundary right?)")
    items: list[tuple[str, Any]] = []
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if name is None:
            continue
        data = part.get_payload(decode=True) or b""
        filename = part.get_filename()
        if filename is not None:
            items.append((name, UploadFile(filename, part.get_content_type(), data)))
        else:
            items.append((name, data.decode(part.get_content_charset() or "utf-8", "replace")))
    return Form(items)
