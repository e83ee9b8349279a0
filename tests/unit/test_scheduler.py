"""The scheduler delivers timers and step outcomes back to the machine."""

from __future__ import annotations

import asyncio
import threading
import time

from app.runtime.engine import Effects, RetryPolicy, StepRequest, TimerRequest
from app.runtime.errors import Rejected
from app.runtime.scheduler import Scheduler
from app.wire import StepDone, Wakeup

POLICY = RetryPolicy(max_attempts=3, initial_seconds=0.01, max_seconds=0.02)


class Outbox:
    def __init__(self) -> None:
        self.sent: list[tuple[str, int, object]] = []
        self.arrived = asyncio.Event()

    async def __call__(self, address: str, partition: int, command) -> None:
        self.sent.append((address, partition, command))
        self.arrived.set()


async def wait_sent(outbox: Outbox, count: int) -> None:
    async with asyncio.timeout(5):
        while len(outbox.sent) < count:
            outbox.arrived.clear()
            await outbox.arrived.wait()


async def test_a_timer_is_delivered_once_when_due_even_if_armed_twice() -> None:
    outbox = Outbox()
    scheduler = Scheduler(outbox, POLICY)
    timer = TimerRequest("resource/a", "inv_1", 0, time.time() + 0.05)
    scheduler.arm(3, Effects(timers=[timer]))
    scheduler.arm(3, Effects(timers=[timer]))
    await wait_sent(outbox, 1)
    await asyncio.sleep(0.1)
    assert outbox.sent == [("resource/a", 3, Wakeup("inv_1", 0))]


async def test_a_blocking_step_runs_off_the_loop_and_its_result_comes_back() -> None:
    outbox = Outbox()
    loop_thread = threading.get_ident()
    ran_in: list[int] = []

    def blocking() -> str:
        ran_in.append(threading.get_ident())
        time.sleep(0.05)
        return "done"

    Scheduler(outbox, POLICY).arm(1, Effects(steps=[StepRequest("o/1", "inv_2", 0, "s", blocking)]))
    await wait_sent(outbox, 1)
    assert outbox.sent == [("o/1", 1, StepDone("inv_2", 0, result="done"))]
    assert ran_in and ran_in[0] != loop_thread


async def test_a_failing_step_is_retried_then_reported() -> None:
    outbox = Outbox()
    attempts: list[int] = []

    async def flaky() -> str:
        attempts.append(1)
        raise OSError("provider down")

    Scheduler(outbox, POLICY).arm(0, Effects(steps=[StepRequest("o/1", "inv_3", 1, "s", flaky)]))
    await wait_sent(outbox, 1)
    ((_address, _partition, done),) = outbox.sent
    assert len(attempts) == POLICY.max_attempts
    assert done.error and "provider down" in done.error


async def test_a_rejected_step_is_not_retried() -> None:
    outbox = Outbox()

    def refuse() -> None:
        raise Rejected("card declined", 402)

    Scheduler(outbox, POLICY).arm(0, Effects(steps=[StepRequest("o/1", "inv_4", 0, "s", refuse)]))
    await wait_sent(outbox, 1)
    assert outbox.sent[0][2] == StepDone("inv_4", 0, error="card declined", status=402)
