"""Running a handler against its journal.

A handler is re-executed from the start every time its transition makes progress. Durable steps
already in the journal return their recorded outcome; the first step that is not complete parks
the handler (:class:`Suspension`). Handlers never really wait, so a replay is a synchronous call
that drives the coroutine by hand: the worker's event loop is never blocked by a transition.
"""

from __future__ import annotations

import copy
import inspect
from dataclasses import dataclass
from typing import Any

from app.runtime.context import Context, StepFunction
from app.runtime.errors import NonDeterministicHandler, Rejected, Suspended
from app.runtime.machine import Handler
from app.runtime.record import JournalEntry
from app.wire import Call


@dataclass(frozen=True, slots=True)
class Completed:
    output: Any
    state: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Refused:
    rejection: Rejected


@dataclass(frozen=True, slots=True)
class Crashed:
    """The handler raised an unexpected exception (it may succeed on retry)."""

    error: BaseException


@dataclass(frozen=True, slots=True)
class Suspension:
    """The handler waits for the journal entry at ``entry``."""

    entry: int
    step_function: StepFunction | None = None


Outcome = Completed | Refused | Crashed | Suspension


class JournalContext(Context):
    """The :class:`Context` of one replay: reads the journal, appends new steps to it."""

    def __init__(
        self, call: Call, state: dict[str, Any], journal: list[JournalEntry], now: float
    ) -> None:
        self.machine = call.machine
        self.key = call.key
        self.handler = call.handler
        self.invocation_id = call.invocationId
        self.input = call.input
        self._state = copy.deepcopy(state)
        self._journal = journal
        self._cursor = 0
        self._now = now
        self.last_entry = -1
        self.pending_function: StepFunction | None = None

    @property
    def state(self) -> dict[str, Any]:
        return self._state

    @property
    def replaying(self) -> bool:
        return self._cursor < len(self._journal)

    def get(self, name: str, default: Any = None) -> Any:
        return copy.deepcopy(self._state.get(name, default))

    def set(self, name: str, value: Any) -> None:
        self._state[name] = copy.deepcopy(value)

    def clear(self, name: str) -> None:
        self._state.pop(name, None)

    async def sleep(self, name: str, seconds: float) -> None:
        if seconds <= 0:
            return
        entry = self._enter("sleep", name, wakeAt=self._now + seconds)
        if not entry["done"]:
            raise Suspended

    async def step(self, name: str, function: StepFunction) -> Any:
        entry = self._enter("step", name)
        if not entry["done"]:
            self.pending_function = function
            raise Suspended
        if entry.get("error") is not None:
            if entry.get("status") is not None:  # the step rejected the call on purpose
                raise Rejected(entry["error"], status=entry["status"])
            raise Rejected(f"step {name!r} failed: {entry['error']}", status=500)
        return copy.deepcopy(entry.get("result"))

    def _enter(self, kind: str, name: str, **fields: Any) -> JournalEntry:
        """The journal entry for the next durable step, appended if the handler is past the end."""
        index = self._cursor
        self._cursor += 1
        self.pending_function = None
        if index < len(self._journal):
            entry = self._journal[index]
            if entry["kind"] != kind or entry["name"] != name:
                raise NonDeterministicHandler(
                    f"journal entry {index} is {entry['kind']} {entry['name']!r}, "
                    f"but the handler now asks for {kind} {name!r}"
                )
        else:
            entry = {"kind": kind, "name": name, "done": False, **fields}
            self._journal.append(entry)
        self.last_entry = index
        return entry


def replay(
    handler: Handler, call: Call, state: dict[str, Any], journal: list[JournalEntry], now: float
) -> Outcome:
    """Run ``handler`` for ``call`` against ``journal`` (extended in place with new steps)."""
    context = JournalContext(call, state, journal, now)
    coroutine = handler(context)
    if not inspect.iscoroutine(coroutine):
        return Crashed(TypeError(f"handler {call.handler!r} is not an async function"))
    try:
        coroutine.send(None)
    except StopIteration as finished:
        return Completed(finished.value, context.state)
    except Suspended:
        return Suspension(context.last_entry, context.pending_function)
    except Rejected as rejection:
        return Refused(rejection)
    except Exception as error:
        return Crashed(error)
    coroutine.close()
    return Crashed(
        RuntimeError(
            f"handler {call.handler!r} awaited something other than ctx.sleep or ctx.step; "
            "handlers must not wait on I/O directly"
        )
    )
