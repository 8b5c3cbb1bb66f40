"""`ssg serve` and `ssg preview`: run an app on the HTTP server until Ctrl-C or SIGTERM.

    protocol.py   the HTTP/1.1 server (asyncio + h11): limits, Host check, WebSocket upgrade
    paths.py      request targets decoded once and safely, files looked up inside one folder
    dev.py        `ssg serve`: respond() per request, what each render read, invalidation
    hub.py        the open tabs and what each save tells them
    websocket.py  the few parts of RFC 6455 live reload needs
    overlay.py    the dev error page
    ../watch.py   watchdog events -> debounced batches of changes
    ../preview.py `ssg preview`: a static host over build/
"""

from __future__ import annotations

import asyncio
import errno
import signal
import sys
import webbrowser
from collections.abc import Awaitable, Callable

from ..config import Config
from ..errors import UsageError
from ..interrupts import exits_fail_tasks
from .protocol import HttpServer, is_loopback

PORT_TRIES = 20  # without --port, a busy default port moves on to the next free one


def serve(config: Config, *, host: str, port: int | None, open_browser: bool = False) -> int:
    """Run `ssg serve` for a site until interrupted; return the exit code."""
    from .dev import DevApp

    async def main() -> int:
        exits_fail_tasks(asyncio.get_running_loop())  # sys.exit() in a load fails its page, not the server
        stopped = _stop_on_signals()
        app = DevApp(config)
        try:
            server = await _bind(app.handle, host, port, default=5173)
            app.start(asyncio.get_running_loop())
            url = _url(host, server.port) + config.base_path + "/"
            _say(f"ssg serve: {url}  (rendering on request, watching for changes; Ctrl-C stops)")
            if open_browser:
                asyncio.get_running_loop().run_in_executor(None, webbrowser.open, url)
            await _until(stopped)
            await server.close()
        finally:
            await app.close()
        return 0

    return _run(main, host)


def preview(config: Config, *, host: str, port: int | None) -> int:
    """Run `ssg preview` over the finished build in config.out_dir; return the exit code."""
    from ..preview import Preview

    out = config.out_dir
    if not (out / "index.html").is_file() and not (out / "404.html").is_file():
        raise UsageError(f"{out} holds no build; run `ssg build` first (or pass --out DIR)")

    async def main() -> int:
        stopped = _stop_on_signals()
        app = Preview(out, base_path=config.base_path)
        server = await _bind(app.handle, host, port, default=4173)
        _say(f"ssg preview: {_url(host, server.port)}{config.base_path}/  (serving {out} as a static host would; Ctrl-C stops)")
        await _until(stopped)
        await server.close()
        return 0

    return _run(main, host)


def _run(main: Callable[[], Awaitable[int]], host: str) -> int:
    if not is_loopback(host):
        _say(f"warning: --host {host} makes this server reachable from other machines; it runs your site's "
             "code and shows its pages and errors to anyone who can reach it")
    try:
        return asyncio.run(main())
    except KeyboardInterrupt:
        return 0


async def _bind(app, host: str, port: int | None, *, default: int) -> HttpServer:
    tries = 1 if port is not None else PORT_TRIES
    first = default if port is None else port
    for candidate in range(first, first + tries):
        server = HttpServer(app, host=host, port=candidate)
        try:
            await server.start()
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE and candidate + 1 < first + tries:
                continue
            if exc.errno == errno.EADDRINUSE:
                raise UsageError(f"port {candidate} is in use; pick another with --port N (--port 0 takes any free port)") from None
            raise UsageError(f"cannot listen on {host}:{candidate}: {exc.strerror or exc}") from None
        if candidate != first:
            _say(f"port {first} is in use; using {candidate}")
        return server
    raise AssertionError("unreachable")  # the loop returns or raises


def _stop_on_signals() -> asyncio.Event:
    """An event that Ctrl-C or SIGTERM sets. Installed before the URL is printed, so a
    signal sent as soon as the server says where it listens still stops it cleanly."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):
            pass  # not the main thread, or no signals here: Ctrl-C raises KeyboardInterrupt instead
    return stop


async def _until(stop: asyncio.Event) -> None:
    await stop.wait()
    _say("stopped")


def _url(host: str, port: int) -> str:
    shown = "localhost" if host in ("0.0.0.0", "::", "") else host
    if ":" in shown and not shown.startswith("["):
        shown = f"[{shown}]"
    return f"http://{shown}:{port}"


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
