"""Fixtures: one real Kafka broker for the session, stacks (worker + ingress) per module/test."""

from __future__ import annotations

import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest

from tests.harness import Broker, Stack


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """Keep each phase's report on the test item, so fixtures can tell that a test failed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


def show_logs_if_failed(request: pytest.FixtureRequest, stacks: list[Stack]) -> None:
    """Print the end of the worker and ingress logs of a failed test (CI keeps stderr)."""
    report = getattr(request.node, "report_call", None)
    if report is None or not report.failed:
        return
    for stack in stacks:
        for process in stack.processes:
            tail = "\n".join(process.log().splitlines()[-80:])
            sys.stderr.write(f"\n----- last lines of {process.log_path} -----\n{tail}\n")


@pytest.fixture(scope="session")
def log_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("logs")


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    broker = Broker(tmp_path_factory.mktemp("kafka"))
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture(scope="module")
def stack(broker: Broker, log_dir: Path) -> Iterator[Stack]:
    """A worker and an ingress shared by the tests of one module (use fresh keys)."""
    stack = Stack(broker, log_dir)
    try:
        yield stack.start()
    finally:
        stack.stop()


@pytest.fixture(autouse=True)
def logs_of_the_shared_stack_on_failure(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "stack" in request.fixturenames:
        show_logs_if_failed(request, [request.getfixturevalue("stack")])


@pytest.fixture
def stack_factory(broker: Broker, log_dir: Path, request: pytest.FixtureRequest) -> Iterator:
    """Build stacks with their own settings; all are stopped when the test ends."""
    stacks: list[Stack] = []

    def build(**settings: str | float) -> Stack:
        stack = Stack(broker, log_dir, **settings)
        stacks.append(stack)
        return stack

    try:
        yield build
    finally:
        show_logs_if_failed(request, stacks)
        for stack in stacks:
            stack.stop()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as session:
        yield session


@pytest.fixture
def key() -> str:
    """A machine key no other test uses."""
    return f"m-{uuid.uuid4().hex[:10]}"
