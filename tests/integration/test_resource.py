"""The reference ``resource`` machine end to end: ingress -> Kafka -> worker -> Kafka -> ingress."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.harness import Stack, call, outputs_in_sending_order, wait_for

pytestmark = pytest.mark.integration


async def test_state_table_of_the_reference_machine(http, stack: Stack, key: str) -> None:
    expected = [
        ("tearDown", f"{key} is not yet UP"),  # never seen
        ("setUp", f"{key} is now UP"),
        ("setUp", f"{key} is already UP"),
        ("tearDown", f"{key} is now DOWN"),
        ("tearDown", f"{key} is not yet UP"),  # DOWN
        ("setUp", f"{key} is now UP"),  # from DOWN
    ]
    invocation_ids = set()
    for handler, body in expected:
        status, output, headers = await call(http, stack, "resource", key, handler)
        assert (status, output) == (200, body)
        assert headers["Content-Type"].startswith("application/json")
        invocation_ids.add(headers["X-Invocation-Id"])
    assert len(invocation_ids) == len(expected)


async def test_transition_takes_its_durable_sleep(http, stack: Stack, key: str) -> None:
    started = time.monotonic()
    assert (await call(http, stack, "resource", key, "setUp"))[1] == f"{key} is now UP"
    assert time.monotonic() - started >= stack.settings["work_seconds"]
    started = time.monotonic()
    assert (await call(http, stack, "resource", key, "setUp"))[1] == f"{key} is already UP"
    assert time.monotonic() - started < stack.settings["work_seconds"]


async def test_readme_demo_with_curl(stack: Stack, key: str) -> None:
    """The README's concurrent curl lines: per key, outcomes follow arrival order."""
    a, b = f"{key}-a", f"{key}-b"
    calls = [(a, "setUp"), (a, "tearDown"), (b, "setUp"), (b, "setUp"), (b, "tearDown")]
    processes = []
    for machine_key, handler in calls:
        processes.append(
            await asyncio.create_subprocess_exec(
                "curl",
                "-s",
                f"{stack.url}/resource/{machine_key}/{handler}",
                "-H",
                "content-type: application/json",
                "-d",
                "",
                stdout=asyncio.subprocess.PIPE,
            )
        )
        await asyncio.sleep(0.1)  # a known arrival order, as typed by hand
    outputs = [(await process.communicate())[0].decode() for process in processes]
    assert outputs == [
        f'"{a} is now UP"',
        f'"{a} is now DOWN"',
        f'"{b} is now UP"',
        f'"{b} is already UP"',
        f'"{b} is now DOWN"',
    ]


async def test_calls_for_one_machine_run_one_at_a_time_in_order(
    http, stack: Stack, key: str
) -> None:
    handlers = ["setUp", "tearDown", "tearDown", "setUp", "setUp", "tearDown"]
    calls = [(key, handler) for handler in handlers]
    assert await outputs_in_sending_order(http, stack, calls, gap=0.05) == [
        f"{key} is now UP",
        f"{key} is now DOWN",
        f"{key} is not yet UP",
        f"{key} is now UP",
        f"{key} is already UP",
        f"{key} is now DOWN",
    ]


async def test_unknown_machine_or_handler_is_404(http, stack: Stack, key: str) -> None:
    status, body, _ = await call(http, stack, "nosuchmachine", key, "setUp")
    assert status == 404 and "nosuchmachine" in body["message"]
    status, body, _ = await call(http, stack, "resource", key, "explode")
    assert status == 404 and "explode" in body["message"]


async def test_malformed_json_is_400_and_changes_nothing(http, stack: Stack, key: str) -> None:
    status, body, _ = await call(http, stack, "resource", key, "setUp", body="{not json")
    assert status == 400 and "JSON" in body["message"]
    assert (await call(http, stack, "resource", key, "tearDown"))[1] == f"{key} is not yet UP"


async def test_wrong_method_is_405(http, stack: Stack, key: str) -> None:
    async with http.get(f"{stack.url}/resource/{key}/setUp") as response:
        assert response.status == 405
        assert "message" in await response.json()


async def test_a_key_over_the_limit_is_400(http, stack: Stack) -> None:
    status, body, _ = await call(http, stack, "resource", "k" * 257, "setUp")
    assert status == 400 and "key" in body["message"]


async def test_a_body_over_the_limit_is_413(http, stack: Stack, key: str) -> None:
    status, body, _ = await call(http, stack, "resource", key, "setUp", body=" " * 70_000)
    assert status == 413 and body["message"]
    assert (await call(http, stack, "resource", key, "tearDown"))[1] == f"{key} is not yet UP"


async def test_a_call_over_the_timeout_is_504_and_still_completes(http, stack_factory, key) -> None:
    stack = stack_factory(work_seconds=3, call_timeout_seconds=1).start()
    status, body, headers = await call(http, stack, "resource", key, "setUp")
    assert status == 504 and body["invocationId"] == headers["X-Invocation-Id"]
    ended = f"transition ends: resource/{key} setUp {body['invocationId']}"
    await asyncio.to_thread(wait_for, lambda: ended in stack.worker.log(), 10, "the transition")
    assert (await call(http, stack, "resource", key, "setUp"))[1] == f"{key} is already UP"
