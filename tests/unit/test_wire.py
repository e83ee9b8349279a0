"""The wire format is plain, readable JSON and round-trips."""

from __future__ import annotations

import json

import pytest

from app.runtime.record import MachineRecord, OutboxEntry, Running
from app.wire import (
    Call,
    Result,
    StepDone,
    Wakeup,
    WireError,
    address_of_invocation,
    command_from_dict,
    decode_result,
    encode,
    new_invocation_id,
)


def test_commands_round_trip_through_json() -> None:
    for command in (
        Call("inv_1", "resource", "a", "setUp", {"x": [1, 2]}),
        Wakeup("inv_1", 0),
        StepDone("inv_1", 2, result={"ok": True}),
    ):
        assert command_from_dict(json.loads(encode(command))) == command


def test_a_call_reads_like_the_readme_says() -> None:
    data = json.loads(encode(Call("inv_1", "resource", "a", "setUp")))
    assert data == {
        "invocationId": "inv_1",
        "machine": "resource",
        "key": "a",
        "handler": "setUp",
        "input": None,
        "idempotencyKey": None,
        "notBefore": None,
        "type": "call",
    }


def test_results_round_trip() -> None:
    result = Result("inv_1", "resource/a", "setUp", 200, output="a is now UP")
    assert decode_result(encode(result)) == result


@pytest.mark.parametrize("data", [{}, {"type": "call"}, {"type": "bogus", "invocationId": "x"}])
def test_malformed_commands_are_refused(data: dict) -> None:
    with pytest.raises(WireError):
        command_from_dict(data)


def test_machine_records_round_trip() -> None:
    call = Call("inv_1", "resource", "a", "setUp")
    record = MachineRecord(
        state={"status": "UP"},
        offset=9,
        partition=3,
        running=Running(call, [{"kind": "sleep", "name": "work", "done": False, "wakeAt": 5.0}]),
        queue=[Call("inv_2", "resource", "a", "tearDown")],
        outbox=[OutboxEntry(8, Result("inv_0", "resource/a", "setUp", 200, output="x"))],
    )
    assert MachineRecord.from_dict(json.loads(json.dumps(record.to_dict()))) == record
    assert MachineRecord.from_dict(None) == MachineRecord()


def test_an_invocation_id_names_its_machine() -> None:
    fresh = new_invocation_id("resource/a b/ü")
    assert address_of_invocation(fresh) == "resource/a b/ü"
    assert fresh != new_invocation_id("resource/a b/ü")
    keyed = new_invocation_id("resource/a", "setUp", "k-1")
    assert keyed == new_invocation_id("resource/a", "setUp", "k-1")
    assert keyed != new_invocation_id("resource/a", "tearDown", "k-1")
    assert keyed != new_invocation_id("resource/b", "setUp", "k-1")
    for bad in (
        "",
        "inv_",
        "x",
        "inv_%%%.0123",
        keyed[:-1],
        "qry_" + keyed[4:],
        "inv_YQ." + "0" * 32,
    ):
        assert address_of_invocation(bad) is None, bad
