"""Source-offset deduplication and the outbox, with an in-memory table."""

from __future__ import annotations

from app import machines as _definitions  # noqa: F401
from app.runtime.engine import RetryPolicy
from app.runtime.host import MachineHost
from app.runtime.scheduler import Scheduler
from app.wire import Result, to_dict
from tests.unit.fakes import Clock, make_call

POLICY = RetryPolicy()


class Published:
    def __init__(self, acknowledge: bool = True) -> None:
        self.results: list[Result] = []
        self.acknowledge = acknowledge

    async def __call__(self, result: Result, on_delivered) -> None:
        self.results.append(result)
        if self.acknowledge:
            on_delivered()


async def _no_send(*_args) -> None:
    raise AssertionError("no timer expected")


def host_with(table: dict, published: Published) -> MachineHost:
    return MachineHost(table, published, Scheduler(_no_send, POLICY), POLICY, Clock())


async def test_a_redelivered_record_is_not_applied_twice_but_its_result_is_republished() -> None:
    table: dict = {}
    first = Published(acknowledge=False)  # the worker dies before Kafka acknowledges
    tear_down = to_dict(make_call("a", "tearDown"))
    await host_with(table, first).handle("resource/a", 0, 7, tear_down)
    assert [r.output for r in first.results] == ["a is not yet UP"]

    again = Published()
    restarted = host_with(table, again)
    await restarted.handle("resource/a", 0, 7, tear_down)  # redelivered after restart
    assert again.results == first.results
    assert table["resource/a"]["offset"] == 7


async def test_acknowledged_results_leave_the_outbox() -> None:
    table: dict = {}
    published = Published()
    host = host_with(table, published)
    await host.handle("resource/a", 0, 1, to_dict(make_call("a", "tearDown")))
    assert len(table["resource/a"]["outbox"]) == 1
    await host.handle("resource/a", 0, 2, to_dict(make_call("a", "tearDown")))
    assert [entry["offset"] for entry in table["resource/a"]["outbox"]] == [2]


async def test_outbox_entries_before_the_first_consumed_offset_are_known_delivered() -> None:
    table: dict = {}
    await host_with(table, Published(acknowledge=False)).handle(
        "resource/a", 0, 1, to_dict(make_call("a", "tearDown"))
    )
    restarted = host_with(table, Published(acknowledge=False))
    await restarted.handle("resource/a", 0, 5, to_dict(make_call("a", "tearDown")))
    assert [entry["offset"] for entry in table["resource/a"]["outbox"]] == [5]


async def test_a_malformed_command_is_skipped() -> None:
    table: dict = {}
    published = Published()
    await host_with(table, published).handle("resource/a", 0, 1, {"type": "nonsense"})
    assert table == {} and published.results == []


class ArmedTimers:
    """Records what the host asks to arm, instead of arming it."""

    def __init__(self) -> None:
        self.armed: list[tuple[int, list[int]]] = []

    def arm(self, partition: int, effects) -> None:
        self.armed.append((partition, [timer.entry for timer in effects.timers]))


async def test_rearm_restarts_the_timers_of_running_transitions_in_owned_partitions() -> None:
    table: dict = {}
    timers = ArmedTimers()
    host = MachineHost(table, Published(), timers, POLICY, Clock())
    await host.handle("resource/a", 0, 1, to_dict(make_call("a", "setUp")))  # sleeping
    await host.handle("resource/b", 1, 1, to_dict(make_call("b", "setUp")))  # sleeping
    await host.handle("resource/c", 0, 2, to_dict(make_call("c", "tearDown")))  # idle
    timers.armed.clear()

    assert host.recover(table.items(), {0}) == (1, 1)  # c's result is kept for lookups
    assert timers.armed == [(0, [0])]
