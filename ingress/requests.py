"""Reading and checking what a request asks for: bad input is refused before Kafka sees it."""

from __future__ import annotations

import json
import re
from typing import Any

from aiohttp import web

from app.runtime.machine import find_handler, machine_types
from app.settings import Settings
from app.wire import address_of_invocation
from ingress.errors import ApiError

IDEMPOTENCY_HEADER = "Idempotency-Key"

_DELAY = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)?")
_DELAY_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86_400.0}


def machine_and_key(request: web.Request, settings: Settings) -> tuple[str, str]:
    """The machine type and key of ``/{machine}/{key}/...``, both checked."""
    machine, key = request.match_info["machine"], request.match_info["key"]
    if machine not in machine_types():
        raise ApiError(404, f"unknown machine type {machine!r}")
    if not 0 < len(key) <= settings.max_key_length:
        raise ApiError(400, f"the key must be 1 to {settings.max_key_length} characters")
    return machine, key


def handler_name(request: web.Request, machine: str) -> str:
    """The handler of ``/{machine}/{key}/{handler}``, which must exist."""
    handler = request.match_info["handler"]
    if find_handler(machine, handler) is None:
        raise ApiError(404, f"machine type {machine!r} has no handler {handler!r}")
    return handler


async def json_body(request: web.Request) -> Any:
    """The JSON body, ``None`` when it is empty."""
    raw = await request.read()
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ApiError(400, f"the body is not valid JSON: {exc}") from None


def idempotency_key(request: web.Request, settings: Settings) -> str | None:
    """The ``Idempotency-Key`` header, if given."""
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is not None and not 0 < len(key) <= settings.max_key_length:
        raise ApiError(
            400, f"the {IDEMPOTENCY_HEADER} must be 1 to {settings.max_key_length} characters"
        )
    return key


def delay_seconds(request: web.Request, settings: Settings) -> float:
    """``?delay=`` in seconds (``10s``, ``500ms``, ``2m``, ``1h``, ``1d`` or plain seconds)."""
    text = request.query.get("delay")
    if text is None:
        return 0.0
    match = _DELAY.fullmatch(text.strip())
    if match is None:
        raise ApiError(400, f"delay {text!r} is not a duration such as 10s, 500ms, 2m or 1h")
    seconds = float(match[1]) * _DELAY_UNITS[match[2] or "s"]
    if seconds > settings.max_delay_seconds:
        raise ApiError(400, f"delay {text!r} is longer than {settings.max_delay_seconds:g}s")
    return seconds


def invocation_target(invocation_id: str) -> tuple[str, str]:
    """The machine type and key an invocation id names."""
    address = address_of_invocation(invocation_id)
    machine, _, key = (address or "").partition("/")
    if machine not in machine_types():
        raise ApiError(404, f"unknown invocation {invocation_id!r}")
    return machine, key
