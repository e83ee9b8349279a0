"""Answers to queries: what a machine holds and where one of its invocations stands.

A query travels on the machine's partition like any command, so its answer reflects every
command before it in the log: a read that starts after a call was answered sees that call.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from app.runtime.record import MachineRecord
from app.wire import Call, Result


def machine_view(record: MachineRecord) -> dict[str, Any]:
    """The machine's committed state, how many calls wait, and whether a transition runs."""
    return {
        "state": record.state,
        "running": record.running is not None,
        "queueLength": len(record.queue),
        "scheduled": len(record.scheduled),
    }


def pending_invocation_view(record: MachineRecord, invocation_id: str) -> dict[str, Any] | None:
    """Where a not yet completed invocation stands on ``record``, ``None`` if it is not there."""
    found = record.locate(invocation_id)
    if found is None:
        return None
    status, position, call = found
    view = _describe(call, status)
    if status == "queued":
        view["position"] = position
    elif status == "scheduled":
        view["runAt"] = _timestamp(call.notBefore or 0)
    return view


def completed_invocation_view(result: Result, completed_at: float) -> dict[str, Any]:
    """A finished invocation: its output, or the status and message it failed with."""
    machine, _, key = result.address.partition("/")
    view: dict[str, Any] = {
        "invocationId": result.invocationId,
        "machine": machine,
        "key": key,
        "handler": result.handler,
        "status": "completed",
        "completedAt": _timestamp(completed_at),
    }
    if result.ok:
        view["output"] = result.output
    else:
        view["error"] = {"status": result.status, "message": result.error}
    return view


def _describe(call: Call, status: str) -> dict[str, Any]:
    return {
        "invocationId": call.invocationId,
        "machine": call.machine,
        "key": call.key,
        "handler": call.handler,
        "status": status,
    }


def _timestamp(epoch_seconds: float) -> str:
    return datetime.fromtimestamp(epoch_seconds, UTC).isoformat(timespec="milliseconds")
