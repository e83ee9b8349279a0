"""State and running transitions survive ``kill -9`` of the worker."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from tests.harness import Process, call, outputs_in_sending_order, wait_for

pytestmark = pytest.mark.integration


def logged(process: Process, text: str) -> Callable[[], bool]:
    """Whether ``text`` is in the process's log yet."""
    return lambda: text in process.log()


def sleeping_in(name: str) -> Callable[[dict], bool]:
    """Whether a stored record's running transition waits in the durable sleep ``name``."""

    def check(record: dict) -> bool:
        journal = (record.get("running") or {}).get("journal", [])
        return any(e["kind"] == "sleep" and e["name"] == name and not e["done"] for e in journal)

    return check


async def test_state_survives_kill_9(http, stack_factory, key) -> None:
    stack = stack_factory(work_seconds=0.2).start()
    assert (await call(http, stack, "resource", key, "setUp"))[1] == f"{key} is now UP"
    stack.worker.kill9()
    stack.worker.start()
    assert (await call(http, stack, "resource", key, "setUp"))[1] == f"{key} is already UP"
    assert (await call(http, stack, "resource", key, "tearDown"))[1] == f"{key} is now DOWN"


async def test_transition_interrupted_mid_sleep_completes_after_restart(
    http, stack_factory, key
) -> None:
    stack = stack_factory(work_seconds=3).start()
    pending = asyncio.create_task(call(http, stack, "resource", key, "setUp"))
    await asyncio.to_thread(
        stack.wait_until_stored, f"resource/{key}", sleeping_in("work"), "the durable sleep"
    )
    stack.worker.kill9()
    assert not pending.done()
    stack.worker.start()
    status, output, _ = await pending
    assert (status, output) == (200, f"{key} is now UP")
    assert (await call(http, stack, "resource", key, "setUp"))[1] == f"{key} is already UP"


async def test_completed_steps_are_not_redone_after_kill_9(
    http, stack_factory, key, tmp_path
) -> None:
    ledger = tmp_path / "payments.jsonl"
    stack = stack_factory(work_seconds=3, payment_ledger=str(ledger)).start()
    status, placed, _ = await call(http, stack, "order", key, "place", body='{"amount": 42}')
    assert (status, placed["status"]) == (200, "PLACED")
    paying = asyncio.create_task(call(http, stack, "order", key, "pay"))
    # Kill once the charge step is journaled and the transition sleeps until settlement.
    await asyncio.to_thread(
        stack.wait_until_stored, f"order/{key}", sleeping_in("settle"), "the settlement sleep"
    )
    stack.worker.kill9()
    stack.worker.start()
    status, paid, _ = await paying
    assert (status, paid["status"]) == (200, "PAID")
    charges = [line for line in ledger.read_text().splitlines() if '"charge"' in line]
    assert len(charges) == 1, charges
    assert paid["receipt"] in charges[0]


async def test_crash_variant_demo_gives_the_expected_answers(http, stack_factory, key) -> None:
    """Transitions kill the worker with probability 0.4; a supervisor restarts it."""
    stack = stack_factory(work_seconds=0.5, crash_probability=0.4)
    stack.supervise_worker()
    stack.start()
    for round_ in range(5):  # until the crash point has fired at least once
        a, b = f"{key}-{round_}-a", f"{key}-{round_}-b"
        calls = [(a, "setUp"), (a, "tearDown"), (b, "setUp"), (b, "setUp"), (b, "tearDown")]
        assert await outputs_in_sending_order(http, stack, calls, gap=0.1) == [
            f"{a} is now UP",
            f"{a} is now DOWN",
            f"{b} is now UP",
            f"{b} is already UP",
            f"{b} is now DOWN",
        ]
        if "crash point: killing the worker" in stack.worker.log():
            break
    assert "restarting" in stack.worker.log(), "the crash point never fired"


async def test_calls_sent_around_a_restart_are_never_lost(http, stack_factory, key) -> None:
    """A call accepted while the worker is dead, or while it recovers, runs after the restart.

    Faust used to drop such records in two places during recovery (see app/faust_tuning.py);
    the call then never ran although Kafka had it."""
    stack = stack_factory(work_seconds=0.2).start()
    for round_ in range(6):
        machine_key = f"{key}-{round_}"
        assert (await call(http, stack, "resource", machine_key, "tearDown"))[0] == 200
        stack.worker.kill9()
        while_recovering = round_ % 2 == 1
        if while_recovering:
            stack.worker.start()
            await asyncio.sleep(1.2 + 0.2 * round_)  # about when the restarted worker recovers
        status, sent, _ = await call(http, stack, "resource", machine_key, "setUp", suffix="/send")
        assert status == 202
        if not while_recovering:
            stack.worker.start()
        done = f"transition ends: resource/{machine_key} setUp {sent['invocationId']}"
        await asyncio.to_thread(wait_for, logged(stack.worker, done), 20, f"round {round_}")
        await asyncio.to_thread(stack.wait_worker_ready, round_ + 1)
