"""A second example: an order with guarded transitions and a journaled payment side effect.

    place -> PLACED --pay--> PAID --ship--> SHIPPED
               |               |
               +----cancel-----+--> CANCELLED  (a paid order is refunded first)

A transition that is not allowed from the current status is rejected with 409 and changes
nothing. Payment and refund are side effects: they run in ``ctx.step`` so that after a crash
their recorded result is reused instead of charging twice.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from app.runtime import Context, Machine, Rejected
from app.settings import get_settings

order = Machine("order")


@order.handler()
async def place(ctx: Context) -> dict[str, Any]:
    """Place the order. Body: ``{"amount": <positive number>}``."""
    if ctx.get("status") is not None:
        raise Rejected(f"order {ctx.key} is already {ctx.get('status')}", status=409)
    amount = (ctx.input or {}).get("amount") if isinstance(ctx.input, dict) else None
    if not isinstance(amount, int | float) or isinstance(amount, bool) or amount <= 0:
        raise Rejected('the body must be {"amount": <positive number>}', status=400)
    ctx.set("status", "PLACED")
    ctx.set("amount", amount)
    return _summary(ctx)


@order.handler()
async def pay(ctx: Context) -> dict[str, Any]:
    """Charge the order's amount, wait for settlement, mark it PAID."""
    _require(ctx, "PLACED", "pay")
    amount = ctx.get("amount")
    receipt = await ctx.step("charge", lambda: _record_payment("charge", ctx.key, amount))
    await ctx.sleep("settle", get_settings().work_seconds)
    ctx.set("status", "PAID")
    ctx.set("receipt", receipt)
    return _summary(ctx)


@order.handler()
async def ship(ctx: Context) -> dict[str, Any]:
    _require(ctx, "PAID", "ship")
    ctx.set("status", "SHIPPED")
    return _summary(ctx)


@order.handler()
async def cancel(ctx: Context) -> dict[str, Any]:
    """Cancel a placed order, refunding it first if it was paid."""
    status = ctx.get("status")
    if status == "PAID":
        amount = ctx.get("amount")
        await ctx.step("refund", lambda: _record_payment("refund", ctx.key, amount))
    elif status != "PLACED":
        raise Rejected(f"order {ctx.key} cannot be cancelled when {status or 'not placed'}", 409)
    ctx.set("status", "CANCELLED")
    return _summary(ctx)


@order.handler()
async def status(ctx: Context) -> dict[str, Any]:
    return _summary(ctx)


def _require(ctx: Context, wanted: str, action: str) -> None:
    current = ctx.get("status")
    if current != wanted:
        raise Rejected(f"order {ctx.key} cannot {action} when {current or 'not placed'}", 409)


def _summary(ctx: Context) -> dict[str, Any]:
    return {
        "order": ctx.key,
        "status": ctx.get("status"),
        "amount": ctx.get("amount"),
        "receipt": ctx.get("receipt"),
    }


def _record_payment(kind: str, order_key: str, amount: float) -> str:
    """The stand-in for a payment provider: appends the movement to the payment ledger file."""
    receipt = f"{kind}-{uuid.uuid4().hex[:12]}"
    ledger = get_settings().payment_ledger
    if ledger is not None:
        line = {
            "kind": kind,
            "order": order_key,
            "amount": amount,
            "receipt": receipt,
            "at": time.time(),
        }
        with ledger.open("a") as file:
            file.write(json.dumps(line) + "\n")
    return receipt
