"""State and running transitions survive ``kill -9`` of the worker."""

from __future__ import annotations

import asyncio

import pytest

from tests.harness import call

pytestmark = pytest.mark.integration


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
    await asyncio.sleep(1.5)  # inside the durable sleep
    stack.worker.kill9()
    assert not pending.done()
    stack.worker.start()
    status, output, _ = await pending
    assert (status, output) == (200, f"{key} is now UP")
    assert (await call(http, stack, "resource", key, "setUp"))[1] == f"{key} is already UP"
