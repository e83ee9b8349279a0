"""Faust, adjusted so that a restarted worker serves again promptly.

Two fixed waits in faust-streaming each delayed the first command after a restart by up to a
second, because they start while the partitions are paused for table recovery:

* its aiokafka consumer holds every fetch for ``fetch_max_wait_ms=1500``, with no setting to
  change it, so the resumed partitions are fetched only when the pending fetch returns;
* its fetch loop sleeps a whole second when no partition is active, and waits up to a second
  for records of the partitions that were active when the wait began.

Both are shortened here. Records still arrive at once when there are some; the shorter waits
only cost a few idle wake-ups per second.
"""

from __future__ import annotations

import asyncio
from typing import Any

import faust
from faust.transport.drivers import aiokafka as faust_aiokafka

FETCH_MAX_WAIT_MS = 100
IDLE_WAIT_SECONDS = 0.1


class PromptConsumerThread(faust_aiokafka.AIOKafkaConsumerThread):
    def _create_worker_consumer(self, transport: Any) -> Any:
        consumer = super()._create_worker_consumer(transport)
        consumer._fetch_max_wait_ms = FETCH_MAX_WAIT_MS  # read when the consumer starts
        return consumer


class PromptConsumer(faust_aiokafka.Consumer):
    def _new_consumer_thread(self) -> PromptConsumerThread:
        return PromptConsumerThread(self, loop=self.loop, beacon=self.beacon)

    async def _wait_next_records(self, timeout: float) -> Any:
        if self.flow_active and not self._get_active_partitions():
            # Faust would sleep a full second here, even if partitions resume meanwhile.
            await asyncio.sleep(IDLE_WAIT_SECONDS)
            return {}, set()
        return await super()._wait_next_records(min(timeout, IDLE_WAIT_SECONDS))


class PromptTransport(faust_aiokafka.Transport):
    Consumer = PromptConsumer


class PromptApp(faust.App):
    """A Faust app whose Kafka consumer does not hold fetches for 1.5 s."""

    def _new_transport(self) -> PromptTransport:
        return PromptTransport(self.conf.broker_consumer, self)
