"""What loads and endpoints return or raise: `Response`, `json()`, `text()`, `error()`, `redirect()`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import NoReturn

from .errors import HttpError, Redirect


class Response:
    """An endpoint's answer: a body (bytes or str), a status and headers.

    >>> Response("hi", headers={"content-type": "text/plain"}).body
    b'hi'
    """

    def __init__(
        self,
        body: bytes | str = b"",
        *,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.body = body.encode("utf-8") if isinstance(body, str) else bytes(body)
        self.status = status
        # Header names are case-insensitive; store them lower-cased so lookups are simple.
        self.headers = {k.lower(): str(v) for k, v in (headers or {}).items()}

    @property
    def content_type(self) -> str | None:
        return self.headers.get("content-type")

    def __repr__(self) -> str:
        return f"<Response {self.status} {self.content_type} {len(self.body)} bytes>"


def json(data: object, *, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    """Given JSON-able data (with ssg's extra types), return an application/json Response."""
    from .serialize import dumps

    merged = {"content-type": "application/json", **{k.lower(): v for k, v in (headers or {}).items()}}
    return Response(dumps(data, root="body"), status=status, headers=merged)


def text(body: str, *, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    """Given a string, return a text/plain Response (override the type with headers)."""
    merged = {"content-type": "text/plain; charset=utf-8", **{k.lower(): v for k, v in (headers or {}).items()}}
    return Response(body, status=status, headers=merged)


def error(status: int, message: str = "") -> NoReturn:
    """Stop the load or endpoint with an HTTP error, e.g. `error(404, "Post not found")`."""
    raise HttpError(status, message)


def redirect(status: int, location: str) -> NoReturn:
    """Stop the load with a redirect, e.g. `redirect(301, "/blog/")`."""
    raise Redirect(status, location)
