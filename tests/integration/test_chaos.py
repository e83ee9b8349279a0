"""Chaos: concurrent clients while the worker is killed with ``kill -9`` at random moments.

Afterwards every response must match one sequential history per machine, the order Kafka
gave the calls, that respects real time; no call may be lost or applied twice; and the final
state stored in the table must be the history's final state.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import defaultdict
from dataclasses import dataclass

import pytest

from tests.harness import Stack, call, read_topic

pytestmark = pytest.mark.integration

MACHINES = 4
CLIENTS = 6
KILLS = 4
DURATION = 30.0


@dataclass
class Observed:
    key: str
    handler: str
    sent: float
    received: float
    status: int
    output: object
    invocation_id: str


def expected_output(status: str | None, key: str, handler: str) -> tuple[str, str | None]:
    """The reference machine's answer and next status (DESIGN.md §2)."""
    if handler == "setUp":
        return (f"{key} is already UP", "UP") if status == "UP" else (f"{key} is now UP", "UP")
    if status == "UP":
        return f"{key} is now DOWN", "DOWN"
    return f"{key} is not yet UP", status


async def client(http, stack: Stack, keys: list[str], deadline: float, seed: int) -> list:
    rng = random.Random(seed)
    observed = []
    while time.monotonic() < deadline:
        key, handler = rng.choice(keys), rng.choice(["setUp", "tearDown"])
        sent = time.monotonic()
        status, output, headers = await call(http, stack, "resource", key, handler)
        observed.append(
            Observed(
                key,
                handler,
                sent,
                time.monotonic(),
                status,
                output,
                headers.get("X-Invocation-Id", ""),
            )
        )
    return observed


async def killer(stack: Stack, deadline: float, seed: int) -> int:
    rng = random.Random(seed)
    kills = 0
    while kills < KILLS and time.monotonic() < deadline - 3:
        await asyncio.sleep(rng.uniform(2.0, 5.0))
        stack.worker.kill9()
        kills += 1
        stack.worker.start()
    return kills


async def test_exactly_once_linearizable_under_kill_9(http, stack_factory, key) -> None:
    stack = stack_factory(partitions=2, work_seconds=0.3).start()
    keys = [f"{key}-{n}" for n in range(MACHINES)]
    seed = random.randrange(1 << 30)
    deadline = time.monotonic() + DURATION
    *per_client, kills = await asyncio.gather(
        *(client(http, stack, keys, deadline, seed + n) for n in range(CLIENTS)),
        killer(stack, deadline, seed),
    )
    observed = [o for results in per_client for o in results]
    assert kills == KILLS
    assert all(o.status == 200 for o in observed), [o for o in observed if o.status != 200]
    by_id = {o.invocation_id: o for o in observed}
    assert len(by_id) == len(observed), "an invocation id was answered twice"

    # The order Kafka gave the calls, per machine (each call appears once in the topic).
    order: dict[str, list[str]] = defaultdict(list)
    for _address, value, _partition, _offset in read_topic(
        stack.env["CSM_BOOTSTRAP_SERVERS"], stack.settings["commands_topic"]
    ):
        if value["type"] == "call":
            order[value["key"]].append(value["invocationId"])
    sequenced = [i for ids in order.values() for i in ids]
    assert sorted(sequenced) == sorted(by_id), "a call was lost or published twice"

    final_status = {}
    for machine_key in keys:
        status = None
        history = [by_id[i] for i in order[machine_key]]
        for position, o in enumerate(history):
            output, status = expected_output(status, machine_key, o.handler)
            assert o.output == output, (
                f"seed {seed}: {machine_key} call {position} "
                f"({o.handler}) answered {o.output!r}, expected {output!r}"
            )
            # Real time: nothing answered before this call was sent may come after it.
            for later in history[position + 1 :]:
                assert not later.received < o.sent, (
                    f"seed {seed}: {machine_key} order breaks real time"
                )
        final_status[machine_key] = status

    # The results topic holds one answer per invocation, duplicates (re-publication) identical.
    answers: dict[str, set] = defaultdict(set)
    for _key, value, _p, _o in read_topic(
        stack.env["CSM_BOOTSTRAP_SERVERS"], stack.settings["results_topic"]
    ):
        answers[value["invocationId"]].add(repr(value["output"]))
    assert set(answers) == set(by_id)
    assert all(len(outputs) == 1 for outputs in answers.values())

    # The state stored in the table (its changelog) is the history's final state.
    stored = {}
    for address, value, _p, _o in read_topic(
        stack.env["CSM_BOOTSTRAP_SERVERS"], f"{stack.settings['app_id']}-machines-changelog"
    ):
        stored[address] = value
    for machine_key in keys:
        record = stored[f"resource/{machine_key}"]
        assert record["running"] is None and record["queue"] == []
        assert record["state"].get("status") == final_status[machine_key]
