"""The aiohttp application and the life cycle of its Kafka clients."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from aiohttp import web

from app import machines as _definitions  # noqa: F401 - registers the machine types
from app.settings import Settings
from app.topics import ensure_topics
from ingress.errors import json_errors
from ingress.publisher import CommandPublisher
from ingress.results import ResultListener
from ingress.routes import add_routes, publisher_key, results_key, settings_key


def create_app(settings: Settings) -> web.Application:
    """The ingress application for ``settings``."""
    app = web.Application(
        middlewares=[json_errors], client_max_size=max(settings.max_body_bytes, 1)
    )
    app[settings_key] = settings
    app.cleanup_ctx.append(kafka_clients)
    add_routes(app)
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
