"""Durable steps, rejections, retries and determinism checks of the engine."""

from __future__ import annotations

import asyncio

from app.runtime import Context, Machine, Rejected
from app.runtime.engine import RetryPolicy, apply, pending_effects
from app.runtime.record import MachineRecord
from app.wire import RETRY_ENTRY, StepDone, Wakeup
from tests.unit.fakes import make_call, roundtrip

POLICY = RetryPolicy(max_attempts=3, initial_seconds=0.5, max_seconds=2)
NOW = 1_000.0

journal_machine = Machine("unit-journal")
calls_made: list[str] = []
flaky_failures = {"left": 0}


@journal_machine.handler()
async def charge(ctx: Context) -> dict:
    receipt = await ctx.step("charge", lambda: calls_made.append("charge") or "r-1")
    await ctx.sleep("settle", 2)
    ctx.set("receipt", receipt)
    return {"receipt": receipt}


@journal_machine.handler()
async def guarded(ctx: Context) -> str:
    ctx.set("touched", True)
    if ctx.input != "ok":
        raise Rejected("only 'ok' is accepted", status=409)
    return "fine"


@journal_machine.handler()
async def flaky(ctx: Context) -> str:
    if flaky_failures["left"] > 0:
        flaky_failures["left"] -= 1
        raise RuntimeError("transient")
    ctx.set("flaky", "done")
    return "recovered"


@journal_machine.handler()
async def swallow(ctx: Context) -> str:
    try:
        await ctx.sleep("nap", 1)
    except Exception:  # must not swallow the runtime's suspension
        return "swallowed"
    return "woke"


@journal_machine.handler()
async def impatient(ctx: Context) -> str:
    await asyncio.sleep(0.01)  # not durable: refused by the engine
    return "never"


def call(handler: str, body: object = None):
    return make_call("k", handler, machine="unit-journal", body=body)


def test_step_result_is_journaled_and_not_run_again() -> None:
    calls_made.clear()
    record = MachineRecord()
    effects = apply(record, call("charge"), NOW, POLICY)
    (step,) = effects.steps
    assert step.name == "charge" and calls_made == []

    result = step.function()  # what the scheduler does outside the agent
    effects = apply(record, StepDone(step.invocation_id, step.entry, result=result), NOW, POLICY)
    assert calls_made == ["charge"]
    (timer,) = effects.timers
    assert (timer.entry, timer.wake_at) == (1, NOW + 2)

    # A crash now: the stored record re-arms only the timer, never the completed step.
    restored = roundtrip(record)
    resumed = pending_effects(restored, NOW + 1)
    assert resumed.steps == [] and [t.entry for t in resumed.timers] == [1]
    effects = apply(restored, Wakeup(timer.invocation_id, 1), NOW + 2, POLICY)
    assert [r.output for r in effects.results] == [{"receipt": "r-1"}]
    assert calls_made == ["charge"]
    assert restored.state == {"receipt": "r-1"}


def test_a_step_in_flight_at_a_crash_is_requested_again() -> None:
    record = MachineRecord()
    apply(record, call("charge"), NOW, POLICY)
    (step,) = pending_effects(roundtrip(record), NOW).steps
    assert (step.entry, step.name) == (0, "charge")


def test_rejection_ends_the_call_and_leaves_state_unchanged() -> None:
    record = MachineRecord(state={"before": 1})
    (result,) = apply(record, call("guarded", "nope"), NOW, POLICY).results
    assert (result.status, result.error) == (409, "only 'ok' is accepted")
    assert record.state == {"before": 1} and record.running is None
    (result,) = apply(record, call("guarded", "ok"), NOW, POLICY).results
    assert result.output == "fine" and record.state == {"before": 1, "touched": True}


def test_unexpected_errors_are_retried_with_backoff_then_succeed() -> None:
    flaky_failures["left"] = 2
    record = MachineRecord()
    effects = apply(record, call("flaky"), NOW, POLICY)
    (timer,) = effects.timers
    assert (timer.entry, timer.wake_at) == (RETRY_ENTRY, NOW + 0.5)
    effects = apply(record, Wakeup(timer.invocation_id, RETRY_ENTRY), NOW + 0.5, POLICY)
    (timer,) = effects.timers
    assert timer.wake_at == NOW + 0.5 + 1.0  # doubled
    effects = apply(record, Wakeup(timer.invocation_id, RETRY_ENTRY), NOW + 2, POLICY)
    assert [r.output for r in effects.results] == ["recovered"]
    assert record.state == {"flaky": "done"}


def test_retries_are_bounded() -> None:
    flaky_failures["left"] = 10
    record = MachineRecord(state={"x": 1})
    effects = apply(record, call("flaky"), NOW, POLICY)
    for _attempt in range(POLICY.max_attempts - 1):
        (timer,) = effects.timers
        effects = apply(record, Wakeup(timer.invocation_id, RETRY_ENTRY), timer.wake_at, POLICY)
    (result,) = effects.results
    assert result.status == 500 and "transient" in result.error
    assert record.state == {"x": 1} and record.running is None


def test_backoff_is_capped() -> None:
    assert [POLICY.backoff(n) for n in (1, 2, 3, 4)] == [0.5, 1.0, 2, 2]


def test_handlers_cannot_swallow_a_suspension() -> None:
    record = MachineRecord()
    effects = apply(record, call("swallow"), NOW, POLICY)
    assert effects.results == [] and len(effects.timers) == 1


async def test_awaiting_something_not_durable_fails_the_call() -> None:
    record = MachineRecord()
    effects = apply(record, call("impatient"), NOW, RetryPolicy(max_attempts=1))
    (result,) = effects.results
    assert result.status == 500 and "ctx.sleep or ctx.step" in result.error


def test_a_journal_that_no_longer_matches_the_handler_fails_terminally() -> None:
    record = MachineRecord()
    apply(record, call("charge"), NOW, POLICY)
    assert record.running is not None
    record.running.journal[0]["name"] = "renamed"
    invocation = record.running.call.invocationId
    (result,) = apply(record, StepDone(invocation, 0, result="x"), NOW, POLICY).results
    assert result.status == 500 and "journal entry 0" in result.error


def test_a_step_that_rejects_ends_the_call_with_its_status_and_message() -> None:
    record = MachineRecord()
    (step,) = apply(record, call("charge"), NOW, POLICY).steps
    done = StepDone(step.invocation_id, step.entry, error="card declined", status=402)
    (result,) = apply(record, done, NOW, POLICY).results
    assert (result.status, result.error) == (402, "card declined")
    assert record.state == {} and record.running is None
