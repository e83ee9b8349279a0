"""The durable record of one machine: the value stored under its address in the table.

Everything that must survive a crash lives here, so that a restarted worker rebuilds it from
the table's changelog: the machine's state, the running transition with its journal, the queue
of waiting calls, the delayed calls whose time has not come, the source offset last applied
(for deduplication) and the results not yet known to be delivered (the outbox).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.wire import Call, Result, to_dict

JournalEntry = dict[str, Any]
"""One durable step: ``kind`` (``sleep``/``step``), ``name``, ``done`` and, by kind,
``wakeAt`` (epoch seconds) or ``result``/``error``."""


@dataclass(slots=True)
class Running:
    """The transition in progress on a machine."""

    call: Call
    journal: list[JournalEntry] = field(default_factory=list)
    attempt: int = 0
    retryAt: float | None = None  # set while waiting to retry after a failure


@dataclass(slots=True)
class OutboxEntry:
    """A result published while applying the source record at ``offset``."""

    offset: int
    result: Result


@dataclass(slots=True)
class MachineRecord:
    """State, running transition, queue and delivery bookkeeping of one machine."""

    state: dict[str, Any] = field(default_factory=dict)
    offset: int = -1
    partition: int | None = None
    running: Running | None = None
    queue: list[Call] = field(default_factory=list)
    scheduled: list[Call] = field(default_factory=list)
    outbox: list[OutboxEntry] = field(default_factory=list)

    @property
    def waiting(self) -> int:
        """Calls accepted but not started: queued and delayed."""
        return len(self.queue) + len(self.scheduled)

    def locate(self, invocation_id: str) -> tuple[str, int, Call] | None:
        """Where a not yet completed invocation is: ``("running", 0, call)``,
        ``("queued", position, call)`` (1 = next) or ``("scheduled", 0, call)``; else ``None``."""
        if self.running is not None and self.running.call.invocationId == invocation_id:
            return "running", 0, self.running.call
        for position, call in enumerate(self.queue, start=1):
            if call.invocationId == invocation_id:
                return "queued", position, call
        for call in self.scheduled:
            if call.invocationId == invocation_id:
                return "scheduled", 0, call
        return None

    def to_dict(self) -> dict[str, Any]:
        """The JSON object stored in the table."""
        running = self.running
        return {
            "state": self.state,
            "offset": self.offset,
            "partition": self.partition,
            "running": None
            if running is None
            else {
                "call": to_dict(running.call),
                "journal": running.journal,
                "attempt": running.attempt,
                "retryAt": running.retryAt,
            },
            "queue": [to_dict(call) for call in self.queue],
            "scheduled": [to_dict(call) for call in self.scheduled],
            "outbox": [
                {"offset": entry.offset, "result": to_dict(entry.result)} for entry in self.outbox
            ],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> MachineRecord:
        """Rebuild a record read from the table (``None`` means a machine never seen)."""
        if not data:
            return cls()
        running = data.get("running")
        return cls(
            state=data.get("state", {}),
            offset=data.get("offset", -1),
            partition=data.get("partition"),
            running=_running_from_dict(running) if running else None,
            queue=[Call(**call) for call in data.get("queue", [])],
            scheduled=[Call(**call) for call in data.get("scheduled", [])],
            outbox=[
                OutboxEntry(entry["offset"], Result(**entry["result"]))
                for entry in data.get("outbox", [])
            ],
        )


def _running_from_dict(data: dict[str, Any]) -> Running:
    return Running(
        call=Call(**data["call"]),
        # Copies: the engine updates the journal in place, the table's value must not change.
        journal=[dict(entry) for entry in data.get("journal", [])],
        attempt=data.get("attempt", 0),
        retryAt=data.get("retryAt"),
    )
