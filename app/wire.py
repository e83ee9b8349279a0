"""Wire format of the commands and results topics, shared by the worker and the ingress.

Every message is one JSON object a person can read with ``kafka-console-consumer``.
Commands are keyed by machine address (``resource/a``), results by invocation id.

Commands topic, ``type`` tells the kind:

* ``call``      - a client called a handler: ``invocationId``, ``machine``, ``key``,
                  ``handler``, ``input`` (any JSON value, ``null`` for an empty body),
                  ``idempotencyKey`` (or ``null``) and ``notBefore`` (epoch seconds before
                  which it must not start, ``null`` to run as soon as it is its turn).
* ``wakeup``    - a durable timer is due: ``invocationId``, ``entry`` (journal index of a
                  running transition, ``-1`` for a retry after a failure, ``-2`` for a
                  delayed call whose time has come).
* ``step-done`` - a side-effecting step finished: ``invocationId``, ``entry``, ``result``
                  or ``error`` (with ``status`` when the step rejected the call).
* ``query``     - a read of the machine (``invocationId`` null) or of one of its invocations:
                  ``queryId``, ``machine``, ``key``, ``invocationId``. Answered in log order
                  and changes nothing.

Results topic: ``invocationId`` (or the ``queryId`` a query's answer is for), ``address``,
``handler``, ``status`` (HTTP-like code), ``output`` (on success) or ``error`` (message, on
failure).

An invocation id names its machine (``inv_<base64url of the address>.<32 hex digits>``), so
that a lookup by id can be routed to the machine's partition. With an idempotency key the hex
part is derived from the handler and the key, so a repeated call has the same id.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import uuid
from dataclasses import dataclass
from typing import Any, Literal

JsonValue = Any

CALL = "call"
WAKEUP = "wakeup"
STEP_DONE = "step-done"
QUERY = "query"
RETRY_ENTRY = -1
DELAYED_ENTRY = -2
"""``Wakeup.entry`` of a delayed call whose time has come."""
QUERY_HANDLER = "(query)"
"""``Result.handler`` of a query's answer."""


def address_of(machine: str, key: str) -> str:
    """The Kafka key of a machine instance, e.g. ``resource/a``."""
    return f"{machine}/{key}"


def new_invocation_id(address: str, handler: str = "", idempotency_key: str | None = None) -> str:
    """An invocation id for a call to ``address``: fresh, or derived from an idempotency key."""
    if idempotency_key is None:
        unique = uuid.uuid4().hex
    else:
        unique = hashlib.sha256(f"{handler}\n{idempotency_key}".encode()).hexdigest()[:32]
    encoded = base64.urlsafe_b64encode(address.encode()).rstrip(b"=").decode()
    return f"inv_{encoded}.{unique}"


def address_of_invocation(invocation_id: str) -> str | None:
    """The machine address named by an invocation id, ``None`` if it is not one."""
    prefix, _, rest = invocation_id.partition("_")
    encoded, dot, unique = rest.rpartition(".")
    if prefix != "inv" or not dot or len(unique) != 32 or not encoded:
        return None
    try:
        address = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return address if "/" in address else None


def new_query_id() -> str:
    """A fresh, unique query id."""
    return "qry_" + uuid.uuid4().hex


@dataclass(frozen=True, slots=True)
class Call:
    """A client's call of a handler on one machine."""

    invocationId: str
    machine: str
    key: str
    handler: str
    input: JsonValue = None
    idempotencyKey: str | None = None
    notBefore: float | None = None
    type: Literal["call"] = CALL

    @property
    def address(self) -> str:
        return address_of(self.machine, self.key)


@dataclass(frozen=True, slots=True)
class Query:
    """A read of a machine (``invocationId`` is ``None``) or of one of its invocations."""

    queryId: str
    machine: str
    key: str
    invocationId: str | None = None
    type: Literal["query"] = QUERY

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
    status: int | None = None  # set when the step raised Rejected: the call ends with it
    type: Literal["step-done"] = STEP_DONE


Command = Call | Wakeup | StepDone | Query

_COMMAND_TYPES: dict[str, type[Call] | type[Wakeup] | type[StepDone] | type[Query]] = {
    CALL: Call,
    WAKEUP: Wakeup,
    STEP_DONE: StepDone,
    QUERY: Query,
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
