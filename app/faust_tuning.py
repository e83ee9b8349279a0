"""Faust, adjusted so that a restarted worker serves again sooner.

faust-streaming creates its aiokafka consumer with ``fetch_max_wait_ms=1500`` and no setting to
change it. After a restart the first fetch can be sent while the partitions are still paused
for table recovery, and the broker holds it for the full wait before the resumed partitions are
fetched. Data still returns at once when it arrives, so a shorter wait only costs a few idle
fetch requests per second.

Faust's fetch loop also sleeps a whole second when no partition is active. Shortening that
wait as well (by overriding ``_wait_next_records``) made restarts faster still, but the chaos
test then lost a command produced during recovery in about half of its runs, so it is left
as Faust has it.
"""

from __future__ import annotations

from typing import Any

import faust
from faust.transport.drivers import aiokafka as faust_aiokafka

FETCH_MAX_WAIT_MS = 100


class PromptConsumerThread(faust_aiokafka.AIOKafkaConsumerThread):
    def _create_worker_consumer(self, transport: Any) -> Any:
        consumer = super()._create_worker_consumer(transport)
        consumer._fetch_max_wait_ms = FETCH_MAX_WAIT_MS  # read when the consumer starts
        return consumer


class PromptConsumer(faust_aiokafka.Consumer):
    def _new_consumer_thread(self) -> PromptConsumerThread:
        return PromptConsumerThread(self, loop=self.loop, beacon=self.beacon)


class PromptTransport(faust_aiokafka.Transport):
    Consumer = PromptConsumer


class PromptApp(faust.App):
    """A Faust app whose Kafka consumer does not hold fetches for 1.5 s."""

    def _new_transport(self) -> PromptTransport:
        return PromptTransport(self.conf.broker_consumer, self)
