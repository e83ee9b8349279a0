"""The interface a handler is given. It has no logic: the engine provides the implementation."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from typing import Any

StepFunction = Callable[[], Any] | Callable[[], Awaitable[Any]]


class Context(ABC):
    """What a handler may do with its machine.

    Handlers must be deterministic: every source of time, randomness or I/O goes through
    :meth:`sleep` or :meth:`step`, whose results are journaled and replayed after a crash.
    State written with :meth:`set` becomes visible to others only when the handler returns.
    """

    machine: str
    """The machine type, e.g. ``resource``."""
    key: str
    """The machine id, e.g. ``a``."""
    handler: str
    """The handler's wire name, e.g. ``setUp``."""
    invocation_id: str
    """The id of the call being handled."""
    input: Any
    """The call's JSON body, ``None`` when it was empty."""

    @abstractmethod
    def get(self, name: str, default: Any = None) -> Any:
        """The value of one field of the machine's state."""

    @abstractmethod
    def set(self, name: str, value: Any) -> None:
        """Set one field of the machine's state (a JSON value)."""

    @abstractmethod
    def clear(self, name: str) -> None:
        """Remove one field of the machine's state."""

    @abstractmethod
    async def sleep(self, name: str, seconds: float) -> None:
        """Sleep durably: the timer survives crashes and other machines run meanwhile.

        ``name`` is a stable literal identifying the step in the journal."""

    @abstractmethod
    async def step(self, name: str, function: StepFunction) -> Any:
        """Run a side effect once and journal its JSON result.

        After a crash a completed step is not run again; its recorded result is returned.
        A step that was running when the worker died runs again (at-least-once)."""

    @property
    @abstractmethod
    def replaying(self) -> bool:
        """Whether the handler is re-executing code whose effects are already journaled."""
