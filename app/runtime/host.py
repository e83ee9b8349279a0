"""Hosts the machines of the partitions this worker owns: the glue between Faust and the engine.

For every source record it reads the machine's record from the table, applies the command,
stores the new record, then publishes results and arms timers and steps. The order matters:
the stored record is the truth from which anything lost in a crash is re-derived.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any

from app.runtime.deliveries import DeliveryLedger
from app.runtime.engine import RetryPolicy, apply, pending_effects
from app.runtime.record import MachineRecord, OutboxEntry
from app.runtime.scheduler import Scheduler
from app.wire import Command, Result, WireError, command_from_dict

log = logging.getLogger(__name__)

PublishResult = Callable[[Result, Callable[[], None]], Awaitable[Any]]
"""Publish a result; call the given callback once the broker acknowledged it."""


class MachineHost:
    """Applies source records to machine records stored in ``table``."""

    def __init__(
        self,
        table: MutableMapping[str, Any],
        publish: PublishResult,
        scheduler: Scheduler,
        policy: RetryPolicy,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._table = table
        self._publish = publish
        self._scheduler = scheduler
        self._policy = policy
        self._clock = clock
        self._ledger = DeliveryLedger()

    async def handle(self, address: str, partition: int, offset: int, value: Any) -> None:
        """Apply the source record at ``partition``/``offset`` to the machine at ``address``."""
        self._ledger.consumed(partition, offset)
        record = MachineRecord.from_dict(self._table.get(address))
        if offset <= record.offset:
            # Applied before a crash; its results may not have reached Kafka.
            await self._publish_all(
                partition, [entry for entry in record.outbox if entry.offset == offset]
            )
            return
        try:
            command: Command = command_from_dict(value)
        except WireError:
            log.error("skipping malformed command at %s/%s: %r", partition, offset, value)
            return
        effects = apply(record, command, self._clock(), self._policy)
        new_entries = [OutboxEntry(offset, result) for result in effects.results]
        record.offset = offset
        record.partition = partition
        record.outbox = self._ledger.undelivered(partition, record.outbox) + new_entries
        self._table[address] = record.to_dict()
        await self._publish_all(partition, new_entries)
        self._scheduler.arm(partition, effects)

    def rearm(self, stored: Iterable[Any], partitions: set[int]) -> int:
        """Re-arm the timers and steps of the stored records of ``partitions`` (after recovery)."""
        now = self._clock()
        armed = 0
        for value in stored:
            # Most machines are idle: skip them before paying for a full parse.
            if not value or not value.get("running") or value.get("partition") not in partitions:
                continue
            record = MachineRecord.from_dict(value)
            self._scheduler.arm(value["partition"], pending_effects(record, now))
            armed += 1
        return armed

    def revoke(self, partitions: set[int]) -> None:
        """Forget the delivery bookkeeping of partitions handed to another worker."""
        self._ledger.revoke(partitions)

    async def _publish_all(self, partition: int, entries: list[OutboxEntry]) -> None:
        for entry in entries:
            await self._publish(
                entry.result, lambda entry=entry: self._ledger.confirm(partition, entry)
            )
