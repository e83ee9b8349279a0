"""The Faust application: topics, the machines table and the agent that applies commands.

Run it with ``faust -A app worker -l info``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator, MutableMapping
from typing import Any

import faust
import uvloop

from app import machines as _definitions  # noqa: F401 - registers the machine types
from app.faust_tuning import PromptApp
from app.runtime.engine import RetryPolicy
from app.runtime.host import MachineHost
from app.runtime.scheduler import Scheduler
from app.settings import get_settings
from app.wire import Command, Result, to_dict

log = logging.getLogger(__name__)
settings = get_settings()

# uvloop makes the worker's per-message work markedly cheaper; faust creates its loops later.
asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())

app = PromptApp(
    settings.app_id,
    broker=[f"kafka://{server}" for server in settings.bootstrap_servers.split(",")],
    store="memory://",  # rebuilt from the changelog at start: no local state to disagree with it
    key_serializer="raw",
    value_serializer="json",
    processing_guarantee="at_least_once",
    topic_partitions=settings.partitions,
    topic_disable_leader=True,
    table_standby_replicas=0,
    broker_session_timeout=settings.session_timeout_seconds,
    broker_heartbeat_interval=1.0,
    consumer_group_instance_id=settings.worker_instance_id,
    producer_acks=-1,
    consumer_auto_offset_reset="earliest",
    # Plain log lines: the default colour formatter cost a tenth of the worker's time under load.
    logging_config={
        "merge": True,
        "formatters": {
            "plain": {"format": "[%(asctime)s] [%(process)d] [%(levelname)s] %(message)s"}
        },
        "handlers": {"default": {"class": "logging.StreamHandler", "formatter": "plain"}},
    },
)

# Keys are plain strings on every topic (``resource/a``), readable with kafka-console-consumer.
commands = app.topic(
    settings.commands_topic,
    partitions=settings.partitions,
    internal=True,
    key_type=str,
    key_serializer="raw",
)
results = app.topic(settings.results_topic, partitions=settings.partitions, internal=True)
# bytes keys are written raw, so changelog keys read as plain ``resource/a`` too.
# Machine records under their address, completed invocations under their id (see completions.py).
machines = app.Table("machines", default=None, partitions=settings.partitions, key_type=bytes)


class Utf8Keys(MutableMapping[str, Any]):
    """A view of a bytes-keyed table with ``str`` keys."""

    def __init__(self, table: MutableMapping[bytes, Any]) -> None:
        self._table = table

    def __getitem__(self, key: str) -> Any:
        return self._table[key.encode()]

    def __setitem__(self, key: str, value: Any) -> None:
        self._table[key.encode()] = value

    def __delitem__(self, key: str) -> None:
        del self._table[key.encode()]

    def __iter__(self) -> Iterator[str]:
        return (key.decode() for key in self._table)

    def __len__(self) -> int:
        return len(self._table)

    def items_decoded(self) -> Iterator[tuple[str, Any]]:
        """All entries, without the per-key lookup of ``items()``."""
        return ((key.decode(), value) for key, value in self._table.items())


async def _send_command(address: str, partition: int, command: Command) -> None:
    await commands.send(key=address.encode(), value=to_dict(command), partition=partition)


async def _publish_result(result: Result, on_delivered: Any) -> None:
    await results.send(
        key=result.invocationId.encode(),
        value=to_dict(result),
        callback=lambda _message: on_delivered(),
    )


policy = RetryPolicy(
    settings.handler_max_attempts, settings.retry_initial_seconds, settings.retry_max_seconds
)
store = Utf8Keys(machines)
host = MachineHost(
    store,
    _publish_result,
    Scheduler(_send_command, policy),
    policy,
    max_waiting=settings.max_queue_length,
    result_retention=settings.result_retention_seconds,
    idempotency_retention=settings.idempotency_retention_seconds,
)


@app.agent(commands)
async def apply_commands(stream: faust.StreamT) -> None:
    """Apply each command, in partition order, to its machine's record."""
    async for event in stream.events():
        message = event.message
        try:
            await host.handle(event.key, message.partition, message.offset, event.value)
        except Exception:
            # An exception escaping an agent would skip the event silently; say it loudly.
            log.exception("failed to apply %s/%s", message.partition, message.offset)


@machines.on_recover
async def rearm_suspended_transitions() -> None:
    """After a restart or rebalance, restart the timers and steps of running transitions."""
    owned = {
        tp.partition
        for tp in app.assignor.assigned_actives()
        if tp.topic == commands.get_topic_name()
    }
    armed, kept = host.recover(store.items_decoded(), owned)
    log.info(
        "recovered %d table entries: %d machines with running or delayed calls re-armed, "
        "%d completed invocations kept",
        len(machines),
        armed,
        kept,
    )


@app.on_partitions_revoked.connect
async def forget_revoked(app: faust.App, revoked: set[Any], **_: Any) -> None:
    host.revoke({tp.partition for tp in revoked if tp.topic == commands.get_topic_name()})
