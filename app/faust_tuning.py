"""Faust, adjusted so that a restarted worker serves again sooner and loses no command.

faust-streaming creates its aiokafka consumer with ``fetch_max_wait_ms=1500`` and no setting to
change it. After a restart the first fetch can be sent while the partitions are still paused
for table recovery, and the broker holds it for the full wait before the resumed partitions are
fetched. Data still returns at once when it arrives, so a shorter wait only costs a few idle
fetch requests per second.

Faust's fetch loop can also drop records that aiokafka has already counted as consumed, so that
they are never fetched again: see ``PromptConsumerThread._fetch_records``, and
``seek_to_committed`` for the rewind that aiokafka skips.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import faust
from faust.transport.consumer import RecordMap
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP

FETCH_MAX_WAIT_MS = 100


class PromptConsumerThread(faust_aiokafka.AIOKafkaConsumerThread):
    def _create_worker_consumer(self, transport: Any) -> Any:
        consumer = super()._create_worker_consumer(transport)
        consumer._fetch_max_wait_ms = FETCH_MAX_WAIT_MS  # read when the consumer starts
        return consumer

    async def _fetch_records(
        self,
        consumer: Any,
        active_partitions: set[TP] | None,
        timeout: float | None = None,
        max_records: int | None = None,
    ) -> RecordMap:
        """Fetch as Faust does, but give back to aiokafka the records Faust would drop.

        aiokafka moves a partition's position past every record it returns. Faust then drops,
        without rewinding, the records of a partition that is not active: aiokafka returns such
        records when Faust's live set of active partitions, which this thread reads, is empty
        for a moment during recovery (an empty set means "all partitions" to aiokafka). Stream
        records that Faust delivers before recovery has finished go into the agents' queues,
        which the end of recovery clears. Either way the record would be skipped. Seeking the
        partition back to its first returned record makes aiokafka fetch it again once Faust
        takes it. This runs in the consumer's own thread, so the seek is safe.
        """
        records = await super()._fetch_records(
            consumer, active_partitions, timeout=timeout, max_records=max_records
        )
        if active_partitions is None:  # client-only app: Faust takes every record
            return records
        app_consumer = self.consumer
        # False from the start of a rebalance until recovery has cleared the stream queues.
        streams_ready = self.app.tables.actives_ready
        kept = dict(records)
        for tp in records:
            active = tp in active_partitions or tp in app_consumer._buffered_partitions
            if active and (streams_ready or app_consumer._is_changelog_tp(tp)):
                continue
            first_offset = kept.pop(tp)[0].offset
            if tp in consumer.assignment():
                consumer.seek(tp, first_offset)
        return kept

    async def seek_to_committed(self) -> Mapping[TP, int]:
        """Seek to the committed offsets, and to the start where nothing (or 0) is committed.

        After a rebalance Faust rewinds every partition to its committed offset, which undoes
        any record dropped on the way. aiokafka skips partitions whose committed offset is
        missing or 0 (aio-libs/aiokafka#1003), leaving them wherever the last fetch left them;
        for a stream partition that can be past records never processed. Reading it again from
        its start only redelivers records, which the host deduplicates.
        """
        committed = await super().seek_to_committed()
        uncommitted = [
            tp
            for tp, offset in committed.items()
            if not offset and not self.consumer._is_changelog_tp(tp)
        ]
        if uncommitted:
            await self.call_thread(self._ensure_consumer().seek_to_beginning, *uncommitted)
        return committed


class PromptConsumer(faust_aiokafka.Consumer):
    def _new_consumer_thread(self) -> PromptConsumerThread:
        return PromptConsumerThread(self, loop=self.loop, beacon=self.beacon)


class PromptTransport(faust_aiokafka.Transport):
    Consumer = PromptConsumer


class PromptApp(faust.App):
    """A Faust app whose Kafka consumer does not hold fetches for 1.5 s."""

    def _new_transport(self) -> PromptTransport:
        return PromptTransport(self.conf.broker_consumer, self)
