"""The reference machine: a resource that is set up and torn down.

``setUp`` and ``tearDown`` do their "work" as a durable sleep, preceded by a crash point that
(in the crash variant) kills the whole worker to show that the transition still completes.
"""

from __future__ import annotations

import logging
import os
import random

from app.runtime import Context, Machine
from app.settings import get_settings

log = logging.getLogger(__name__)

resource = Machine("resource")

UP = "UP"
DOWN = "DOWN"


@resource.handler(name="setUp")
async def set_up(ctx: Context) -> str:
    if ctx.get("status") == UP:
        return f"{ctx.key} is already UP"
    await _work(ctx)
    ctx.set("status", UP)
    return f"{ctx.key} is now UP"


@resource.handler(name="tearDown")
async def tear_down(ctx: Context) -> str:
    if ctx.get("status") != UP:
        return f"{ctx.key} is not yet UP"
    await _work(ctx)
    ctx.set("status", DOWN)
    return f"{ctx.key} is now DOWN"


async def _work(ctx: Context) -> None:
    """The transition's work: a crash point, then a durable sleep."""
    settings = get_settings()
    _crash_point(ctx, settings.crash_probability)
    await ctx.sleep("work", settings.work_seconds)


def _crash_point(ctx: Context, probability: float) -> None:
    # Only on first execution: re-running the handler to resume it must not crash again.
    if not ctx.replaying and random.random() < probability:
        log.warning("crash point: killing the worker during %s %s", ctx.handler, ctx.key)
        os._exit(1)
