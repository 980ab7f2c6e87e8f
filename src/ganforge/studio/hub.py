"""The studio's event hub: what the training side publishes, fanned out to every open page.

Producers (the training controller, the run-folder watcher) call :meth:`EventHub.publish` with an event
name and a JSON-able payload. Each page connected to ``/events`` gets its own bounded queue; a page that
reads too slowly loses old *frames* (only the newest matters), never metric records or findings. A page
that connects late first receives the state so far: the ``init`` message, every metric record, every
snapshot, the status and the newest frame. A page that reconnects after a dropped stream receives the
same, so it starts over from it rather than adding it to what it already holds.
"""

from __future__ import annotations

import contextlib
import json
import queue
import threading
from typing import Any

from ganforge.fileio import to_jsonable

MAX_QUEUE = 256  # events waiting per page before frames are dropped
REPLAYED = ("init", "status")  # kept as "latest" and sent to late pages


def encode(event: str, payload: Any) -> bytes:
    """One server-sent event: ``event: NAME`` and one ``data:`` line of strict JSON. Frames are plain
    lists of finite floats already (the bulk of the traffic: no per-value conversion); other payloads
    follow the run folder's JSON convention (non-finite floats as strings)."""
    plain = payload if event == "frame" else to_jsonable(payload)
    data = json.dumps(plain, allow_nan=False, separators=(",", ":"))
    return f"event: {event}\ndata: {data}\n\n".encode()


class EventHub:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._clients: list[queue.Queue[bytes | None]] = []
        self._latest: dict[str, bytes] = {}
        self._records: list[bytes] = []
        self._snapshots: list[bytes] = []
        self._frame: bytes | None = None
        self.closed = False

    def publish(self, event: str, payload: Any) -> None:
        message = encode(event, payload)
        with self._lock:
            if event in REPLAYED:
                self._latest[event] = message
            elif event == "record":
                self._records.append(message)
            elif event == "reset":  # the records so far were truncated away: a page (re)connecting later
                self._records = []  # gets only those written since, as pages already open do
            elif event == "snapshot":
                self._snapshots.append(message)
            elif event == "frame":
                self._frame = message
            for client in self._clients:
                self._offer(client, message, droppable=event == "frame")

    @staticmethod
    def _offer(client: queue.Queue[bytes | None], message: bytes, droppable: bool) -> None:
        try:
            client.put_nowait(message)
        except queue.Full:
            if droppable:
                return
            try:  # make room: the oldest waiting event goes (frames are the bulk of any backlog)
                client.get_nowait()
                client.put_nowait(message)
            except (queue.Empty, queue.Full):
                pass

    def subscribe(self) -> queue.Queue[bytes | None]:
        """A queue of encoded events for a new page, pre-filled with the state so far."""
        client: queue.Queue[bytes | None] = queue.Queue(maxsize=MAX_QUEUE)
        with self._lock:
            backlog = [self._latest[e] for e in ("init",) if e in self._latest]
            backlog += self._records + self._snapshots
            backlog += [self._latest[e] for e in ("status",) if e in self._latest]
            if self._frame is not None:
                backlog.append(self._frame)
            # the backlog may exceed the live bound: give this page a queue large enough for it
            client = queue.Queue(maxsize=MAX_QUEUE + len(backlog) + 1)
            for message in backlog:
                client.put_nowait(message)
            if self.closed:  # nothing more will come: the stream ends after the backlog instead of idling forever
                client.put_nowait(None)
            self._clients.append(client)
        return client

    def unsubscribe(self, client: queue.Queue[bytes | None]) -> None:
        with self._lock:
            if client in self._clients:
                self._clients.remove(client)

    def close(self) -> None:
        """Wake every page's stream so server threads can end."""
        with self._lock:
            self.closed = True
            for client in self._clients:
                with contextlib.suppress(queue.Full):
                    client.put_nowait(None)
