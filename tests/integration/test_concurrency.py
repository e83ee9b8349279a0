"""Machines do not wait for each other, even on one partition."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.harness import call, wait_for

pytestmark = pytest.mark.integration


async def test_no_head_of_line_blocking_on_one_partition(http, stack_factory, key) -> None:
    stack = stack_factory(partitions=1, work_seconds=4).start()
    slow = asyncio.create_task(call(http, stack, "resource", f"{key}-slow", "setUp"))
    began = f"transition begins: resource/{key}-slow "
    await asyncio.to_thread(wait_for, lambda: began in stack.worker.log(), 20, "the slow one")
    started = time.monotonic()
    fast = await call(http, stack, "resource", f"{key}-fast", "tearDown")  # no sleep
    fast_took = time.monotonic() - started
    assert fast[1] == f"{key}-fast is not yet UP"
    assert not slow.done(), "the slow transition should still be sleeping"
    assert fast_took < 2
    assert (await slow)[1] == f"{key}-slow is now UP"


async def test_two_ingresses_each_get_their_own_results(http, stack_factory, key) -> None:
    stack = stack_factory(work_seconds=0.3).start()
    urls = [stack.url, await asyncio.to_thread(stack.add_ingress)]

    async def one(n: int) -> tuple[str, object]:
        machine_key = f"{key}-{n}"
        async with http.post(f"{urls[n % 2]}/resource/{machine_key}/setUp", data="") as reply:
            return machine_key, await reply.json()

    answers = await asyncio.gather(*(one(n) for n in range(40)))
    assert all(output == f"{machine_key} is now UP" for machine_key, output in answers)
