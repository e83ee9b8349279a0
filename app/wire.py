"""Wire format of the commands and results topics, shared by the worker and the ingress.

Every message is one JSON object a person can read with ``kafka-console-consumer``.
Commands are keyed by machine address (``resource/a``), results by invocation id.

Commands topic, ``type`` tells the kind:

* ``call``      - a client called a handler: ``invocationId``, ``machine``, ``key``,
                  ``handler``, ``input`` (any JSON value, ``null`` for an empty body).
* ``wakeup``    - a durable timer of a running transition is due: ``invocationId``, ``entry``
                  (journal index, ``-1`` for a retry after a failure).
* ``step-done`` - a side-effecting step finished: ``invocationId``, ``entry``, ``result``
                  or ``error``.

Results topic: ``invocationId``, ``address``, ``handler``, ``status`` (HTTP-like code),
``output`` (on success) or ``error`` (message, on failure).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any, Literal

JsonValue = Any

CALL = "call"
WAKEUP = "wakeup"
STEP_DONE = "step-done"
RETRY_ENTRY = -1


def address_of(machine: str, key: str) -> str:
    """The Kafka key of a machine instance, e.g. ``resource/a``."""
    return f"{machine}/{key}"


def new_invocation_id() -> str:
    """A fresh, unique invocation id."""
    return "inv_" + uuid.uuid4().hex


@dataclass(frozen=True, slots=True)
class Call:
    """A client's call of a handler on one machine."""

    invocationId: str
    machine: str
    key: str
    handler: str
    input: JsonValue = None
    type: Literal["call"] = CALL

    @property
    def address(self) -> str:
        return address_of(self.machine, self.key)


@dataclass(frozen=True, slots=True)
class Wakeup:
    """A durable timer (or a retry backoff) of a running transition has expired."""

    invocationId: str
    entry: int
    type: Literal["wakeup"] = WAKEUP


@dataclass(frozen=True, slots=True)
class StepDone:
    """A side-effecting step of a running transition has finished."""

    invocationId: str
    entry: int
    result: JsonValue = None
    error: str | None = None
    type: Literal["step-done"] = STEP_DONE


Command = Call | Wakeup | StepDone

_COMMAND_TYPES: dict[str, type[Call] | type[Wakeup] | type[StepDone]] = {
    CALL: Call,
    WAKEUP: Wakeup,
    STEP_DONE: StepDone,
}


@dataclass(frozen=True, slots=True)
class Result:
    """The outcome of one invocation."""

    invocationId: str
    address: str
    handler: str
    status: int
    output: JsonValue = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


class WireError(ValueError):
    """A message on a topic is not in the wire format."""


def to_dict(message: Command | Result) -> dict[str, Any]:
    """The JSON object of a command or result (its fields, in declaration order)."""
    return {name: getattr(message, name) for name in message.__slots__}


def encode(message: Command | Result) -> bytes:
    """Serialize a command or result to compact JSON bytes."""
    return json.dumps(to_dict(message), separators=(",", ":")).encode()


def command_from_dict(data: dict[str, Any]) -> Command:
    """Parse a command object read from the commands topic."""
    try:
        kind = _COMMAND_TYPES[data["type"]]
        return kind(**data)
    except (KeyError, TypeError) as exc:
        raise WireError(f"not a command: {data!r}") from exc


def result_from_dict(data: dict[str, Any]) -> Result:
    """Parse a result object read from the results topic."""
    try:
        return Result(**data)
    except TypeError as exc:
        raise WireError(f"not a result: {data!r}") from exc


def decode_result(raw: bytes) -> Result:
    """Parse result bytes read from the results topic."""
    try:
        return result_from_dict(json.loads(raw))
    except json.JSONDecodeError as exc:
        raise WireError(f"result is not JSON: {raw[:200]!r}") from exc
