"""A file name's media type, the same on every machine.

`_headers` (an endpoint whose content type its file name does not imply), an endpoint's
default content type and `ssg serve`'s answers all ask this table first. Python's
`mimetypes` reads the machine's /etc/mime.types, which differs between a laptop and a CI
image (`.xml` is `application/xml` on one and `text/xml` on the other), so a build would
not be the same everywhere; and reading those files costs an edit's build 5 ms. A name
the table does not know falls back to `mimetypes`.
"""

from __future__ import annotations

import posixpath

TYPES = {
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".json": "application/json",
    ".map": "application/json",
    ".webmanifest": "application/manifest+json",
    ".xml": "application/xml",
    ".rss": "application/rss+xml",
    ".atom": "application/atom+xml",
    ".txt": "text/plain; charset=utf-8",
    ".md": "text/markdown; charset=utf-8",
    ".csv": "text/csv; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".avif": "image/avif",
    ".ico": "image/x-icon",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".ttf": "font/ttf",
    ".otf": "font/otf",
    ".wasm": "application/wasm",
    ".pdf": "application/pdf",
    ".zip": "application/zip",
    ".mp4": "video/mp4",
    ".webm": "video/webm",
    ".mp3": "audio/mpeg",
    ".wav": "audio/wav",
    ".ics": "text/calendar; charset=utf-8",
    ".yaml": "application/yaml",
    ".yml": "application/yaml",
    ".toml": "application/toml",
    ".jsonld": "application/ld+json",
    ".geojson": "application/geo+json",
    ".gz": "application/gzip",
}


def media_type(name: str) -> str | None:
    """Given a file name, return its media type without parameters, or None.

    >>> media_type("feed.xml"), media_type("site.css"), media_type("data")
    ('application/xml', 'text/css', None)
    """
    known = TYPES.get(posixpath.splitext(name)[1].lower())
    if known is not None:
        return known.split(";", 1)[0]
    import mimetypes  # rare: only for a name the table does not know

    return mimetypes.guess_type(name)[0]


def content_type(name: str) -> str:
    """Given a file name, return the Content-Type to send it with.

    >>> content_type("site.css"), content_type("data.bin")
    ('text/css; charset=utf-8', 'application/octet-stream')
    """
    known = TYPES.get(posixpath.splitext(name)[1].lower())
    if known is not None:
        return known
    guessed = media_type(name)
    if guessed is None:
        return "application/octet-stream"
    return f"{guessed}; charset=utf-8" if guessed.startswith("text/") else guessed
