"""With the broker down, every request that needs Kafka fails promptly with 503, never hangs."""

from __future__ import annotations

import time

import pytest

from tests.harness import Broker, Stack, call, request

pytestmark = pytest.mark.integration


async def test_broker_down_gives_a_prompt_503(http, tmp_path, log_dir, key) -> None:
    broker = Broker(tmp_path / "kafka").start()
    try:
        with Stack(broker, log_dir, produce_timeout_seconds=3) as stack:
            status, _, headers = await call(http, stack, "resource", key, "tearDown")
            assert status == 200
            invocation_id = headers["X-Invocation-Id"]
            broker.stop()
            for method, path in [
                ("POST", f"/resource/{key}/setUp"),
                ("POST", f"/resource/{key}/setUp/send"),
                ("GET", f"/resource/{key}/state"),
                ("GET", f"/invocations/{invocation_id}"),
                ("GET", f"/invocations/{invocation_id}/attach"),
            ]:
                started = time.monotonic()
                status, body, _ = await request(http, method, stack.url + path)
                assert status == 503 and "Kafka" in body["message"], (path, body)
                assert time.monotonic() - started < 10
    finally:
        broker.stop()
