"""The transition engine on the reference machine, without a broker."""

from __future__ import annotations

import pytest

from app import machines as _definitions  # noqa: F401
from app.runtime.engine import Effects, RetryPolicy, apply, pending_effects
from app.runtime.record import MachineRecord
from app.settings import get_settings
from app.wire import RETRY_ENTRY, Result, Wakeup
from tests.unit.fakes import make_call, roundtrip

POLICY = RetryPolicy(max_attempts=3, initial_seconds=0.5, max_seconds=2)
NOW = 1_000.0
WORK = get_settings().work_seconds


def outputs(effects: Effects) -> list[object]:
    return [result.output for result in effects.results]


def wake(record: MachineRecord, effects: Effects, now: float) -> Effects:
    """Deliver the (single) timer requested by ``effects``."""
    (timer,) = effects.timers
    return apply(record, Wakeup(timer.invocation_id, timer.entry), now, POLICY)


def test_set_up_of_a_new_machine_sleeps_then_reports_up() -> None:
    record = MachineRecord()
    effects = apply(record, make_call("a", "setUp"), NOW, POLICY)
    assert effects.results == []
    assert [(t.entry, t.wake_at) for t in effects.timers] == [(0, NOW + WORK)]
    assert record.running is not None and record.state == {}

    effects = wake(record, effects, NOW + WORK)
    assert outputs(effects) == ["a is now UP"]
    assert record.state == {"status": "UP"} and record.running is None


@pytest.mark.parametrize(
    ("status", "handler", "output", "status_after"),
    [
        ("UP", "setUp", "a is already UP", "UP"),
        ("DOWN", "tearDown", "a is not yet UP", "DOWN"),
        (None, "tearDown", "a is not yet UP", None),
    ],
)
def test_transitions_without_work_answer_at_once(status, handler, output, status_after) -> None:
    record = MachineRecord(state={"status": status} if status else {})
    effects = apply(record, make_call("a", handler), NOW, POLICY)
    assert outputs(effects) == [output] and effects.timers == []
    assert record.state.get("status") == status_after


def test_tear_down_of_an_up_machine_reports_down_after_its_sleep() -> None:
    record = MachineRecord(state={"status": "UP"})
    effects = apply(record, make_call("a", "tearDown"), NOW, POLICY)
    effects = wake(record, effects, NOW + WORK)
    assert outputs(effects) == ["a is now DOWN"] and record.state == {"status": "DOWN"}


def test_calls_queue_behind_the_running_transition_and_run_in_order() -> None:
    record = MachineRecord()
    first = apply(record, make_call("b", "setUp"), NOW, POLICY)
    assert apply(record, make_call("b", "setUp"), NOW, POLICY).results == []
    assert apply(record, make_call("b", "tearDown"), NOW, POLICY).results == []
    assert len(record.queue) == 2

    second = wake(record, first, NOW + WORK)
    # setUp completes, the queued setUp answers at once, the queued tearDown starts sleeping.
    assert outputs(second) == ["b is now UP", "b is already UP"]
    assert record.running is not None and record.running.call.handler == "tearDown"
    assert outputs(wake(record, second, NOW + 2 * WORK)) == ["b is now DOWN"]
    assert record.queue == [] and record.running is None


def test_state_is_unchanged_while_a_transition_is_in_progress() -> None:
    record = MachineRecord()
    apply(record, make_call("a", "setUp"), NOW, POLICY)
    assert record.state == {}


def test_stale_and_duplicate_wakeups_are_ignored() -> None:
    record = MachineRecord()
    effects = apply(record, make_call("a", "setUp"), NOW, POLICY)
    (timer,) = effects.timers
    assert apply(record, Wakeup("inv_other", 0), NOW, POLICY).results == []
    assert outputs(apply(record, Wakeup(timer.invocation_id, 0), NOW, POLICY)) == ["a is now UP"]
    assert apply(record, Wakeup(timer.invocation_id, 0), NOW, POLICY).results == []
    assert record.state == {"status": "UP"}


def test_a_stored_record_resumes_with_its_pending_timer() -> None:
    record = MachineRecord()
    apply(record, make_call("a", "setUp"), NOW, POLICY)
    restored = roundtrip(record)
    (timer,) = pending_effects(restored, NOW + 1).timers
    assert (timer.entry, timer.wake_at) == (0, NOW + WORK)
    assert restored.running is not None and len(restored.running.journal) == 1
    assert outputs(apply(restored, Wakeup(timer.invocation_id, 0), NOW + 9, POLICY)) == [
        "a is now UP"
    ]


def test_unknown_handler_fails_the_call_with_404() -> None:
    record = MachineRecord()
    effects = apply(record, make_call("a", "explode"), NOW, POLICY)
    (result,) = effects.results
    assert isinstance(result, Result) and result.status == 404 and not result.ok
    assert record.running is None


def test_an_idle_machine_has_nothing_pending() -> None:
    assert pending_effects(MachineRecord(state={"status": "UP"}), NOW) == Effects()


def test_pending_effects_of_a_retrying_transition_is_its_retry_timer() -> None:
    record = MachineRecord()
    apply(record, make_call("a", "setUp"), NOW, POLICY)
    record.running.retryAt = NOW + 3
    (timer,) = pending_effects(record, NOW).timers
    assert (timer.entry, timer.wake_at) == (RETRY_ENTRY, NOW + 3)
