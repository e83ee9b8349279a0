"""Test doubles for the engine's surroundings (never for Kafka itself)."""

from __future__ import annotations

from app.runtime.record import MachineRecord
from app.wire import Call, new_invocation_id


def make_call(key: str, handler: str, machine: str = "resource", body: object = None) -> Call:
    return Call(new_invocation_id(f"{machine}/{key}"), machine, key, handler, body)


class Clock:
    """A settable clock."""

    def __init__(self, now: float = 1_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def roundtrip(record: MachineRecord) -> MachineRecord:
    """What the table gives back after storing ``record``."""
    return MachineRecord.from_dict(record.to_dict())
