"""Every error the ingress answers is a JSON ``{"message": ...}`` with a fitting status."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

INVOCATION_HEADER = "X-Invocation-Id"


class ApiError(Exception):
    """An error answered as ``{"message": ...}`` (plus the invocation id, if there is one)."""

    def __init__(
        self,
        status: int,
        message: str,
        invocation_id: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body: dict[str, Any] = {"message": message}
        self.headers: dict[str, str] = dict(headers or {})
        if invocation_id is not None:
            self.body["invocationId"] = invocation_id
            self.headers[INVOCATION_HEADER] = invocation_id


@web.middleware
async def json_errors(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Turn :class:`ApiError` and aiohttp's own HTTP errors into JSON answers."""
    try:
        return await handler(request)
    except ApiError as error:
        return web.json_response(error.body, status=error.status, headers=error.headers)
    except web.HTTPException as error:
        if error.status < 400:
            raise
        headers = {"Allow": error.headers["Allow"]} if "Allow" in error.headers else None
        return web.json_response({"message": error.reason}, status=error.status, headers=headers)
