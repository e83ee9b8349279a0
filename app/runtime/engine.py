"""The transition engine: applies one command to one machine record.

Pure and synchronous: it mutates the record and returns the effects the worker must carry out
(results to publish, timers to arm, steps to run). The worker stores the record first, so an
effect lost in a crash is re-derived from the stored record (see :func:`pending_effects`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from app.runtime.context import StepFunction
from app.runtime.errors import NonDeterministicHandler
from app.runtime.machine import find_handler
from app.runtime.record import MachineRecord, Running
from app.runtime.replay import Completed, Crashed, Refused, Suspension, replay
from app.wire import DELAYED_ENTRY, RETRY_ENTRY, Call, Command, Result, StepDone, Wakeup

log = logging.getLogger(__name__)

DEFAULT_MAX_WAITING = 1000


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff for handlers that raise unexpected errors."""

    max_attempts: int = 5
    initial_seconds: float = 0.1
    max_seconds: float = 10.0

    def backoff(self, attempt: int) -> float:
        """Seconds to wait before attempt number ``attempt + 1`` (``attempt`` counts from 1)."""
        return min(self.initial_seconds * 2 ** (attempt - 1), self.max_seconds)


@dataclass(frozen=True, slots=True)
class TimerRequest:
    """Deliver ``Wakeup(invocation_id, entry)`` to the machine at ``wake_at`` (epoch seconds)."""

    address: str
    invocation_id: str
    entry: int
    wake_at: float


@dataclass(frozen=True, slots=True)
class StepRequest:
    """Run ``function`` and deliver its outcome as ``StepDone(invocation_id, entry)``."""

    address: str
    invocation_id: str
    entry: int
    name: str
    function: StepFunction


@dataclass(slots=True)
class Effects:
    results: list[Result] = field(default_factory=list)
    calls: dict[str, Call] = field(default_factory=dict)
    """The call each result answers, by invocation id."""
    timers: list[TimerRequest] = field(default_factory=list)
    steps: list[StepRequest] = field(default_factory=list)

    def answer(self, call: Call, status: int, output: Any = None, error: str | None = None) -> None:
        """End ``call`` with a result."""
        self.results.append(
            Result(call.invocationId, call.address, call.handler, status, output, error)
        )
        self.calls[call.invocationId] = call


def apply(
    record: MachineRecord,
    command: Command,
    now: float,
    policy: RetryPolicy,
    max_waiting: int = DEFAULT_MAX_WAITING,
) -> Effects:
    """Apply ``command`` to ``record`` in place and return the effects to carry out.

    ``max_waiting`` bounds the calls a machine holds besides the running one (queued and
    delayed); a call beyond it ends at once with status 429.
    """
    effects = Effects()
    running = record.running
    match command:
        case Call():
            _accept(record, command, now, policy, max_waiting, effects)
        case Wakeup(invocationId=invocation_id, entry=entry) if entry == DELAYED_ENTRY:
            due = next((c for c in record.scheduled if c.invocationId == invocation_id), None)
            if due is not None:
                record.scheduled.remove(due)
                _enqueue(record, due, now, policy, effects)
        case Wakeup(invocationId=invocation_id, entry=entry) if _is_current(running, invocation_id):
            assert running is not None
            if entry == RETRY_ENTRY and running.retryAt is not None:
                running.retryAt = None
                _advance(record, now, policy, effects)
            elif _is_pending(running, entry, "sleep"):
                running.journal[entry]["done"] = True
                _advance(record, now, policy, effects)
        case StepDone(invocationId=invocation_id, entry=entry) if _is_current(
            running, invocation_id
        ):
            assert running is not None
            if _is_pending(running, entry, "step"):
                running.journal[entry].update(
                    done=True, result=command.result, error=command.error, status=command.status
                )
                _advance(record, now, policy, effects)
        case _:
            log.debug("ignoring stale %s", command)
    return effects


def pending_effects(record: MachineRecord, now: float) -> Effects:
    """The timers and steps a stored record waits for (to re-arm them after a restart)."""
    effects = Effects()
    for delayed in record.scheduled:
        effects.timers.append(
            TimerRequest(
                delayed.address, delayed.invocationId, DELAYED_ENTRY, delayed.notBefore or now
            )
        )
    running = record.running
    if running is None:
        return effects
    call = running.call
    if running.retryAt is not None:
        effects.timers.append(
            TimerRequest(call.address, call.invocationId, RETRY_ENTRY, running.retryAt)
        )
        return effects
    handler = find_handler(call.machine, call.handler)
    if handler is None:
        return effects
    journal = list(running.journal)  # replay may append; the record stays as stored
    outcome = replay(handler, call, record.state, journal, now)
    if isinstance(outcome, Suspension) and outcome.entry < len(running.journal):
        _request(call, journal, outcome, effects)
    return effects


def _accept(
    record: MachineRecord,
    call: Call,
    now: float,
    policy: RetryPolicy,
    max_waiting: int,
    effects: Effects,
) -> None:
    """Take a new call: start it, queue it, delay it, or refuse it when the machine is full."""
    if record.locate(call.invocationId) is not None:
        # A repeat (same idempotency key) of an accepted call: its one result answers both.
        log.info("%s %s %s repeated while pending", call.address, call.handler, call.invocationId)
        return
    delayed = call.notBefore is not None and call.notBefore > now
    if (delayed or record.running is not None) and record.waiting >= max_waiting:
        log.warning("%s %s %s refused: %d calls waiting", call.address, call.handler,
                    call.invocationId, record.waiting)  # fmt: skip
        effects.answer(
            call,
            429,
            error=f"machine {call.address} already has {record.waiting} calls waiting "
            f"(limit {max_waiting}); try again later",
        )
    elif delayed:
        assert call.notBefore is not None
        log.info("delayed call scheduled: %s %s %s", call.address, call.handler, call.invocationId)
        record.scheduled.append(call)
        effects.timers.append(
            TimerRequest(call.address, call.invocationId, DELAYED_ENTRY, call.notBefore)
        )
    else:
        _enqueue(record, call, now, policy, effects)


def _enqueue(
    record: MachineRecord, call: Call, now: float, policy: RetryPolicy, effects: Effects
) -> None:
    if record.running is None:
        _start(record, call)
        _advance(record, now, policy, effects)
    else:
        record.queue.append(call)


def _advance(record: MachineRecord, now: float, policy: RetryPolicy, effects: Effects) -> None:
    """Run the current transition as far as it goes, then the queued calls after it."""
    while (running := record.running) is not None:
        call = running.call
        handler = find_handler(call.machine, call.handler)
        if handler is None:
            _finish(record, effects, 404, error=f"unknown handler {call.machine}/{call.handler}")
            continue
        outcome = replay(handler, call, record.state, running.journal, now)
        match outcome:
            case Suspension():
                _request(call, running.journal, outcome, effects)
                return
            case Completed(output=output, state=state):
                record.state = state
                _finish(record, effects, 200, output=output)
            case Refused(rejection=rejection):
                log.info("%s %s %s rejected: %s", call.address, call.handler,
                         call.invocationId, rejection.message)  # fmt: skip
                _finish(record, effects, rejection.status, error=rejection.message)
            case Crashed(error=error):
                if _retry(running, error, now, policy, effects):
                    return
                _finish(record, effects, 500, error=f"handler failed: {error!r}")


def _retry(
    running: Running, error: BaseException, now: float, policy: RetryPolicy, effects: Effects
) -> bool:
    """Schedule another attempt after ``error``; ``False`` when retrying cannot help."""
    call = running.call
    running.attempt += 1
    retryable = not isinstance(error, NonDeterministicHandler)
    if not retryable or running.attempt >= policy.max_attempts:
        log.error(
            "%s %s %s failed for good after %d attempt(s): %r",
            call.address,
            call.handler,
            call.invocationId,
            running.attempt,
            error,
        )
        return False
    delay = policy.backoff(running.attempt)
    log.warning(
        "%s %s %s failed (attempt %d), retrying in %.2fs: %r",
        call.address,
        call.handler,
        call.invocationId,
        running.attempt,
        delay,
        error,
    )
    running.retryAt = now + delay
    effects.timers.append(
        TimerRequest(call.address, call.invocationId, RETRY_ENTRY, running.retryAt)
    )
    return True


def _start(record: MachineRecord, call: Call) -> None:
    log.info("transition begins: %s %s %s", call.address, call.handler, call.invocationId)
    record.running = Running(call)


def _finish(
    record: MachineRecord,
    effects: Effects,
    status: int,
    output: Any = None,
    error: str | None = None,
) -> None:
    """End the running transition with a result and start the next queued call."""
    assert record.running is not None
    call = record.running.call
    log.info("transition ends: %s %s %s -> %s %s", call.address, call.handler,
             call.invocationId, status, output if error is None else error)  # fmt: skip
    effects.answer(call, status, output, error)
    record.running = None
    if record.queue:
        _start(record, record.queue.pop(0))


def _request(call: Call, journal: list[dict], suspension: Suspension, effects: Effects) -> None:
    entry = journal[suspension.entry]
    if entry["kind"] == "sleep":
        effects.timers.append(
            TimerRequest(call.address, call.invocationId, suspension.entry, entry["wakeAt"])
        )
    elif suspension.step_function is not None:
        effects.steps.append(
            StepRequest(
                call.address,
                call.invocationId,
                suspension.entry,
                entry["name"],
                suspension.step_function,
            )
        )


def _is_current(running: Running | None, invocation_id: str) -> bool:
    return running is not None and running.call.invocationId == invocation_id


def _is_pending(running: Running, entry: int, kind: str) -> bool:
    journal = running.journal
    return (
        0 <= entry < len(journal) and journal[entry]["kind"] == kind and not journal[entry]["done"]
    )
