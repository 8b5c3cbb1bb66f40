"""The live-reload hub: which tab shows which page, and telling each one what a save changed."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from .websocket import WebSocket


@dataclass(eq=False)
class Tab:
    key: str  # the page it shows, as a render key: "/blog/hello" (no base path, no trailing slash)
    socket: WebSocket


class Hub:
    def __init__(self) -> None:
        self.tabs: set[Tab] = set()

    async def attach(self, socket: WebSocket, key: str, *, stale: bool) -> None:
        """Keep a tab's socket until it closes. `stale`: the page changed after it was served."""
        tab = Tab(key, socket)
        self.tabs.add(tab)
        try:
            if stale:
                socket.send(json.dumps({"batch": 0, "action": "reload", "css": []}))
            while await socket.receive() is not None:
                pass  # the client sends nothing we need; reading notices the close
        finally:
            self.tabs.discard(tab)

    def notify(self, batch: int, affected: Callable[[str], bool], css: list[str]) -> int:
        """Send every tab this batch's message; return how many were told to reload."""
        reloaded = 0
        for tab in list(self.tabs):
            if affected(tab.key):
                action = "reload"
                reloaded += 1
            else:
                action = "css" if css else "none"
            if not tab.socket.send(json.dumps({"batch": batch, "action": action, "css": css})):
                self.tabs.discard(tab)
        return reloaded

    def close(self) -> None:
        for tab in list(self.tabs):
            tab.socket.abort()
        self.tabs.clear()
