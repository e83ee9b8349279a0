"""Timers and side-effecting steps of suspended transitions, run outside the agent loop.

Their outcome is fed back as a command on the machine's own partition, so that every change
of a machine is ordered by Kafka. Arming is idempotent per (invocation, journal entry).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from app.runtime.engine import Effects, RetryPolicy, StepRequest, TimerRequest
from app.runtime.errors import Rejected
from app.wire import Command, StepDone, Wakeup

log = logging.getLogger(__name__)

SendCommand = Callable[[str, int, Command], Awaitable[Any]]


class Scheduler:
    """Arms timers and runs steps, and sends their outcomes back to the machine."""

    def __init__(self, send: SendCommand, step_policy: RetryPolicy) -> None:
        self._send = send
        self._step_policy = step_policy
        self._armed: dict[tuple[str, int], asyncio.TimerHandle | asyncio.Task[None]] = {}

    def arm(self, partition: int, effects: Effects) -> None:
        """Start whatever ``effects`` asks for that is not already armed in this process."""
        for timer in effects.timers:
            ident = (timer.invocation_id, timer.entry)
            if ident not in self._armed:
                delay = max(0.0, timer.wake_at - time.time())
                self._armed[ident] = asyncio.get_running_loop().call_later(
                    delay, self._fire, partition, timer
                )
        for step in effects.steps:
            ident = (step.invocation_id, step.entry)
            if ident not in self._armed:
                self._armed[ident] = asyncio.create_task(self._run_step(partition, step))

    def _fire(self, partition: int, timer: TimerRequest) -> None:
        self._armed[(timer.invocation_id, timer.entry)] = asyncio.create_task(
            self._deliver(partition, timer.address, Wakeup(timer.invocation_id, timer.entry))
        )

    async def _run_step(self, partition: int, step: StepRequest) -> None:
        policy = self._step_policy
        for attempt in range(1, policy.max_attempts + 1):
            try:
                # A plain function runs in a thread: a blocking side effect must not stall the
                # worker's loop (and with it every other machine).
                if inspect.iscoroutinefunction(step.function):
                    result = await step.function()
                else:
                    result = await asyncio.to_thread(step.function)
                if inspect.isawaitable(result):
                    result = await result
                done = StepDone(step.invocation_id, step.entry, result=result)
                break
            except Rejected as rejection:
                done = StepDone(
                    step.invocation_id, step.entry, error=rejection.message, status=rejection.status
                )
                break
            except Exception as error:
                log.warning(
                    "step %r of %s %s failed (attempt %d): %r",
                    step.name,
                    step.address,
                    step.invocation_id,
                    attempt,
                    error,
                )
                done = StepDone(step.invocation_id, step.entry, error=repr(error))
                if attempt < policy.max_attempts:
                    await asyncio.sleep(policy.backoff(attempt))
        await self._deliver(partition, step.address, done)

    async def _deliver(self, partition: int, address: str, command: Command) -> None:
        ident = (command.invocationId, command.entry)  # type: ignore[union-attr]
        try:
            await self._send(address, partition, command)
        except Exception:
            log.exception("could not deliver %s to %s", command, address)
        finally:
            self._armed.pop(ident, None)
