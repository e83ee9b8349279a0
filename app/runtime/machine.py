"""Machine definitions: a registry of machine types and their handlers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from app.runtime.context import Context

Handler = Callable[[Context], Awaitable[Any]]

_registry: dict[str, Machine] = {}

INVOCATIONS = "invocations"
"""Not a machine type: ``/invocations/{id}`` looks up invocations."""
STATE = "state"
"""Not a handler name: ``GET /{type}/{key}/state`` reads a machine's state."""


class Machine:
    """A type of state machine, served at ``/<name>/<key>/<handler>``.

    >>> door = Machine("door")
    >>> @door.handler(name="open")
    ... async def open_door(ctx: Context) -> str: ...
    """

    def __init__(self, name: str) -> None:
        if name in _registry:
            raise ValueError(f"machine type {name!r} is defined twice")
        if name == INVOCATIONS or not name or "/" in name:
            raise ValueError(f"{name!r} cannot name a machine type")
        self.name = name
        self.handlers: dict[str, Handler] = {}
        _registry[name] = self

    def handler(self, name: str | None = None) -> Callable[[Handler], Handler]:
        """Register an ``async def f(ctx)`` as a handler, under ``name`` or its own name."""

        def register(function: Handler) -> Handler:
            wire_name = name or function.__name__
            if wire_name == STATE or "/" in wire_name:
                raise ValueError(f"{wire_name!r} cannot name a handler")
            if wire_name in self.handlers:
                raise ValueError(f"handler {self.name}/{wire_name} is defined twice")
            self.handlers[wire_name] = function
            return function

        return register


def find_handler(machine: str, handler: str) -> Handler | None:
    """The handler registered as ``machine``/``handler``, or ``None``."""
    definition = _registry.get(machine)
    return definition.handlers.get(handler) if definition else None


def machine_types() -> dict[str, Machine]:
    """All registered machine types by name."""
    return dict(_registry)
