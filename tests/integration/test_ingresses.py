"""Several ingress processes side by side, restarts of one, and the ingress under a long load."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from tests.harness import Stack, call, port_open, request, rss_bytes, wait_for

pytestmark = pytest.mark.integration


def restart_ingress(stack: Stack) -> None:
    stack.ingress.stop()
    stack.ingress.start()
    wait_for(lambda: port_open(stack.ingress_port), 60, "the restarted ingress")


async def test_two_ingresses_under_load_each_answer_their_own_calls(
    http, stack_factory, key
) -> None:
    stack = stack_factory(work_seconds=0).start()
    urls = [stack.url, await asyncio.to_thread(stack.add_ingress)]
    counter = itertools.count()

    async def client(url: str) -> list[tuple[str, object]]:
        answers = []
        for _ in range(100):
            # Every call is to its own machine, so its answer names the key it was for.
            machine_key = f"{key}-{next(counter)}"
            async with http.post(f"{url}/resource/{machine_key}/tearDown", data="") as reply:
                answers.append((machine_key, await reply.json()))
        return answers

    rounds = await asyncio.gather(*(client(urls[n % 2]) for n in range(16)))
    answers = [answer for answers in rounds for answer in answers]
    assert len(answers) == 1600
    assert all(output == f"{machine_key} is not yet UP" for machine_key, output in answers)
    for url in urls:
        assert (await request(http, "GET", f"{url}/health"))[1]["waiting"] == 0


async def test_restarting_one_ingress_does_not_disturb_another(http, stack_factory, key) -> None:
    stack = stack_factory(work_seconds=0).start()
    other = await asyncio.to_thread(stack.add_ingress)
    stop = asyncio.Event()
    answers: list[tuple[int, object, str]] = []

    async def steady_load() -> None:
        for n in itertools.count():
            if stop.is_set():
                return
            machine_key = f"{key}-{n}"
            status, output, _ = await request(http, "POST", f"{other}/resource/{machine_key}/setUp")
            answers.append((status, output, machine_key))

    async def answered(count: int) -> None:
        while len(answers) < count:
            await asyncio.sleep(0.01)

    load = asyncio.create_task(steady_load())
    await answered(10)  # the load is flowing before the restart...
    await asyncio.to_thread(restart_ingress, stack)
    await answered(len(answers) + 10)  # ...and keeps flowing after it
    stop.set()
    await load
    assert all(status == 200 and output == f"{k} is now UP" for status, output, k in answers)
    # The restarted one serves again.
    assert (await call(http, stack, "resource", f"{key}-x", "setUp"))[1] == f"{key}-x is now UP"


async def test_results_published_while_an_ingress_was_down_stay_retrievable(
    http, stack_factory, key
) -> None:
    stack = stack_factory(work_seconds=1).start()
    other = await asyncio.to_thread(stack.add_ingress)
    _, sent, _ = await call(http, stack, "resource", key, "setUp", suffix="/send")
    await asyncio.to_thread(stack.ingress.stop)
    ended = f"transition ends: resource/{key} setUp {sent['invocationId']}"
    await asyncio.to_thread(wait_for, lambda: ended in stack.worker.log(), 20, "the transition")
    await asyncio.to_thread(restart_ingress, stack)
    for url in (stack.url, other):
        status, done, _ = await request(http, "GET", f"{url}/invocations/{sent['invocationId']}")
        assert status == 200 and done["output"] == f"{key} is now UP"
        path = f"{url}/invocations/{sent['invocationId']}/attach"
        assert (await request(http, "GET", path))[1] == f"{key} is now UP"


async def test_ten_thousand_calls_leave_no_waiters_and_no_growing_memory(
    http, stack_factory, key
) -> None:
    stack = stack_factory(work_seconds=0, partitions=8).start()
    counter = itertools.count()

    async def client(calls: int) -> None:
        for _ in range(calls):
            n = next(counter)
            handler = ("setUp", "tearDown")[n // 1000 % 2]
            machine_key = f"{key}-{n % 1000}"
            status, output, _ = await call(http, stack, "resource", machine_key, handler)
            assert status == 200 and machine_key in output

    await asyncio.gather(*(client(2000 // 32 + 1) for _ in range(32)))  # warm-up, ~2,000
    before = rss_bytes(stack.ingress.pid)
    await asyncio.gather(*(client(10_000 // 32 + 1) for _ in range(32)))
    after = rss_bytes(stack.ingress.pid)
    _, health, _ = await request(http, "GET", f"{stack.url}/health")
    assert health["waiting"] == 0
    print(f"ingress RSS {before / 2**20:.1f} MiB -> {after / 2**20:.1f} MiB over 10,000 calls")
    assert after - before < 16 * 1024 * 1024, f"ingress memory grew by {after - before} bytes"
