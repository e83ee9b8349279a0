"""Receiving results: every ingress reads the whole results topic and settles its own waiters.

Results are keyed by invocation (or query) id; several waiters may wait for one id, such as a
call and an attach to it, or two calls with the same idempotency key.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import uuid

from confluent_kafka import Consumer, KafkaException, TopicPartition

from app.settings import Settings
from app.wire import Result, WireError, decode_result

log = logging.getLogger(__name__)


class ResultListener:
    """Tails the results topic from its end and resolves futures by invocation id."""

    def __init__(self, settings: Settings, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._waiters: dict[str, list[asyncio.Future[Result]]] = {}
        self._consumer = Consumer(
            {
                "bootstrap.servers": settings.bootstrap_servers,
                # Partitions are assigned, not subscribed: the group id is never joined.
                "group.id": f"csm-ingress-{uuid.uuid4().hex}",
                "enable.auto.commit": False,
                "fetch.wait.max.ms": 10,
            }
        )
        self._assign_from_end(settings.results_topic)
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="result-listener", daemon=True)
        self._thread.start()

    def expect(self, ident: str) -> asyncio.Future[Result]:
        """A future for the result of ``ident``; register it before publishing the command."""
        future = self._loop.create_future()
        self._waiters.setdefault(ident, []).append(future)
        return future

    def forget(self, ident: str, future: asyncio.Future[Result]) -> None:
        """Stop waiting with ``future`` (done or not) for ``ident``."""
        waiters = self._waiters.get(ident)
        if waiters is None:
            return
        if future in waiters:
            waiters.remove(future)
        if not waiters:
            del self._waiters[ident]

    @property
    def pending(self) -> int:
        """How many requests are waiting for a result."""
        return sum(len(waiters) for waiters in self._waiters.values())

    def close(self) -> None:
        self._stopping.set()
        self._thread.join()
        self._consumer.close()

    def _assign_from_end(self, topic: str, timeout: float = 15.0) -> None:
        # Explicit end offsets, resolved now: a result produced after start-up is never missed.
        deadline = time.monotonic() + timeout
        while True:
            try:
                metadata = self._consumer.list_topics(topic, timeout=timeout)
                assignment = [
                    TopicPartition(topic, partition, self._end_offset(topic, partition))
                    for partition in sorted(metadata.topics[topic].partitions)
                ]
                break
            except KafkaException:
                # A topic created a moment ago may not have a leader yet.
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        self._consumer.assign(assignment)

    def _end_offset(self, topic: str, partition: int) -> int:
        _low, high = self._consumer.get_watermark_offsets(
            TopicPartition(topic, partition), timeout=5
        )
        return high

    def _run(self) -> None:
        while not self._stopping.is_set():
            first = self._consumer.poll(0.1)  # returns as soon as a result arrives
            if first is None:
                continue
            # consume() waits for a full batch or its timeout, so only drain what is there.
            results = []
            for message in [first, *self._consumer.consume(num_messages=500, timeout=0)]:
                if message.error():
                    log.warning("results topic: %s", message.error())
                    continue
                try:
                    results.append(decode_result(message.value()))
                except WireError as exc:
                    log.error("%s", exc)
            if results:
                self._loop.call_soon_threadsafe(self._settle, results)  # one wake-up per batch

    def _settle(self, results: list[Result]) -> None:
        for result in results:
            for future in self._waiters.pop(result.invocationId, ()):
                if not future.done():
                    future.set_result(result)
