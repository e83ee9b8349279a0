"""The OpenAPI 3 description of the API, built from the registered machine types."""

from __future__ import annotations

import inspect
from typing import Any

from app.runtime.machine import machine_types
from app.settings import Settings

_ANY_JSON: dict[str, Any] = {"description": "Any JSON value"}


def openapi_document(settings: Settings) -> dict[str, Any]:
    """The whole API: one call, send and state path per machine type and handler."""
    paths: dict[str, Any] = {}
    for machine in sorted(machine_types().values(), key=lambda m: m.name):
        for name, function in sorted(machine.handlers.items()):
            summary = (inspect.getdoc(function) or f"Call {machine.name}.{name}").splitlines()[0]
            base = f"/{machine.name}/{{key}}/{name}"
            paths[base] = {"post": _call_operation(machine.name, name, summary)}
            paths[f"{base}/send"] = {"post": _send_operation(machine.name, name, summary)}
        paths[f"/{machine.name}/{{key}}/state"] = {"get": _state_operation(machine.name)}
    paths["/invocations/{invocationId}"] = {"get": _lookup_operation()}
    paths["/invocations/{invocationId}/attach"] = {"get": _attach_operation()}
    paths["/health"] = {"get": _health_operation()}
    paths["/openapi.json"] = {
        "get": {
            "operationId": "openapi",
            "summary": "This document",
            "responses": {"200": _json("The OpenAPI document", {"type": "object"})},
        }
    }
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Consistent State Machines",
            "version": "1",
            "description": "Call durable state machines, one per key. Calls to one machine run "
            'one at a time in arrival order; every error is a JSON {"message": ...}.',
        },
        "paths": paths,
        "components": _components(settings),
    }


def _call_operation(machine: str, handler: str, summary: str) -> dict[str, Any]:
    return {
        "operationId": f"call_{machine}_{handler}",
        "summary": summary,
        "description": "Run the handler on the machine (after the calls queued before it) and "
        "answer with its output.",
        "tags": [machine],
        "parameters": [_ref("Key"), _ref("IdempotencyKey")],
        "requestBody": _body(),
        "responses": {
            "200": _json("The handler's output", _ANY_JSON, invocation_header=True),
            **_errors("400", "404", "413", "429", "503", "504"),
            "default": _error("A status and message chosen by the handler (it rejected the call)"),
        },
    }


def _send_operation(machine: str, handler: str, summary: str) -> dict[str, Any]:
    return {
        "operationId": f"send_{machine}_{handler}",
        "summary": f"Send, without waiting: {summary}",
        "description": "Answer 202 once the call is durably in Kafka; it runs later, after "
        "the optional delay. Follow it with GET /invocations/{invocationId}.",
        "tags": [machine],
        "parameters": [_ref("Key"), _ref("IdempotencyKey"), _ref("Delay")],
        "requestBody": _body(),
        "responses": {
            "202": _json("Accepted", _schema("Accepted"), invocation_header=True),
            **_errors("400", "404", "413", "503"),
        },
    }


def _state_operation(machine: str) -> dict[str, Any]:
    return {
        "operationId": f"state_{machine}",
        "summary": f"Read the state of a {machine} machine",
        "description": "Answered by the machine's worker in log order: it reflects every "
        "transition completed before the read; a running transition's changes are not "
        "visible until it ends.",
        "tags": [machine],
        "parameters": [_ref("Key")],
        "responses": {
            "200": _json("The machine", _schema("MachineState")),
            **_errors("400", "404", "503", "504"),
        },
    }


def _lookup_operation() -> dict[str, Any]:
    return {
        "operationId": "get_invocation",
        "summary": "Where an invocation stands, with its output once completed",
        "tags": ["invocations"],
        "parameters": [_ref("InvocationId")],
        "responses": {
            "200": _json("The invocation", _schema("Invocation"), invocation_header=True),
            **_errors("404", "503", "504"),
        },
    }


def _attach_operation() -> dict[str, Any]:
    return {
        "operationId": "attach_invocation",
        "summary": "Wait for an invocation and answer with its result",
        "description": "Answers as the call itself would have: its output, or its error.",
        "tags": ["invocations"],
        "parameters": [_ref("InvocationId")],
        "responses": {
            "200": _json("The handler's output", _ANY_JSON, invocation_header=True),
            **_errors("404", "503", "504"),
            "default": _error("A status and message chosen by the handler (it rejected the call)"),
        },
    }


def _health_operation() -> dict[str, Any]:
    return {
        "operationId": "health",
        "summary": "The ingress is up",
        "responses": {
            "200": _json(
                "Up, with the number of requests waiting for an answer",
                {
                    "type": "object",
                    "required": ["status", "waiting"],
                    "properties": {
                        "status": {"type": "string", "enum": ["ok"]},
                        "waiting": {"type": "integer", "minimum": 0},
                    },
                },
            )
        },
    }


_ERROR_MEANINGS = {
    "400": "Bad input: malformed JSON, a key or Idempotency-Key that is empty or too long, "
    "or a bad delay",
    "404": "Unknown machine type, handler or invocation",
    "413": "The body is over the size limit",
    "429": "The machine already holds the most calls allowed to wait",
    "503": "Kafka is unreachable; nothing was accepted",
    "504": "No answer in time; for a call, it is accepted and will still complete",
}


def _errors(*statuses: str) -> dict[str, Any]:
    return {status: _error(_ERROR_MEANINGS[status]) for status in statuses}


def _error(description: str) -> dict[str, Any]:
    return _json(description, _schema("Error"))


def _json(
    description: str, schema: dict[str, Any], invocation_header: bool = False
) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": schema}},
    }
    if invocation_header:
        response["headers"] = {
            "X-Invocation-Id": {
                "description": "The invocation's id",
                "required": True,
                "schema": {"type": "string"},
            }
        }
    return response


def _body() -> dict[str, Any]:
    return {
        "required": False,
        "description": "The handler's input: any JSON value, or nothing",
        "content": {"application/json": {"schema": _ANY_JSON}},
    }


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/parameters/{name}"}


def _schema(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _components(settings: Settings) -> dict[str, Any]:
    text_id = {"type": "string", "minLength": 1, "maxLength": settings.max_key_length}
    return {
        "parameters": {
            "Key": {
                "name": "key",
                "in": "path",
                "required": True,
                "description": "The machine's id",
                "schema": text_id,
            },
            "IdempotencyKey": {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "description": "Makes the call idempotent: a repeat with the same key for the "
                "same machine and handler returns the first call's id and result",
                "schema": text_id,
            },
            "Delay": {
                "name": "delay",
                "in": "query",
                "required": False,
                "description": "Run the call after this long: 500ms, 10s, 2m, 1h, 1d",
                "schema": {"type": "string", "pattern": r"^\d{1,6}(\.\d{1,3})?(ms|s|m|h|d)?$"},
            },
            "InvocationId": {
                "name": "invocationId",
                "in": "path",
                "required": True,
                "schema": {"type": "string"},
            },
        },
        "schemas": {
            "Error": {
                "type": "object",
                "required": ["message"],
                "properties": {
                    "message": {"type": "string"},
                    "invocationId": {"type": "string"},
                },
            },
            "Accepted": {
                "type": "object",
                "required": ["invocationId", "status"],
                "properties": {
                    "invocationId": {"type": "string"},
                    "status": {"type": "string", "enum": ["Accepted"]},
                },
            },
            "MachineState": {
                "type": "object",
                "required": ["state", "running", "queueLength", "scheduled"],
                "properties": {
                    "state": {"type": "object", "description": "The committed state"},
                    "running": {"type": "boolean", "description": "A transition is running"},
                    "queueLength": {"type": "integer", "minimum": 0},
                    "scheduled": {
                        "type": "integer",
                        "minimum": 0,
                        "description": "Delayed calls whose time has not come",
                    },
                },
            },
            "Invocation": {
                "type": "object",
                "required": ["invocationId", "machine", "key", "handler", "status"],
                "properties": {
                    "invocationId": {"type": "string"},
                    "machine": {"type": "string"},
                    "key": {"type": "string"},
                    "handler": {"type": "string"},
                    "status": {
                        "type": "string",
                        "enum": ["scheduled", "queued", "running", "completed"],
                    },
                    "position": {"type": "integer", "description": "1 = next (queued only)"},
                    "runAt": {"type": "string", "format": "date-time"},
                    "completedAt": {"type": "string", "format": "date-time"},
                    "output": {"description": "The output (completed successfully)"},
                    "error": {
                        "type": "object",
                        "description": "How it failed (completed with an error)",
                        "required": ["status", "message"],
                        "properties": {
                            "status": {"type": "integer"},
                            "message": {"type": "string"},
                        },
                    },
                },
            },
        },
    }
