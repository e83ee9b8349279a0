"""Fixtures: one real Kafka broker for the session, stacks (worker + ingress) per module/test."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest

from tests.harness import Broker, Stack


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


@pytest.fixture
def stack_factory(broker: Broker, log_dir: Path) -> Iterator:
    """Build stacks with their own settings; all are stopped when the test ends."""
    stacks: list[Stack] = []

    def build(**settings: str | float) -> Stack:
        stack = Stack(broker, log_dir, **settings)
        stacks.append(stack)
        return stack

    try:
        yield build
    finally:
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
