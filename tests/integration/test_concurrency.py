"""Machines do not wait for each other, even on one partition."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.harness import call

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
