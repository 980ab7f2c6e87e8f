"""The studio's web server: the standard library's ``ThreadingHTTPServer``, on 127.0.0.1 unless told otherwise.

Routes:

* ``GET /`` — the page; ``GET /static/NAME`` — its script and styles, shipped inside the package (nothing
  is ever fetched from elsewhere; the Content-Security-Policy header forbids it too);
* ``GET /events`` — server-sent events: ``init``, ``record`` (a metrics.jsonl line), ``frame``,
  ``snapshot``, ``status``, ``settings``, ``reset``;
* ``POST /control`` — a JSON command for the training (play, pause, single steps, live settings): 200 once
  queued, 400 when malformed, 409 when the run cannot take it (followed from another process, or its
  training has finished);
* ``GET /run/PATH`` — a picture or text file *inside* the run folder (snapshots). A path that is absolute,
  contains ``..``, a backslash or a NUL, or resolves (through a symbolic link) outside the folder is
  refused with 403 before anything is opened.

Safety for a server on a developer's machine: requests whose ``Host`` header is not this loopback address
are refused while bound to loopback (DNS rebinding), and ``/control`` takes only ``application/json`` from
the page's own origin (a cross-site form cannot send it).
"""

from __future__ import annotations

import json
import queue
import sys
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote, urlsplit

from ganforge.errors import GanforgeError
from ganforge.studio.hub import EventHub

STATIC_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
                ".css": "text/css; charset=utf-8"}
RUN_TYPES = {".png": "image/png", ".gif": "image/gif", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
             ".json": "application/json", ".jsonl": "application/json", ".yaml": "text/plain; charset=utf-8",
             ".html": "text/html; charset=utf-8"}
CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; "
       "frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
MAX_BODY = 16 * 1024
KEEPALIVE_SECONDS = 10.0
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def static_file(name: str) -> bytes | None:
    """A file shipped in ``ganforge/studio/static`` (a plain name, no folders), or None."""
    if not name or "/" in name or "\\" in name or name.startswith(".") or Path(name).suffix not in STATIC_TYPES:
        return None
    try:
        return resources.files("ganforge.studio").joinpath("static", name).read_bytes()
    except (FileNotFoundError, IsADirectoryError, OSError):
        return None


def safe_run_path(root: Path, requested: str) -> Path:
    """The file ``requested`` (a URL path below ``/run/``, already percent-decoded) inside ``root``.

    Raises ``PermissionError`` for anything that could leave the folder: an absolute path, a drive or
    backslash, a ``..`` part, a NUL, or a path whose real location (symbolic links followed) is outside."""
    if not requested or "\x00" in requested or "\\" in requested or ":" in requested:
        raise PermissionError(requested)
    pure = PurePosixPath(requested)
    if pure.is_absolute() or requested.startswith("/") or any(part in ("..", "") for part in requested.split("/")):
        raise PermissionError(requested)
    base = root.resolve()
    target = (base / pure).resolve()
    if not target.is_relative_to(base):
        raise PermissionError(requested)
    return target


class _QuietServer(ThreadingHTTPServer):
    """A page closing its connection mid-response is normal; anything else is still printed."""

    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)


class StudioServer:
    """Serves the page, the event stream and the controls for one run; ``start`` returns at once."""

    def __init__(self, hub: EventHub, run_dir: Path | None, controller: Any | None = None,
                 host: str = "127.0.0.1", port: int = 0) -> None:
        self.hub, self.run_dir, self.controller = hub, run_dir, controller
        self.host = host
        handler = _make_handler(self)
        try:
            self.httpd = _QuietServer((host, port), handler)
        except OSError as err:
            raise GanforgeError(f"studio: cannot listen on {host}:{port} ({err.strerror or err}); "
                                "choose another --port") from None
        self.httpd.daemon_threads = True
        self.port = int(self.httpd.server_address[1])
        self._thread: threading.Thread | None = None
        self.stopped = False

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"

    @property
    def loopback(self) -> bool:
        return self.host in LOOPBACK or self.host.startswith("127.")

    def start(self) -> StudioServer:
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.2},
                                        daemon=True, name="ganforge-studio-http")
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving. A browser's kept-alive connection outlives ``shutdown`` (its handler thread goes on
        reading requests), so handlers check ``stopped`` and answer 503 and close: a page reconnecting its
        event stream over such a connection must learn that the studio stopped, not get a stream that
        replays "running" and never ends."""
        self.stopped = True
        self.hub.close()
        self.httpd.shutdown()
        self.httpd.server_close()


def _make_handler(server: StudioServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "ganforge-studio"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
            return  # quiet: the terminal shows the training's progress line

        # --- helpers ------------------------------------------------------------------------------
        def _send(self, status: int, body: bytes, kind: str = "text/plain; charset=utf-8") -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.send_header("Content-Security-Policy", CSP)
            self.send_header("X-Content-Type-Options", "nosniff")
            self.end_headers()
            if self.command != "HEAD":
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
                    self.close_connection = True  # the page went away (a reload, a cancelled picture)

        def _json(self, status: int, obj: Any) -> None:
            self._send(status, json.dumps(obj).encode(), "application/json")

        def _host_ok(self) -> bool:
            if not server.loopback:
                return True
            host = (self.headers.get("Host") or "").strip()
            name = host.rsplit(":", 1)[0] if not host.startswith("[") else host[1:].split("]")[0]
            return name in LOOPBACK or name.startswith("127.")

        # --- routes -------------------------------------------------------------------------------
        def do_HEAD(self) -> None:  # noqa: N802 - http.server's naming
            self.do_GET()

        def _gone(self) -> bool:
            """Answer 503 and close when the server has stopped (see :meth:`StudioServer.stop`)."""
            if not server.stopped:
                return False
            self.close_connection = True
            self._send(HTTPStatus.SERVICE_UNAVAILABLE, b"the studio has stopped")
            return True

        def do_GET(self) -> None:  # noqa: N802
            if self._gone():
                return None
            if not self._host_ok():
                return self._send(HTTPStatus.FORBIDDEN, b"unexpected Host header")
            path = urlsplit(self.path).path
            if path in ("/", "/index.html"):
                body = static_file("index.html")
                return self._send(HTTPStatus.OK, body or b"", STATIC_TYPES[".html"])
            if path.startswith("/static/"):
                name = unquote(path[len("/static/"):])
                body = static_file(name)
                if body is None:
                    return self._send(HTTPStatus.NOT_FOUND, b"not found")
                return self._send(HTTPStatus.OK, body, STATIC_TYPES[Path(name).suffix])
            if path == "/events":
                return self._events()
            if path.startswith("/run/"):
                return self._run_file(unquote(path[len("/run/"):]))
            if path == "/favicon.ico":
                return self._send(HTTPStatus.NO_CONTENT, b"")
            return self._send(HTTPStatus.NOT_FOUND, b"not found")

        def do_POST(self) -> None:  # noqa: N802
            if self._gone():
                return None
            if not self._host_ok():
                return self._send(HTTPStatus.FORBIDDEN, b"unexpected Host header")
            if urlsplit(self.path).path != "/control":
                return self._send(HTTPStatus.NOT_FOUND, b"not found")
            origin = self.headers.get("Origin")
            if origin is not None and urlsplit(origin).netloc != self.headers.get("Host"):
                return self._json(HTTPStatus.FORBIDDEN, {"error": "cross-origin control refused"})
            if not (self.headers.get("Content-Type") or "").startswith("application/json"):
                return self._json(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, {"error": "send application/json"})
            length = int(self.headers.get("Content-Length") or 0)
            if not 0 < length <= MAX_BODY:
                return self._json(HTTPStatus.BAD_REQUEST, {"error": "empty or too large command"})
            try:
                command = json.loads(self.rfile.read(length))
            except ValueError:
                return self._json(HTTPStatus.BAD_REQUEST, {"error": "the command is not JSON"})
            if server.controller is None:
                return self._json(HTTPStatus.CONFLICT, {
                    "error": "attached to a run trained by another process: it cannot be controlled from here"})
            try:
                server.controller.submit(command)
            except GanforgeError as err:  # a run that can take no more controls is a conflict, not a bad request
                refused = getattr(err, "http_status", None) == HTTPStatus.CONFLICT
                return self._json(HTTPStatus.CONFLICT if refused else HTTPStatus.BAD_REQUEST, {"error": str(err)})
            return self._json(HTTPStatus.OK, {"ok": True})

        def _run_file(self, requested: str) -> None:
            if server.run_dir is None:
                return self._send(HTTPStatus.NOT_FOUND, b"no run folder")
            try:
                target = safe_run_path(server.run_dir, requested)
            except PermissionError:
                return self._send(HTTPStatus.FORBIDDEN, b"outside the run folder")
            kind = RUN_TYPES.get(target.suffix.lower())
            if kind is None:
                return self._send(HTTPStatus.FORBIDDEN, b"not a picture or text file of the run")
            try:
                body = target.read_bytes()
            except (FileNotFoundError, IsADirectoryError, PermissionError):
                return self._send(HTTPStatus.NOT_FOUND, b"not found")
            return self._send(HTTPStatus.OK, body, kind)

        def _events(self) -> None:
            client = server.hub.subscribe()
            try:
                self.send_response(HTTPStatus.OK)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-store")
                self.send_header("Connection", "keep-alive")
                self.send_header("X-Accel-Buffering", "no")
                self.end_headers()
                self.wfile.write(b"retry: 1000\n\n")
                self.wfile.flush()
                while True:
                    try:
                        message = client.get(timeout=KEEPALIVE_SECONDS)
                    except queue.Empty:
                        message = b": keep-alive\n\n"
                    if message is None:
                        break
                    self.wfile.write(message)
                    # send everything already waiting in one go
                    while True:
                        try:
                            more = client.get_nowait()
                        except queue.Empty:
                            break
                        if more is None:
                            self.wfile.flush()
                            return
                        self.wfile.write(more)
                    self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, TimeoutError):
                pass
            finally:
                server.hub.unsubscribe(client)
                self.close_connection = True

    return Handler


def warn_if_exposed(host: str) -> None:
    if host not in LOOPBACK and not host.startswith("127."):
        print(f"warning: the studio listens on {host}: anyone who can reach this machine can watch and control "
              "the training (no authentication); use the default 127.0.0.1 unless you mean it", file=sys.stderr)
