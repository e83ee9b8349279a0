"""Two workers share the partitions; when one dies, the other finishes its transitions."""

from __future__ import annotations

import asyncio
import re

import pytest

from tests.harness import call, wait_for

pytestmark = pytest.mark.integration


async def test_a_surviving_worker_completes_the_dead_workers_transitions(
    http, stack_factory, key
) -> None:
    stack = stack_factory(partitions=4, work_seconds=3, session_timeout_seconds=4).start()
    other = stack.add_worker()
    # Wait for the rebalance that hands partitions to the second worker.
    await asyncio.to_thread(
        wait_for, lambda: "[^Worker]: Ready" in other.log(), 60, "the second worker"
    )
    machines = [f"{key}-{n}" for n in range(12)]
    calls = [asyncio.create_task(call(http, stack, "resource", m, "setUp")) for m in machines]

    def all_sleeping() -> bool:
        logs = stack.worker.log() + other.log()
        return all(f"transition begins: resource/{m} " in logs for m in machines)

    await asyncio.to_thread(wait_for, all_sleeping, 20, "every transition to begin")
    stack.worker.kill9()
    outputs = [output for _status, output, _ in await asyncio.gather(*calls)]
    assert outputs == [f"{m} is now UP" for m in machines]
    # The survivor took over partitions with transitions still sleeping in them.
    rearmed = [
        int(n)
        for n in re.findall(r"(\d+) machines with running or delayed calls re-armed", other.log())
    ]
    assert max(rearmed) > 0, rearmed
    again = [await call(http, stack, "resource", m, "setUp") for m in machines]
    assert [output for _status, output, _ in again] == [f"{m} is already UP" for m in machines]
