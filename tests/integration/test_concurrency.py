"""Machines do not wait for each other, even on one partition."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.harness import Process, call, free_port, port_open, wait_for

pytestmark = pytest.mark.integration


async def test_no_head_of_line_blocking_on_one_partition(http, stack_factory, key) -> None:
    stack = stack_factory(partitions=1, work_seconds=4).start()
    slow = asyncio.create_task(call(http, stack, "resource", f"{key}-slow", "setUp"))
    await asyncio.sleep(0.3)
    started = time.monotonic()
    fast = await call(http, stack, "resource", f"{key}-fast", "tearDown")  # no sleep
    fast_took = time.monotonic() - started
    assert fast[1] == f"{key}-fast is not yet UP"
    assert not slow.done(), "the slow transition should still be sleeping"
    assert fast_took < 2
    assert (await slow)[1] == f"{key}-slow is now UP"


async def test_two_ingresses_each_get_their_own_results(http, stack_factory, key) -> None:
    stack = stack_factory(work_seconds=0.3).start()
    port = free_port()
    second = Process(
        stack.ingress.name + "-2",
        stack.ingress.args,
        {**stack.env, "CSM_INGRESS_PORT": str(port)},
        stack.log_dir,
    ).start()
    try:
        await asyncio.to_thread(wait_for, lambda: port_open(port), 30, "the second ingress")
        urls = [stack.url, f"http://127.0.0.1:{port}"]

        async def one(n: int) -> tuple[str, object]:
            machine_key = f"{key}-{n}"
            async with http.post(f"{urls[n % 2]}/resource/{machine_key}/setUp", data="") as reply:
                return machine_key, await reply.json()

        answers = await asyncio.gather(*(one(n) for n in range(40)))
        assert all(output == f"{machine_key} is now UP" for machine_key, output in answers)
    finally:
        second.stop()
