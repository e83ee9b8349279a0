"""Closed-loop HTTP load: each client calls setUp/tearDown (or reads the state) of random
machines, one request at a time."""

from __future__ import annotations

import asyncio
import random
import statistics
import time
from dataclasses import dataclass

import aiohttp


@dataclass(frozen=True)
class LoadReport:
    clients: int
    calls: int
    errors: int
    seconds: float
    p50_ms: float
    p95_ms: float
    p99_ms: float

    @property
    def calls_per_second(self) -> float:
        return self.calls / self.seconds

    def line(self) -> str:
        return (
            f"{self.clients:>3} clients: {self.calls_per_second:7.0f} requests/s  "
            f"p50 {self.p50_ms:6.1f} ms  p95 {self.p95_ms:6.1f} ms  p99 {self.p99_ms:6.1f} ms  "
            f"({self.calls} requests, {self.errors} errors, {self.seconds:.0f} s)"
        )


def percentile(sorted_values: list[float], fraction: float) -> float:
    index = min(len(sorted_values) - 1, max(0, round(fraction * len(sorted_values)) - 1))
    return sorted_values[index]


async def closed_loop(
    url: str,
    clients: int,
    seconds: float,
    machines: int = 1000,
    warmup: float = 2.0,
    reads: bool = False,
) -> LoadReport:
    """Run ``clients`` closed-loop clients for ``seconds`` (after ``warmup``) against ``url``;
    with ``reads``, each request is a state read instead of a call."""
    latencies: list[float] = []
    errors = 0
    measuring = False
    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def client(seed: int, stop_at: float) -> None:
            nonlocal errors
            rng = random.Random(seed)
            while time.monotonic() < stop_at:
                key = f"bench-{rng.randrange(machines)}"
                handler = "state" if reads else rng.choice(("setUp", "tearDown"))
                method = "GET" if reads else "POST"
                started = time.monotonic()
                async with session.request(
                    method, f"{url}/resource/{key}/{handler}", data=b""
                ) as response:
                    await response.read()
                    ok = response.status == 200
                if measuring:
                    latencies.append(time.monotonic() - started)
                    errors += not ok

        start = time.monotonic()
        tasks = [asyncio.create_task(client(n, start + warmup + seconds)) for n in range(clients)]
        await asyncio.sleep(warmup)
        measuring = True
        measured_from = time.monotonic()
        await asyncio.gather(*tasks)
        elapsed = time.monotonic() - measured_from
    latencies.sort()
    return LoadReport(
        clients=clients,
        calls=len(latencies),
        errors=errors,
        seconds=elapsed,
        p50_ms=statistics.median(latencies) * 1000,
        p95_ms=percentile(latencies, 0.95) * 1000,
        p99_ms=percentile(latencies, 0.99) * 1000,
    )
