"""The order example's guarded transitions, without a broker."""

from __future__ import annotations

from app import machines as _definitions  # noqa: F401
from app.runtime.engine import RetryPolicy, apply
from app.runtime.record import MachineRecord
from app.wire import StepDone, Wakeup
from tests.unit.fakes import make_call

POLICY = RetryPolicy()
NOW = 1_000.0


def run(record: MachineRecord, handler: str, body: object = None):
    """Apply a call and drive its steps and timers to the end; return its result."""
    effects = apply(record, make_call("o1", handler, machine="order", body=body), NOW, POLICY)
    while not effects.results:
        if effects.steps:
            (step,) = effects.steps
            done = StepDone(step.invocation_id, step.entry, result=step.function())
            effects = apply(record, done, NOW, POLICY)
        else:
            (timer,) = effects.timers
            effects = apply(record, Wakeup(timer.invocation_id, timer.entry), NOW, POLICY)
    (result,) = effects.results
    return result


def test_an_order_goes_from_placed_to_paid_to_shipped() -> None:
    record = MachineRecord()
    assert run(record, "place", {"amount": 12.5}).output["status"] == "PLACED"
    paid = run(record, "pay").output
    assert paid["status"] == "PAID" and paid["receipt"].startswith("charge-")
    assert run(record, "ship").output["status"] == "SHIPPED"


def test_transitions_out_of_order_are_rejected_with_409_and_change_nothing() -> None:
    record = MachineRecord()
    result = run(record, "ship")
    assert result.status == 409 and "not placed" in result.error
    run(record, "place", {"amount": 3})
    before = dict(record.state)
    assert run(record, "ship").status == 409
    assert run(record, "place", {"amount": 3}).status == 409
    assert record.state == before


def test_placing_needs_a_positive_amount() -> None:
    for body in (None, {}, {"amount": -1}, {"amount": "ten"}, {"amount": True}, [1]):
        result = run(MachineRecord(), "place", body)
        assert result.status == 400


def test_cancelling_a_paid_order_refunds_it() -> None:
    record = MachineRecord()
    run(record, "place", {"amount": 5})
    run(record, "pay")
    assert run(record, "cancel").output["status"] == "CANCELLED"
    assert run(record, "cancel").status == 409
