"""Hosts the machines of the partitions this worker owns: the glue between Faust and the engine.

For every source record it reads the machine's record from the table, applies the command,
stores the completed invocations and then the new record, then publishes results and arms timers
and steps. The order matters: the stored record is the truth from which anything lost in a crash
is re-derived. Queries are answered from the stored record and change nothing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any

from app.runtime.completions import INVOCATION_PREFIX, CompletedInvocations, stored_result
from app.runtime.deliveries import DeliveryLedger
from app.runtime.engine import DEFAULT_MAX_WAITING, RetryPolicy, apply, pending_effects
from app.runtime.queries import (
    completed_invocation_view,
    machine_view,
    pending_invocation_view,
)
from app.runtime.record import MachineRecord, OutboxEntry
from app.runtime.scheduler import Scheduler
from app.wire import QUERY_HANDLER, Call, Command, Query, Result, WireError, command_from_dict

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
        *,
        max_waiting: int = DEFAULT_MAX_WAITING,
        result_retention: float = 600.0,
        idempotency_retention: float = 86_400.0,
    ) -> None:
        self._table = table
        self._publish = publish
        self._scheduler = scheduler
        self._policy = policy
        self._clock = clock
        self._max_waiting = max_waiting
        self._ledger = DeliveryLedger()
        self._completed = CompletedInvocations(table, result_retention, idempotency_retention)

    async def handle(self, address: str, partition: int, offset: int, value: Any) -> None:
        """Apply the source record at ``partition``/``offset`` to the machine at ``address``."""
        self._ledger.consumed(partition, offset)
        try:
            command: Command = command_from_dict(value)
        except WireError:
            log.error("skipping malformed command at %s/%s: %r", partition, offset, value)
            return
        record = MachineRecord.from_dict(self._table.get(address))
        now = self._clock()
        if isinstance(command, Query):
            await self._publish(self._answer(command, record, now), _ignore)
            return
        if offset <= record.offset:
            # Applied before a crash; its results may not have reached Kafka.
            await self._publish_all(
                partition, [entry for entry in record.outbox if entry.offset == offset]
            )
            return
        if isinstance(command, Call) and (
            done := self._completed.find(command.invocationId, record, now)
        ):
            # A repeat (same idempotency key) of a finished call: answer with its result.
            log.info("%s %s %s repeated after completion", address, command.handler,
                     command.invocationId)  # fmt: skip
            await self._publish(stored_result(done), _ignore)
            return
        effects = apply(record, command, now, self._policy, self._max_waiting)
        for result in effects.results:
            call = effects.calls[result.invocationId]
            self._completed.store(partition, offset, call, result, now)
        new_entries = [OutboxEntry(offset, result) for result in effects.results]
        record.offset = offset
        record.partition = partition
        record.outbox = self._ledger.undelivered(partition, record.outbox) + new_entries
        self._table[address] = record.to_dict()
        self._completed.purge(partition, now)
        await self._publish_all(partition, new_entries)
        self._scheduler.arm(partition, effects)

    def recover(self, stored: Iterable[tuple[str, Any]], partitions: set[int]) -> tuple[int, int]:
        """After a restart or rebalance: re-arm the timers and steps of the stored machines of
        ``partitions`` and schedule the expiry of their completed invocations.

        Returns how many machines were re-armed and how many completed invocations are kept.
        """
        now = self._clock()
        armed = 0
        completed = []
        for key, value in stored:
            if key.startswith(INVOCATION_PREFIX):
                completed.append((key, value))
            # Most machines are idle: skip them before paying for a full parse.
            elif (
                value
                and (value.get("running") or value.get("scheduled"))
                and value.get("partition") in partitions
            ):
                record = MachineRecord.from_dict(value)
                self._scheduler.arm(value["partition"], pending_effects(record, now))
                armed += 1
        return armed, self._completed.recover(completed, partitions)

    def revoke(self, partitions: set[int]) -> None:
        """Forget the bookkeeping of partitions handed to another worker."""
        self._ledger.revoke(partitions)
        self._completed.revoke(partitions)

    def _answer(self, query: Query, record: MachineRecord, now: float) -> Result:
        def reply(status: int, output: Any = None, error: str | None = None) -> Result:
            return Result(query.queryId, query.address, QUERY_HANDLER, status, output, error)

        if query.invocationId is None:
            return reply(200, machine_view(record))
        view = pending_invocation_view(record, query.invocationId)
        if view is None and (done := self._completed.find(query.invocationId, record, now)):
            view = completed_invocation_view(stored_result(done), done["completedAt"])
        if view is None:
            return reply(404, error=f"unknown invocation {query.invocationId}")
        return reply(200, view)

    async def _publish_all(self, partition: int, entries: list[OutboxEntry]) -> None:
        for entry in entries:
            await self._publish(
                entry.result, lambda entry=entry: self._ledger.confirm(partition, entry)
            )


def _ignore() -> None:
    """Delivery callback of results that no outbox tracks."""
