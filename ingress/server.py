"""The aiohttp application: routes, JSON errors, and the Kafka clients' life cycle."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from aiohttp import web

from app import machines as _definitions  # noqa: F401 - registers the machine types
from app.runtime.machine import find_handler, machine_types
from app.settings import Settings
from app.topics import ensure_topics
from app.wire import Call, Result, new_invocation_id
from ingress.publisher import CommandPublisher, PublishError
from ingress.results import ResultListener

log = logging.getLogger(__name__)

INVOCATION_HEADER = "X-Invocation-Id"

settings_key = web.AppKey("settings", Settings)
publisher_key = web.AppKey("publisher", CommandPublisher)
results_key = web.AppKey("results", ResultListener)


class ApiError(Exception):
    """An error answered as ``{"message": ...}`` with an HTTP status."""

    def __init__(self, status: int, message: str, invocation_id: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.body: dict[str, Any] = {"message": message}
        self.headers: dict[str, str] = {}
        if invocation_id is not None:
            self.body["invocationId"] = invocation_id
            self.headers[INVOCATION_HEADER] = invocation_id


def create_app(settings: Settings) -> web.Application:
    """The ingress application for ``settings``."""
    app = web.Application(
        middlewares=[json_errors], client_max_size=max(settings.max_body_bytes, 1)
    )
    app[settings_key] = settings
    app.cleanup_ctx.append(kafka_clients)
    app.router.add_post("/{machine}/{key}/{handler}", call)
    app.router.add_get("/health", health)
    return app


async def kafka_clients(app: web.Application) -> AsyncIterator[None]:
    """Start the producer and the results listener; flush and stop them at shutdown."""
    settings = app[settings_key]
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, ensure_topics, settings)
    app[results_key] = await loop.run_in_executor(None, ResultListener, settings, loop)
    app[publisher_key] = CommandPublisher(settings)
    yield
    await loop.run_in_executor(None, app[publisher_key].close)
    await loop.run_in_executor(None, app[results_key].close)


@web.middleware
async def json_errors(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Answer every error as a JSON ``{"message": ...}`` with a fitting status."""
    try:
        return await handler(request)
    except ApiError as error:
        return web.json_response(error.body, status=error.status, headers=error.headers)
    except web.HTTPException as error:
        if error.status < 400:
            raise
        return web.json_response({"message": error.reason}, status=error.status)


async def call(request: web.Request) -> web.Response:
    """``POST /{machine}/{key}/{handler}``: run the handler and answer with its result."""
    settings = request.app[settings_key]
    machine, key, handler = (request.match_info[name] for name in ("machine", "key", "handler"))
    if machine not in machine_types():
        raise ApiError(404, f"unknown machine type {machine!r}")
    if find_handler(machine, handler) is None:
        raise ApiError(404, f"machine type {machine!r} has no handler {handler!r}")
    if not 0 < len(key) <= settings.max_key_length:
        raise ApiError(400, f"the key must be 1 to {settings.max_key_length} characters")
    command = Call(new_invocation_id(), machine, key, handler, await _json_body(request))

    results = request.app[results_key]
    waiter = results.expect(command.invocationId)
    try:
        await request.app[publisher_key].publish(command)
    except PublishError as exc:
        results.forget(command.invocationId)
        raise ApiError(503, f"Kafka did not accept the call: {exc}") from exc
    try:
        result = await asyncio.wait_for(waiter, settings.call_timeout_seconds)
    except TimeoutError:
        results.forget(command.invocationId)
        raise ApiError(
            504,
            f"no result within {settings.call_timeout_seconds:g}s; the call is accepted "
            "and will still complete",
            invocation_id=command.invocationId,
        ) from None
    return _result_response(result)


async def health(_request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def _json_body(request: web.Request) -> Any:
    raw = await request.read()
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ApiError(400, f"the body is not valid JSON: {exc}") from None


def _result_response(result: Result) -> web.Response:
    headers = {INVOCATION_HEADER: result.invocationId}
    if result.ok:
        return web.json_response(result.output, headers=headers)
    return web.json_response({"message": result.error}, status=result.status, headers=headers)
