"""ssg: prerender a Python site the way SvelteKit does.

Everything a `+page.py`, `+layout.py` or `+server.py` author imports comes from here
(content helpers from `ssg.content`).
"""

from .errors import HttpError, Redirect
from .http import Response, error, json, redirect, text

__version__ = "0.1.0"

__all__ = [
    "HttpError",
    "Redirect",
    "Response",
    "error",
    "json",
    "redirect",
    "text",
]
