"""The HTTP API: calls, one-way sends, state reads and invocation lookups.

Every request that reaches a machine travels as a command on the machine's partition, and its
answer comes back on the results topic; nothing is read from a cache.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from aiohttp import web

from app.runtime.machine import INVOCATIONS, STATE
from app.settings import Settings
from app.wire import Call, Query, Result, new_invocation_id, new_query_id
from ingress.errors import INVOCATION_HEADER, ApiError
from ingress.openapi import openapi_document
from ingress.publisher import CommandPublisher, PublishError
from ingress.requests import (
    delay_seconds,
    handler_name,
    idempotency_key,
    invocation_target,
    json_body,
    machine_and_key,
)
from ingress.results import ResultListener

settings_key = web.AppKey("settings", Settings)
publisher_key = web.AppKey("publisher", CommandPublisher)
results_key = web.AppKey("results", ResultListener)


def add_routes(app: web.Application) -> None:
    """Register the API's routes on ``app``."""
    # Read-only paths first, each answering any other method with 405 itself: otherwise
    # POST /invocations/x/attach or POST /resource/a/state would reach the call route.
    for path, handler in (
        ("/health", health),
        ("/openapi.json", openapi),
        (f"/{INVOCATIONS}/{{invocation_id}}", get_invocation),
        (f"/{INVOCATIONS}/{{invocation_id}}/attach", attach_invocation),
        # [^/]* admits the empty key, so that it is refused with 400 rather than "not found".
        (f"/{{machine}}/{{key:[^/]*}}/{STATE}", get_state),
    ):
        resource = app.router.add_resource(path)
        resource.add_route("GET", handler)
        resource.add_route("*", _read_only)
    app.router.add_post("/{machine}/{key:[^/]*}/{handler}", call)
    app.router.add_post("/{machine}/{key:[^/]*}/{handler}/send", send)


async def _read_only(request: web.Request) -> web.Response:
    raise ApiError(405, f"{request.method} is not allowed here; use GET", headers={"Allow": "GET"})


async def call(request: web.Request) -> web.Response:
    """``POST /{machine}/{key}/{handler}``: run the handler and answer with its result."""
    settings = request.app[settings_key]
    if "delay" in request.query:
        raise ApiError(400, "delay is accepted only by /send")
    command = await _call_command(request, settings, not_before=None)
    results = request.app[results_key]
    waiter = results.expect(command.invocationId)
    try:
        await _publish(request, command)
        result = await _wait(waiter, settings, command.invocationId)
    finally:
        results.forget(command.invocationId, waiter)
    return _result_response(result)


async def send(request: web.Request) -> web.Response:
    """``POST /{machine}/{key}/{handler}/send``: accept the call and answer 202 at once."""
    settings = request.app[settings_key]
    delay = delay_seconds(request, settings)
    command = await _call_command(
        request, settings, not_before=time.time() + delay if delay > 0 else None
    )
    await _publish(request, command)
    return web.json_response(
        {"invocationId": command.invocationId, "status": "Accepted"},
        status=202,
        headers={INVOCATION_HEADER: command.invocationId},
    )


async def get_state(request: web.Request) -> web.Response:
    """``GET /{machine}/{key}/state``: the machine's state, queue length and running flag."""
    machine, key = machine_and_key(request, request.app[settings_key])
    return web.json_response(await _query(request, Query(new_query_id(), machine, key)))


async def get_invocation(request: web.Request) -> web.Response:
    """``GET /invocations/{id}``: where an invocation stands, with its output once completed."""
    invocation_id = request.match_info["invocation_id"]
    machine, key = invocation_target(invocation_id)
    view = await _query(request, Query(new_query_id(), machine, key, invocation_id))
    return web.json_response(view, headers={INVOCATION_HEADER: invocation_id})


async def attach_invocation(request: web.Request) -> web.Response:
    """``GET /invocations/{id}/attach``: wait for the invocation and answer with its result."""
    settings = request.app[settings_key]
    invocation_id = request.match_info["invocation_id"]
    machine, key = invocation_target(invocation_id)
    results = request.app[results_key]
    # Registered before the lookup: a result published after the lookup is not missed.
    waiter = results.expect(invocation_id)
    try:
        view = await _query(request, Query(new_query_id(), machine, key, invocation_id))
        if view["status"] == "completed":
            result = _completed_result(view)
        else:
            result = await _wait(waiter, settings, invocation_id)
    finally:
        results.forget(invocation_id, waiter)
    return _result_response(result)


async def openapi(request: web.Request) -> web.Response:
    """``GET /openapi.json``: the OpenAPI 3 description of this API."""
    return web.json_response(openapi_document(request.app[settings_key]))


async def health(request: web.Request) -> web.Response:
    """``GET /health``: the ingress is up; how many requests wait for an answer."""
    return web.json_response({"status": "ok", "waiting": request.app[results_key].pending})


async def _call_command(request: web.Request, settings: Settings, not_before: float | None) -> Call:
    machine, key = machine_and_key(request, settings)
    handler = handler_name(request, machine)
    idempotency = idempotency_key(request, settings)
    body = await json_body(request)
    invocation_id = new_invocation_id(f"{machine}/{key}", handler, idempotency)
    return Call(invocation_id, machine, key, handler, body, idempotency, not_before)


async def _query(request: web.Request, query: Query) -> dict[str, Any]:
    """Send ``query`` to the machine's worker and return its answer."""
    results = request.app[results_key]
    waiter = results.expect(query.queryId)
    try:
        await _publish(request, query)
        answer = await _wait(waiter, request.app[settings_key], None)
    finally:
        results.forget(query.queryId, waiter)
    if not answer.ok:
        raise ApiError(answer.status, answer.error or "the query failed")
    return answer.output


async def _publish(request: web.Request, command: Call | Query) -> None:
    try:
        await request.app[publisher_key].publish(command)
    except PublishError as exc:
        raise ApiError(503, f"Kafka did not accept the request: {exc}") from exc


async def _wait(
    waiter: asyncio.Future[Result], settings: Settings, invocation_id: str | None
) -> Result:
    try:
        return await asyncio.wait_for(waiter, settings.call_timeout_seconds)
    except TimeoutError:
        if invocation_id is None:
            raise ApiError(
                504,
                f"no answer from the machine's worker within {settings.call_timeout_seconds:g}s",
            ) from None
        raise ApiError(
            504,
            f"no result within {settings.call_timeout_seconds:g}s; the call is accepted "
            "and will still complete",
            invocation_id=invocation_id,
        ) from None


def _completed_result(view: dict[str, Any]) -> Result:
    address = f"{view['machine']}/{view['key']}"
    if "error" in view:
        error = view["error"]
        return Result(view["invocationId"], address, view["handler"], error["status"],
                      error=error["message"])  # fmt: skip
    return Result(view["invocationId"], address, view["handler"], 200, output=view["output"])


def _result_response(result: Result) -> web.Response:
    headers = {INVOCATION_HEADER: result.invocationId}
    if result.ok:
        return web.json_response(result.output, headers=headers)
    return web.json_response({"message": result.error}, status=result.status, headers=headers)
