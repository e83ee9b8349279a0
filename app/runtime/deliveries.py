"""Which published results are known to be in Kafka, to keep the records' outboxes short.

A record keeps the results of the source records it applied until their delivery is known.
If the worker dies after storing a record but before its results reached Kafka, the source
record is redelivered, recognised as a duplicate by its offset, and its outbox is published
again. A result is known delivered when this process saw the broker acknowledge it, or when its
source offset precedes the first offset this process consumed on the partition: offsets are
committed only after the producer has been flushed.
"""

from __future__ import annotations

from app.runtime.record import OutboxEntry

_MAX_CONFIRMATIONS = 100_000


class DeliveryLedger:
    """Remembers acknowledged results and where consumption of each partition started."""

    def __init__(self) -> None:
        self._confirmed: dict[tuple[int, int, str], None] = {}
        self._first_offset: dict[int, int] = {}

    def consumed(self, partition: int, offset: int) -> None:
        """Note that ``offset`` of ``partition`` is being processed."""
        self._first_offset.setdefault(partition, offset)

    def confirm(self, partition: int, entry: OutboxEntry) -> None:
        """Note that the broker acknowledged ``entry``'s result."""
        if len(self._confirmed) >= _MAX_CONFIRMATIONS:
            # Forgetting only means a record keeps an entry a little longer; it stays correct.
            for ident in list(self._confirmed)[: _MAX_CONFIRMATIONS // 2]:
                del self._confirmed[ident]
        self._confirmed[(partition, entry.offset, entry.result.invocationId)] = None

    def undelivered(self, partition: int, outbox: list[OutboxEntry]) -> list[OutboxEntry]:
        """The entries of ``outbox`` whose delivery is not known yet."""
        first = self._first_offset.get(partition)
        kept = []
        for entry in outbox:
            ident = (partition, entry.offset, entry.result.invocationId)
            if ident in self._confirmed:
                del self._confirmed[ident]
            elif first is None or entry.offset >= first:
                kept.append(entry)
        return kept

    def revoke(self, partitions: set[int]) -> None:
        """Forget partitions this process no longer owns."""
        for partition in partitions:
            self._first_offset.pop(partition, None)
