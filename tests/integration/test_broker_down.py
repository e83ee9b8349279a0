"""With the broker down, a call fails promptly with 503 instead of hanging."""

from __future__ import annotations

import time

import pytest

from tests.harness import Broker, Stack, call

pytestmark = pytest.mark.integration


async def test_broker_down_gives_a_prompt_503(http, tmp_path, log_dir, key) -> None:
    broker = Broker(tmp_path / "kafka").start()
    try:
        with Stack(broker, log_dir, produce_timeout_seconds=3) as stack:
            assert (await call(http, stack, "resource", key, "tearDown"))[0] == 200
            broker.stop()
            started = time.monotonic()
            status, body, _ = await call(http, stack, "resource", key, "setUp")
            assert status == 503 and "Kafka" in body["message"]
            assert time.monotonic() - started < 10
    finally:
        broker.stop()
