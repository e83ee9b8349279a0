"""One settings object for the worker, the ingress and the tests, read from ``CSM_*`` variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Configuration of Consistent State Machines (environment variables ``CSM_<NAME>``)."""

    model_config = SettingsConfigDict(env_prefix="CSM_", frozen=True)

    bootstrap_servers: str = Field("127.0.0.1:9092", description="Kafka bootstrap servers")
    app_id: str = Field("csm", description="Faust app id: consumer group and changelog prefix")
    commands_topic: str = Field("csm-commands", description="Topic of calls and runtime events")
    results_topic: str = Field("csm-results", description="Topic of invocation results")
    partitions: int = Field(8, ge=1, description="Partitions of the commands/results topics")

    work_seconds: float = Field(5.0, ge=0, description="Durable sleep of a resource transition")
    crash_probability: float = Field(
        0.0, ge=0, le=1, description="Chance that a resource transition kills its worker"
    )

    payment_ledger: Path | None = Field(
        None, description="File where the order example's payment stand-in appends movements"
    )

    session_timeout_seconds: float = Field(
        10.0, gt=0, description="Consumer group session timeout of a worker"
    )
    worker_instance_id: str | None = Field(
        None,
        description="Static group membership id of a worker: a restarted worker with the same "
        "id takes its partitions back at once instead of after the session timeout",
    )
    handler_max_attempts: int = Field(
        5, ge=1, description="Attempts of a handler that raises an unexpected error"
    )
    retry_initial_seconds: float = Field(0.1, gt=0, description="First retry backoff")
    retry_max_seconds: float = Field(10.0, gt=0, description="Longest retry backoff")
    max_queue_length: int = Field(
        1000,
        ge=0,
        description="Calls a machine may hold waiting (queued or delayed) besides the running "
        "one; a call beyond it is refused with 429",
    )
    result_retention_seconds: float = Field(
        600.0,
        ge=0,
        description="How long the result of a call without idempotency key stays available "
        "to GET /invocations/{id}",
    )
    idempotency_retention_seconds: float = Field(
        86_400.0,
        ge=0,
        description="How long a call with an Idempotency-Key is remembered (and its result kept)",
    )

    ingress_host: str = Field("127.0.0.1", description="Address the ingress listens on")
    ingress_port: int = Field(8080, description="Port the ingress listens on")
    call_timeout_seconds: float = Field(
        60.0, gt=0, description="How long a call waits for its result"
    )
    produce_timeout_seconds: float = Field(
        5.0, gt=0, description="How long the ingress tries to hand a command to Kafka"
    )
    max_key_length: int = Field(
        256, ge=1, description="Longest machine key, and longest Idempotency-Key, accepted"
    )
    max_delay_seconds: float = Field(
        30 * 86_400.0, ge=0, description="Longest ?delay= accepted by /send"
    )
    max_body_bytes: int = Field(64 * 1024, ge=0, description="Largest call body accepted")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
