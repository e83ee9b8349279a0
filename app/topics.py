"""Creating the topics the system needs, with confluent-kafka's admin client."""

from __future__ import annotations

import logging

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient, NewTopic

from app.settings import Settings

log = logging.getLogger(__name__)


def ensure_topics(settings: Settings, timeout: float = 15.0) -> None:
    """Create the commands and results topics if they do not exist yet."""
    admin = AdminClient({"bootstrap.servers": settings.bootstrap_servers})
    wanted = [
        NewTopic(name, num_partitions=settings.partitions, replication_factor=1)
        for name in (settings.commands_topic, settings.results_topic)
    ]
    for name, future in admin.create_topics(wanted, request_timeout=timeout).items():
        try:
            future.result(timeout=timeout)
            log.info("created topic %s with %d partitions", name, settings.partitions)
        except KafkaException as exc:
            if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise
