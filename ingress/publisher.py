"""Publishing commands with confluent-kafka's idempotent producer, awaitable from asyncio."""

from __future__ import annotations

import asyncio
import threading

from confluent_kafka import KafkaError, Message, Producer

from app.settings import Settings
from app.wire import Call, Query, encode


class PublishError(Exception):
    """The command could not be handed to Kafka (for example, the broker is unreachable)."""


class CommandPublisher:
    """Produces calls and queries to the commands topic, keyed by machine address."""

    def __init__(self, settings: Settings) -> None:
        self._topic = settings.commands_topic
        self._producer = Producer(
            {
                "bootstrap.servers": settings.bootstrap_servers,
                "enable.idempotence": True,
                "acks": "all",
                "linger.ms": 1,
                # Same key -> partition mapping as the Java client (and aiokafka in the worker).
                "partitioner": "murmur2_random",
                "message.timeout.ms": int(settings.produce_timeout_seconds * 1000),
            }
        )
        self._stopping = threading.Event()
        self._poller = threading.Thread(target=self._poll, name="command-publisher", daemon=True)
        self._poller.start()

    async def publish(self, command: Call | Query) -> None:
        """Return once Kafka has the command; raise :class:`PublishError` otherwise."""
        loop = asyncio.get_running_loop()
        delivered: asyncio.Future[None] = loop.create_future()

        def on_delivery(error: KafkaError | None, _message: Message) -> None:
            loop.call_soon_threadsafe(_settle, delivered, error)

        try:
            self._producer.produce(
                self._topic,
                key=command.address.encode(),
                value=encode(command),
                on_delivery=on_delivery,
            )
        except BufferError as exc:
            raise PublishError("the producer queue is full") from exc
        await delivered

    def close(self, timeout: float = 10.0) -> None:
        """Deliver what is queued, then stop."""
        self._producer.flush(timeout)
        self._stopping.set()
        self._poller.join()

    def _poll(self) -> None:
        while not self._stopping.is_set():
            self._producer.poll(0.05)


def _settle(future: asyncio.Future[None], error: KafkaError | None) -> None:
    if future.done():
        return
    if error is None:
        future.set_result(None)
    else:
        future.set_exception(PublishError(error.str()))
