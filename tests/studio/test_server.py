"""The studio's server: only the run folder is readable (no ``../``, absolute paths or symlinks out), loopback
by default, controls only from the page's own origin; the page and its assets ship in the package."""

from __future__ import annotations

import http.client
import json
import os
from pathlib import Path
from typing import Any

import pytest

from ganforge.errors import GanforgeError
from ganforge.studio.hub import EventHub
from ganforge.studio.server import StudioServer, safe_run_path, static_file


@pytest.fixture
def run_folder(tmp_path: Path) -> Path:
    run = tmp_path / "runs" / "x"
    (run / "samples").mkdir(parents=True)
    (run / "config.yaml").write_text("name: x\n", encoding="utf-8")
    (run / "samples" / "step-00000010.png").write_bytes(b"\x89PNG\r\n\x1a\nfake")
    (tmp_path / "runs" / "secret.yaml").write_text("password: hunter2\n", encoding="utf-8")
    (tmp_path / "secret.png").write_bytes(b"\x89PNG\r\n\x1a\nsecret")
    os.symlink(tmp_path / "secret.png", run / "samples" / "link.png")
    return run


@pytest.fixture
def server(run_folder: Path) -> Any:
    class Controller:
        def __init__(self) -> None:
            self.got: list[Any] = []

        def submit(self, command: Any) -> None:
            if not isinstance(command, dict) or "action" not in command:
                raise GanforgeError("a control needs an 'action'")
            self.got.append(command)

    s = StudioServer(EventHub(), run_folder, Controller()).start()
    yield s
    s.stop()


def _get(server: StudioServer, path: str, host: str | None = None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.putrequest("GET", path, skip_host=True)  # the path goes out byte for byte, no client normalization
    conn.putheader("Host", host or f"127.0.0.1:{server.port}")
    conn.endheaders()
    response = conn.getresponse()
    body = response.read()
    conn.close()
    return response.status, body


def _post(server: StudioServer, body: Any, headers: dict[str, str] | None = None) -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    data = json.dumps(body).encode()
    conn.request("POST", "/control", data, {"Content-Type": "application/json", **(headers or {})})
    response = conn.getresponse()
    out = json.loads(response.read() or b"{}")
    conn.close()
    return response.status, out


def test_binds_to_loopback_by_default(server: StudioServer) -> None:
    assert server.httpd.server_address[0] == "127.0.0.1"
    assert server.url == f"http://127.0.0.1:{server.port}/"


def test_files_inside_the_run_folder_are_served(server: StudioServer) -> None:
    assert _get(server, "/run/samples/step-00000010.png") == (200, b"\x89PNG\r\n\x1a\nfake")
    assert _get(server, "/run/config.yaml")[0] == 200
    assert _get(server, "/run/samples/step-99999999.png")[0] == 404


@pytest.mark.parametrize(
    "path",
    [
        "/run/../secret.yaml",
        "/run/samples/../../secret.yaml",
        "/run/%2e%2e/secret.yaml",
        "/run/%2E%2E%2Fsecret.yaml",
        "/run//etc/passwd",
        "/run/%2Fetc%2Fpasswd",
        "/run/..%5csecret.yaml",
        "/run/C:/Windows/win.ini",
        "/run/samples/link.png",  # a symbolic link pointing outside the folder
        "/run/samples/%00.png",
    ],
)
def test_paths_leaving_the_run_folder_are_refused(server: StudioServer, path: str) -> None:
    status, body = _get(server, path)
    assert status == 403, (path, status)
    assert b"hunter2" not in body and b"secret" not in body


def test_safe_run_path_directly(run_folder: Path) -> None:
    assert safe_run_path(run_folder, "samples/step-00000010.png") == (run_folder / "samples" / "step-00000010.png")
    for bad in ("../secret.yaml", "/etc/passwd", "a/../../b", "", "samples/link.png", "x\\..\\y"):
        with pytest.raises(PermissionError):
            safe_run_path(run_folder, bad)


def test_the_page_and_its_assets_come_from_the_package(server: StudioServer) -> None:
    status, page = _get(server, "/")
    assert status == 200 and b'<script src="/static/studio.js">' in page
    assert b"http://" not in page and b"https://" not in page  # nothing from elsewhere
    for name in ("studio.js", "studio.css"):
        status, body = _get(server, f"/static/{name}")
        assert status == 200 and body == static_file(name)
        assert b"http://" not in body and b"https://" not in body and b"//cdn" not in body
    assert _get(server, "/static/../server.py")[0] == 404
    assert _get(server, "/static/%2e%2e%2fserver.py")[0] == 404


def test_foreign_host_headers_are_refused(server: StudioServer) -> None:
    assert _get(server, "/", host="evil.example:80")[0] == 403  # DNS rebinding
    assert _get(server, "/", host=f"localhost:{server.port}")[0] == 200


def test_controls_only_from_the_pages_origin(server: StudioServer) -> None:
    assert _post(server, {"action": "pause"}) == (200, {"ok": True})
    assert server.controller.got == [{"action": "pause"}]
    status, body = _post(server, {"action": "pause"}, {"Origin": "http://evil.example"})
    assert status == 403 and "cross-origin" in body["error"]
    status, body = _post(server, {"nothing": 1})
    assert status == 400 and body["error"] == "a control needs an 'action'"
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request("POST", "/control", "action=pause", {"Content-Type": "application/x-www-form-urlencoded"})
    assert conn.getresponse().status == 415  # a cross-site form cannot post JSON
    conn.close()


def test_attach_mode_has_no_controls(run_folder: Path) -> None:
    s = StudioServer(EventHub(), run_folder, None).start()
    try:
        status, body = _post(s, {"action": "pause"})
        assert status == 409 and "another process" in body["error"]
    finally:
        s.stop()


def test_binding_elsewhere_warns(capsys: pytest.CaptureFixture[str]) -> None:
    from ganforge.studio.server import warn_if_exposed

    warn_if_exposed("127.0.0.1")
    assert capsys.readouterr().err == ""
    warn_if_exposed("0.0.0.0")
    err = capsys.readouterr().err
    assert err.startswith("warning: the studio listens on 0.0.0.0") and err.count("\n") == 1


def test_a_stopped_server_says_so_on_a_kept_alive_connection(run_folder: Path) -> None:
    """A browser's kept-alive connection outlives shutdown: a page reconnecting its event stream over it gets
    503 (its EventSource gives up: "disconnected"), not a replay of "running" that never ends."""
    hub = EventHub()
    hub.publish("status", {"step": 3, "paused": False})
    s = StudioServer(hub, run_folder, None).start()
    conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=10)
    conn.request("GET", "/static/studio.css")
    assert conn.getresponse().read() and conn.sock is not None  # kept alive
    s.stop()
    conn.request("GET", "/events")
    response = conn.getresponse()
    assert response.status == 503 and response.read() == b"the studio has stopped"
    conn.close()


def test_the_hub_replays_a_consistent_state_to_pages_that_reconnect() -> None:
    """A page that reconnects starts over from the backlog: records truncated away by a resume are not in
    it, and once the hub is closed a stream ends after its backlog instead of idling forever."""
    hub = EventHub()
    for step in (10, 20):
        hub.publish("record", {"step": step})
    hub.publish("reset", {"reason": "truncated"})
    hub.publish("record", {"step": 5})
    hub.close()
    client = hub.subscribe()
    got = []
    while (message := client.get(timeout=1)) is not None:
        got.append(json.loads(message.decode().split("data: ")[1]))
    assert got == [{"step": 5}]
