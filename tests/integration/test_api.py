"""The HTTP API beyond plain calls: send, delay, idempotency keys, lookups, state reads, limits."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.harness import Stack, call, read_topic, request, wait_for

pytestmark = pytest.mark.integration


async def lookup(http, stack: Stack, invocation_id: str, what: str = "") -> tuple:
    return await request(http, "GET", f"{stack.url}/invocations/{invocation_id}{what}")


async def state(http, stack: Stack, key: str, machine: str = "resource") -> dict:
    status, body, _ = await request(http, "GET", f"{stack.url}/{machine}/{key}/state")
    assert status == 200, body
    return body


async def test_send_answers_202_and_the_invocation_can_be_followed(http, stack, key) -> None:
    status, body, headers = await call(http, stack, "resource", key, "setUp", suffix="/send")
    assert status == 202 and body["status"] == "Accepted"
    invocation_id = body["invocationId"]
    assert headers["X-Invocation-Id"] == invocation_id

    status, running, _ = await lookup(http, stack, invocation_id)
    assert status == 200
    assert running["status"] in ("queued", "running")  # the worker may not have begun yet
    assert (running["machine"], running["key"], running["handler"]) == ("resource", key, "setUp")

    status, output, headers = await lookup(http, stack, invocation_id, "/attach")
    assert (status, output) == (200, f"{key} is now UP")
    assert headers["X-Invocation-Id"] == invocation_id

    status, done, _ = await lookup(http, stack, invocation_id)
    assert status == 200
    assert done["status"] == "completed" and done["output"] == f"{key} is now UP"
    assert done["completedAt"].endswith("+00:00")


async def test_state_read_shows_state_queue_and_running_transition(http, stack, key) -> None:
    assert await state(http, stack, key) == {
        "state": {},
        "running": False,
        "queueLength": 0,
        "scheduled": 0,
    }
    _, first, _ = await call(http, stack, "resource", key, "setUp", suffix="/send")
    _, second, _ = await call(http, stack, "resource", key, "tearDown", suffix="/send")
    during = await state(http, stack, key)
    assert during["running"] is True and during["queueLength"] == 1
    assert during["state"] == {}, "a running transition's changes are not visible yet"
    _, queued, _ = await lookup(http, stack, second["invocationId"])
    assert queued["status"] == "queued" and queued["position"] == 1

    await lookup(http, stack, second["invocationId"], "/attach")
    after = await state(http, stack, key)
    assert after == {
        "state": {"status": "DOWN"},
        "running": False,
        "queueLength": 0,
        "scheduled": 0,
    }
    _, done, _ = await lookup(http, stack, first["invocationId"])
    assert done["output"] == f"{key} is now UP"


async def test_a_state_read_after_an_answer_sees_that_transition(http, stack, key) -> None:
    """Reads go through the machine's partition: read-your-writes, from any ingress."""
    for handler, status in [("setUp", "UP"), ("tearDown", "DOWN"), ("setUp", "UP")]:
        await call(http, stack, "resource", key, handler)
        assert (await state(http, stack, key))["state"] == {"status": status}


async def test_a_delayed_send_runs_after_its_delay(http, stack, key) -> None:
    sent = time.time()
    _, body, _ = await call(http, stack, "resource", key, "setUp", suffix="/send?delay=1500ms")
    invocation_id = body["invocationId"]
    status, scheduled, _ = await lookup(http, stack, invocation_id)
    assert status == 200 and scheduled["status"] == "scheduled"
    assert (await state(http, stack, key))["scheduled"] == 1
    # Delayed calls do not hold the machine: another call runs in the meantime.
    assert (await call(http, stack, "resource", key, "tearDown"))[1] == f"{key} is not yet UP"

    status, output, _ = await lookup(http, stack, invocation_id, "/attach")
    assert (status, output) == (200, f"{key} is now UP")
    # The timer starts at the send; the transition then takes its work_seconds.
    assert time.time() - sent >= 1.5 + stack.settings["work_seconds"]


async def test_idempotency_key_returns_the_first_result_without_running_again(
    http, stack, key
) -> None:
    once = {"Idempotency-Key": f"{key}-once"}
    status, first, headers = await call(http, stack, "resource", key, "setUp", headers=once)
    assert (status, first) == (200, f"{key} is now UP")
    invocation_id = headers["X-Invocation-Id"]
    assert (await call(http, stack, "resource", key, "tearDown"))[1] == f"{key} is now DOWN"

    status, again, headers = await call(http, stack, "resource", key, "setUp", headers=once)
    assert (status, again) == (200, f"{key} is now UP"), "the original result, not a new run"
    assert headers["X-Invocation-Id"] == invocation_id
    assert (await state(http, stack, key))["state"] == {"status": "DOWN"}, "not run again"
    status, sent, _ = await call(
        http, stack, "resource", key, "setUp", headers=once, suffix="/send"
    )
    assert (status, sent["invocationId"]) == (202, invocation_id)

    # The key is scoped to machine and handler: elsewhere it is a different call.
    status, other, headers = await call(http, stack, "resource", key, "tearDown", headers=once)
    assert (status, other) == (200, f"{key} is not yet UP")
    assert headers["X-Invocation-Id"] != invocation_id
    # That answer came after the repeated send was applied: one partition, applied in order.
    log = stack.worker.log()
    assert log.count(f"transition begins: resource/{key} setUp {invocation_id}") == 1
    assert log.count(f"resource/{key} setUp {invocation_id} repeated after completion") == 2


async def test_a_repeat_while_the_first_is_running_waits_for_its_result(http, stack, key) -> None:
    once = {"Idempotency-Key": "while-running"}
    _, sent, _ = await call(http, stack, "resource", key, "setUp", headers=once, suffix="/send")
    repeats = await asyncio.gather(
        *(call(http, stack, "resource", key, "setUp", headers=once) for _ in range(3))
    )
    for status, output, headers in repeats:
        assert (status, output) == (200, f"{key} is now UP")
        assert headers["X-Invocation-Id"] == sent["invocationId"]
    begins = f"transition begins: resource/{key} setUp {sent['invocationId']}"
    assert stack.worker.log().count(begins) == 1


async def test_idempotency_holds_across_a_worker_kill_9(http, stack_factory, key) -> None:
    stack = stack_factory(work_seconds=1).start()
    once = {"Idempotency-Key": "across-restarts"}
    _, sent, _ = await call(http, stack, "resource", key, "setUp", headers=once, suffix="/send")
    began = f"transition begins: resource/{key} setUp"
    await asyncio.to_thread(wait_for, lambda: began in stack.worker.log(), 20, "the transition")
    stack.worker.kill9()  # mid-transition
    stack.worker.start()
    status, output, headers = await call(http, stack, "resource", key, "setUp", headers=once)
    assert (status, output) == (200, f"{key} is now UP")
    assert headers["X-Invocation-Id"] == sent["invocationId"]

    assert (await call(http, stack, "resource", key, "tearDown"))[1] == f"{key} is now DOWN"
    stack.worker.kill9()  # after completion: the remembered result comes from the changelog
    stack.worker.start()
    status, output, headers = await call(http, stack, "resource", key, "setUp", headers=once)
    assert (status, output) == (200, f"{key} is now UP")
    assert (await state(http, stack, key))["state"] == {"status": "DOWN"}
    status, done, _ = await lookup(http, stack, sent["invocationId"])
    assert done["status"] == "completed" and done["output"] == f"{key} is now UP"


async def test_idempotency_and_results_expire_after_their_retention(
    http, stack_factory, key
) -> None:
    stack = stack_factory(
        work_seconds=0, idempotency_retention_seconds=1, result_retention_seconds=1
    ).start()
    once = {"Idempotency-Key": "short-lived"}
    _, output, headers = await call(http, stack, "resource", key, "setUp", headers=once)
    assert output == f"{key} is now UP"
    await asyncio.sleep(1.5)
    status, _, _ = await lookup(http, stack, headers["X-Invocation-Id"])
    assert status == 404
    # Forgotten: the same key runs the call again, against the current state.
    _, output, _ = await call(http, stack, "resource", key, "setUp", headers=once)
    assert output == f"{key} is already UP"


async def test_a_call_over_the_timeout_stays_retrievable(http, stack_factory, key) -> None:
    stack = stack_factory(work_seconds=2, call_timeout_seconds=0.5).start()
    status, body, _ = await call(http, stack, "resource", key, "setUp")
    assert status == 504 and "invocationId" in body
    _, health, _ = await request(http, "GET", f"{stack.url}/health")
    assert health["waiting"] == 0, "a timed-out call leaves no waiter behind"
    ended = f"transition ends: resource/{key} setUp {body['invocationId']}"
    await asyncio.to_thread(wait_for, lambda: ended in stack.worker.log(), 20, "the transition")
    status, done, _ = await lookup(http, stack, body["invocationId"])
    assert status == 200 and done["output"] == f"{key} is now UP"
    assert (await lookup(http, stack, body["invocationId"], "/attach"))[1] == f"{key} is now UP"


async def test_a_machine_over_its_queue_bound_answers_429(http, stack_factory, key) -> None:
    stack = stack_factory(work_seconds=1, max_queue_length=2).start()
    sends = [
        await call(http, stack, "resource", key, handler, suffix="/send")
        for handler in ("setUp", "tearDown")
    ]
    _, delayed, _ = await call(http, stack, "resource", key, "setUp", suffix="/send?delay=1s")
    status, body, headers = await call(http, stack, "resource", key, "tearDown")
    assert status == 429 and "limit 2" in body["message"]
    assert "X-Invocation-Id" in headers
    # The accepted ones are unaffected.
    outputs = [(await lookup(http, stack, sent[1]["invocationId"], "/attach"))[1] for sent in sends]
    assert outputs == [f"{key} is now UP", f"{key} is now DOWN"]
    assert (await lookup(http, stack, delayed["invocationId"], "/attach"))[1] == f"{key} is now UP"


async def test_a_handler_rejection_keeps_its_status_and_message(http, stack, key) -> None:
    status, body, _ = await call(http, stack, "order", key, "pay")
    assert status == 409 and body == {"message": f"order {key} cannot pay when not placed"}
    status, body, _ = await call(http, stack, "order", key, "place", body='{"amount": -1}')
    assert status == 400 and "amount" in body["message"]


async def test_bad_requests_get_json_errors_and_never_reach_kafka(http, stack, key) -> None:
    bad = f"{key}-bad"
    long_key = "k" * 257
    cases = [
        ("POST", f"/resource/{bad}/setUp", {"data": "{nope"}, 400, "JSON"),
        ("POST", f"/resource/{bad}/setUp", {"data": " " * 70_000}, 413, ""),
        ("POST", "/resource//setUp", {}, 400, "key"),
        ("POST", f"/resource/{long_key}/setUp", {}, 400, "key"),
        ("GET", "/resource//state", {}, 400, "key"),
        ("POST", f"/resource/{bad}/setUp", {"headers": {"Idempotency-Key": ""}}, 400, "Idem"),
        ("POST", f"/resource/{bad}/setUp", {"headers": {"Idempotency-Key": long_key}}, 400, "Idem"),
        ("POST", f"/resource/{bad}/setUp/send?delay=soon", {}, 400, "delay"),
        ("POST", f"/resource/{bad}/setUp/send?delay=3650d", {}, 400, "delay"),
        ("POST", f"/resource/{bad}/setUp?delay=1s", {}, 400, "delay"),
        ("POST", f"/nosuchmachine/{bad}/setUp", {}, 404, "nosuchmachine"),
        ("POST", f"/resource/{bad}/explode/send", {}, 404, "explode"),
        ("GET", f"/nosuchmachine/{bad}/state", {}, 404, "nosuchmachine"),
        ("GET", "/invocations/not-an-id", {}, 404, "not-an-id"),
        ("GET", "/invocations/not-an-id/attach", {}, 404, "not-an-id"),
        ("GET", f"/resource/{bad}/setUp", {}, 405, ""),
        ("POST", f"/resource/{bad}/state", {}, 405, "GET"),
        ("POST", "/invocations/x/attach", {}, 405, "GET"),
        ("DELETE", "/health", {}, 405, "GET"),
    ]
    for method, path, options, expected, mention in cases:
        status, body, headers = await request(http, method, stack.url + path, **options)
        assert status == expected, (method, path, body)
        assert isinstance(body["message"], str) and mention in body["message"], body
        if expected == 405:
            assert headers["Allow"] in ("GET", "POST")
    commands = read_topic(stack.env["CSM_BOOTSTRAP_SERVERS"], stack.settings["commands_topic"])
    assert not [record for record in commands if bad in record[0] or "//" in record[0]]


async def test_unknown_invocation_of_a_known_machine_is_404(http, stack, key) -> None:
    _, sent, _ = await call(http, stack, "resource", key, "tearDown", suffix="/send")
    never = sent["invocationId"][:-4] + "0000"  # same machine, an id never used
    status, body, _ = await lookup(http, stack, never)
    assert status == 404 and never in body["message"]


async def test_openapi_document_describes_every_route(http, stack) -> None:
    status, document, _ = await request(http, "GET", f"{stack.url}/openapi.json")
    assert status == 200 and document["openapi"].startswith("3.")
    paths = document["paths"]
    for path in (
        "/resource/{key}/setUp",
        "/resource/{key}/tearDown/send",
        "/resource/{key}/state",
        "/order/{key}/place",
        "/invocations/{invocationId}",
        "/invocations/{invocationId}/attach",
        "/health",
    ):
        assert path in paths, path
    assert "429" in paths["/resource/{key}/setUp"]["post"]["responses"]
