"""``python -m ingress``: serve the HTTP API on ``CSM_INGRESS_HOST``:``CSM_INGRESS_PORT``."""

import asyncio
import logging

import uvloop
from aiohttp import web

from app.settings import get_settings
from ingress.server import create_app


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = get_settings()
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    web.run_app(
        create_app(settings),
        host=settings.ingress_host,
        port=settings.ingress_port,
        access_log=None,
        print=lambda message: logging.getLogger("ingress").info(message.strip()),
    )


if __name__ == "__main__":
    main()
