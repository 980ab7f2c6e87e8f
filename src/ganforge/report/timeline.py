"""The diagnosis timeline of a run, read from its ``metrics.jsonl`` records.

Monitors log a finding (``findings``) at the step a problem starts and a ``resolved`` event at the step it
stops holding; the timeline pairs them. Shared by ``ganforge diagnose``, ``report.html`` and the studio.
"""

from __future__ import annotations

from typing import Any


def resolution_key(f: dict[str, Any]) -> str:
    """The ``kind`` a resolution of finding ``f`` carries: instability causes are tracked one by one."""
    message = str(f.get("message", ""))
    if f.get("kind") == "instability" and message.startswith("instability ("):
        return f"instability:{message[len('instability ('):].split(')')[0]}"
    return str(f.get("kind"))


def timeline(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Findings in step order, each with ``until``: the step its condition stopped holding (None: still
    holding at the end of the logged run)."""
    events: list[dict[str, Any]] = []
    open_by_kind: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        for f in record.get("findings", []):
            event = {**f, "until": None}
            events.append(event)
            open_by_kind.setdefault(resolution_key(f), []).append(event)
        for r in record.get("resolved", []):
            pending = open_by_kind.get(r["kind"], [])
            if pending:
                pending.pop(0)["until"] = r["step"]
    return events
