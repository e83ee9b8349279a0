"""Delayed calls, the waiting bound, repeated invocation ids, kept results and queries."""

from __future__ import annotations

import dataclasses

from app import machines as _definitions  # noqa: F401
from app.runtime.engine import RetryPolicy, apply, pending_effects
from app.runtime.host import MachineHost
from app.runtime.record import MachineRecord
from app.runtime.scheduler import Scheduler
from app.settings import get_settings
from app.wire import DELAYED_ENTRY, Query, Result, Wakeup, new_query_id, to_dict
from tests.unit.fakes import Clock, make_call, roundtrip

POLICY = RetryPolicy()
NOW = 1_000.0
WORK = get_settings().work_seconds


def test_a_delayed_call_waits_for_its_time_then_joins_the_queue() -> None:
    record = MachineRecord()
    delayed = dataclasses.replace(make_call("a", "setUp"), notBefore=NOW + 30)
    effects = apply(record, delayed, NOW, POLICY)
    assert effects.results == [] and record.running is None
    assert [(t.entry, t.wake_at) for t in effects.timers] == [(DELAYED_ENTRY, NOW + 30)]
    # It survives a restart: the stored record re-arms its timer.
    restored = roundtrip(record)
    assert [t.entry for t in pending_effects(restored, NOW + 1).timers] == [DELAYED_ENTRY]
    # Meanwhile the machine serves other calls.
    (result,) = apply(restored, make_call("a", "tearDown"), NOW + 1, POLICY).results
    assert result.output == "a is not yet UP"

    effects = apply(restored, Wakeup(delayed.invocationId, DELAYED_ENTRY), NOW + 30, POLICY)
    assert restored.scheduled == [] and restored.running is not None
    assert restored.running.call.invocationId == delayed.invocationId
    (timer,) = effects.timers
    assert timer.wake_at == NOW + 30 + WORK


def test_calls_beyond_the_waiting_bound_end_with_429() -> None:
    record = MachineRecord()
    apply(record, make_call("a", "setUp"), NOW, POLICY, max_waiting=1)  # runs
    assert apply(record, make_call("a", "tearDown"), NOW, POLICY, max_waiting=1).results == []
    (refused,) = apply(record, make_call("a", "tearDown"), NOW, POLICY, max_waiting=1).results
    assert refused.status == 429 and "limit 1" in (refused.error or "")
    delayed = dataclasses.replace(make_call("a", "setUp"), notBefore=NOW + 5)
    (refused,) = apply(record, delayed, NOW, POLICY, max_waiting=1).results
    assert refused.status == 429
    assert len(record.queue) == 1 and record.scheduled == []


def test_a_repeated_invocation_id_is_not_queued_twice() -> None:
    record = MachineRecord()
    first = make_call("a", "setUp")
    apply(record, first, NOW, POLICY)
    queued = make_call("a", "tearDown")
    apply(record, queued, NOW, POLICY)
    assert apply(record, first, NOW, POLICY).results == []
    assert apply(record, queued, NOW, POLICY).results == []
    assert [call.invocationId for call in record.queue] == [queued.invocationId]


class Published:
    def __init__(self) -> None:
        self.results: list[Result] = []

    async def __call__(self, result: Result, on_delivered) -> None:
        self.results.append(result)
        on_delivered()


async def _no_send(*_args) -> None:
    """Timers are not delivered in these tests."""


def host_with(table: dict, published: Published, clock: Clock, **options) -> MachineHost:
    return MachineHost(table, published, Scheduler(_no_send, POLICY), POLICY, clock, **options)


async def test_a_completed_invocation_repeated_gets_its_stored_result() -> None:
    table: dict = {}
    published = Published()
    host = host_with(table, published, Clock())
    first = dataclasses.replace(make_call("a", "tearDown"), idempotencyKey="k")
    await host.handle("resource/a", 0, 1, to_dict(first))
    await host.handle("resource/a", 0, 2, to_dict(make_call("a", "setUp")))
    await host.handle("resource/a", 0, 3, to_dict(first))  # the repeat
    outputs = [r.output for r in published.results if r.invocationId == first.invocationId]
    assert outputs == ["a is not yet UP", "a is not yet UP"]
    assert table[first.invocationId]["idempotencyKey"] == "k"


async def test_an_entry_ahead_of_its_machine_record_is_not_trusted() -> None:
    """A crash stored the completed invocation but lost its machine's record: the redelivered
    call must run again, not be answered from the entry."""
    table: dict = {}
    call = make_call("a", "tearDown")
    await host_with(table, Published(), Clock()).handle("resource/a", 0, 5, to_dict(call))
    table["resource/a"] = None  # the record write never reached Kafka

    published = Published()
    await host_with(table, published, Clock()).handle("resource/a", 0, 5, to_dict(call))
    assert table["resource/a"]["offset"] == 5, "applied again"
    assert [r.output for r in published.results] == ["a is not yet UP"]


async def test_kept_results_expire_and_are_deleted() -> None:
    table: dict = {}
    clock = Clock()
    host = host_with(table, Published(), clock, result_retention=10, idempotency_retention=100)
    plain = make_call("a", "tearDown")
    keyed = dataclasses.replace(make_call("b", "tearDown"), idempotencyKey="k")
    await host.handle("resource/a", 0, 1, to_dict(plain))
    await host.handle("resource/b", 0, 2, to_dict(keyed))
    assert plain.invocationId in table and keyed.invocationId in table
    clock.now += 11
    await host.handle("resource/c", 0, 3, to_dict(make_call("c", "tearDown")))
    assert plain.invocationId not in table and keyed.invocationId in table
    clock.now += 100
    await host.handle("resource/c", 0, 4, to_dict(make_call("c", "tearDown")))
    assert keyed.invocationId not in table


async def test_queries_answer_without_changing_anything() -> None:
    table: dict = {}
    published = Published()
    host = host_with(table, published, Clock())
    running = make_call("a", "setUp")
    queued = make_call("a", "tearDown")
    await host.handle("resource/a", 0, 1, to_dict(running))
    await host.handle("resource/a", 0, 2, to_dict(queued))
    stored = dict(table)

    for offset, invocation_id in enumerate((None, running.invocationId, queued.invocationId), 3):
        query = Query(new_query_id(), "resource", "a", invocation_id)
        await host.handle("resource/a", 0, offset, to_dict(query))
    assert table == stored
    machine, first, second = (r.output for r in published.results)
    assert machine == {"state": {}, "running": True, "queueLength": 1, "scheduled": 0}
    assert first["status"] == "running"
    assert (second["status"], second["position"]) == ("queued", 1)

    unknown = Query(new_query_id(), "resource", "a", running.invocationId[:-1] + "x")
    await host.handle("resource/a", 0, 9, to_dict(unknown))
    assert published.results[-1].status == 404
