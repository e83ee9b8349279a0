"""Two workers share the partitions; when one dies, the other finishes its transitions."""

from __future__ import annotations

import asyncio
import re

import pytest

from tests.harness import Process, Stack, call, free_port, wait_for

pytestmark = pytest.mark.integration


def second_worker(stack: Stack) -> Process:
    args = list(stack.worker.args)
    args[args.index("--web-port") + 1] = str(free_port())
    args[args.index("--datadir") + 1] += "-2"
    env = {**stack.env, "CSM_WORKER_INSTANCE_ID": stack.env["CSM_WORKER_INSTANCE_ID"] + "-2"}
    return Process(stack.worker.name + "-2", args, env, stack.log_dir)


async def test_a_surviving_worker_completes_the_dead_workers_transitions(
    http, stack_factory, key
) -> None:
    stack = stack_factory(partitions=4, work_seconds=3, session_timeout_seconds=4).start()
    other = second_worker(stack).start()
    try:
        # Wait for the rebalance that hands partitions to the second worker.
        await asyncio.to_thread(
            wait_for, lambda: "[^Worker]: Ready" in other.log(), 60, "the second worker"
        )
        machines = [f"{key}-{n}" for n in range(12)]
        calls = [asyncio.create_task(call(http, stack, "resource", m, "setUp")) for m in machines]
        await asyncio.sleep(1.5)  # every transition is sleeping, on both workers
        stack.worker.kill9()
        outputs = [output for _status, output, _ in await asyncio.gather(*calls)]
        assert outputs == [f"{m} is now UP" for m in machines]
        # The survivor took over partitions with transitions still sleeping in them.
        rearmed = [int(n) for n in re.findall(r"(\d+) running transitions re-armed", other.log())]
        assert max(rearmed) > 0, rearmed
        again = [await call(http, stack, "resource", m, "setUp") for m in machines]
        assert [output for _status, output, _ in again] == [f"{m} is already UP" for m in machines]
    finally:
        other.stop()
