"""Results of finished invocations, kept for a while for lookups and idempotent repeats.

They live in the machines table under the invocation id, next to the machine records. The
entry is written on the machine's changelog partition *before* the machine record of the same
source offset: Kafka keeps one partition in order, so a stored machine record implies its
completed invocations are stored too. The reverse can happen (entry stored, record lost in a
crash); such an entry is ahead of its record's offset and is not trusted until the source record
that produced it has been applied again.

Entries expire after a retention period (longer for calls with an idempotency key) and are
deleted from the table, with a tombstone in the changelog, while their partition is processed.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, MutableMapping
from typing import Any

from app.runtime.record import MachineRecord
from app.wire import Call, Result, result_from_dict, to_dict

INVOCATION_PREFIX = "inv_"
"""Table keys of completed invocations start with this; machine addresses never do."""

_PURGE_BATCH = 100  # deletions per processed event, so that a backlog never stalls the agent


class CompletedInvocations:
    """Stores, finds and expires the results of finished invocations in ``table``."""

    def __init__(
        self,
        table: MutableMapping[str, Any],
        result_retention: float,
        idempotency_retention: float,
    ) -> None:
        self._table = table
        self._result_retention = result_retention
        self._idempotency_retention = idempotency_retention
        self._expiries: dict[int, list[tuple[float, str]]] = {}

    def store(self, partition: int, offset: int, call: Call, result: Result, now: float) -> None:
        """Keep ``result`` of ``call``, produced by the source record at ``offset``."""
        retention = (
            self._result_retention if call.idempotencyKey is None else self._idempotency_retention
        )
        if retention <= 0:
            return
        expires_at = now + retention
        self._table[call.invocationId] = {
            "result": to_dict(result),
            "idempotencyKey": call.idempotencyKey,
            "partition": partition,
            "offset": offset,
            "completedAt": now,
            "expiresAt": expires_at,
        }
        heapq.heappush(self._expiries.setdefault(partition, []), (expires_at, call.invocationId))

    def find(self, invocation_id: str, record: MachineRecord, now: float) -> dict[str, Any] | None:
        """The unexpired entry of ``invocation_id`` if ``record`` (its machine) includes it."""
        entry = self._table.get(invocation_id)
        if not entry or entry["expiresAt"] <= now or entry["offset"] > record.offset:
            return None
        return entry

    def purge(self, partition: int, now: float) -> None:
        """Delete some expired entries of ``partition`` (call while processing that partition)."""
        expiries = self._expiries.get(partition)
        for _ in range(_PURGE_BATCH):
            if not expiries or expiries[0][0] > now:
                return
            _expires_at, invocation_id = heapq.heappop(expiries)
            entry = self._table.get(invocation_id)
            # A later store of the same invocation (a re-applied record) has its own expiry.
            if entry is not None and entry["expiresAt"] <= now:
                del self._table[invocation_id]

    def recover(self, entries: Iterable[tuple[str, Any]], partitions: set[int]) -> int:
        """Rebuild the expiry schedule of ``partitions`` from the stored (id, entry) pairs;
        returns how many entries ``partitions`` keep."""
        for partition in partitions:
            self._expiries[partition] = []
        for key, value in entries:
            if value and value["partition"] in partitions:
                self._expiries[value["partition"]].append((value["expiresAt"], key))
        for partition in partitions:
            heapq.heapify(self._expiries[partition])
        return sum(len(self._expiries[partition]) for partition in partitions)

    def revoke(self, partitions: set[int]) -> None:
        """Forget the schedule of partitions handed to another worker."""
        for partition in partitions:
            self._expiries.pop(partition, None)


def stored_result(entry: dict[str, Any]) -> Result:
    """The result kept in a completed-invocation entry."""
    return result_from_dict(entry["result"])
